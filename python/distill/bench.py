"""The benchmark (SPEC §13): the whole pipeline against the physical floor on the same files, one
raw DuckDB pass that reads every line, parses it and hashes it."""

import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from distill.errors import DistillError
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


MARKER = Path("data/.bench-home")  # a home bench generated itself: the only kind it appends to


@dataclass(frozen=True)
class Appended:
    """Bytes bench appended to one file: from `start` to `end`, hashing to `sha256`."""

    path: Path
    start: int
    end: int
    sha256: str


def _append_one_percent(home: Home, seed: int) -> list[Appended]:
    """Append 1 % more generated lines to the home's stream files, as writers would; return
    what was appended, so that exactly those bytes can be taken away again."""
    lines = sum(1 for p in home.kb.glob("*.jsonl") for _ in p.open("rb"))
    appended = []
    with tempfile.TemporaryDirectory() as scratch:
        extra = Home(Path(scratch))
        generate_home(extra, max(lines // 100, 12), seed, edges=False)
        for path in sorted(extra.kb.glob("*.jsonl")):
            data = path.read_bytes()
            target = home.kb / path.name
            with target.open("ab") as handle:
                start = handle.tell()
                handle.write(data)
            appended.append(Appended(target, start, start + len(data), hashlib.sha256(data).hexdigest()))
    return appended


def _take_away(appended: list[Appended]) -> list[str]:
    """Remove the bytes bench appended, only where the file ends exactly with them (a writer
    that appended meanwhile keeps its lines); return the files left as they are."""
    left = []
    for item in reversed(appended):  # the latest append first, so each file shrinks in order
        try:
            with item.path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(item.start)
                ours = size == item.end and hashlib.sha256(handle.read()).hexdigest() == item.sha256
        except OSError:
            ours = False
        if not ours:
            left.append(item.path.name)
        elif item.start == 0:
            item.path.unlink()
        else:
            os.truncate(item.path, item.start)
    return sorted(set(left))


def _claim(home: Home, lines: int, seed: int) -> None:
    """Generate the bench home, or refuse a home bench did not generate: bench appends to and
    shrinks its source files, which must never happen to real traces."""
    marker = home.root / MARKER
    if marker.exists():
        return
    if home.kb.exists() and any(home.kb.iterdir()):
        raise DistillError(
            f"{home.root} holds source files bench did not generate: bench appends to and truncates "
            "its sources, so it runs only on a home of its own; pass --home with an empty folder"
        )
    generate_home(home, lines, seed)
    marker.write_text(json.dumps({"lines": lines, "seed": seed}) + "\n")


def run_bench(home: Home, lines: int, seed: int, runs: int, warm_up: bool = True,
              locked: Callable[[], AbstractContextManager] = nullcontext) -> BenchResult:
    """`locked` holds the home's lock around bench's own writes (its run-all children take it
    in turn)."""
    with locked():
        _claim(home, lines, seed)
    size = sum(p.stat().st_size for p in home.kb.glob("*.jsonl"))
    _floor(home)  # warm the page cache
    floors = [_floor(home) for _ in range(runs)]
    if warm_up:
        _run_all(home)
    results = [_run_all(home) for _ in range(runs)]
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        (read_lines,) = conn.execute("select count(*) from stg_source_lines").fetchone()
    appended: list[Appended] = []
    try:
        increments = []
        for run in range(runs):
            with locked():
                appended += _append_one_percent(home, seed + 1 + run)
            increments.append(_run_all(home, force=False)[0])
        noop = statistics.median(_run_all(home, force=False)[0] for _ in range(runs))
    finally:
        # the home's files as they were (the next run sees them shrink and rebuilds everything)
        with locked():
            left = _take_away(appended)
        if left:
            print(f"bench: {', '.join(left)} changed after bench appended to them: left as they are", file=sys.stderr)
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
