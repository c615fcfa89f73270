"""Replay (docs/concepts.md, "Replay") against a real local HTTP server that speaks the chat-completions protocol."""

import gzip
import json
import os
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import built_fixture, generated_home, part_rows, query, run_cli
from distill.home import Home
from distill import replay
from distill.replay import retrieve


class ChatServer(BaseHTTPRequestHandler):
    """Answers by the requested model's name: good, hedge, uncited, slow, html, wrong-shape,
    empty-choices, http500, http429. `good` cites the first [rag_...] id of its prompt."""

    calls: list[str] = []
    authorizations: list[str | None] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = body["model"]
        ChatServer.calls.append(model)
        ChatServer.authorizations.append(self.headers.get("Authorization"))
        prompt = body["messages"][-1]["content"]
        cited = prompt.split("[", 1)[1].split("]", 1)[0] if "[rag_" in prompt else "none"
        if model == "slow":
            time.sleep(2)
        if model in ("http500", "http429"):
            return self._send(int(model[4:]), b'{"error": "busy"}')
        if model == "trickle":  # headers at once, then a byte at a time, each within the read timeout
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
            return None
        if model == "huge":
            content = "x" * (3 * 1024 * 1024)
            return self._send(200, json.dumps({"choices": [{"message": {"content": content}}]}).encode())
        if model == "html":
            return self._send(200, b"<html>gateway error</html>", "text/html")
        if model == "wrong-shape":
            return self._send(200, json.dumps({"output": "hi"}).encode())
        if model == "empty-choices":
            return self._send(200, json.dumps({"choices": []}).encode())
        content = {
            "good": f"Create the new key, deploy it as secondary, flip, then revoke the old one. [{cited}]",
            "hedge": f"I'm not sure, but maybe rotate it. [{cited}]",
            "uncited": "Rotate the key.",
            "slow": f"Too late. [{cited}]",
        }[model]
        self._send(200, json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode())

    def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class QuietServer(ThreadingHTTPServer):
    """A client that gives up on a slow answer breaks the connection: expected here, and the
    server must not print it into the stderr a test reads the CLI's one line from."""

    def handle_error(self, request, client_address) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), ChatServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return built_fixture(tmp_path_factory, "replay")[0]


@pytest.fixture
def home(built, tmp_path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "home"))


