"""Traces as real systems emit them: each instrumentation's attribute convention, hand-written in
the shape its exporter writes, the format known by content wherever the file sits (gzipped too),
and the real third-party files of ../shared/realdata placed anywhere under data/_kb."""

import gzip
import json
import shutil
from pathlib import Path

import pytest
from conftest import query, run_cli

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
QUESTION = "How do I rotate the billing key?"
ANSWER = "Run rotate-key billing, then verify the new key."


def otlp(spans: list[dict]) -> dict:
    """An OTLP/JSON export: attributes as key/value lists."""
    def value(v):
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, list):
            return {"arrayValue": {"values": [{"stringValue": x} for x in v]}}
        return {"stringValue": v}

    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "test"}, "spans": [
        {**{k: v for k, v in span.items() if k != "attributes"},
         "attributes": [{"key": k, "value": value(v)} for k, v in span["attributes"].items()]}
        for span in spans
    ]}]}]}


def span(trace: str, attributes: dict, **more) -> dict:
    return {"traceId": trace, "spanId": trace + "-s", "name": "chat", "kind": 3,
            "startTimeUnixNano": "1775037600000000000", "endTimeUnixNano": "1775037601000000000",
            "status": {"code": 0}, "attributes": attributes, **more}


# One span per convention, each a model call asking QUESTION and answering ANSWER.
CONVENTIONS = {
    # OpenTelemetry GenAI, current: messages as JSON texts of parts
    "genai-current": span("t-genai", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": ANSWER}],
                                               "finish_reason": "stop"}]),
        "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 9,
    }),
    # OpenTelemetry GenAI, deprecated indexed attributes (what OpenLLMetry / Traceloop write)
    "genai-indexed": span("t-indexed", {
        "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini", "llm.request.type": "chat",
        "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "Be brief.",
        "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": QUESTION,
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": ANSWER,
        "gen_ai.completion.0.finish_reason": "stop",
        "gen_ai.usage.prompt_tokens": 12, "gen_ai.usage.completion_tokens": 9, "llm.usage.total_tokens": 21,
        "traceloop.workflow.name": "support",
    }),
    # OpenInference (Phoenix, the Arize instrumentations)
    "openinference": span("t-oi", {
        "openinference.span.kind": "LLM", "llm.model_name": "claude-3-5", "llm.provider": "anthropic",
        "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": QUESTION,
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": ANSWER,
        "input.value": QUESTION, "output.value": ANSWER,
        "llm.token_count.prompt": 12, "llm.token_count.completion": 9,
    }),
    # The Vercel AI SDK's top-level span: ai.prompt as a JSON object
    "vercel-ai": span("t-vercel", {
        "ai.operationId": "ai.generateText", "ai.model.id": "gpt-4o-mini", "ai.model.provider": "openai.responses",
        "ai.prompt": json.dumps({"system": "Be brief.", "prompt": QUESTION}),
        "ai.response.text": ANSWER, "ai.response.finishReason": "stop",
        "ai.usage.promptTokens": 12, "ai.usage.completionTokens": 9,
    }),
}


def console_span(trace: str, attributes: dict, **more) -> dict:
    """The OpenTelemetry Python SDK's `span.to_json()` (what its ConsoleSpanExporter prints)."""
    return {"name": "chat gpt-4o", "context": {"trace_id": trace, "span_id": "0x051581bf3cb55c13", "trace_state": "[]"},
            "kind": "SpanKind.CLIENT", "parent_id": None, "start_time": "2026-04-01T10:00:00.000000Z",
            "end_time": "2026-04-01T10:00:01.000000Z", "status": {"status_code": "UNSET"},
            "attributes": attributes, "events": [], "links": [],
            "resource": {"attributes": {"service.name": "api"}, "schema_url": ""}, **more}


CONSOLE = [  # printed one after another, indented, as the exporter prints them
    console_span("0xconsole1", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                                "gen_ai.input.messages": json.dumps([{"role": "user", "content": QUESTION}]),
                                "gen_ai.output.messages": json.dumps([{"role": "assistant", "content": ANSWER}])}),
    console_span("0xconsole2", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                                "gen_ai.input.messages": json.dumps([{"role": "user", "content": "Ping?"}])},
                 status={"status_code": "ERROR", "description": "upstream 500"},
                 events=[{"name": "exception", "timestamp": "2026-04-01T10:00:01Z",
                          "attributes": {"exception.type": "APIError", "exception.message": "upstream 500"}}]),
]

