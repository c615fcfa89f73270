"""Hostile text stays inert, inputs are never read through symlinks, every writer takes the lock,
private data stays private, and bench never touches lines it did not write."""

import gzip
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import generated_home, run_cli
from distill import bench, lines
from distill.errors import DistillError
from distill.home import Home, env_number

HOSTILE = {
    "markup_close": "[/bold]",
    "markup_link": "[link=https://evil.example]click[/link]",
    "ansi": "\x1b[31mred\x1b[0m",
    "osc_title": "\x1b]0;owned\x07",
    "carriage_return": "safe\rEVIL",
    "bidi_override": "abc\u202edcba",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return generated_home(tmp_path_factory, "hardening", 600, 7)


# -- data is printed as text, never markup ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_sql_prints_hostile_values_as_escaped_text(built, name):
    value = HOSTILE[name]
    result = run_cli("sql", f"select {_concat(value)} as \"{name}[/x]\"", home=built)
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\r" not in result.stdout and "\u202e" not in result.stdout
    if name.startswith("markup"):
        assert value in result.stdout  # shown literally, not interpreted
    assert f"{name}[/x]" in result.stdout


def _concat(value: str) -> str:
    """A SQL expression for the value, control characters as chr() calls."""
    return " || ".join(f"chr({ord(c)})" for c in value)


def test_trace_escapes_control_characters_from_the_source_line(tmp_path):
    kb = tmp_path / "data" / "_kb"
    kb.mkdir(parents=True)
    row = {"run_id": "r\u001b[2J", "ts": "2026-04-01T00:00:00Z", "status": "success", "task": "t\u001b]0;x\u0007"}
    (kb / "task_outcomes.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n")
    assert run_cli("run-all", "--quiet", home=tmp_path).code == 0
    result = run_cli("trace", "r\x1b[2J", home=tmp_path)
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "r\\x1b[2J" in result.stdout


# -- no symlink is followed ---------------------------------------------------------------------


def test_a_symlinked_source_file_is_refused_naming_it(tmp_path):
    victim = tmp_path / "outside.jsonl"
    victim.write_text('{"run_id": "r1", "ts": "2026-04-01T00:00:00Z", "status": "success", "task": "t"}\n')
    kb = tmp_path / "home" / "data" / "_kb"
    kb.mkdir(parents=True)
    (kb / "task_outcomes.jsonl").symlink_to(victim)
    result = run_cli("run-all", home=tmp_path / "home")
    assert result.code == 1 and result.stderr.count("\n") == 1
    assert "data/_kb/task_outcomes.jsonl is a symlink" in result.stderr


def test_a_symlinked_trace_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    kb = tmp_path / "home" / "data" / "_kb"
    kb.mkdir(parents=True)
    (kb / "otel").symlink_to(tmp_path / "elsewhere")
    result = run_cli("run-all", home=tmp_path / "home")
    assert result.code == 1 and "data/_kb/otel is a symlink" in result.stderr


def test_the_lock_file_is_never_opened_through_a_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    home = tmp_path / "home"
    (home / "data" / "_kb").mkdir(parents=True)
    (home / "data" / ".lock").symlink_to(victim)
    result = run_cli("run-all", home=home)
    assert result.code == 1 and "data/.lock is a symlink" in result.stderr
    assert victim.read_text() == "precious\n"


def test_the_line_reader_opens_no_symlink(tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("{}\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    with pytest.raises(DistillError, match="is a symlink"):
        lines.open_source(link)


# -- every writer takes the lock ----------------------------------------------------------------

HOLD = """
import sys, time
from distill.home import Home
from distill.lock import hold
with hold(Home.resolve(sys.argv[1]), "test holder", 0):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("command", [
    ["replay", "--task", "rotate the key"],
    ["generate", "--lines", "50"],
    ["docs"],
])
def test_commands_that_write_wait_for_the_lock_then_fail_naming_it(built, command):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(built)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        result = run_cli(*command, home=built, env={**os.environ, "DISTILL_LOCK_WAIT_S": "1.5"})
        waited = time.monotonic() - started
        assert result.code == 1 and "is busy" in result.stderr and "test holder" in result.stderr
        assert 1.5 <= waited < 15
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("value", ["ten", "-1", "nan", "inf"])
def test_a_bad_numeric_variable_is_one_line(built, value):
    result = run_cli("run-all", home=built, env={**os.environ, "DISTILL_LOCK_WAIT_S": value})
    assert result.code == 1 and result.stderr.count("\n") == 1
    assert f"DISTILL_LOCK_WAIT_S={value!r} is not a number" in result.stderr


def test_env_number_reads_numbers_and_defaults():
    assert env_number({}, "X", 10.0) == 10.0
    assert env_number({"X": " 2.5 "}, "X", 10.0) == 2.5
    with pytest.raises(DistillError, match="X='0' is not a number >= 0.1"):
        env_number({"X": "0"}, "X", 1.0, minimum=0.1)


# -- private data stays private -----------------------------------------------------------------


def test_raw_data_is_owner_only_and_exports_follow_the_umask(built):
    def mode(path: Path) -> int:
        return stat.S_IMODE(os.stat(path).st_mode)

    data = built / "data"
    assert mode(data / "warehouse.duckdb") == 0o600
    assert mode(data / ".dbt") == 0o700
    assert mode((data / "current").resolve() / "data") == 0o700  # evidence and scored runs
    umask = os.umask(0)
    os.umask(umask)
    assert mode((data / "current").resolve()) == 0o777 & ~umask
    sft = next((built / "exports" / "sft").resolve().iterdir())
    assert mode(sft) == 0o666 & ~umask


# -- a gzip bomb stops at the cap ---------------------------------------------------------------


def test_an_archive_past_the_decompressed_cap_is_a_recorded_skip(tmp_path):
    path = tmp_path / "gateway_calls.old.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b'{"a": 1}\n' * 1000)
    source = lines.SourceFile(path=path, relative="data/_kb/gateway_calls.old.jsonl.gz", stream="gateway_calls")
    rows = [row for batch in lines.read_file(source, 1 << 20, max_archive_bytes=100) for row in batch.to_pylist()]
    assert [r["read_status"] for r in rows][-1] == "archive_too_large"
    assert all(r["read_status"] == "ok" for r in rows[:-1]) and len(rows) < 1000


# -- bench touches only what it wrote -----------------------------------------------------------


def test_bench_refuses_a_home_it_did_not_generate(built):
    result = run_cli("bench", "--lines", "300", "--runs", "1", "--no-warm-up", home=built)
    assert result.code == 1 and "holds source files bench did not generate" in result.stderr


def test_bench_takes_away_only_its_own_bytes(tmp_path):
    home = Home(tmp_path)
    kb = tmp_path / "data" / "_kb"
    kb.mkdir(parents=True)
    for stream in ("auto_apply", "task_outcomes"):
        (kb / f"{stream}.jsonl").write_text("old\n")
    appended = bench._append(home, {"auto_apply.jsonl": b"bench 1\n", "task_outcomes.jsonl": b"bench 2\n",
                                    "tool_runs.jsonl": b"a new file\n"})
    assert {a.path.name for a in appended} == {"auto_apply.jsonl", "task_outcomes.jsonl", "tool_runs.jsonl"}
    with (kb / "auto_apply.jsonl").open("a") as handle:  # a real writer, meanwhile
        handle.write("a real writer's line\n")
    left = bench._take_away(appended)
    assert left == ["auto_apply.jsonl"]
    assert (kb / "auto_apply.jsonl").read_text().endswith("a real writer's line\n")
    assert (kb / "task_outcomes.jsonl").read_text() == "old\n"
    assert sorted(p.name for p in kb.iterdir()) == ["auto_apply.jsonl", "task_outcomes.jsonl"]
