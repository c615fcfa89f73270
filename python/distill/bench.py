"""The benchmark (SPEC §13): the whole pipeline against the physical floor on the same files, one
raw DuckDB pass that reads every line, parses it and hashes it."""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from distill.generate import generate_home
from distill.home import Home

FLOOR_SQL = """
select count(*) as lines, sum(length(sha256(json::varchar))) as hashed
from read_json_objects(?, format = 'newline_delimited', ignore_errors = true)
"""


@dataclass(frozen=True)
class BenchResult:
    lines: int
    megabytes: float
    floor_s: float
    run_all_s: float
    ratio: float
    lines_per_s: float
    mb_per_s: float
    peak_rss_mb: float
    incremental_s: float  # a run-all after 1 % more lines were appended
    incremental_pct: float  # incremental_s as a share of run_all_s
    noop_s: float  # a run-all with nothing new: no data work
    runs: int


def _floor(home: Home) -> float:
    with duckdb.connect() as conn:
        conn.execute("set threads = 2")
        started = time.perf_counter()
        conn.execute(FLOOR_SQL, [str(home.kb / "*.jsonl")]).fetchall()
        return time.perf_counter() - started


def _run_all(home: Home, force: bool = True) -> tuple[float, float]:
    """One run-all in a child process: wall seconds and the child's peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "distill", "--home", str(home.root), "run-all", "--quiet", *(["--force"] if force else [])],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip())
    # ru_maxrss of children is the largest of any child so far, in KiB on Linux
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _append_one_percent(home: Home, seed: int) -> None:
    """Append 1 % more generated lines to the home's stream files, as writers would."""
    lines = sum(1 for p in home.kb.glob("*.jsonl") for _ in p.open("rb"))
    with tempfile.TemporaryDirectory() as scratch:
        extra = Home(Path(scratch))
        generate_home(extra, max(lines // 100, 12), seed, edges=False)
        for path in sorted(extra.kb.glob("*.jsonl")):
            with (home.kb / path.name).open("ab") as target:
                target.write(path.read_bytes())


def run_bench(home: Home, lines: int, seed: int, runs: int, warm_up: bool = True) -> BenchResult:
    if not home.kb.exists() or not any(home.kb.iterdir()):
        generate_home(home, lines, seed)
    sizes = {p: p.stat().st_size for p in home.kb.glob("*.jsonl")}
    size = sum(sizes.values())
    _floor(home)  # warm the page cache
    floors = [_floor(home) for _ in range(runs)]
    if warm_up:
        _run_all(home)
    results = [_run_all(home) for _ in range(runs)]
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        (read_lines,) = conn.execute("select count(*) from stg_source_lines").fetchone()
    try:
        increments = []
        for run in range(runs):
            _append_one_percent(home, seed + 1 + run)
            increments.append(_run_all(home, force=False)[0])
        noop = statistics.median(_run_all(home, force=False)[0] for _ in range(runs))
    finally:
        # the home's files as they were (the next run sees them shrink and rebuilds everything)
        for path, length in sizes.items():
            os.truncate(path, length)
        for path in set(home.kb.glob("*.jsonl")) - set(sizes):
            path.unlink()
    # rounded first, so that the ratio is the one a reader computes from the figures
    floor = round(statistics.median(floors), 4)
    run_all = round(statistics.median(r[0] for r in results), 3)
    return BenchResult(
        lines=read_lines,
        megabytes=round(size / 1e6, 1),
        floor_s=floor,
        run_all_s=run_all,
        ratio=round(run_all / floor, 1),
        lines_per_s=round(read_lines / run_all),
        mb_per_s=round(size / 1e6 / run_all, 1),
        peak_rss_mb=round(max(r[1] for r in results), 1),
        incremental_s=round(statistics.median(increments), 3),
        incremental_pct=round(100 * round(statistics.median(increments), 3) / run_all, 1),
        noop_s=round(noop, 3),
        runs=runs,
    )


def write(home: Home, result: BenchResult) -> Path:
    path = home.reports / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=2) + "\n")
    return path
