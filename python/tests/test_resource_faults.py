"""Resource faults: a full disk, a read-only home, an unreadable source file, a source deleted or
truncated while the run reads it. Each is one clear line naming the path, a non-zero exit, a
failed-stage receipt where the home can still be written, and the previous outputs untouched.

The kernel grants root every permission, so where a test needs a permission to be refused and
the tests run as root, distill runs as the unprivileged user nobody (`setpriv`, else a user
namespace with `unshare --user`); the tests never skip for want of a way to drop root."""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import generated_home
from test_crash_safety import on_disk_hash

from distill.lines import SourceFile, SourceReadError, read_file, snapshot

ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return generated_home(tmp_path_factory, "faults", lines=600, seed=7)


@pytest.fixture
def home(built) -> Path:
    """A fresh copy of a built home (links kept as links), world-writable and in a folder every
    user can reach, so that an unprivileged user can run distill on it."""
    scratch = Path(tempfile.mkdtemp(prefix="distill-faults-"))
    scratch.chmod(0o755)
    copy = scratch / "home"
    shutil.copytree(built, copy, symlinks=True)
    for path in [copy, *copy.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o777 if path.is_dir() else 0o666)
    yield copy
    shutil.rmtree(scratch, ignore_errors=True)


def unprivileged() -> list[str]:
    """The argv prefix that runs a command as an unprivileged user: nothing when the tests do not
    run as root; else setpriv to nobody, or a user namespace. It fails rather than skips."""
    if not ROOT:
        return []
    probe = [sys.executable, "-c", "import distill"]
    for wrap in (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], ["unshare", "--user"]):
        if shutil.which(wrap[0]) and subprocess.run([*wrap, *probe], capture_output=True).returncode == 0:
            return wrap
    pytest.fail("the tests run as root and neither setpriv nor `unshare --user` can drop root here")


def distill(home: Path, *args: str, wrap: list[str] = (), preexec=None, env=None) -> subprocess.CompletedProcess:
    argv = [*wrap, sys.executable, "-m", "distill", "--home", str(home), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, preexec_fn=preexec, env=env)


def assert_clean_failure(result: subprocess.CompletedProcess, names: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert names in result.stderr, result.stderr


def latest_receipts(home: Path) -> list[dict]:
    runs = sorted((home / "reports").iterdir(), key=lambda d: (d / "receipts.json").stat().st_mtime_ns)
    return json.loads((runs[-1] / "receipts.json").read_text())


def test_a_full_disk_fails_the_run_cleanly_and_leaves_the_outputs(home):
    before = on_disk_hash(home)
    limit = 256 * 1024  # every file this run writes past 256 KiB fails with EFBIG, as on a full disk

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = distill(home, "run-all", "--force", preexec=small_disk)
    assert_clean_failure(result, str(home))
    assert "File too large" in result.stderr or "No space" in result.stderr
    assert on_disk_hash(home) == before
    assert any(r["status"] == "failed" for r in latest_receipts(home))


def test_running_out_of_memory_names_the_setting_to_raise(home):
    before = on_disk_hash(home)
    result = distill(home, "run-all", "--force", env={**os.environ, "DISTILL_MEMORY_LIMIT": "8MB"})
    assert_clean_failure(result, "DuckDB ran out of memory under its limit of 8MB")
    assert "set DISTILL_MEMORY_LIMIT higher" in result.stderr and "SET memory_limit" not in result.stderr
    assert on_disk_hash(home) == before
    assert any(r["status"] == "failed" for r in latest_receipts(home))
    result = distill(home, "run-all", "--force", env={**os.environ, "DISTILL_MEMORY_LIMIT": "lots"})
    assert_clean_failure(result, "DISTILL_MEMORY_LIMIT='lots' is not a size")
    result = distill(home, "run-all", "--force", env={**os.environ, "DISTILL_DUCKDB_THREADS": "many"})
    assert_clean_failure(result, "DISTILL_DUCKDB_THREADS='many' is not a number of threads")
    assert on_disk_hash(home) == before


def test_a_read_only_home_is_one_line_naming_it(home):
    before = on_disk_hash(home)
    for path in [home, *home.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o555)
    try:
        result = distill(home, "run-all", "--force", wrap=unprivileged())
    finally:
        for path in [home, *home.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o777)
    assert_clean_failure(result, str(home))
    assert on_disk_hash(home) == before


def test_an_unreadable_source_file_is_one_line_naming_it(home):
    before = on_disk_hash(home)
    source = home / "data/_kb/answers.jsonl"
    source.chmod(0)
    result = distill(home, "run-all", "--force", wrap=unprivileged())  # the file's mode holds
    assert_clean_failure(result, "data/_kb/answers.jsonl: cannot read it (Permission denied)")
    assert on_disk_hash(home) == before
    [failed] = [r for r in latest_receipts(home) if r["status"] == "failed"]
    assert failed["stage"] == "materialize"


def test_a_source_truncated_or_deleted_while_read_names_it(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 1000)
    taken = snapshot(path, "data/_kb/answers.jsonl", "answers")
    path.write_bytes(b'{"a": 1}\n' * 10)  # truncated by someone after the run took its snapshot
    with pytest.raises(SourceReadError, match=r"answers.jsonl shrank from 9,000 to 90 bytes .* rerun"):
        list(read_file(taken, 1 << 20))
    path.unlink()
    with pytest.raises(SourceReadError, match="answers.jsonl: No such file"):
        snapshot(path, "data/_kb/answers.jsonl", "answers")
    with pytest.raises(SourceReadError, match="answers.jsonl: cannot read it"):
        list(read_file(SourceFile(path, "data/_kb/answers.jsonl", "answers", 9000), 1 << 20))


# A node that runs out of memory on two DuckDB threads and fits on one (as DuckDB's spilling can
# near its limit): simulated by an error with DuckDB's out-of-memory message on more than one.
STARVED_ON_TWO_THREADS = {"models/scoring/int_latest_rows_picked.sql": (
    "    inner join files on evidence.source_file = files.source_file\n),",
    "    inner join files on evidence.source_file = files.source_file\n"
    "    where case when current_setting('threads') > 1\n"
    "        then error('Out of Memory Error: could not allocate block (simulated)') else true end\n),",
)}


def test_a_node_out_of_memory_is_built_again_on_one_thread_with_what_follows(home, patched_project, monkeypatch, capsys):
    from conftest import run_main

    args = ("--home", str(home), "run-all", "--force", "--quiet", "--recorded-at", "2026-01-01T00:00:00Z")
    assert run_main(monkeypatch, capsys, *args)[0] == 0
    # two DuckDB threads as the operator set them (a home this small would otherwise run on one)
    monkeypatch.setenv("DISTILL_DUCKDB_THREADS", "2")
    expected = json.loads(sorted(home.glob("reports/*/summary.json"))[-1].read_text())
    patched_project(STARVED_ON_TWO_THREADS)
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 0, out + err
    summary = json.loads(sorted(home.glob("reports/*/summary.json"))[-1].read_text())
    assert summary["run_hash"] == expected["run_hash"]  # the same outputs, byte for byte
    read = next(r["read"] for r in latest_receipts(home) if r["stage"] == "materialize")
    assert "int_latest_rows_picked ran out of DuckDB's memory limit" in read
    nodes = json.loads((home / "data/.dbt/target/nodes.json").read_text())["results"]
    built = [n["status"] for n in nodes if n["unique_id"].endswith(".int_latest_rows_picked")]
    assert built == ["success"]  # once in the results: the retry's
    assert all(n["status"] in ("success", "pass") for n in nodes)
