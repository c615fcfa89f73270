"""Secret scanning (docs/concepts.md, "Secrets"): real-looking keys in every exportable text field are caught and
quarantined; near-misses are not."""

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import incident_files, query, run_cli, ts, write_streams
from distill import firewall
from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home

# One real-looking (fake) credential per pattern of seeds/secret_patterns.csv.
SECRETS = {
    "aws_access_key": "AKIAQ3EGRJZ5VXNK7PLM",
    "github_token": "ghp_8f2KcLr0QmZ1xW4vT7yB9nD3sJ6hA5eU2pXq",
    "gitlab_token": "glpat-x8Zk3Qm9Lr2Wv7Tn5Yb1",
    "slack_token": "xoxb-2345678901-3456789012-AbCdEfGhIjKlMnOpQrStUvWx",
    "anthropic_key": "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA",
    "openai_key": "sk-proj-4fJ9kL2mN8pQ1rS7tU3vW6xY0zA5bC2d",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "pem_private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq3Xh2f\n-----END RSA PRIVATE KEY-----",
    "password_assignment": "DB_PASSWORD=Tr0ub4dor&3",
    "password_field": '{"password": "correct-horse-battery"}',
    "aws_secret_key": "aws_secret_access_key=Kz8Qp2Lr7Wv4Tn1Yb6Xc3Md9Fg5Hj0Ks2Ld8Pq4R",
    "slack_webhook": "https://hooks.slack.com/services/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A",
    "stripe_key": "sk_live_51HqLyjWDarjtT1zdp7dcZx9Yw8",
    "huggingface_token": "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",
    "google_api_key": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "npm_token": "npm_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbAz",
    "pypi_token": "pypi-AgEIcHlwaS5vcmcCJDk5YjQ2ZTM0LWJjNmYtNDFhZC1iNmQ4LTIyYjU0ZWE5OTc1OQ",
    "bearer_token": "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "api_key_assignment": "COHERE_API_KEY=Zx9Yw8Vu7Ts6Rq5Po4Nm",
    "client_secret": "client_secret=GOCSPX-Zx9Yw8Vu7Ts6Rq5P",
    "database_url_password": "postgresql://traces:S3cr3t-pw@db.prod.internal:5432/app",
    "azure_connection_string": "AccountName=logs;AccountKey=Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0Ed+A/b==",
}

NEAR_MISSES = [
    "AKIA1234 is the prefix AWS uses",  # too short
    "the ghp_ prefix marks a GitHub token",
    "glpat- tokens expire after a year",
    "xoxb- is a bot token prefix",
    "a risk-averse task-management approach with sk-learn",  # sk- inside words, too short
    "eyJhbGciOi is how a JWT header starts",
    "-----BEGIN PUBLIC KEY----- blocks are fine to share",
    "password=${DB_PASSWORD}",
    "set password: <your password here>",
    "password = '******'",
    "def login(password: str) -> bool",
    "the sk_live_ prefix marks a live Stripe key",
    "call hf_hub_download for the weights",
    "AIza starts a Google key",
    "set npm_config_cache before installing",
    "pypi-simple mirrors the index",
    "Authorization: Bearer ${TOKEN}",
    "OPENAI_API_KEY=${OPENAI_API_KEY}",
    "client_secret=<from the console>",
    "postgres://traces@db.prod.internal:5432/app",
    "https://api.slack.com/messaging/webhooks",
    "AccountKey=<key>",
]


def patterns() -> list[tuple[str, str]]:
    with (PROJECT_DIR / "seeds" / "secret_patterns.csv").open() as handle:
        return [(row["pattern_id"], row["regex"]) for row in csv.DictReader(handle)]


def matching(text: str) -> list[str]:
    with duckdb.connect() as conn:
        return [pid for pid, regex in patterns() if conn.execute("select regexp_matches(?, ?)", [text, regex]).fetchone()[0]]


