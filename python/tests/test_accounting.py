"""Every physical line ends as evidence or as a skip with a reason (docs/concepts.md, "Nothing
is lost"), whatever the input."""

import json
from pathlib import Path

import pytest

from conftest import query, run_cli

VALID = {
    "call_id": "c1", "run_id": "r1", "ts": "2026-04-01T10:00:00Z", "model": "m",
    "messages": [{"role": "user", "content": "fix the bug"}], "completion": "done",
    "status": "ok", "finish_reason": "stop",
}


def line(**changes) -> bytes:
    record = {**VALID, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...}).encode()


# (the line, what becomes of it) for data/_kb/gateway_calls.jsonl
HOSTILE = [
    (line(), "evidence"),
    (b"", "blank_line"),
    (b"  \t ", "blank_line"),
    (b'{"call_id": "c2", "run_id":', "malformed_json"),
    (b"[1, 2]", "not_an_object"),
    (b'"just a string"', "not_an_object"),
    (line(call_id="c3", run_id=...), "missing_required"),
    (line(call_id="c4", latency_ms="fast"), "wrong_type"),
    (line(call_id="c5", ts="yesterday"), "wrong_type"),
    (line(call_id="c6", status="maybe"), "invalid_value"),
    (b'{"call_id": "c7", "note": "\xff\xfe bad bytes"}', "invalid_utf8"),
    (line(), "evidence"),  # an exact duplicate is still a line: evidence (quarantined later)
    (line(call_id="c8") + b"\r", "evidence"),  # CRLF
    (line(call_id="c9", trace={"span": [1, {"deep": True}]}), "evidence"),
    (line(call_id="c10", completion="x" * (50 * 1024 * 1024)), "oversize"),
    (b'{"call_id": "c11", "run_id": "r1", "ts": "2026-04-01T10:00:00Z", "text": "\\ud800"}', "malformed_json"),
]
LAST_LINE = line(call_id="c12", ts="2026-04-02T23:30:00-02:00")  # written without a newline


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("hostile")
    kb = home / "data" / "_kb"
    kb.mkdir(parents=True)
    (kb / "gateway_calls.jsonl").write_bytes(b"\n".join(text for text, _ in HOSTILE) + b"\n" + LAST_LINE)
    (kb / "task_outcomes.2026-04.jsonl").write_bytes(
        b'{"run_id": "r1", "ts": "2026-04-01T11:00:00+02:00", "status": "success"}\n'
    )
    (kb / "mystery.jsonl").write_bytes(b'{"a": 1}\n{"b": 2}\n')
    (kb / "audit_baselines.jsonl").write_bytes(b'{"not": "a source"}\n')
    result = run_cli("build-evidence", home=home)
    assert result.code == 0, result.stderr
    home.joinpath("cli-output.txt").write_text(result.stdout)
    return home


def test_every_hostile_line_is_accounted_for_exactly_once(hostile_home):
    rows = query(
        hostile_home,
        """
        select line_offset, 'evidence' from evidence where source_file = 'data/_kb/gateway_calls.jsonl'
        union all
        select line_offset, reason from skipped_lines where source_file = 'data/_kb/gateway_calls.jsonl'
        union all
        select line_offset, 'pending' from pending_lines where source_file = 'data/_kb/gateway_calls.jsonl'
        order by 1
        """,
    )
    expected = [(i, outcome) for i, (_, outcome) in enumerate(HOSTILE)]
    expected.append((len(HOSTILE), "pending"))
    assert rows == expected


def test_all_files_are_counted_and_non_sources_are_not_read(hostile_home):
    (lines,) = query(hostile_home, "select count(*) from base_source_lines")[0]
    (evidence,) = query(hostile_home, "select count(*) from evidence")[0]
    (skipped,) = query(hostile_home, "select count(*) from skipped_lines")[0]
    (pending,) = query(hostile_home, "select count(*) from pending_lines")[0]
    assert lines == len(HOSTILE) + 1 + 1 + 2
    assert evidence + skipped + pending == lines and pending == 1
    files = {f for (f,) in query(hostile_home, "select distinct source_file from base_source_lines")}
    assert "data/_kb/audit_baselines.jsonl" not in files


def test_unknown_stream_file_lines_are_skipped_with_their_numbers(hostile_home):
    assert query(
        hostile_home, "select line_offset, reason from skipped_lines where source_file = 'data/_kb/mystery.jsonl'"
    ) == [(0, "unknown_stream"), (1, "unknown_stream")]


