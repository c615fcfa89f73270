"""A run killed with SIGKILL at any moment leaves the previous outputs intact, or the new ones
complete, never a mix; the next run succeeds. Each kill point is a moment inside one stage,
seen from outside as the first file that stage writes into the run's new generation."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import generated_home, run_cli

from distill import fingerprints, receipts, runs
from distill.home import Home

# (name, what is on disk once the run is inside that stage)
KILL_POINTS = [
    ("materialize", "data/generations/next/data/evidence/day=*/*.parquet"),
    ("score", "data/generations/next/data/scored-runs/day=*/*.parquet"),
    ("export-sft", "data/generations/next/exports/sft/*.jsonl"),
    ("quarantine", "data/generations/next/exports/quarantine/*.jsonl"),
    ("reports", "reports/.*.partial"),
]


@pytest.fixture(scope="module")
def changed_home(tmp_path_factory) -> Path:
    """A home with one complete run, whose inputs then changed (so a mix would show)."""
    home = generated_home(tmp_path_factory, "crash", lines=600, seed=7)
    other = tmp_path_factory.mktemp("crash-other")
    assert run_cli("generate", "--lines", "300", "--seed", "6", home=other).code == 0
    for source in (other / "data/_kb").iterdir():
        (home / "data/_kb" / f"more-{source.name}").write_bytes(source.read_bytes())
    return home


def on_disk_hash(home: Path) -> str:
    on_disk = Home.resolve(home)
    return fingerprints.run_hash(
        [o for paths in receipts.stage_files(on_disk).values() for o in fingerprints.output_files(on_disk, paths)]
    )


def summary_hashes(home: Path) -> set[str]:
    return {json.loads(p.read_text())["run_hash"] for p in (home / "reports").glob("*/summary.json")}


def assert_consistent(home: Path) -> None:
    """The exports parse line by line and, with the evidence and scored runs, are exactly the
    set some run's summary describes."""
    for path in (home / "exports").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            json.loads(line)
    assert on_disk_hash(home) in summary_hashes(home)
    assert all((d / "summary.json").exists() or not (d / "drift.json").exists() for d in (home / "reports").iterdir())


def kill_when(home: Path, pattern: str) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "distill", "--home", str(home), "run-all", "--quiet", "--force"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if appeared(home, pattern):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    return proc.wait()


def appeared(home: Path, pattern: str) -> bool:
    """Whether a path matches; a folder the run renames or removes while it is being looked
    through is not there yet."""
    try:
        return any(home.glob(pattern))
    except FileNotFoundError:
        return False


def test_a_run_killed_in_any_stage_leaves_one_consistent_set(changed_home):
    before = on_disk_hash(changed_home)
    killed = []
    for name, pattern in KILL_POINTS:
        code = kill_when(changed_home, pattern)
        assert_consistent(changed_home)
        if code == -signal.SIGKILL:
            killed.append(name)
            assert on_disk_hash(changed_home) == before, f"killed in {name}: the previous outputs moved"
        else:
            assert code == 0, f"{name}: the run failed instead of finishing"
            before = on_disk_hash(changed_home)  # it finished first: the new set is complete
    # every stage's kill point was reached while the run was still going (the report one may not be)
    assert set(killed) >= {name for name, _ in KILL_POINTS[:-1]}, killed

    result = run_cli("run-all", "--quiet", home=changed_home)
    assert result.code == 0, result.stderr
    assert_consistent(changed_home)
    latest = runs.latest_summary(Home.resolve(changed_home))
    assert on_disk_hash(changed_home) == latest.run_hash
    # what the killed runs left behind is gone
    assert list((changed_home / "data/generations").iterdir()) == [(changed_home / "data/current").resolve()]
    assert not list((changed_home / "reports").glob(".*"))
