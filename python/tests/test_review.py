"""The review queue: pages in a real browser (headless Chromium), the JSON API, and decisions as
human_reviews lines that the next run applies."""

import csv
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import part_rows, query, run_cli

from distill.home import Home
from distill.review import DECISIONS_FILE, Reviews
from distill.review_app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE_RUN = "run-hostile-1"
SECRET = "AKIA" + "IOSFODNN7EXAMPLE"
HOSTILE_TEXT = (
    "<script>window.__pwned = 1</script> <img src=x onerror=\"window.__pwned = 2\"> "
    "<a href=\"javascript:window.__pwned = 3\">click</a> [md](javascript:alert(1)) \u202e bidi "
    f"key {SECRET} in the config"
)
TOKEN = "test-token-0123456789"
# Where the browser tests leave their screenshots, to look at.
SCREENS = Path(__file__).resolve().parents[2] / "target" / "review-screens"


def hostile_lines() -> dict[str, str]:
    """A run whose texts carry markup, a secret and a megabyte string, with no outcome signal
    (so it waits for a person)."""
    call = {
        "call_id": "call-hostile-1", "run_id": HOSTILE_RUN, "ts": "2026-04-02T10:00:00Z", "provider": "x",
        "model": "m<b>odel</b>",
        "messages": [{"role": "user", "content": HOSTILE_TEXT}],
        "completion": HOSTILE_TEXT + " " + "A" * 1_100_000,
        "status": "ok", "finish_reason": "stop", "latency_ms": 5, "prompt_tokens": 1, "completion_tokens": 1,
    }
    tool = {  # a lone surrogate: text that is not valid Unicode
        "tool_run_id": "tool-hostile-1", "run_id": HOSTILE_RUN, "ts": "2026-04-02T10:01:00Z", "tool": "pytest",
        "command": "pytest \\ud800", "exit_code": 0, "duration_ms": 1, "stdout_tail": "\\udc80 odd", "stderr_tail": "",
    }
    return {"gateway_calls.hostile.jsonl": json.dumps(call) + "\n",
            "tool_runs.hostile.jsonl": json.dumps(tool).replace("\\\\u", "\\u") + "\n"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("review")
    assert run_cli("generate", "--lines", "700", "--seed", "13", home=home).code == 0
    for name, text in hostile_lines().items():
        (home / "data/_kb" / name).write_text(text)
    result = run_cli("run-all", "--quiet", home=home)
    assert result.code == 0, result.stderr
    return home


@pytest.fixture
def home(built, tmp_path) -> Path:
    """A copy of the built home a test may decide in and run again."""
    return Path(shutil.copytree(built, tmp_path / "home", symlinks=True))


@pytest.fixture
def client(home):
    from fastapi.testclient import TestClient

    return TestClient(create_app(Reviews(Home.resolve(home), "tester"), TOKEN))


def category(home: Path, run_id: str) -> str:
    return query(home, f"select category from scored_runs where run_id = '{run_id}'")[0][0]


def decisions(home: Path) -> list[dict]:
    path = home / "data/_kb" / DECISIONS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def needs_review(home: Path) -> set[str]:
    return {r[0] for r in query(home, "select run_id from scored_runs where category = 'needs_human_review'")}


# -- a server as a user starts it, and a browser ---------------------------------------------

@pytest.fixture
def server(home):
    proc = subprocess.Popen(
        [sys.executable, "-m", "distill", "--home", str(home), "review", "--port", "0", "--reviewer", "tester"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    match = re.fullmatch(r"review queue: (http://127\.0\.0\.1:\d+)/\?token=(\S+)\n", line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    yield match[1], match[2]
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: `make test` installs it (`make browser`; Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    base, token = server
    SCREENS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/?token={token}")
    yield page
    context.close()
    assert not errors, errors


def test_the_queue_lists_the_runs_that_need_a_person_first_the_conflicts(page, home):
    assert page.url.endswith("/")  # the token moved from the address into a cookie
    assert "token" not in page.url
    expected = needs_review(home)
    total = int(page.locator("#total").inner_text())
    assert total == len(expected) and total > 20
    shown = page.locator("tr[data-run]").evaluate_all("rows => rows.map(r => r.dataset.run)")
    assert set(shown) <= expected and len(shown) == min(total, 100)
    reasons = page.locator("tr[data-run] td:nth-child(3)").all_inner_texts()
    conflicts = reasons.count("rule_2_conflict")
    assert conflicts > 0 and reasons[:conflicts] == ["rule_2_conflict"] * conflicts
    page.screenshot(path=str(SCREENS / "queue.png"), full_page=True)


def test_a_keyboard_decision_appends_one_line_and_the_next_run_applies_it(page, home):
    first, second = page.locator("tr[data-run]").evaluate_all("rows => rows.slice(0, 2).map(r => r.dataset.run)")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("a")  # the first row: accept
    page.locator(f'tr[data-run="{first}"]').wait_for(state="detached")
    page.keyboard.press("r")  # the row that moved up: reject
    page.locator(f'tr[data-run="{second}"]').wait_for(state="detached")
    lines = decisions(home)
    assert [(d["run_id"], d["decision"], d["reviewer"]) for d in lines] == [(first, "accept", "tester"), (second, "reject", "tester")]
    assert all(re.fullmatch(r"rv-[0-9a-f]{24}", d["review_id"]) and d["ts"].endswith("Z") for d in lines)
    page.reload()  # decided runs wait for the next run, out of the queue
    assert page.locator(f'tr[data-run="{first}"]').count() == 0
    assert "2 decisions wait" in page.locator(".summary").inner_text()

    result = run_cli("run-all", "--quiet", home=home)
    assert result.code == 0, result.stderr
    assert category(home, first) == "accepted" and category(home, second) == "rejected"
    assert query(home, f"select count(*) from evidence where stream = 'human_reviews' and source_file like '%{DECISIONS_FILE}'")[0][0] == 2
    page.reload()
    assert page.locator(".summary").inner_text().startswith(f"{len(needs_review(home))} runs")


def test_an_edit_puts_the_corrected_response_in_sft(page, home):
    run_id = query(home, """
        select run_id from scored_runs
        where category = 'needs_human_review' and length(instruction) > 10 and not starts_with(run_id, 'esc')
          and run_id != 'run-hostile-1'
        order by run_id limit 1""")[0][0]
    base = page.url.rstrip("/")
    page.goto(f"{base}/runs/{run_id}")
    page.screenshot(path=str(SCREENS / "run.png"), full_page=True)
    corrected = "Corrected by a reviewer: retry three times with backoff 1s, 2s, 4s, then fail loudly."
    page.keyboard.press("e")
    page.locator("textarea[name=edited_response]").fill(corrected)
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert page.url != f"{base}/runs/{run_id}"  # on to the next run
    assert [(d["run_id"], d["decision"], d["edited_response"]) for d in decisions(home)] == [(run_id, "edit", corrected)]

    assert run_cli("run-all", "--quiet", home=home).code == 0
    assert category(home, run_id) == "accepted"
    sft = [row for row in part_rows(home, "exports/sft") if run_id in row["provenance"]["run_ids"]]
    assert [row["messages"][-1]["content"] for row in sft] == [corrected]


def test_hostile_texts_render_inert_and_secrets_masked(page, home):
    page.goto(page.url.rstrip("/") + f"/runs/{HOSTILE_RUN}")
    page.locator("details#editor summary").click()
    page.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
    assert page.evaluate("window.__pwned") is None  # no script, no handler, no link ran
    assert page.evaluate("document.scripts.length") == 1  # the app's own
    assert page.evaluate("document.querySelectorAll('img, [onerror], a[href^=\"javascript\"]').length") == 0
    for link in page.locator("a").all():
        assert not (link.get_attribute("href") or "").startswith("javascript")
    text = page.locator("main").inner_text()
    assert "<script>window.__pwned = 1</script>" in text and "m<b>odel</b>" in text  # shown, as text
    content = page.content()
    assert SECRET not in content and "[secret masked]" in text
    assert "more characters" in text  # the megabyte string is cut on screen
    assert "\\u202e bidi" in text  # a bidi override is shown, not obeyed
    # text that is not Unicode never gets this far: the run's line with a lone surrogate is a skip
    assert query(home, "select reason from skipped_lines where source_file like '%tool_runs.hostile%'") == [("malformed_json",)]
    page.screenshot(path=str(SCREENS / "hostile-run.png"))


# -- the JSON API ------------------------------------------------------------------------------

def test_the_api_refuses_without_the_token_and_writes_nothing(client, home):
    run_id = sorted(needs_review(home))[0]
    body = {"decision": "accept"}
    assert client.get("/api/queue").status_code == 401
    assert client.get("/api/queue", headers={"Authorization": "Bearer nope"}).status_code == 403
    refused = [
        client.post(f"/api/runs/{run_id}/decision", json=body),
        client.post(f"/api/runs/{run_id}/decision", json=body, headers={"Authorization": "Bearer nope"}),
    ]
    client.cookies.set("distill_review", TOKEN)
    # a cookie is not enough to change anything through the API (another site's form could send it)
    refused.append(client.post(f"/api/runs/{run_id}/decision", json=body))
    refused += [  # the page form without its form token
        client.post(f"/decide/{run_id}", data={"decision": "accept", "csrf": "x"}),
        client.post(f"/decide/{run_id}", data={"decision": "accept"}),
    ]
    assert [r.status_code for r in refused] == [401, 403, 401, 403, 422]
    assert not (home / "data/_kb" / DECISIONS_FILE).exists()


@pytest.mark.parametrize(("body", "status", "names"), [
    ({"decision": "maybe"}, 422, "decision"),
    ({}, 422, "decision"),
    ({"decision": "edit"}, 422, "edited_response"),
    ({"decision": "accept", "edited_response": "x"}, 422, "edited_response"),
    ({"decision": "accept", "colour": "red"}, 422, "colour"),
    ({"decision": "accept", "notes": 5}, 422, "notes"),
    (["accept"], 422, "object"),
])
def test_a_bad_body_is_refused_naming_the_field(client, home, body, status, names):
    run_id = sorted(needs_review(home))[0]
    answer = client.post(f"/api/runs/{run_id}/decision", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == status and names in answer.json()["detail"]
    assert not (home / "data/_kb" / DECISIONS_FILE).exists()


def test_the_api_queue_run_and_decision(client, home):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    queue = client.get("/api/queue", params={"limit": 5}, headers=auth).json()
    assert queue["total"] == len(needs_review(home)) and len(queue["runs"]) == 5
    assert [r["priority"] for r in queue["runs"]] == sorted(r["priority"] for r in queue["runs"])
    rejected = client.get("/api/queue", params={"category": "rejected", "limit": 1}, headers=auth).json()
    assert rejected["runs"][0]["category"] == "rejected"
    assert client.get("/api/queue", params={"category": "nope"}, headers=auth).status_code == 422

    run_id = queue["runs"][0]["run_id"]
    run = client.get(f"/api/runs/{run_id}", headers=auth).json()
    assert run["run_id"] == run_id and run["evidence"] and run["reasons"][-1] == queue["runs"][0]["reason"]
    assert all(row["source_ok"] for row in run["evidence"])  # each row's line, as `distill trace` checks it
    assert client.get("/api/runs/no-such-run", headers=auth).status_code == 404
    assert client.post("/api/runs/no-such-run/decision", json={"decision": "accept"}, headers=auth).status_code == 404

    made = client.post(f"/api/runs/{run_id}/decision", json={"decision": "unsure", "notes": "ask the owner"}, headers=auth)
    assert made.status_code == 201
    [line] = decisions(home)
    assert made.json()["review_id"] == line["review_id"]
    assert line | {"ts": None} == {"review_id": line["review_id"], "run_id": run_id, "ts": None, "reviewer": "tester",
                                   "decision": "unsure", "edited_response": None, "notes": "ask the owner"}
    # decided runs leave the queue until the next run
    assert run_id not in [r["run_id"] for r in client.get("/api/queue", headers=auth).json()["runs"]]


def test_while_a_run_holds_the_home_a_run_shows_without_its_source_lines(client, home):
    from distill import lock

    auth = {"Authorization": f"Bearer {TOKEN}"}
    run_id = sorted(needs_review(home))[0]
    with lock.hold(Home.resolve(home), "distill run-all", 0.0):  # as a run holds it
        run = client.get(f"/api/runs/{run_id}", headers=auth).json()
        assert client.get("/api/queue", headers=auth).status_code == 200  # the queue reads parts only
    assert run["sources_note"].startswith("a run is in progress") and run["evidence"]
    assert all("source" not in row for row in run["evidence"])
    after = client.get(f"/api/runs/{run_id}", headers=auth).json()
    assert after["sources_note"] is None and all(row["source_ok"] for row in after["evidence"])


def test_decisions_made_during_a_run_are_all_applied_by_the_next(client, home):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    runs = sorted(needs_review(home) - {HOSTILE_RUN})[:40]
    assert len(runs) >= 30
    proc = subprocess.Popen([sys.executable, "-m", "distill", "--home", str(home), "run-all", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    answers: list[tuple[int, bool]] = []

    def decide(part: list[str]) -> None:
        for run_id in part:  # spread over the run: before, while and after it reads the file
            status = client.post(f"/api/runs/{run_id}/decision", json={"decision": "accept"}, headers=auth).status_code
            answers.append((status, proc.poll() is None))
            time.sleep(0.5)

    threads = [threading.Thread(target=decide, args=(runs[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert [status for status, _ in answers] == [201] * len(runs)
    assert sum(during for _, during in answers) >= 10  # made while the run ran
    assert run_cli("run-all", "--quiet", home=home).code == 0
    lines = (home / "data/_kb" / DECISIONS_FILE).read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == len(runs) + 1 and all(json.loads(line) for line in lines[:-1])
    applied = query(home, f"select run_id from evidence where source_file like '%{DECISIONS_FILE}'")
    assert sorted(r[0] for r in applied) == runs
    assert query(home, f"select count(*) from skipped_lines where source_file like '%{DECISIONS_FILE}'")[0][0] == 0
    assert {category(home, run_id) for run_id in runs} == {"accepted"}


def test_a_page_read_while_a_run_replaces_the_generation_reads_the_new_one(home, monkeypatch):
    """A run moves `current` to its new generation, then removes the old one a file at a time:
    a query that took the old one's parts just before reads the new one instead of failing."""
    import os

    reviews = Reviews(Home.resolve(home), "tester")
    run_id = sorted(needs_review(home))[0]
    assert reviews.run(run_id) is not None  # the current generation, loaded
    old = reviews.generation()
    new = old.with_name(old.name + "-next")
    shutil.copytree(old, new)
    filled, switched = reviews._filled, []

    def filled_then_replaced(sql, params):
        values = filled(sql, params)  # the old generation's parts, named in the query
        if "$scored" in sql and not switched:
            current = home / "data/current"
            link = current.with_name("current.next")
            link.symlink_to(Path(os.readlink(current)).with_name(new.name))
            link.replace(current)
            for part in (old / "data/scored-runs").rglob("*.parquet"):
                part.unlink()  # half-way through removing the old generation: its folder is still there
            switched.append(sql)
        return values

    monkeypatch.setattr(reviews, "_filled", filled_then_replaced)
    run = reviews.run(run_id)
    assert switched and run is not None and run["run_id"] == run_id
    assert reviews.generation() == new


# -- teams that label elsewhere -----------------------------------------------------------------

def test_export_the_queue_and_import_the_decisions(home, tmp_path):
    exported = tmp_path / "queue.csv"
    result = run_cli("review", "--export-queue", str(exported), home=home)
    assert result.code == 0, result.stderr
    text = exported.read_text()
    assert SECRET not in text
    csv.field_size_limit(2**31 - 1)  # the hostile run's megabyte response
    with exported.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:3] == ["run_id", "category", "reason"] and len(rows) == len(needs_review(home))
    assert [r["priority"] for r in rows] == sorted(r["priority"] for r in rows)
    rows[0].update(decision="accept", notes="fine")
    rows[1].update(decision="reject")
    with exported.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = run_cli("review", "--import-decisions", str(exported), home=home)
    assert result.code == 0, result.stderr
    assert "appended 2 decision(s)" in result.stdout and "left out" in result.stdout
    assert [(d["run_id"], d["decision"], d["notes"]) for d in decisions(home)] == [
        (rows[0]["run_id"], "accept", "fine"), (rows[1]["run_id"], "reject", None)]

    jsonl = tmp_path / "decisions.jsonl"
    run_id = sorted(needs_review(home))[0]
    jsonl.write_text(json.dumps({"run_id": run_id, "decision": "accept"}) + "\n"
                     + json.dumps({"run_id": run_id, "decision": "edit"}) + "\n")
    result = run_cli("review", "--import-decisions", str(jsonl), home=home)
    assert result.code == 1 and f"{jsonl}:2: edited_response" in result.stderr and "nothing was written" in result.stderr
    jsonl.write_text(json.dumps({"run_id": "no-such-run", "decision": "accept"}) + "\n")
    result = run_cli("review", "--import-decisions", str(jsonl), home=home)
    assert result.code == 1 and f"{jsonl}:1: run_id 'no-such-run'" in result.stderr
    jsonl.write_text("{not json\n")
    result = run_cli("review", "--import-decisions", str(jsonl), home=home)
    assert result.code == 1 and f"{jsonl}:1: not JSON" in result.stderr
    assert len(decisions(home)) == 2  # nothing of a refused file was written


def test_review_needs_a_completed_run(tmp_path):
    (tmp_path / "data/_kb").mkdir(parents=True)
    result = run_cli("review", "--port", "0", home=tmp_path)
    assert result.code == 1 and "has no completed run yet" in result.stderr and "run-all" in result.stderr
    assert not (tmp_path / "data/review.token").exists()


def test_the_token_file_is_private_and_matches_the_address(server, home):
    _, token = server
    path = home / "data/review.token"
    assert path.read_text().strip() == token and path.stat().st_mode & 0o777 == 0o600