def test_rotated_file_counts_for_its_stream(hostile_home):
    assert query(
        hostile_home, "select stream, recorded_at::varchar from evidence where source_file like '%task_outcomes%'"
    ) == [("task_outcomes", "2026-04-01 09:00:00")]


def test_skip_details_name_the_field(hostile_home):
    details = dict(query(hostile_home, "select line_offset, detail from skipped_lines where stream = 'gateway_calls'"))
    assert 'field "run_id"' in details[6]
    assert 'field "latency_ms" should be integer, got string' == details[7]
    assert "exceeds max_line_bytes" in details[14]


def test_unknown_fields_are_kept_in_extra(hostile_home):
    (extra,) = query(hostile_home, "select extra from evidence where json_extract_string(extra, '$.trace.span[1].deep') = 'true'")[0]
    assert json.loads(extra) == {"trace": {"span": [1, {"deep": True}]}}


def test_evidence_provenance_is_complete_and_hash_matches_the_line(hostile_home):
    from distill.canonical import sig_hash

    rows = query(
        hostile_home,
        "select line_offset, sig_hash from evidence where source_file = 'data/_kb/gateway_calls.jsonl' order by 1",
    )
    for offset, digest in rows:
        assert digest == sig_hash(HOSTILE[offset][0].decode())


def test_evidence_partitions_match_the_day(hostile_home):
    rows = query(
        hostile_home,
        f"""select count(*), count(*) filter (where recorded_at::date::varchar = day)
            from read_parquet('{hostile_home}/data/evidence/*/*.parquet', hive_partitioning = true)""",
    )
    (total, matching), (evidence,) = rows[0], query(hostile_home, "select count(*) from evidence")[0]
    assert total == matching == evidence


def test_cli_prints_a_one_line_summary_of_skips(hostile_home):
    printed = hostile_home.joinpath("cli-output.txt").read_text()
    assert "skipped by reason: blank_line 2," in printed
    assert "1 pending last line(s) will be read again by the next run" in printed


def test_a_pending_last_line_is_read_once_complete(hostile_home):
    with (hostile_home / "data" / "_kb" / "gateway_calls.jsonl").open("ab") as handle:
        handle.write(b"\n")
    assert run_cli("build-evidence", home=hostile_home).code == 0
    assert query(
        hostile_home,
        f"select stream, recorded_at::varchar from evidence where source_file = 'data/_kb/gateway_calls.jsonl' and line_offset = {len(HOSTILE)}",
    ) == [("gateway_calls", "2026-04-03 01:30:00")]
    assert query(hostile_home, "select count(*) from pending_lines") == [(0,)]


WRITER = """
import sys, time, json
path = sys.argv[1]
n = 0
with open(path, "ab", buffering=0) as out:
    while True:
        line = json.dumps({"run_id": f"live-{n}", "ts": "2026-04-01T10:00:00Z", "status": "success", "task": "t" * 200})
        half = len(line) // 2
        out.write(line[:half].encode())  # a line is written in two pieces, as a busy logger does
        time.sleep(0.002)
        out.write(line[half:].encode() + b"\\n")
        n += 1
"""


def test_a_source_being_appended_is_read_as_a_snapshot_and_nothing_is_lost(tmp_path):
    import subprocess
    import sys
    import time

    home = tmp_path
    kb = home / "data" / "_kb"
    kb.mkdir(parents=True)
    path = kb / "task_outcomes.jsonl"
    path.write_bytes(b"")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    try:
        time.sleep(0.5)
        result = run_cli("build-evidence", home=home)
        assert result.code == 0, result.stderr
    finally:
        writer.kill()
        writer.wait()
    (read_bytes, lines, pending) = query(home, "select bytes_read, lines_read, pending_lines from source_files")[0]
    assert 0 < read_bytes < path.stat().st_size  # the writer went on after the snapshot
    snapshot = path.read_bytes()[:read_bytes]
    assert lines == snapshot.count(b"\n") + (not snapshot.endswith(b"\n"))
    assert query(home, "select count(*) from skipped_lines") == [(0,)]  # a half-written line is pending, not bad
    with path.open("ab") as handle:  # let the writer's last line finish
        handle.write(b"\n")
    assert run_cli("build-evidence", home=home).code == 0
    on_disk = path.read_bytes()
    total = on_disk.count(b"\n")
    accounted = query(home, """select (select count(*) from evidence) + (select count(*) from skipped_lines)
                                 + (select count(*) from pending_lines)""")[0][0]
    assert accounted == total
    assert query(home, "select count(*) from evidence")[0][0] >= lines - pending
