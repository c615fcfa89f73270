"""Standard trace formats as sources: OpenTelemetry GenAI spans, OpenInference spans, OpenAI chat
logs, SWE-agent trajectories, OpenHands event streams and Inspect AI logs flow to evidence, runs
and exports, every unit accounted for and traceable to the element of its file."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import part_rows, query, run_cli


OTLP = {"resourceSpans": [{"scopeSpans": [{"spans": [
    {"traceId": "t-otel-1", "spanId": "s1", "name": "chat", "startTimeUnixNano": "1775037600000000000",
     "status": {"code": 1},
     "attributes": [
         {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
         {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
         {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}},
         {"key": "gen_ai.response.finish_reasons", "value": {"arrayValue": {"values": [{"stringValue": "stop"}]}}},
     ],
     "events": [
         {"name": "gen_ai.user.message", "attributes": {"content": "How do I rotate the billing key?"}},
         {"name": "gen_ai.choice", "attributes": {"message.content": "Run rotate-key billing, then verify."}},
         {"name": "gen_ai.evaluation.result", "attributes": [
             {"key": "gen_ai.evaluation.name", "value": {"stringValue": "relevance"}},
             {"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": 0.2}}]},
     ]},
    {"traceId": "t-otel-2", "spanId": "s2", "name": "chat", "startTimeUnixNano": "1775037660000000000",
     "status": {"code": 2, "message": "upstream 500"},
     "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}}]},
]}]}]}

OPENINFERENCE = [
    {"context": {"trace_id": "t-oi-1", "span_id": "a"}, "name": "llm", "start_time": "2026-04-01T10:00:00Z",
     "status_code": "OK", "attributes": {
         "openinference.span.kind": "LLM", "llm.model_name": "claude-3-5",
         "llm.input_messages.0.message.role": "system", "llm.input_messages.0.message.content": "Be brief.",
         "llm.input_messages.1.message.role": "user", "llm.input_messages.1.message.content": "Summarise the outage.",
         "llm.output_messages.0.message.content": "The cache expired; we raised its TTL.",
         "llm.token_count.prompt": 20, "llm.token_count.completion": 9},
     "annotations": [{"name": "correctness", "annotator_kind": "LLM", "label": "correct", "score": 1}]},
    {"context": {"trace_id": "t-oi-1", "span_id": "b"}, "name": "grep", "start_time": "2026-04-01T10:00:01Z",
     "status_code": "OK", "attributes": {"openinference.span.kind": "TOOL", "input.value": "grep -r ttl",
                                         "output.value": "cache.py:12 ttl=60"}},
    {"context": {"trace_id": "t-oi-1", "span_id": "c"}, "name": "agent", "start_time": "2026-04-01T10:00:02Z",
     "status_code": "OK", "attributes": {"openinference.span.kind": "CHAIN"}},
    # an annotation exported on its own (Phoenix), naming its span
    {"span_id": "a", "name": "review", "annotator_kind": "HUMAN",
     "result": {"label": "incorrect", "explanation": "wrong root cause"}},
]

OPENAI_LOG = {
    "run_id": "chat-1", "ts": "2026-04-01T11:00:00Z",
    "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Add retry to the HTTP client"}]},
    "response": {"id": "chatcmpl-1", "created": 1775041200, "model": "gpt-4o-mini",
                 "choices": [{"message": {"role": "assistant", "content": "Wrap send() in a bounded retry."},
                              "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 8, "completion_tokens": 7}},
}

SWE_AGENT = {
    "environment": "swe_main",
    "trajectory": [
        {"action": "ls\n", "observation": "setup.py src", "response": "look", "thought": "look", "state": "{}"},
        {"action": "submit\n", "observation": "diff --git a/x b/x", "response": "done", "thought": "done", "state": "{}"},
    ],
    "history": [{"role": "system", "content": "You are an agent."},
                {"role": "user", "content": "Fix the off-by-one in paginate()"}],
    "info": {"exit_status": "submitted", "submission": "diff --git a/x b/x\n-1\n+2\n"},
}

OPENHANDS = [
    {"id": 0, "timestamp": "2026-04-01T12:00:00", "source": "user", "message": "Write hello.py", "action": "message",
     "args": {"content": "Write hello.py"}},
    {"id": 1, "timestamp": "2026-04-01T12:00:05", "source": "agent", "message": "", "action": "edit",
     "args": {"path": "hello.py"}, "tool_call_metadata": {"model_response": {
         "model": "claude-3-5-sonnet", "choices": [{"message": {"content": "Creating hello.py"}, "finish_reason": "tool_calls"}],
         "usage": {"prompt_tokens": 30, "completion_tokens": 5}}}},
    {"id": 2, "timestamp": "2026-04-01T12:00:06", "source": "agent", "cause": 1, "observation": "edit",
     "content": "+print('hello')", "extras": {"path": "hello.py"}},
    {"id": 3, "timestamp": "2026-04-01T12:00:07", "source": "agent", "message": "Done.", "action": "finish", "args": {}},
]

INSPECT = {
    "version": 2, "status": "success",
    "eval": {"run_id": "ev1", "created": "2026-04-01T13:00:00+00:00", "task": "qa", "model": "openai/gpt-4o-mini"},
    "samples": [
        {"id": 1, "epoch": 1, "input": "What is the capital of France?", "target": "Paris",
         "messages": [{"role": "user", "content": "What is the capital of France?"},
                      {"role": "assistant", "content": "Paris."}],
         "output": {"model": "gpt-4o-mini", "choices": [{"message": {"role": "assistant", "content": "Paris."},
                                                          "stop_reason": "stop"}]},
         "scores": {"match": {"value": "C"}}},
        {"id": 2, "epoch": 1, "input": "What is 2+2?", "target": "4",
         "messages": [{"role": "user", "content": "What is 2+2?"}],
         "output": {"model": "gpt-4o-mini", "choices": [{"message": {"role": "assistant", "content": "5"},
                                                          "stop_reason": "stop"}]},
         "scores": {"match": {"value": "I"}}},
    ],
}


@pytest.fixture(scope="module")
def traces_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("traces")
    kb = home / "data" / "_kb"
    files = {
        "otel/export.jsonl": json.dumps(OTLP) + "\n",
        "openinference/spans.jsonl": "".join(json.dumps(s) + "\n" for s in OPENINFERENCE) + "\n",
        "openai_logs/chat.jsonl": json.dumps(OPENAI_LOG) + "\n" + "{not json\n",
        "swe_agent/repo__repo-1.traj": json.dumps(SWE_AGENT),
        "openhands/conv-7.json": json.dumps(OPENHANDS),
        "inspect/qa.json": json.dumps(INSPECT),
        "inspect/not-an-eval.json": json.dumps({"hello": "world"}),
    }
    for name, text in files.items():
        (kb / name).parent.mkdir(parents=True, exist_ok=True)
        (kb / name).write_text(text)
    result = run_cli("run-all", "--quiet", home=home)
    assert result.code == 0, result.stderr
    return home


def test_each_format_becomes_evidence_of_its_streams(traces_home):
    rows = query(traces_home, """
        select extra ->> '_source_format' as format, stream, count(*) from evidence
        where extra ->> '_source_format' is not null group by all order by all""")
    assert rows == [
        ("inspect", "gateway_calls", 2), ("inspect", "task_outcomes", 2),
        ("openai_logs", "gateway_calls", 1),
        ("openhands", "gateway_calls", 1), ("openhands", "task_outcomes", 1), ("openhands", "tool_runs", 1),
        ("openinference", "gateway_calls", 1), ("openinference", "human_reviews", 1),
        ("openinference", "tool_runs", 1), ("openinference", "user_feedback", 1),
        ("otel", "gateway_calls", 2), ("otel", "user_feedback", 1),
        ("swe_agent", "auto_apply", 1), ("swe_agent", "tool_runs", 2),
    ]


def test_every_unit_is_evidence_or_a_skip_with_its_reason(traces_home):
    skipped = query(traces_home, """
        select source_file, line_offset, reason from skipped_lines order by all""")
    assert skipped == [
        ("data/_kb/inspect/not-an-eval.json", 0, "unknown_format"),
        ("data/_kb/openai_logs/chat.jsonl", 1, "malformed_json"),
        ("data/_kb/openhands/conv-7.json", 0, "unmapped_element"),  # the user's message
        ("data/_kb/openinference/spans.jsonl", 3, "unmapped_element"),  # a CHAIN span
        ("data/_kb/openinference/spans.jsonl", 5, "blank_line"),
    ]


def test_the_fields_map_as_each_format_defines_them(traces_home):
    [otel_ok, otel_err] = query(traces_home, """
        select run_id, model, instruction, response, signals ->> 'status', signals ->> 'finish_reason'
        from evidence where extra ->> '_source_format' = 'otel' and stream = 'gateway_calls' order by run_id""")
    assert otel_ok == ("t-otel-1", "gpt-4o", "How do I rotate the billing key?",
                       "Run rotate-key billing, then verify.", "ok", "stop")
    assert otel_err[0] == "t-otel-2" and otel_err[4] == "error"
    [(instruction, response)] = query(traces_home, """
        select instruction, response from evidence
        where extra ->> '_source_format' = 'openinference' and stream = 'gateway_calls'""")
    assert (instruction, response) == ("Summarise the outage.", "The cache expired; we raised its TTL.")
    outcomes = query(traces_home, """
        select run_id, category from scored_runs where run_id like 'ev1:%' order by run_id""")
    assert [c for _, c in outcomes] == ["accepted", "rejected"]  # Inspect's C and I


def test_annotations_and_evaluations_become_signals_of_their_span_run(traces_home):
    notes = query(traces_home, """
        select run_id, stream, coalesce(signals ->> 'rating', signals ->> 'decision'), extra ->> '_source_element'
        from evidence where stream in ('user_feedback', 'human_reviews') order by all""")
    assert notes == [
        ("t-oi-1", "human_reviews", "reject", "line 3 $"),  # the HUMAN annotation line, joined by span_id
        ("t-oi-1", "user_feedback", "up", "line 0 $ $.annotations[0]"),  # label correct
        ("t-otel-1", "user_feedback", "down", "line 0 $.resourceSpans[*].scopeSpans[*].spans[*] #0 $.events[2]"),
    ]
    categories = dict(query(traces_home, "select run_id, category from scored_runs where run_id like 't-%'"))
    assert categories["t-oi-1"] == "rejected"  # a human's reject decides (rule 1)
    result = run_cli("trace", query(traces_home, """
        select evidence_id from evidence where stream = 'user_feedback' and run_id = 't-otel-1'""")[0][0], home=traces_home)
    assert result.code == 0 and "gen_ai.evaluation.result" in result.stdout, result.stdout


def test_runs_reach_the_exports_and_trace_to_their_element(traces_home):
    sft = part_rows(traces_home, "exports/sft")
    by_instruction = {row["instruction"]: row for row in sft}
    assert by_instruction["What is the capital of France?"]["response"] == "Paris."
    assert "What is 2+2?" not in by_instruction  # scored incorrect: never SFT
    result = run_cli("trace", by_instruction["What is the capital of France?"]["id"], home=traces_home)
    assert result.code == 0, result.stdout
    assert "source unit data/_kb/inspect/qa.json:0 (line 0 $.samples[0])" in result.stdout
    assert "source unit data/_kb/inspect/qa.json:2 (line 0 $.samples[0] $.scores)" in result.stdout


def test_a_changed_trace_file_breaks_the_trace(traces_home, tmp_path):
    home = Path(shutil.copytree(traces_home, tmp_path / "home", symlinks=True))
    [sft_id] = [row["id"] for row in part_rows(home, "exports/sft") if "France" in json.dumps(row)]
    inspect = home / "data/_kb/inspect/qa.json"
    inspect.write_text(inspect.read_text().replace("Paris.", "Lyon."))
    result = run_cli("trace", sft_id, home=home)
    assert result.code == 1 and "changed since it was read" in result.stdout
    # and the next run-all sees the change: a trace file counts as input like a stream file
    rerun = run_cli("run-all", home=home)
    assert rerun.code == 0 and "nothing changed" not in rerun.stdout, rerun.stdout


def test_audit_counts_trace_units_as_accounted_for(traces_home):
    from distill.audit import check_lines
    from distill.home import Home
    from distill.warehouse import connect

    home = Home.resolve(traces_home)
    with connect(home) as conn:
        [check] = check_lines(home, conn)  # nothing appended since the run
    assert check.status == "pass", check.detail
    assert "trace units in 7 files" in check.detail