def env(**models: str) -> dict:
    """The environment with DISTILL_<ROLE>_MODEL_URL/_MODEL set from role='url model'."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("DISTILL_")}
    out["DISTILL_MODEL_TIMEOUT_S"] = "0.5"
    for role, spec in models.items():
        url, model = spec.split(" ")
        out[f"DISTILL_{role.upper()}_MODEL_URL"] = url
        out[f"DISTILL_{role.upper()}_MODEL"] = model
    return out


def last_replay(home: Path) -> dict:
    return json.loads((home / "data/_kb/replay_runs.jsonl").read_text().splitlines()[-1])


def rag_id_of_run(home: Path, run_id: str) -> str:
    return query(home, f"select id from export_rag where list_contains(provenance.run_ids, '{run_id}')")[0][0]


@pytest.mark.parametrize(
    ("task", "run_id"),
    [
        ("How do I rotate the billing signing key?", "answer-run"),
        ("Add retry to the HTTP client", "acc-merged"),
        ("Speed up the invoice list query", "acc-success"),
        ("Fix the crash loop in the worker", "edit-run"),
        ("Why is the nightly export empty?", "esc1:cloud"),
    ],
)
def test_retrieval_puts_the_right_row_in_the_top_3(built, task, run_id):
    top = [r.id for r in retrieve(Home(built), task, 3)]
    assert rag_id_of_run(built, run_id) in top


def test_index_is_rebuilt_when_the_corpus_changes(home):
    assert retrieve(Home(home), "rotate signing key", 3)
    day_parts = sorted((home / "exports/rag").glob("*.jsonl"))
    for part in day_parts[1:]:
        part.unlink()
    day_parts[0].write_text(json.dumps({"id": "rag_new", "title": "Drain a kafka consumer", "text": "Pause, drain, resume."}) + "\n")
    assert [r.id for r in retrieve(Home(home), "drain kafka consumer", 3)] == ["rag_new"]


def test_no_model_configured_answers_extractively_and_says_so(home):
    result = run_cli("replay", "--task", "How do I rotate the billing signing key?", home=home, env=env())
    assert result.code == 0, result.stderr
    assert "(extractive answer: no model configured)" in result.stdout and "model: distill-extractive" in result.stdout
    logged = last_replay(home)
    assert logged["validation"] == {"passed": True, "reasons": []} and logged["retrieved_ids"]


def test_offline_a_restore_question_is_answered_with_every_step_of_the_playbook(tmp_path_factory):
    home = generated_home(tmp_path_factory, "sample", 1500, 7)
    playbook = next(row for row in part_rows(home, "exports/rag") if row["source_kind"] == "playbook")
    problem, *steps = playbook["text"].splitlines()
    assert len(steps) >= 3 and steps[0].startswith("1. ")
    question = f"How do I {playbook['title'][0].lower()}{playbook['title'][1:]}?"
    result = run_cli("replay", "--task", question, "--json", home=home, env=env())
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    top = next(row for row in part_rows(home, "exports/rag") if row["id"] == answer["retrieved_ids"][0])
    assert top["source_kind"] == "playbook" and top["text"] == playbook["text"]
    lines = answer["output"].splitlines()
    assert lines[0] == f"(extractive answer: no model configured) {top['title']}"
    assert lines[1:] == [problem, *steps, f"[{top['id']}]"]  # the title, the problem, every step, cited
    assert answer["validation"]["passed"]


@pytest.mark.parametrize(("text", "expected"), [
    ("It burns.\n1. Stop writers\n2. Restore the snapshot\n3. Start writers", ["It burns.", "1. Stop writers\n2. Restore the snapshot\n3. Start writers"]),
    ("Use a tool, e.g. pg_dump, i.e. the CLI. Then stop.", ["Use a tool, e.g. pg_dump, i.e. the CLI.", "Then stop."]),
    ("Wait 2.5 s. Retry. Ask J. Smith. Done!", ["Wait 2.5 s.", "Retry.", "Ask J. Smith.", "Done!"]),
    ("Is it up? Yes.", ["Is it up?", "Yes."]),
])
def test_numbered_steps_abbreviations_and_decimals_do_not_end_a_sentence(text, expected):
    assert replay.sentences(text) == expected


def test_a_long_row_is_quoted_by_whole_sentences():
    text = " ".join(f"Sentence number {i} says something useful about the fix." for i in range(200))
    answer = replay.extractive_answer([replay.Retrieved("rag_1", "Long", text, 1.0)])
    body = answer.splitlines()[1]
    assert body.endswith(". …") and len(body) <= replay.EXTRACT_CHARS + 2 and answer.endswith("[rag_1]")


def test_a_good_local_answer_passes_and_cites_a_retrieved_row(home, server):
    result = run_cli("replay", "--task", "rotate the billing signing key", "--json", home=home, env=env(local=f"{server} good"))
    assert result.code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["model"] == "good" and payload["validation"]["passed"]
    assert f"[{payload['retrieved_ids'][0]}]" in payload["output"]


@pytest.mark.parametrize(("model", "reason"), [("hedge", "hedge:i'm not sure"), ("uncited", "no_citation")])
def test_an_answer_that_fails_validation_is_logged_with_its_reasons(home, server, model, reason):
    result = run_cli("replay", "--task", "rotate the billing signing key", home=home, env=env(local=f"{server} {model}"))
    assert result.code == 1 and reason in result.stderr and result.stderr.count("\n") == 1
    assert reason in last_replay(home)["validation"]["reasons"]


def test_escalation_answers_when_local_fails(home, server):
    result = run_cli("replay", "--task", "rotate the billing signing key", "--allow-escalation", home=home,
                     env=env(local=f"{server} hedge", escalation=f"{server} good"))
    assert result.code == 0, result.stderr
    assert "hedge failed validation" in result.stdout and "model: good (escalated)" in result.stdout
    assert last_replay(home)["escalated"] is True


def test_local_only_never_escalates(home, server):
    result = run_cli("replay", "--task", "rotate the billing signing key", "--allow-escalation", "--local-only",
                     home=home, env=env(local=f"{server} hedge", escalation=f"{server} good"))
    assert result.code == 1 and last_replay(home)["escalated"] is False


def test_without_retrieval_nothing_is_retrieved_or_cited(home, server):
    result = run_cli("replay", "--task", "rotate the billing signing key", "--no-retrieval", "--json", home=home,
                     env=env(local=f"{server} uncited"))
    payload = json.loads(result.stdout)
    assert result.code == 0 and payload["retrieved_ids"] == [] and payload["validation"]["passed"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("slow", "did not answer within 0.5s"),
        ("trickle", "did not answer within 0.5s"),
        ("huge", "answered more than 1,048,576 bytes"),
        ("html", "not JSON"),
        ("wrong-shape", "without choices[0].message.content"),
        ("empty-choices", "without choices[0].message.content"),
        ("http500", "HTTP 500"),
        ("http429", "HTTP 429"),
        ("refused", "unreachable"),
    ],
)
def test_a_broken_model_server_is_one_line_and_a_logged_failed_replay(home, server, model, message):
    url = f"http://127.0.0.1:{closed_port()}/v1" if model == "refused" else server
    result = run_cli("replay", "--task", "rotate the billing signing key", home=home, env=env(local=f"{url} {model}"))
    assert result.code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    logged = last_replay(home)
    assert logged["validation"]["passed"] is False and logged["output"] == ""
    assert logged["validation"]["reasons"][0].startswith("backend_error:")


def test_the_api_key_is_sent_and_never_shown_or_logged(home, server):
    key = "sk-test-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"
    port = server.split(":")[2].split("/")[0]
    url = f"http://admin:hunter22@127.0.0.1:{port}/v1?api_key=qwerty"
    ChatServer.authorizations.clear()
    sent = run_cli("replay", "--task", "rotate the key", home=home,
                   env=env(local=f"{server} good") | {"DISTILL_LOCAL_MODEL_API_KEY": key})
    assert sent.code == 0 and ChatServer.authorizations[-1] == f"Bearer {key}"
    environ = env(local=f"{url} http500") | {"DISTILL_LOCAL_MODEL_API_KEY": key}
    result = run_cli("replay", "--task", "rotate the key", home=home, env=environ)
    assert result.code == 1
    logged = (home / "data/_kb/replay_runs.jsonl").read_text()
    for shown in (result.stdout + result.stderr, logged):
        assert key not in shown and "hunter22" not in shown and "qwerty" not in shown
    assert "http://***@127.0.0.1" in result.stderr and "api_key=***" in result.stderr
    config = replay.model_from_env("LOCAL", environ)
    assert key not in repr(config) and config.api_key == key


def test_transient_errors_are_retried_a_bounded_number_of_times(home, server):
    ChatServer.calls.clear()
    run_cli("replay", "--task", "rotate the key", home=home, env=env(local=f"{server} http429"))
    assert ChatServer.calls.count("http429") == 3


def test_replays_flow_back_into_the_pipeline_and_rotate_into_gzip(home):
    small = env() | {"DISTILL_REPLAY_LOG_MAX_MB": str(800 / 1024 / 1024)}
    tasks = ["rotate the billing signing key", "add retry to the http client", "speed up the invoice list query"]
    for task in tasks:
        assert run_cli("replay", "--task", task, home=home, env=small).code == 0
    archives = sorted((home / "data/_kb").glob("replay_runs.*.jsonl.gz"))
    assert archives, "the log should have been rotated"
    archived = [line for a in archives for line in gzip.decompress(a.read_bytes()).decode().splitlines()]
    live = (home / "data/_kb/replay_runs.jsonl").read_text().splitlines()
    assert len(archived) + len(live) == 1 + len(tasks)  # the fixture's own replay and ours
    result = run_cli("run-all", "--quiet", home=home)
    assert result.code == 0, result.stderr
    assert query(home, "select count(*) from evidence where stream = 'replay_runs'") == [(1 + len(tasks),)]
    archive_name = f"data/_kb/{archives[0].name}"
    evidence_id = query(home, f"select evidence_id from evidence where source_file = '{archive_name}' limit 1")[0][0]
    traced = run_cli("trace", evidence_id, home=home)
    assert traced.code == 0 and archive_name in traced.stdout


def test_a_corrupt_archive_is_a_recorded_skip_not_a_crash(home):
    archive = home / "data/_kb/replay_runs.20260101T000000.jsonl.gz"
    data = gzip.compress(b'{"replay_id": "r1", "ts": "2026-01-01T00:00:00Z", "task": "x"}\n' * 50)
    archive.write_bytes(data[: len(data) // 2])
    assert run_cli("run-all", "--quiet", home=home).code == 0
    assert query(home, f"select reason from skipped_lines where source_file = 'data/_kb/{archive.name}'") == [
        ("corrupt_archive",)
    ]


def test_empty_task_is_refused(home):
    result = run_cli("replay", "--task", "  ", home=home, env=env())
    assert result.code == 1 and "--task is empty" in result.stderr
