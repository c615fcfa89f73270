import hashlib
import os
from pathlib import Path

import pytest

from conftest import generated_home, query, run_cli


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.code == 0
    for command in ("build-evidence", "run-all", "sql", "trace", "generate"):
        assert command in result.stdout


def test_missing_home_is_one_clear_line(tmp_path):
    result = run_cli("run-all", home=tmp_path / "nope")
    assert result.code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "does not exist" in result.stderr and "--home" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_stream_folder_says_what_to_do(tmp_path):
    result = run_cli("build-evidence", home=tmp_path)
    assert result.code == 1
    assert "is not a distill home (it has no data/_kb/)" in result.stderr and "distill init" in result.stderr


def test_home_from_environment(tmp_path):
    env = {**os.environ, "DISTILL_HOME": str(tmp_path / "elsewhere")}
    result = run_cli("run-all", env=env)
    assert result.code == 1 and str(tmp_path / "elsewhere") in result.stderr


def test_sql_before_any_run_says_to_run_first(home):
    result = run_cli("sql", "select 1", home=home)
    assert result.code == 1
    assert "run-all" in result.stderr and "Traceback" not in result.stderr


def test_generate_is_deterministic(tmp_path):
    digests = []
    for name in ("a", "b"):
        assert run_cli("generate", "--lines", "400", "--seed", "3", home=tmp_path / name).code == 0
        kb = tmp_path / name / "data" / "_kb"
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(kb.iterdir())})
    assert digests[0] == digests[1]
    assert run_cli("generate", "--lines", "400", "--seed", "4", home=tmp_path / "c").code == 0
    other = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((tmp_path / "c/data/_kb").iterdir())}
    assert other != digests[0]


def test_generate_writes_the_same_bytes_however_often_it_flushes(tmp_path, monkeypatch):
    from distill.generate import _Writer, generate_home
    from distill.home import Home

    def files(home: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((home / "data" / "_kb").iterdir())}

    generate_home(Home(tmp_path / "once"), 400, 3)  # fewer lines than a flush: written at the end
    monkeypatch.setattr(_Writer, "FLUSH_LINES", 7)
    generate_home(Home(tmp_path / "often"), 400, 3)
    assert files(tmp_path / "often") == files(tmp_path / "once")


@pytest.fixture(scope="module")
def built_home(tmp_path_factory) -> Path:
    return generated_home(tmp_path_factory, "built", 600, 7)


def test_generated_home_has_every_stream_and_hostile_lines(built_home):
    streams = {s for (s,) in query(built_home, "select distinct stream from evidence")}
    assert streams >= {"gateway_calls", "pr_audits", "human_reviews", "tool_runs", "test_runs", "auto_apply",
                       "task_outcomes", "answers", "playbooks", "user_feedback", "escalations"}
    reasons = {r for (r,) in query(built_home, "select distinct reason from skipped_lines")}
    assert "unknown_stream" in reasons
    assert query(built_home, "select count(*) from pending_lines") == [(1,)]
    assert len(reasons) >= 5


def test_sql_prints_a_table(built_home):
    result = run_cli("sql", "select stream, count(*) as n from evidence group by stream order by stream", home=built_home)
    assert result.code == 0
    assert "gateway_calls" in result.stdout and "rows" in result.stdout


def test_bad_sql_is_one_line(built_home):
    result = run_cli("sql", "select nope from evidence", home=built_home)
    assert result.code == 1
    assert result.stderr.startswith("distill: SQL error:") and result.stderr.strip().count("\n") == 0


def test_trace_prints_the_source_line(built_home):
    evidence_id, source_file, offset = query(
        built_home, "select evidence_id, source_file, line_offset from evidence order by evidence_id limit 1"
    )[0]
    result = run_cli("trace", evidence_id, home=built_home)
    assert result.code == 0, result.stderr
    raw = (built_home / source_file).read_bytes().split(b"\n")[offset].decode()
    assert raw in result.stdout
    assert f"{source_file}:{offset}" in result.stdout


def test_trace_unknown_id_fails_cleanly(built_home):
    result = run_cli("trace", "ev_doesnotexist", home=built_home)
    assert result.code == 1 and "ev_doesnotexist" in result.stderr


def test_trace_fails_when_the_source_line_is_deleted(built_home, tmp_path):
    import shutil

    built_home = Path(shutil.copytree(built_home, tmp_path / "copy"))
    evidence_id, source_file, offset = query(
        built_home,
        "select evidence_id, source_file, line_offset from evidence where stream = 'answers' order by line_offset limit 1",
    )[0]
    path = built_home / source_file
    lines = path.read_bytes().split(b"\n")
    del lines[offset]
    path.write_bytes(b"\n".join(lines))
    result = run_cli("trace", evidence_id, home=built_home)
    assert result.code == 1
    assert "BROKEN" in result.stdout and f"{source_file}:{offset}" in result.stderr