def seed_rows() -> list[dict]:
    with (PROJECT_DIR / "seeds" / "secret_patterns.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_every_pattern_has_a_real_looking_example():
    assert {pid for pid, _ in patterns()} == set(SECRETS)


@pytest.mark.parametrize("row", seed_rows(), ids=lambda row: row["pattern_id"])
def test_seed_example_matches_and_its_near_miss_matches_nothing(row):
    assert row["pattern_id"] in matching(row["example_match"])
    assert matching(row["example_near_miss"]) == []


@pytest.mark.parametrize("pattern_id", sorted(SECRETS))
def test_pattern_catches_its_secret(pattern_id):
    assert pattern_id in matching(f"use {SECRETS[pattern_id]} for the deploy")


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_miss_is_not_caught(text):
    assert matching(text) == []


def accepted_run(run: str, *, task="Deploy the service", completion="Deployed.", user="Deploy the service"):
    """Rows for a run that scores accepted, with texts placed where a test wants them."""
    return {
        "gateway_calls": [{"call_id": f"c-{run}", "run_id": run, "ts": ts(0), "status": "ok", "finish_reason": "stop",
                           "messages": [{"role": "user", "content": user}], "completion": completion}],
        "task_outcomes": [{"run_id": run, "ts": ts(1), "task": task, "status": "success"}],
    }


def merge(*parts: dict) -> dict:
    out: dict[str, list] = {}
    for part in parts:
        for stream, rows in part.items():
            out.setdefault(stream, []).extend(rows)
    return out


@pytest.fixture(scope="module")
def secret_home(tmp_path_factory) -> Path:
    kinds = sorted(SECRETS)
    parts = [
        # instruction (task), response (completion) and chat messages (they carry both)
        accepted_run("in-task", task=f"Rotate {SECRETS[kinds[0]]} today"),
        accepted_run("in-completion", completion=f"Export {SECRETS[kinds[1]]} then restart"),
        # response by precedence: a patch, an edited response, an answer, an escalation output
        {"auto_apply": [{"apply_id": "a1", "run_id": "in-patch", "ts": ts(2), "task": "Add the key",
                         "patch": f"+TOKEN = '{SECRETS[kinds[2]]}'", "applied": True, "merged": True, "reverted": False}]},
        merge(accepted_run("in-edit"), {"human_reviews": [{"review_id": "r1", "run_id": "in-edit", "ts": ts(3),
                                                           "decision": "edit", "edited_response": f"Use {SECRETS[kinds[3]]}"}]}),
        {"answers": [{"answer_id": "q1", "run_id": "in-answer", "ts": ts(2), "question": "Which key?",
                      "answer": f"The key is {SECRETS[kinds[4]]}", "citations": []}],
         "user_feedback": [{"feedback_id": "f1", "run_id": "in-answer", "ts": ts(3), "rating": "up"}]},
        {"escalations": [{"escalation_id": "esc", "ts": ts(2), "task": "Find the key", "local_output": "unsure",
                          "local_passed": False, "cloud_output": f"Found: {SECRETS[kinds[5]]}", "cloud_passed": True}]},
        # playbook steps reach RAG
        {"playbooks": [{"playbook_id": "pb-1", "ts": ts(2), "title": "Reset auth", "status": "approved",
                        "problem": "Auth is down", "steps": ["Restart", f"Login with {SECRETS[kinds[6]]}"]}]},
        accepted_run("in-completion-2", completion=f"Key:\n{SECRETS[kinds[7]]}"),
        accepted_run("in-completion-3", completion=f"export {SECRETS[kinds[8]]}"),
        accepted_run("in-user-message", user=f"My config is {SECRETS[kinds[9]]}", task=None),
    ]
    parts += [accepted_run(f"near-miss-{i}", completion=text, task=f"Near miss {i}") for i, text in enumerate(NEAR_MISSES)]
    streams = merge(*parts)
    streams["task_outcomes"] = [
        {k: v for k, v in row.items() if v is not None} for row in streams["task_outcomes"]
    ]
    # where raw source text could leave other than through a run's texts: a model name, a run
    # id, a malformed line, a trace-format file
    streams["gateway_calls"].append({"call_id": "c-model", "run_id": "in-model", "ts": ts(4), "status": "ok",
                                     "finish_reason": "stop", "model": f"ft:{SECRETS['huggingface_token']}",
                                     "messages": [{"role": "user", "content": "Name the model"}], "completion": "Named."})
    streams["task_outcomes"].append({"run_id": "in-model", "ts": ts(5), "task": "Name the model", "status": "success"})
    streams["task_outcomes"].append({"run_id": f"run-{SECRETS['npm_token']}", "ts": ts(5), "task": "Publish", "status": "success"})
    streams["auto_apply"].append({"apply_id": "a-id", "run_id": f"run-{SECRETS['npm_token']}", "ts": ts(6), "task": "Publish",
                                  "patch": "+publish", "applied": True, "merged": True, "reverted": False})
    home = tmp_path_factory.mktemp("secrets")
    write_streams(home, streams)
    with (home / "data" / "_kb" / "gateway_calls.jsonl").open("a") as handle:
        handle.write(f"export GITHUB_TOKEN={SECRETS['github_token']} {{not json\n")
    span = {"traceId": "t-secret", "spanId": "s1", "name": "chat", "startTimeUnixNano": "1775037600000000000",
            "status": {"code": 1}, "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}}],
            "events": [{"name": "gen_ai.user.message", "attributes": {"content": f"Use {SECRETS['stripe_key']}"}},
                       {"name": "gen_ai.choice", "attributes": {"message.content": f"Set {SECRETS['google_api_key']}"}}]}
    (home / "data" / "_kb" / "otel").mkdir()
    (home / "data" / "_kb" / "otel" / "spans.jsonl").write_text(
        json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}) + "\n"
        + f"not json {SECRETS['bearer_token']}\n")
    result = run_cli("run-all", "--format", "openai", "--format", "trl-conversational", home=home)
    assert result.code == 0, result.stderr
    return home


