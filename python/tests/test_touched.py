"""Delta runs (docs/design.md, "Incremental runs"): for any sequence of appends, the day parts
and the manifest after the incremental runs are byte-identical to a full rebuild of the final
input; a next-day run rewrites no part of an older day; a part changed by hand is caught."""

import hashlib
import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from conftest import first_part, incident_files, run_cli
from distill import pipeline
from distill.errors import DistillError
from distill.home import Home

RECORDED_AT = "2026-05-01T00:00:00Z"
PENDING = b'{"run_id": "run-late", "task": "a task finished late", '
# every run writes the consumer formats too: their parts follow the same touched days
FORMATS = ["openai", "trl-conversational"]


def part_hashes(home: Path) -> dict[str, str]:
    """Every day part of every data output, and the manifest, with its sha256."""
    files = [*home.glob("data/evidence/*/*.parquet"), *home.glob("data/scored-runs/*/*.parquet"),
             *home.glob("exports/**/*.jsonl"), home / "exports/manifest.json"]
    return {p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def run_all(home: Path) -> str:
    """One run-all, in-process; how it read the sources."""
    result = pipeline.build(Home(home), "run-all", recorded_at=datetime.fromisoformat(RECORDED_AT.replace("Z", "+00:00")),
                            formats=FORMATS)
    return json.loads((home / "reports" / result.run_id / "receipts.json").read_text())[0]["read"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A generated home with a pending last line, built once."""
    home = tmp_path_factory.mktemp("base")
    assert run_cli("generate", "--lines", "400", "--seed", "23", home=home).code == 0
    with (home / "data/_kb/task_outcomes.jsonl").open("ab") as handle:
        handle.write(PENDING)
    assert run_all(home).startswith("full rebuild")
    return home


def copy_home(base: Path, target: Path) -> Path:
    """A copy whose sources and warehouse are its own and whose parts are the same files (hard
    links: parts are never written in place), so that it can run incrementally."""
    shutil.copytree(base, target, symlinks=True, ignore=shutil.ignore_patterns("generations"))
    shutil.copytree(base / "data/generations", target / "data/generations", symlinks=True, copy_function=os.link)
    return target


def run_ids(home: Path) -> tuple[list[str], datetime]:
    """The scored runs, and the day after the last evidence."""
    import duckdb

    with duckdb.connect(str(home / "data/warehouse.duckdb"), read_only=True) as conn:
        runs = [r[0] for r in conn.execute("select run_id from scored_runs order by run_id").fetchall()]
        (last,) = conn.execute("select max(recorded_at)::date from evidence").fetchone()
    return runs, datetime(last.year, last.month, last.day) + timedelta(days=1)


def line(row: dict) -> bytes:
    return (json.dumps(row) + "\n").encode()


def append(home: Path, stream: str, data: bytes) -> None:
    with (home / f"data/_kb/{stream}.jsonl").open("ab") as handle:
        handle.write(data)


# An append: (kind, which run or line, a number that varies it)
appends = st.lists(
    st.tuples(st.sampled_from(["new_runs", "late_review", "late_feedback", "late_outcome", "duplicate", "complete_pending",
                               "bad_line"]),
              st.integers(0, 10_000), st.integers(0, 3)),
    min_size=1, max_size=4,
)


def apply(home: Path, kind: str, pick: int, n: int, step: int, tasks: list[str] | None = None) -> bool:
    """One append of the kind, on the day after the generated ones (and `step` days later);
    whether it appended anything (a pending line another append already ended is not there to
    complete)."""
    runs, next_day = run_ids(home)
    run = runs[pick % len(runs)]
    ts = (next_day + timedelta(days=step, hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "new_runs":
        for i in range(n + 1):
            rid = f"new-{step}-{pick}-{i}"
            task = (tasks or ["Rotate the key", "Fix the flaky test", f"Task {pick % 7}"])[i % 3]
            append(home, "gateway_calls", line({"call_id": f"c-{rid}", "run_id": rid, "ts": ts, "status": "ok",
                                                "finish_reason": "stop", "messages": [{"role": "user", "content": task}],
                                                "completion": f"Done {pick % 5}."}))
            append(home, "task_outcomes", line({"run_id": rid, "ts": ts, "task": task,
                                                "status": ["success", "failure", "partial"][(pick + i) % 3]}))
    elif kind == "late_review":
        decision = ["accept", "reject", "edit", "unsure"][n]
        append(home, "human_reviews", line({"review_id": f"r-{step}-{pick}", "run_id": run, "ts": ts, "reviewer": "t",
                                            "decision": decision, "edited_response": "Edited." if decision == "edit" else None}))
    elif kind == "late_feedback":
        append(home, "user_feedback", line({"feedback_id": f"f-{step}-{pick}", "run_id": run, "ts": ts,
                                            "rating": ["up", "down"][n % 2]}))
    elif kind == "late_outcome":
        append(home, "task_outcomes", line({"run_id": run, "ts": ts, "status": ["success", "failure", "partial", "abandoned"][n]}))
    elif kind == "duplicate":
        source = sorted((home / "data/_kb").glob("gateway_calls*.jsonl"))[0]  # a line already read
        lines = source.read_bytes().splitlines(keepends=True)
        complete = [ln for ln in lines if ln.endswith(b"\n")]
        append(home, "gateway_calls", complete[pick % len(complete)])
    elif kind == "bad_line":
        # quarantined at ingest, on the day of the last good line before it in its file
        append(home, ["user_feedback", "human_reviews", "gateway_calls", "tool_runs"][n], [
            b'{"feedback_id": "broken", "run_id": \n',  # not JSON
            b'["a review", "as an array"]\n',  # not an object
            line({"call_id": f"c-missing-{step}-{pick}", "ts": ts}),  # no run_id
            line({"tool_run_id": f"t-{step}-{pick}", "run_id": run, "ts": ts, "exit_code": "zero"}),  # wrong type
        ][n])
    elif kind == "complete_pending":
        path = home / "data/_kb/task_outcomes.jsonl"
        if not path.read_bytes().endswith(PENDING):
            return False
        append(home, "task_outcomes", b'"ts": "2026-04-03T10:00:00Z", "status": "success"}\n')
    return True


# Each example is several pipeline runs (seconds each): `make test` runs the explicit example and
# one random sequence (a new one each time; a failure prints the sequence to replay);
# DISTILL_TOUCHED_EXAMPLES=N runs N random sequences (a longer campaign).
EXAMPLES = int(os.environ.get("DISTILL_TOUCHED_EXAMPLES", "1"))


@settings(max_examples=max(EXAMPLES, 1), deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate] if EXAMPLES else [Phase.explicit],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batches=st.lists(appends, min_size=1, max_size=2))
@example(batches=[
    [("new_runs", 3, 2), ("late_review", 17, 1), ("duplicate", 5, 0), ("complete_pending", 0, 0)],
    [("late_feedback", 40, 1), ("late_outcome", 41, 1), ("late_review", 99, 2), ("new_runs", 8, 1), ("bad_line", 3, 0)],
])
def test_delta_runs_equal_a_full_rebuild(base, tmp_path_factory, batches):
    home = copy_home(base, tmp_path_factory.mktemp("delta") / "home")
    for step, batch in enumerate(batches):
        appended = [apply(home, kind, pick, n, step) for kind, pick, n in batch]
        assert run_all(home).startswith("incremental" if any(appended) else "nothing changed")
    fresh = tmp_path_factory.mktemp("full") / "home"
    shutil.copytree(home / "data/_kb", fresh / "data/_kb")
    assert run_all(fresh).startswith("full rebuild")
    assert part_hashes(home) == part_hashes(fresh)


def test_a_next_day_run_rewrites_no_part_of_an_older_day(base, tmp_path):
    home = copy_home(base, tmp_path / "home")
    apply(home, "complete_pending", 0, 0, 0)  # the base's half-written line, finished
    assert run_all(home).startswith("incremental")
    new_day = run_ids(home)[1].strftime("%Y-%m-%d")
    before = {p: os.stat(home / p).st_ino for p in part_hashes(home)}
    # runs of a day after every other, on prompts no earlier run shares
    apply(home, "new_runs", 1, 2, 0, tasks=[f"A task first seen on the new day, number {i}" for i in range(3)])
    assert run_all(home).startswith("incremental")
    after = {p: os.stat(home / p).st_ino for p in part_hashes(home)}
    rewritten = sorted(p for p in after if before.get(p) != after[p] and p != "exports/manifest.json")
    assert rewritten and all(new_day in p for p in rewritten), rewritten
    assert all(after[p] == before[p] for p in before if p != "exports/manifest.json")  # carried, not copied


def test_a_forbidden_row_appended_to_a_carried_part_fails_the_run_and_is_kept(base, tmp_path):
    home = copy_home(base, tmp_path / "home")
    part = first_part(home, "exports/sft").resolve()
    shutil.copy2(part, part.with_name("own-copy"))  # the part is a hard link into the shared base:
    part.with_name("own-copy").replace(part)  # edit a file of this home's own
    rows = [json.loads(text) for text in part.read_text().splitlines()]
    forged = rows[0] | {"id": "sft_forged", "quality_score": "rejected"}
    with part.open("a") as handle:  # by hand, behind distill's back
        handle.write(json.dumps(forged) + "\n")
    apply(home, "late_feedback", 3, 0, 5)
    with pytest.raises(DistillError, match="firewall: exports/sft/.*quality_score.*moved to data/incidents/"):
        run_all(home)
    [incident] = incident_files(home)
    assert "sft_forged" in incident.read_text() and "changed after the run" in (incident.parents[2] / "NOTE.md").read_text()
    assert not any("sft_forged" in p.read_text() for p in (home / "exports/sft").glob("*.jsonl"))
    # the next run rebuilds from the sources, and says why
    assert run_all(home).startswith("full rebuild")


def test_a_delta_run_proves_the_lines_it_read_and_counts_the_rest(base, tmp_path):
    """Invariant 1 on a delta run checks the new lines one by one and the whole corpus by its
    counts: an older line's outcome lost between runs is still caught."""
    import duckdb

    home = copy_home(base, tmp_path / "home")
    with duckdb.connect(str(home / "data/warehouse.duckdb")) as conn:
        conn.execute("delete from skipped_lines where (source_file, line_offset) in "
                     "(select (source_file, line_offset) from skipped_lines order by all limit 1)")
    apply(home, "late_feedback", 3, 0, 5)
    with pytest.raises(DistillError, match=r"inv01_every_line_accounted_once: Got 1 result"):
        run_all(home)
