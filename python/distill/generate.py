"""Deterministic, realistic synthetic streams for a home's data/_kb (`distill generate`).

Runs are drawn from scenarios that exercise every scoring rule, every quarantine reason and
about 1 % hostile lines; the same seed and size always write the same bytes.
"""

import json
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from distill.home import Home

START = datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc)

COMPONENTS = [
    "billing-api", "auth-service", "search-indexer", "payments-worker", "notification-hub",
    "inventory-sync", "report-builder", "gateway-proxy", "feature-flags", "user-profile",
]
TASK_TEMPLATES = [
    "Fix the flaky test test_{fn} in {comp}",
    "Add retry with exponential backoff to the {comp} HTTP client",
    "Upgrade the {comp} service to Python 3.12 and fix deprecation warnings",
    "Reduce p99 latency of {comp} /v1/{fn} below 200 ms",
    "Handle the null {fn} field in {comp} webhook payloads",
    "Add pagination to the {comp} list_{fn} endpoint",
    "Write a migration that backfills {fn} for {comp}",
    "Remove the dead code path around legacy_{fn} in {comp}",
]
FUNCTIONS = ["invoice_total", "session_refresh", "reindex_batch", "charge_capture", "digest_send",
             "stock_level", "quarterly_export", "route_table", "rollout_rule", "avatar_upload"]
QUESTIONS = [
    "How do I rotate the signing key for {comp}?",
    "What is the on-call escalation path when {comp} pages?",
    "Which dashboards show {comp} error budgets?",
    "How do we replay dead-lettered messages in {comp}?",
    "What is the rollback procedure for a bad {comp} deploy?",
]
MODELS_LOCAL = ["qwen2.5-coder:7b", "llama3.1:8b"]
MODELS_CLOUD = ["gpt-4.1", "claude-sonnet-4"]
REVIEWERS = ["amira", "jonas", "li.wei", "pat", "sofia"]
HEDGES = ["I'm not sure, but", "As an AI language model,", "It might possibly be that"]

# Real-looking credentials of each kind the secret scanner must catch (all fake).
SECRETS = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_8f2KcLr0QmZ1xW4vT7yB9nD3sJ6hA5eU2pXq",
    "glpat-x8Zk3Qm9Lr2Wv7Tn5Yb1",
    "xoxb-2345678901-3456789012-AbCdEfGhIjKlMnOpQrStUvWx",
    "sk-proj-4fJ9kL2mN8pQ1rS7tU3vW6xY0zA5bC2d",
    "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq3Xh2fOoL8t1rO\n-----END RSA PRIVATE KEY-----",
    "password=Tr0ub4dor&3horse",
]


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


class _Writer:
    """Writes lines per file name, in the order they are written: lines are held until there are
    FLUSH_LINES of them, then appended to their files, so that memory stays flat whatever the
    size (held whole, four million lines took 3 GB)."""

    FLUSH_LINES = 20_000

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.held: dict[str, list[bytes]] = defaultdict(list)
        self.written: dict[str, int] = defaultdict(int)  # lines per file, held or on disk
        self.last: dict[str, bytes] = {}  # each file's last line
        self.lines = 0
        self.held_lines = 0

    def row(self, stream: str, ts: datetime, record: dict) -> None:
        name = f"{stream}.{ts:%Y-%m}.jsonl" if stream == "gateway_calls" else f"{stream}.jsonl"
        self.raw(name, json.dumps(record, ensure_ascii=False).encode())

    def raw(self, name: str, line: bytes) -> None:
        self.held[name].append(line)
        self.last[name] = line
        self.written[name] += 1
        self.lines += 1
        self.held_lines += 1
        if self.held_lines >= self.FLUSH_LINES:
            self._flush()

    def _flush(self) -> None:
        for name, held in sorted(self.held.items()):
            if held:
                # a file's first lines replace whatever it held; later ones are appended
                with (self.folder / name).open("ab" if self.written[name] > len(held) else "wb") as handle:
                    handle.write(b"".join(line + b"\n" for line in held))
                held.clear()
        self.held_lines = 0

    def close(self) -> dict[str, int]:
        """Write what is still held; return the lines written per file."""
        self._flush()
        return dict(self.written)