def test_each_secret_quarantines_its_run_with_the_pattern_named(secret_home):
    rows = query(secret_home, """select unnest(provenance.run_ids), detail from quarantine
                                  where reason = 'secret_detected'""")
    held = {run for run, _ in rows}
    assert held >= {"in-task", "in-completion", "in-patch", "in-edit", "in-answer", "esc:cloud",
                    "in-completion-2", "in-completion-3", "in-user-message"}
    assert query(secret_home, """select count(*) from quarantine where reason = 'secret_detected'
                                  and list_contains(provenance.source_lines, 'data/_kb/playbooks.jsonl:0')""") == [(1,)]
    assert all(detail.startswith("matches secret pattern ") for _, detail in rows)


def test_no_file_under_exports_holds_any_secret(secret_home):
    files = [p for p in (secret_home / "exports").resolve().rglob("*") if p.is_file()]
    assert {p.parent.name for p in files} >= {"sft", "quarantine", "rag"}
    assert {"README.md", "manifest.json"} <= {p.name for p in files}
    texts = "".join(p.read_text() for p in files)
    for secret in SECRETS.values():
        # the secret, as JSON writes it, and its longest word (the key itself)
        for form in (secret, json.dumps(secret)[1:-1], max(secret.split(), key=len)):
            assert form not in texts


def test_a_malformed_line_is_quarantined_by_position_and_hash_not_by_excerpt(secret_home):
    lines = (secret_home / "data" / "_kb" / "gateway_calls.jsonl").read_bytes().splitlines()
    [(detail,)] = query(secret_home, f"""select detail from quarantine where stage = 'ingest'
        and list_contains(provenance.source_lines, 'data/_kb/gateway_calls.jsonl:{len(lines) - 1}')""")
    digest = hashlib.sha256(lines[-1]).hexdigest()
    assert detail == f"malformed_json at data/_kb/gateway_calls.jsonl line {len(lines) - 1}; line hash {digest}"
    # the excerpt stays in the warehouse, for the operator
    [(kept,)] = query(secret_home, f"""select detail from skipped_lines
        where source_file = 'data/_kb/gateway_calls.jsonl' and line_offset = {len(lines) - 1}""")
    assert SECRETS["github_token"] in kept


