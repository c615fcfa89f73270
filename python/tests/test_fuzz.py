"""Hostile JSONL through the staging layer: never a crash, every line accounted for exactly once,
and sig_hash equal to the rfc8785 package's wherever that package accepts the line.

Each example is a whole file of generated lines run through `distill build-evidence`; a longer
campaign: DISTILL_FUZZ_EXAMPLES=200 pytest python/tests/test_fuzz.py (make fuzz)."""

import hashlib
import json
import os

import pytest
import rfc8785
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import query, run_cli

STREAMS = ["gateway_calls", "task_outcomes", "human_reviews", "test_runs", "playbooks", "escalations"]
FIELDS = ["run_id", "ts", "call_id", "status", "decision", "passed", "failed", "steps", "messages", "task",
          "playbook_id", "title", "escalation_id", "score", "test_run_id", "review_id"]

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
    | st.sampled_from(["2026-04-01T10:00:00Z", "success", "accept", "maybe", "", "\x00", "\ud800"])
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
records = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=8)


def encode(record: dict, style: int) -> bytes:
    text = json.dumps(record, ensure_ascii=style == 0, separators=(",", ":") if style == 1 else None)
    return text.encode("utf-8", errors="surrogatepass")


# Hand-picked hostile lines, each with what a task_outcomes file must make of it.
HOSTILE_LINES = {
    b"": "blank_line",
    b"   ": "blank_line",
    b"{": "malformed_json",
    b"[]": "not_an_object",
    b"null": "not_an_object",
    b'"x"': "not_an_object",
    b"{}": "missing_required",
    b'{"a": 1e400}': "malformed_json",
    b'{"a": -0}': "missing_required",
    b'{"a": 1, "a": 2}': "malformed_json",
    b'{"run_id": "r", "run_id": "s", "ts": "2026-04-01T00:00:00Z"}': "malformed_json",
    b'{"a": "\\ud800"}': "malformed_json",
    b"\xff\xfe{}": "invalid_utf8",
    b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}": "malformed_json",
    b'{"a": "' + b"x" * 70000 + b'"}': "missing_required",
    b"\x00\x00": "malformed_json",
    b'{"ts": {"nested": true}, "run_id": 5}': "wrong_type",
    b'{"a": NaN}': "malformed_json",
    b'{"a": 1}\r': "missing_required",
    b'{"run_id": "r1", "ts": "2026-04-01T00:00:00Z", "status": "maybe"}': "invalid_value",
    b'{"run_id": "r1", "ts": "yesterday", "status": "success"}': "wrong_type",
    b'{"run_id": "r1", "ts": "2026-04-01T00:00:00Z", "status": "success", "score": 7}': "invalid_value",
    b'{"run_id": "\\u001b[2J", "ts": "2026-04-01T00:00:00Z", "status": "success"}': "evidence",
}

raw_lines = st.one_of(
    st.tuples(records, st.integers(0, 2)).map(lambda r: encode(*r)),
    st.sampled_from(sorted(HOSTILE_LINES)),
)


def reference_hash(line: bytes) -> str | None:
    """What the rfc8785 package gives, where it accepts the line (integers past 2^53 as doubles)."""
    def parse_int(token):
        value = int(token)
        return value if abs(value) <= 2**53 - 1 else float(value)

    try:
        value = json.loads(line.decode("utf-8").rstrip("\r"), parse_int=parse_int)
        if not isinstance(value, dict):
            return None
        return hashlib.sha256(rfc8785.dumps(value)).hexdigest()
    except (ValueError, UnicodeDecodeError, rfc8785.CanonicalizationError, RecursionError, UnicodeEncodeError):
        return None


# Each example is a pipeline run (seconds), so no shrinking: a failure reports its files as found.
@settings(max_examples=int(os.environ.get("DISTILL_FUZZ_EXAMPLES", "2")), deadline=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=st.dictionaries(st.sampled_from(STREAMS), st.lists(raw_lines, min_size=1, max_size=40), min_size=1))
def test_hostile_lines_never_crash_and_are_all_accounted_for(tmp_path_factory, files):
    home = tmp_path_factory.mktemp("fuzz")
    kb = home / "data" / "_kb"
    kb.mkdir(parents=True)
    for stream, lines in files.items():
        (kb / f"{stream}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = run_cli("build-evidence", home=home)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    total = sum(len(lines) for lines in files.values())
    assert query(home, """
        select count(*) from (
            select source_file, line_offset from evidence
            union all
            select source_file, line_offset from skipped_lines)""") == [(total,)]
    assert query(home, """select count(*) from (select source_file, line_offset, count(*) as n from (
            select source_file, line_offset from evidence union all
            select source_file, line_offset from skipped_lines) group by all having n != 1)""") == [(0,)]
    hashes = dict(((f, o), h) for f, o, h in query(home, "select source_file, line_offset, sig_hash from evidence"))
    for stream, lines in files.items():
        for offset, line in enumerate(lines):
            recorded = hashes.get((f"data/_kb/{stream}.jsonl", offset))
            if recorded is not None:
                assert recorded == reference_hash(line), (stream, offset, line[:80])


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("hostile")
    kb = home / "data" / "_kb"
    kb.mkdir(parents=True)
    (kb / "task_outcomes.jsonl").write_bytes(b"\n".join(HOSTILE_LINES) + b"\n")
    result = run_cli("build-evidence", home=home)
    assert result.code == 0 and "Traceback" not in result.stderr, result.stderr
    return home


@pytest.mark.parametrize(("offset", "line"), list(enumerate(HOSTILE_LINES)), ids=lambda v: repr(v)[:40])
def test_each_hostile_line_is_accounted_for_with_its_reason(hostile_home, offset, line):
    outcome = query(hostile_home, f"""
        select 'evidence' from evidence where source_file = 'data/_kb/task_outcomes.jsonl' and line_offset = {offset}
        union all
        select reason from skipped_lines where source_file = 'data/_kb/task_outcomes.jsonl' and line_offset = {offset}""")
    assert outcome == [(HOSTILE_LINES[line],)]
