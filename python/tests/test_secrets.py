"""Secret scanning (SPEC §7): real-looking keys in every exportable text field are caught and
quarantined; near-misses are not."""

import csv
import json
from pathlib import Path

import duckdb
import pytest

from conftest import query, run_cli, ts, write_streams
from distill.home import PROJECT_DIR

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
]


def patterns() -> list[tuple[str, str]]:
    with (PROJECT_DIR / "seeds" / "secret_patterns.csv").open() as handle:
        return [(row["pattern_id"], row["regex"]) for row in csv.DictReader(handle)]


def matching(text: str) -> list[str]:
    with duckdb.connect() as conn:
        return [pid for pid, regex in patterns() if conn.execute("select regexp_matches(?, ?)", [text, regex]).fetchone()[0]]


def test_every_pattern_has_a_real_looking_example():
    assert {pid for pid, _ in patterns()} == set(SECRETS)


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
    home = tmp_path_factory.mktemp("secrets")
    write_streams(home, streams)
    result = run_cli("run-all", home=home)
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


def test_no_export_file_holds_any_secret(secret_home):
    texts = "".join((secret_home / p).read_text() for p in (
        "exports/rag/playbooks.jsonl", "exports/sft/instruction_response.jsonl",
        "exports/preference/chosen_rejected.jsonl"))
    for secret in SECRETS.values():
        assert secret not in texts and json.dumps(secret)[1:-1] not in texts


def test_near_misses_are_exported(secret_home):
    exported = {run for (run,) in query(secret_home, "select unnest(provenance.run_ids) from export_sft")}
    assert {f"near-miss-{i}" for i in range(len(NEAR_MISSES))} <= exported