class _Generator:
    def __init__(self, seed: int, folder: Path, start: datetime = START, step_s: float = 300.0, prefix: str = "") -> None:
        self.rng = random.Random(seed)
        self.w = _Writer(folder)
        self.clock = start
        self.step_s = step_s  # the mean time between two rows
        self.prefix = prefix  # ids of another generation (bench's next day) never collide, and sort later
        self.n = 0

    # -- texts -------------------------------------------------------------------------------
    def task(self) -> str:
        comp, fn = self.rng.choice(COMPONENTS), self.rng.choice(FUNCTIONS)
        return self.rng.choice(TASK_TEMPLATES).format(comp=comp, fn=fn)

    def patch(self, task: str) -> str:
        fn = self.rng.choice(FUNCTIONS)
        lines = [f"--- a/src/{fn}.py", f"+++ b/src/{fn}.py", f"@@ -{self.rng.randint(10, 300)},7 +{self.rng.randint(10, 300)},9 @@"]
        for _ in range(self.rng.randint(3, 18)):
            kind = self.rng.choice(" +-")
            lines.append(f"{kind}    {self.rng.choice(['return', 'if', 'for', 'raise', 'log.info('])} {fn}_{self.rng.randint(1, 99)}")
        return "\n".join(lines) + f"\n# {task}"

    def completion(self, task: str) -> str:
        steps = self.rng.randint(2, 6)
        body = "\n".join(
            f"{i + 1}. {self.rng.choice(['Reproduced', 'Traced', 'Patched', 'Added a test for', 'Verified'])} "
            f"the {self.rng.choice(FUNCTIONS)} path ({self.rng.randint(1, 400)} lines touched)."
            for i in range(steps)
        )
        return f"Plan for: {task}\n{body}\n\n```diff\n{self.patch(task)}\n```"

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=self.rng.randint(1, max(2, round(2 * self.step_s))))
        return self.clock

    def new_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.prefix}{self.n:07d}"

    # -- rows --------------------------------------------------------------------------------
    def gateway(self, run_id: str, task: str, *, status="ok", finish="stop", completion=None) -> None:
        ts = self.tick()
        model = self.rng.choice(MODELS_LOCAL + MODELS_CLOUD)
        text = self.completion(task) if completion is None else completion
        self.w.row("gateway_calls", ts, {
            "call_id": self.new_id("call"), "run_id": run_id, "ts": _iso(ts),
            "provider": "ollama" if model in MODELS_LOCAL else "openai",
            "model": model,
            "messages": [
                {"role": "system", "content": "You are a senior engineer. Answer with a plan and a patch."},
                {"role": "user", "content": task},
            ],
            "completion": text if status == "ok" else "",
            "finish_reason": "error" if status == "error" else finish,
            "latency_ms": self.rng.randint(300, 9000),
            "prompt_tokens": self.rng.randint(200, 4000),
            "completion_tokens": self.rng.randint(50, 1500),
            "status": status,
            "error": "upstream timeout after 60s" if status == "error" else None,
        })

    def outcome(self, run_id: str, task: str, status: str) -> None:
        ts = self.tick()
        record = {"run_id": run_id, "ts": _iso(ts), "task": task, "status": status}
        if self.rng.random() < 0.5:
            record["score"] = {"success": 1.0, "partial": 0.5}.get(status, 0.0)
        self.w.row("task_outcomes", ts, record)

    def tests(self, run_id: str, passed: int, failed: int) -> None:
        ts = self.tick()
        self.w.row("test_runs", ts, {
            "test_run_id": self.new_id("test"), "run_id": run_id, "ts": _iso(ts),
            "suite": self.rng.choice(["unit", "integration", "e2e"]),
            "passed": passed, "failed": failed, "skipped": self.rng.randint(0, 5),
            "duration_ms": self.rng.randint(2000, 300000),
        })

    def tool(self, run_id: str, exit_code: int) -> None:
        ts = self.tick()
        self.w.row("tool_runs", ts, {
            "tool_run_id": self.new_id("tool"), "run_id": run_id, "ts": _iso(ts),
            "tool": self.rng.choice(["bash", "pytest", "ruff", "git"]),
            "command": self.rng.choice(["pytest -x -q", "ruff check .", "git apply fix.patch", "make build"]),
            "exit_code": exit_code, "duration_ms": self.rng.randint(100, 60000),
            "stdout_tail": "ok" if exit_code == 0 else "",
            "stderr_tail": "" if exit_code == 0 else "error: command failed with exit status 1",
        })

    def apply(self, run_id: str, task: str, *, merged: bool, reverted: bool, patch: str | None = None) -> None:
        ts = self.tick()
        self.w.row("auto_apply", ts, {
            "apply_id": self.new_id("apply"), "run_id": run_id, "ts": _iso(ts), "task": task,
            "patch": patch if patch is not None else self.patch(task),
            "applied": True, "merged": merged, "reverted": reverted,
            "revert_reason": "broke checkout flow in canary" if reverted else None,
        })

    def review(self, run_id: str, decision: str, edited: str | None = None) -> None:
        ts = self.tick()
        self.w.row("human_reviews", ts, {
            "review_id": self.new_id("review"), "run_id": run_id, "ts": _iso(ts),
            "reviewer": self.rng.choice(REVIEWERS), "decision": decision,
            "edited_response": edited, "notes": self.rng.choice(["", "checked locally", "needs a test", "LGTM"]),
        })

    def audit(self, run_id: str, *, verdict: str, grounded: bool, fabricated: int) -> None:
        ts = self.tick()
        self.w.row("pr_audits", ts, {
            "audit_id": self.new_id("audit"), "run_id": run_id, "ts": _iso(ts),
            "repo": f"acme/{self.rng.choice(COMPONENTS)}", "pr_number": self.rng.randint(100, 9999),
            "diff_summary": f"{self.rng.randint(1, 12)} files changed, {self.rng.randint(1, 400)} insertions",
            "verdict": verdict,
            "findings": [{"severity": "minor", "message": "missing docstring", "file": "src/app.py", "line": 12}],
            "model": self.rng.choice(MODELS_CLOUD), "grounded": grounded, "fabricated_refs": fabricated,
        })

    def feedback(self, run_id: str, rating: str) -> None:
        ts = self.tick()
        self.w.row("user_feedback", ts, {
            "feedback_id": self.new_id("fb"), "run_id": run_id, "ts": _iso(ts), "rating": rating,
            "comment": "worked first time" if rating == "up" else "did not fix it",
        })

    def answer(self, run_id: str) -> str:
        ts = self.tick()
        question = self.rng.choice(QUESTIONS).format(comp=self.rng.choice(COMPONENTS))
        doc = f"pb-{self.rng.randint(1, 40):04d}"
        self.w.row("answers", ts, {
            "answer_id": self.new_id("ans"), "run_id": run_id, "ts": _iso(ts), "question": question,
            "answer": f"Follow playbook {doc}: drain traffic, apply the change, then verify the dashboards. [{doc}]",
            "citations": [{"doc_id": doc, "span": "steps 1-3"}], "model": self.rng.choice(MODELS_LOCAL),
        })
        return question

    # -- scenarios ---------------------------------------------------------------------------
    def run(self) -> None:
        rng = self.rng
        run_id = self.new_id("run")
        task = self.task()
        scenario = rng.choices(
            ["success", "merged", "failure", "partial", "conflict", "review", "answer", "no_signal",
             "escalation", "audit", "secret", "empty", "orphan", "duplicate"],
            weights=[22, 8, 12, 8, 4, 10, 8, 4, 8, 6, 2, 1, 1, 2],
        )[0]
        if scenario == "success":
            self.gateway(run_id, task)
            self.tool(run_id, 0)
            self.tests(run_id, rng.randint(20, 400), 0)
            self.outcome(run_id, task, "success")
            if rng.random() < 0.3:
                self.feedback(run_id, "up")
        elif scenario == "merged":
            self.gateway(run_id, task)
            self.apply(run_id, task, merged=True, reverted=False)
        elif scenario == "failure":
            how = rng.choice(["outcome", "tests", "tool", "gateway", "reverted", "fabricated"])
            self.gateway(run_id, task, status="error" if how == "gateway" else "ok")
            if how == "outcome":
                self.outcome(run_id, task, "failure")
            elif how == "tests":
                self.tests(run_id, 0, rng.randint(1, 30))
            elif how == "tool":
                self.tool(run_id, rng.choice([1, 2, 127]))
            elif how == "reverted":
                self.apply(run_id, task, merged=True, reverted=True)
            elif how == "fabricated":
                self.audit(run_id, verdict="comment", grounded=False, fabricated=rng.randint(1, 3))
        elif scenario == "partial":
            how = rng.choice(["outcome", "length", "tests", "feedback"])
            self.gateway(run_id, task, finish="length" if how == "length" else "stop")
            if how == "outcome":
                self.outcome(run_id, task, "partial")
            elif how == "tests":
                self.tests(run_id, rng.randint(10, 200), rng.randint(1, 5))
            elif how == "feedback":
                self.feedback(run_id, "down")
        elif scenario == "conflict":
            self.gateway(run_id, task)
            self.outcome(run_id, task, "success")
            self.tests(run_id, 0, rng.randint(1, 9))
        elif scenario == "review":
            decision = rng.choice(["accept", "reject", "edit", "unsure"])
            self.gateway(run_id, task)
            self.outcome(run_id, task, rng.choice(["success", "failure"]))
            edited = self.completion(task) + "\n(reviewed and tightened)" if decision == "edit" else None
            self.review(run_id, decision, edited)
        elif scenario == "answer":
            self.answer(run_id)
            self.feedback(run_id, rng.choice(["up", "up", "down"]))
        elif scenario == "no_signal":
            self.gateway(run_id, task)
        elif scenario == "escalation":
            ts = self.tick()
            self.w.row("escalations", ts, {
                "escalation_id": self.new_id("esc"), "run_id": run_id, "ts": _iso(ts), "task": task,
                "local_model": rng.choice(MODELS_LOCAL), "local_output": f"{rng.choice(HEDGES)} try restarting {task.split()[-1]}.",
                "local_passed": False, "cloud_model": rng.choice(MODELS_CLOUD),
                "cloud_output": self.completion(task), "cloud_passed": True,
            })
        elif scenario == "audit":
            self.gateway(run_id, task)
            self.audit(run_id, verdict="approve", grounded=True, fabricated=0)
        elif scenario == "secret":
            secret = rng.choice(SECRETS)
            where = rng.choice(["completion", "patch", "edit"])
            if where == "completion":
                self.gateway(run_id, task, completion=f"Set the key {secret} in the env and redeploy.")
                self.outcome(run_id, task, "success")
            elif where == "patch":
                self.apply(run_id, task, merged=True, reverted=False, patch=f"+API_KEY = \"{secret}\"\n")
            else:
                self.gateway(run_id, task)
                self.review(run_id, "edit", f"Use {secret} for the staging deploy.")
        elif scenario == "empty":
            self.gateway(run_id, task, completion="")
            self.outcome(run_id, task, "success")
        elif scenario == "orphan":
            self.feedback(f"run-missing-{rng.randint(1, 10**6):07d}", "up")
        elif scenario == "duplicate":
            self.gateway(run_id, task)
            self.outcome(run_id, task, "success")
            name = "task_outcomes.jsonl"
            self.w.raw(name, self.w.last[name])  # the same line logged twice

    def playbook(self) -> None:
        ts = self.tick()
        comp = self.rng.choice(COMPONENTS)
        self.w.row("playbooks", ts, {
            "playbook_id": f"pb-{self.rng.randint(1, 40):04d}-{self.new_id('v')}", "ts": _iso(ts),
            "title": f"Recover {comp} after a failed deploy",
            "problem": f"{comp} returns 5xx after a deploy and the error budget burns.",
            "steps": ["Freeze deploys in the release channel", f"Roll back {comp} to the last green build",
                      "Verify error rate on the service dashboard", "Open an incident review"],
            "author": self.rng.choice(REVIEWERS),
            "status": self.rng.choices(["approved", "draft", "deprecated"], weights=[6, 2, 1])[0],
        })

    def hostile(self) -> None:
        """About 1 % of lines: every kind of bad input of docs/concepts.md, "Nothing is lost"."""
        rng = self.rng
        kind = rng.choice(["malformed", "blank", "wrong_type", "missing", "utf8", "array", "bad_enum", "crlf_blank"])
        ts = self.tick()
        name = rng.choice(["tool_runs.jsonl", "test_runs.jsonl", "user_feedback.jsonl"])
        if kind == "malformed":
            self.w.raw(name, b'{"run_id": "run-x", "ts": "' + _iso(ts).encode() + b'", "rating": "up"')
        elif kind == "blank":
            self.w.raw(name, b"")
        elif kind == "crlf_blank":
            self.w.raw(name, b"   \r")
        elif kind == "wrong_type":
            self.w.row("test_runs", ts, {"test_run_id": self.new_id("test"), "run_id": "run-x", "ts": _iso(ts),
                                         "passed": "twelve", "failed": 0})
        elif kind == "missing":
            self.w.row("tool_runs", ts, {"tool_run_id": self.new_id("tool"), "ts": _iso(ts), "exit_code": 0})
        elif kind == "utf8":
            self.w.raw(name, b'{"feedback_id": "fb-\xff\xfe", "rating": "up"}')
        elif kind == "array":
            self.w.raw(name, b'["not", "an", "object"]')
        elif kind == "bad_enum":
            self.w.row("user_feedback", ts, {"feedback_id": self.new_id("fb"), "run_id": "run-x", "ts": _iso(ts),
                                             "rating": "meh"})


