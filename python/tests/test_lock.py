"""One run at a time per home, tested with real processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_cli

HOLD = """
import sys, time
from distill.home import Home
from distill.lock import hold
with hold(Home.resolve(sys.argv[1]), "test holder", 0):
    print("held", flush=True)
    time.sleep(60)
"""


def start_holder(home: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(home)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_fails_fast_naming_the_holder(home):
    holder = start_holder(home)
    try:
        started = time.monotonic()
        result = run_cli("run-all", home=home, env={**os.environ, "DISTILL_LOCK_WAIT_S": "1"})
        waited = time.monotonic() - started
        assert 1 <= waited < 15  # it waited its bound, then gave up (process start-up included)
        assert result.code == 1 and result.stderr.count("\n") == 1
        assert f"pid {holder.pid}" in result.stderr and "test holder" in result.stderr and "since" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_run_waits_for_the_holder_within_the_bound(home):
    (home / "data/_kb/task_outcomes.jsonl").write_text(
        '{"run_id": "r1", "ts": "2026-04-01T00:00:00Z", "status": "success", "task": "t"}\n'
    )
    holder = start_holder(home)
    subprocess.Popen(["sh", "-c", f"sleep 2; kill {holder.pid}"])
    result = run_cli("run-all", "--quiet", home=home, env={**os.environ, "DISTILL_LOCK_WAIT_S": "30"})
    holder.wait()
    assert result.code == 0, result.stderr


def test_a_lock_left_by_a_killed_run_is_cleared(home):
    (home / "data/_kb/task_outcomes.jsonl").write_text(
        '{"run_id": "r1", "ts": "2026-04-01T00:00:00Z", "status": "success", "task": "t"}\n'
    )
    holder = start_holder(home)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert "test holder" in (home / "data/.lock").read_text()  # the note is still there
    result = run_cli("run-all", "--quiet", home=home, env={**os.environ, "DISTILL_LOCK_WAIT_S": "0"})
    assert result.code == 0, result.stderr