NOT_GENERATION = [  # recorded as what they are, never as model calls without text
    span("t-embed", {"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "text-embedding-3-small",
                     "gen_ai.usage.input_tokens": 10}),
    span("t-retrieve", {"openinference.span.kind": "RETRIEVER", "input.value": "billing key",
                        "retrieval.documents.0.document.content": "Rotate keys quarterly."}),
    span("t-http", {"http.request.method": "GET", "url.full": "https://example.com/"}),
    span("t-tool", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.call.arguments": json.dumps({"location": "Paris"}),
                    "gen_ai.tool.call.result": "rainy, 57F"}),
    span("t-traceloop-tool", {"traceloop.span.kind": "tool", "traceloop.entity.name": "search_docs",
                              "traceloop.entity.input": json.dumps({"args": ["billing"]}),
                              "traceloop.entity.output": json.dumps(["doc-1"])},
         status={"code": 2, "message": "index offline"}),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("conventions")
    kb = home / "data/_kb"
    # the folders say nothing true: an OTLP export in openinference/, spans at the root, a
    # gzipped JSONL in a folder of no format, an Inspect-like file of no format
    files = {
        "openinference/genai-current.json": otlp([CONVENTIONS["genai-current"]]),
        "genai-indexed.json": otlp([CONVENTIONS["genai-indexed"]]),
        "exports/phoenix/openinference.json": [CONVENTIONS["openinference"]],
        "inspect/vercel.json": [CONVENTIONS["vercel-ai"]],
        "otel/not-generation.json": otlp(NOT_GENERATION),
        "misc/unknown.json": {"rows": [{"hello": "world"}]},
    }
    for name, doc in files.items():
        (kb / name).parent.mkdir(parents=True, exist_ok=True)
        (kb / name).write_text(json.dumps(doc, indent=2))
    (kb / "logs").mkdir()
    (kb / "logs/console.txt").write_text("not a trace file: its suffix is not read")
    (kb / "logs/console.json").write_text("\n".join(json.dumps(s, indent=4) for s in CONSOLE) + "\n")
    side_by_side = {"run_id": "chat-side", "ts": "2026-04-01T11:00:00Z", "model": "gpt-4o-mini",
                    "messages": [{"role": "user", "content": QUESTION}],
                    "response": {"id": "chatcmpl-9", "model": "gpt-4o-mini",
                                 "choices": [{"message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}]}}
    (kb / "logs/openai.jsonl").write_text(json.dumps(side_by_side) + "\n")
    with gzip.open(kb / "logs/spans.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(span("t-gz", {**CONVENTIONS["genai-indexed"]["attributes"]})) + "\n")
    (kb / "logs/corrupt.json.gz").write_bytes(gzip.compress(b'{"a": 1}')[:-6])
    result = run_cli("run-all", "--quiet", home=home)
    assert result.code == 0, result.stderr
    return home


def gateway(home: Path, run_id: str) -> tuple:
    return query(home, f"""
        select model, instruction, response, signals ->> 'status', extra ->> '_source_format'
        from evidence where stream = 'gateway_calls' and run_id = '{run_id}'""")


@pytest.mark.parametrize(("run_id", "model", "fmt"), [
    ("t-genai", "gpt-4o", "otel"),
    ("t-indexed", "gpt-4o-mini", "otel"),
    ("t-oi", "claude-3-5", "openinference"),
    ("t-vercel", "gpt-4o-mini", "otel"),
    ("t-gz", "gpt-4o-mini", "otel"),
    ("0xconsole1", "gpt-4o", "otel"),
    ("chat-side", "gpt-4o-mini", "openai_logs"),  # an OpenAI log: messages beside the response
])
def test_each_convention_gives_a_model_call_with_its_instruction_and_response(home, run_id, model, fmt):
    assert gateway(home, run_id) == [(model, QUESTION, ANSWER, "ok", fmt)]


@pytest.mark.parametrize("run_id", ["t-genai", "t-indexed", "t-oi", "t-vercel"])
def test_tokens_finish_reason_and_the_system_prompt_are_read(home, run_id):
    [(signals,)] = query(home, f"select signals from evidence where run_id = '{run_id}' and stream = 'gateway_calls'")
    signals = json.loads(signals)
    assert (signals["prompt_tokens"], signals["completion_tokens"]) == (12, 9)
    [(messages,)] = query(home, f"select record -> '$.messages' from base_trace_records where record ->> 'run_id' = '{run_id}'")
    messages = json.loads(messages)
    assert messages[-1] == {"role": "user", "content": QUESTION}
    if run_id != "t-oi":
        assert messages[0] == {"role": "system", "content": "Be brief."} and signals["finish_reason"] == "stop"


def test_an_error_status_or_exception_event_is_a_gateway_error(home):
    [(model, instruction, response, status, _)] = gateway(home, "0xconsole2")
    assert (instruction, response, status) == ("Ping?", None, "error")
    assert query(home, "select category, reasons[-1] from scored_runs where run_id = '0xconsole2'") == [
        ("rejected", "rule_3_reject")]


def test_spans_that_are_not_text_generation_are_recorded_as_what_they_are(home):
    tools = query(home, """
        select run_id, signals ->> 'tool', signals ->> 'exit_code' from evidence
        where stream = 'tool_runs' order by run_id""")
    assert tools == [("t-tool", "get_weather", "0"), ("t-traceloop-tool", "search_docs", "1")]
    skipped = dict(query(home, """
        select line_offset, reason || ': ' || detail from skipped_lines
        where source_file = 'data/_kb/otel/not-generation.json'"""))
    assert "unmapped_element" in skipped[0] and "an embeddings, retrieval or reranking span" in skipped[0]
    assert "an embeddings, retrieval or reranking span" in skipped[1]  # retrieval
    assert "a span with no prompt or completion text" in skipped[2]  # plain HTTP
    assert query(home, "select count(*) from scored_runs where run_id in ('t-embed', 't-retrieve', 't-http')")[0][0] == 0


def test_files_no_reader_recognises_are_one_skip_naming_what_was_looked_for(home):
    rows = dict(query(home, """
        select source_file, reason || ': ' || detail from skipped_lines
        where source_file in ('data/_kb/misc/unknown.json', 'data/_kb/logs/corrupt.json.gz')"""))
    assert rows["data/_kb/misc/unknown.json"].startswith("unknown_format: valid JSON in no trace format")
    assert "resourceSpans" in rows["data/_kb/misc/unknown.json"] and "trajectory" in rows["data/_kb/misc/unknown.json"]
    assert rows["data/_kb/logs/corrupt.json.gz"].startswith("corrupt_archive")
    assert not query(home, "select * from skipped_lines where source_file like '%console.txt'")


def test_a_gzipped_or_concatenated_unit_traces_back_to_its_file(home):
    for run_id in ("t-gz", "0xconsole1"):
        result = run_cli("trace", run_id, home=home)
        assert result.code == 0 and "changed" not in result.stdout, result.stdout


@pytest.mark.skipif(not REALDATA.is_dir(), reason="no real third-party traces on this machine")
def test_the_real_files_anywhere_under_the_home(tmp_path):
    """Every real file, all in one folder of no format: the content decides."""
    names = sorted(p.name for p in REALDATA.iterdir() if p.name != "SOURCES.md")
    (tmp_path / "data/_kb/dump").mkdir(parents=True)
    for name in names:
        shutil.copyfile(REALDATA / name, tmp_path / "data/_kb/dump" / name)
    result = run_cli("run-all", "--quiet", home=tmp_path)
    assert result.code == 0, result.stderr
    vercel = query(tmp_path, """
        select instruction is not null and instruction != '', response is not null and response != ''
        from evidence where source_file = 'data/_kb/dump/all-spans.json' and stream = 'gateway_calls'""")
    assert vercel == [(True, True)] * 8  # every text-generation span, none of the two embeddings
    embeds = query(tmp_path, """
        select count(*) from skipped_lines where source_file = 'data/_kb/dump/all-spans.json' and detail like '%embeddings%'""")
    assert embeds == [(2,)]
    formats = dict(query(tmp_path, """
        select source_file, string_agg(distinct extra ->> '_source_format', ',') from evidence
        where source_file like 'data/_kb/dump/%' group by 1"""))
    assert formats == {
        "data/_kb/dump/2024-11-05T13-31-45-05-00_input-task_8zXjbRzCWrL9GXiXo2vus9.json": "inspect",
        "data/_kb/dump/all-spans.json": "otel",
        "data/_kb/dump/basic.json": "openhands",
        "data/_kb/dump/otel_genai_client_span_tool_calls.json": "otel",
        "data/_kb/dump/pydicom__pydicom-1458.traj": "swe_agent",
        "data/_kb/dump/wrong_initial_state.json": "openhands",
    }
    [(instruction, response)] = query(tmp_path, """
        select instruction, response from evidence where source_file = 'data/_kb/dump/otel_genai_client_span_tool_calls.json'""")
    assert "Weather in Paris?" in instruction and "rainy" in response
    # the acceptance invariants ran on these files too (run-all), and they reach the corpora
    exported = query(tmp_path, "select (select count(*) from export_sft) + (select count(*) from export_rag)")[0][0]
    assert exported > 0


def test_a_convention_distill_does_not_know_is_declared_in_the_project(tmp_path, patched_project):
    patched_project({"dbt_project.yml": (
        "span_attributes: {prompt: [], completion: [], model: []}",
        "span_attributes: {prompt: [acme.llm.question], completion: [acme.llm.answer], model: [acme.llm.model]}",
    )})
    kb = tmp_path / "home/data/_kb/acme"
    kb.mkdir(parents=True)
    custom = span("t-acme", {"acme.llm.model": "house-7b", "acme.llm.question": QUESTION, "acme.llm.answer": ANSWER})
    (kb / "spans.json").write_text(json.dumps([custom]))
    result = run_cli("run-all", "--quiet", home=tmp_path / "home")
    assert result.code == 0, result.stderr
    assert gateway(tmp_path / "home", "t-acme") == [("house-7b", QUESTION, ANSWER, "ok", "otel")]