SPREAD_DAYS = 90  # generated traffic covers about 90 days: one day is about 1 % of the lines


def generate_home(home: Home, lines: int, seed: int, edges: bool = True, start: datetime = START,
                  days: float = SPREAD_DAYS, prefix: str = "") -> dict[str, int]:
    """Write about `lines` source lines into home/data/_kb, spread over `days` from `start`;
    return lines written per file. edges: add the fixed edge cases too (an oversize run, a file
    of no stream, a pending line). prefix: put before every generated id."""
    home.kb.mkdir(parents=True, exist_ok=True)
    gen = _Generator(seed, home.kb, start, days * 86400 / max(lines, 1), prefix)
    while gen.w.lines < lines:
        roll = gen.rng.random()
        if roll < 0.03:
            gen.hostile()
        elif roll < 0.05:
            gen.playbook()
        else:
            gen.run()
    written = gen.w.close()
    if not edges:
        return written
    # One run too long to export (quarantined as oversize), a file no stream claims, and a last
    # line still being written.
    huge = {"run_id": "run-huge", "ts": "2026-04-01T07:00:00Z", "status": "success",
            "task": "Summarise the full incident log", "score": 1.0}
    with (home.kb / "task_outcomes.jsonl").open("ab") as handle:
        handle.write(json.dumps(huge).encode() + b"\n")
    with (home.kb / "answers.jsonl").open("ab") as handle:
        answer = {"answer_id": "ans-huge", "run_id": "run-huge", "ts": "2026-04-01T07:00:01Z",
                  "question": "Summarise the full incident log", "answer": "log line\n" * 15000,
                  "citations": [], "model": MODELS_LOCAL[0]}
        handle.write(json.dumps(answer).encode() + b"\n")
    written["task_outcomes.jsonl"] = written.get("task_outcomes.jsonl", 0) + 1
    written["answers.jsonl"] = written.get("answers.jsonl", 0) + 1
    (home.kb / "notes.misc.jsonl").write_bytes(b'{"note": "copied here by hand"}\n')
    written["notes.misc.jsonl"] = 1
    with (home.kb / "user_feedback.jsonl").open("ab") as handle:
        handle.write(b'{"feedback_id": "fb-partial", "run_id": "run-0000001", "ts": "2026-0')
    written["user_feedback.jsonl"] = written.get("user_feedback.jsonl", 0) + 1
    return written
