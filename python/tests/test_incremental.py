"""Incremental runs (docs/design.md, "Incremental runs"): a run reads only what the sources gained, and its outputs are
byte-identical to a full rebuild on the same inputs; an old line changed or gone rebuilds all."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import query, run_cli

RECORDED_AT = "2026-05-01T00:00:00Z"


def outputs(home: Path) -> dict[str, str]:
    """Every data output file and its sha256, and the run's run_hash."""
    files = [*home.glob("data/evidence/*/*.parquet"), *home.glob("data/scored-runs/*/*.parquet"),
             *home.glob("exports/*/*.jsonl"), home / "exports/README.md"]
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def latest(home: Path) -> tuple[str, str]:
    """The latest run's run_hash and how its materialize stage read the sources."""
    run = sorted((home / "reports").glob("2*/summary.json"), key=lambda p: p.stat().st_mtime_ns)[-1].parent
    read = json.loads((run / "receipts.json").read_text())[0]["read"]
    return json.loads((run / "summary.json").read_text())["run_hash"], read


def run_all(home: Path) -> None:
    result = run_cli("run-all", "--quiet", "--recorded-at", RECORDED_AT, home=home)
    assert result.code == 0, result.stderr


def full_rebuild_of(home: Path, tmp_path: Path) -> Path:
    """A fresh home holding the same sources, built from nothing."""
    fresh = tmp_path / "fresh"
    shutil.copytree(home / "data/_kb", fresh / "data/_kb")
    run_all(fresh)
    return fresh


@pytest.fixture(scope="module")
def grown(tmp_path_factory) -> Path:
    """A home built once, then given more lines (one of them completing a pending last line)
    and built again incrementally."""
    home = tmp_path_factory.mktemp("incremental")
    assert run_cli("generate", "--lines", "900", "--seed", "41", home=home).code == 0
    extra = tmp_path_factory.mktemp("extra")
    assert run_cli("generate", "--lines", "300", "--seed", "42", home=extra).code == 0
    kb = home / "data/_kb"
    # a last line still being written when the first run reads
    half = b'{"run_id": "run-late", "task": "a task finished late", '
    with (kb / "task_outcomes.jsonl").open("ab") as handle:
        handle.write(half)
    run_all(home)
    assert latest(home)[1].startswith("full rebuild")
    assert query(home, "select source_file from pending_lines order by 1") == [
        ("data/_kb/task_outcomes.jsonl",), ("data/_kb/user_feedback.jsonl",)]
    for path in sorted((extra / "data/_kb").glob("*.jsonl")):
        with (kb / path.name).open("ab") as handle:
            if path.name == "task_outcomes.jsonl":
                handle.write(b'"ts": "2026-04-03T10:00:00Z", "status": "success"}\n')
            handle.write(path.read_bytes())
    run_all(home)
    return home


def test_a_run_after_appends_reads_only_the_new_lines(grown):
    read = latest(grown)[1]
    assert read.startswith("incremental: "), read
    # the lines of the first run keep its read number; the appended ones carry the second's
    seqs = dict(query(grown, "select read_seq, count(*) from base_source_lines group by 1"))
    assert set(seqs) == {1, 2} and seqs[2] < seqs[1]
    # the table dbt staged the appended lines in is gone: the warehouse holds each line once
    assert query(grown, "select table_name from duckdb_tables() where table_name like '%dbt_tmp%'") == []


def test_a_pending_line_completed_later_becomes_evidence_once(grown):
    assert query(grown, """
        select skip_reason from base_source_records where record ->> 'run_id' = 'run-late'""") == [(None,)]
    assert query(grown, "select count(*) from evidence where run_id = 'run-late'") == [(1,)]
    assert query(grown, """
        select count(*) from (select source_file, line_offset from base_source_records group by all having count(*) > 1)
    """) == [(0,)]


def test_incremental_outputs_equal_a_full_rebuild(grown, tmp_path):
    fresh = full_rebuild_of(grown, tmp_path)
    assert outputs(grown) == outputs(fresh)
    assert latest(grown)[0] == latest(fresh)[0]


def copy_of(home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(home, copy, symlinks=True)
    return copy


def test_an_edited_old_line_rebuilds_everything_and_leaves_no_stale_row(grown, tmp_path):
    home = copy_of(grown, tmp_path)
    tool_runs = home / "data/_kb/tool_runs.jsonl"
    lines = tool_runs.read_bytes().splitlines(keepends=True)
    first = json.loads(lines[0])
    lines[0] = json.dumps({**first, "exit_code": 1 - int(first.get("exit_code") or 0)}).encode() + b"\n"
    tool_runs.write_bytes(b"".join(lines))
    run_all(home)
    read = latest(home)[1]
    assert read == "full rebuild: data/_kb/tool_runs.jsonl: bytes read before changed (edited, truncated or replaced)"
    assert outputs(home) == outputs(full_rebuild_of(home, tmp_path))


def test_a_deleted_file_rebuilds_everything_without_its_rows(grown, tmp_path):
    home = copy_of(grown, tmp_path)
    (home / "data/_kb/tool_runs.jsonl").unlink()
    run_all(home)
    assert latest(home)[1] == "full rebuild: data/_kb/tool_runs.jsonl is gone: its rows are rebuilt away"
    assert query(home, "select count(*) from base_source_records where source_file like '%tool_runs%'") == [(0,)]
    assert query(home, "select count(*) from evidence where stream = 'tool_runs'") == [(0,)]


def test_plain_dbt_build_after_an_incremental_run_rereads_without_duplicates(grown, tmp_path):
    import subprocess
    import sys

    home = copy_of(grown, tmp_path)
    before = query(home, "select count(*), count(distinct (source_file, line_offset)) from base_source_records")
    dbt = Path(sys.executable).with_name("dbt")
    project = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [str(dbt), "run", "--select", "base_source_lines", "base_source_records", "--project-dir", str(project),
         "--profiles-dir", str(project), "--target-path", str(tmp_path / "target"), "--log-path",
         str(tmp_path / "logs"), "--vars", json.dumps({"home": str(home)})],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    # every line read again (a new read number), none twice
    assert query(home, "select count(*), count(distinct (source_file, line_offset)) from base_source_records") == before
    assert query(home, "select count(distinct read_seq) from base_source_lines") == [(1,)]