def test_a_secret_run_id_leaves_no_row_and_no_id(secret_home):
    run = f"run-{SECRETS['npm_token']}"
    [(reason, run_ids)] = query(secret_home, f"""select reason, provenance.run_ids from quarantine
        where list_contains(provenance.evidence_ids, (select min(evidence_id) from evidence where run_id = '{run}'))""")
    assert (reason, run_ids) == ("secret_detected", [])


def test_receipt_counts_hits_per_pattern(secret_home):
    summary = json.loads(run_cli("receipts", "--latest", "--json", home=secret_home).stdout)
    [quarantine] = [r for r in summary["receipts"] if r["stage"] == "quarantine"]
    hits = quarantine["secret_hits"]
    assert hits["huggingface_token"] == 1 and hits["npm_token"] == 1  # the model name, the run id
    assert sum(hits.values()) == query(secret_home, "select count(*) from quarantine where reason = 'secret_detected'")[0][0]


def test_near_misses_are_exported(secret_home):
    exported = {run for (run,) in query(secret_home, "select unnest(provenance.run_ids) from export_sft")}
    assert {f"near-miss-{i}" for i in range(len(NEAR_MISSES))} <= exported


def test_the_gate_fails_closed_without_its_pattern_table(secret_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(secret_home, home, symlinks=True)
    with duckdb.connect(str(home / "data" / "warehouse.duckdb")) as conn:
        conn.execute("drop table secret_patterns")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "run", "--select", "int_export_candidates", "--profiles-dir", ".",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=PROJECT_DIR, env={**os.environ, "DISTILL_HOME": str(home)}, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode != 0
    assert "the secret_patterns seed (seeds/secret_patterns.csv) is not loaded or is empty" in proc.stdout


def scan_home(tmp_path: Path, files: dict[str, str]) -> Home:
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return Home(tmp_path)


def test_the_last_scan_catches_a_secret_the_gate_let_through_in_any_file(tmp_path):
    home = scan_home(tmp_path, {
        "exports/sft/2026-04-01.jsonl": json.dumps({"id": "sft_1", "instruction": "a", "response": "b"}) + "\n",
        "exports/openai/sft/2026-04-01.jsonl": json.dumps({"messages": [{"role": "user", "content": "hi"}],
                                                 "meta": {"deep": [SECRETS["stripe_key"]]}}) + "\n",
    })
    with pytest.raises(DistillError, match="exports/openai/sft/2026-04-01.jsonl .* matches secret pattern stripe_key"):
        firewall.scan_secrets(home)
    assert not (tmp_path / "exports/openai/sft/2026-04-01.jsonl").exists()
    [kept] = incident_files(tmp_path)
    assert kept.relative_to(tmp_path).as_posix().endswith("/exports/openai/sft/2026-04-01.jsonl")
    firewall.scan_secrets(home)  # what is left is clean


def test_the_last_scan_reads_files_that_are_not_json_lines_too(tmp_path):
    home = scan_home(tmp_path, {"exports/README.md": f"# card\n{SECRETS['pem_private_key']}\n"})
    with pytest.raises(DistillError, match="exports/README.md .* pem_private_key"):
        firewall.scan_secrets(home)


def test_the_last_scan_fails_closed_without_patterns(tmp_path):
    empty = tmp_path / "patterns.csv"
    empty.write_text("pattern_id,description,regex\n")
    with pytest.raises(DistillError, match="holds no patterns"):
        firewall.secret_patterns(empty)
    with pytest.raises(DistillError, match="cannot read"):
        firewall.secret_patterns(tmp_path / "missing.csv")
