"""The benchmark (docs/design.md, "Performance"): the whole pipeline against the physical floor on
the same files (one raw DuckDB pass that reads every line, parses it and hashes it), then the
runs of a day in production: +1 % of next-day traffic, +1 % of late signals over the history,
and a rerun with nothing new."""

import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from distill.dbt import nodes_path
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
    next_day_s: float  # run-all after 1 % more lines: 90 % new runs of the next day, 10 % late signals
    next_day_pct: float  # next_day_s as a share of run_all_s
    scattered_s: float  # run-all after 1 % more lines of late signals for runs of any day
    scattered_pct: float
    noop_s: float  # a run-all with nothing new: no data work
    runs: int
    dbt_s: float = 0.0  # dbt's own elapsed time in the last full run
    outside_dbt_s: float = 0.0  # the rest of that run: starting, the firewall, manifest, receipts
    node_s: dict[str, float] = field(default_factory=dict)  # each dbt node's seconds in that run, slowest first
    next_day_dbt_s: float = 0.0  # dbt's elapsed time in the +1 % next-day run
    next_day_node_s: dict[str, float] = field(default_factory=dict)  # each node's seconds in that run


def _floor(home: Home) -> float:
    with duckdb.connect() as conn:
        conn.execute("set threads = 2")
        started = time.perf_counter()
        conn.execute(FLOOR_SQL, [str(home.kb / "*.jsonl")]).fetchall()
        return time.perf_counter() - started


def _dbt_times(home: Home) -> tuple[float, dict[str, float]]:
    """dbt's elapsed time and each node's execution time in the home's last dbt run."""
    try:
        results = json.loads(nodes_path(home).read_text())
    except (OSError, ValueError):
        return 0.0, {}
    nodes = {r["unique_id"].split(".", 2)[-1]: round(r.get("execution_time") or 0.0, 2) for r in results["results"]}
    return round(results.get("elapsed_time") or 0.0, 2), dict(sorted(nodes.items(), key=lambda kv: (-kv[1], kv[0])))


def _run_all(home: Home, force: bool = True) -> tuple[float, float]:
    """One run-all in a child process: wall seconds and the child's peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "distill", "--home", str(home.root), "run-all", "--quiet", *(["--force"] if force else [])],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        # the run's own one-line reason, named as the bench's
        reason = proc.stderr.strip().removeprefix("distill: ") or f"exit code {proc.returncode}"
        raise DistillError(f"bench: a measured run-all failed: {reason}")
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


def _last_day_and_runs(home: Home) -> tuple[datetime, list[tuple[str, datetime]]]:
    """The last day of evidence, and every scored run with its day."""
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        (last,) = conn.execute("select max(recorded_at)::date from evidence").fetchone()
        runs = conn.execute("select run_id, run_day from scored_runs order by run_id").fetchall()
    def midnight(day) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return midnight(last), [(run, midnight(day)) for run, day in runs]


def _late_signals(rng: random.Random, runs: list[str], n: int, day: datetime, tag: str) -> dict[str, bytes]:
    """n late signals for the given runs, dated `day`: reviews, feedback and outcomes."""
    out: dict[str, list[str]] = {"human_reviews": [], "user_feedback": [], "task_outcomes": []}
    for i in range(n):
        run = rng.choice(runs)
        ts = (day + timedelta(seconds=rng.randint(0, 86399))).isoformat().replace("+00:00", "Z")
        kind = rng.random()
        if kind < 0.4:
            out["user_feedback"].append(json.dumps({"feedback_id": f"{tag}-f{i}", "run_id": run, "ts": ts,
                                                    "rating": rng.choice(["up", "down"])}))
        elif kind < 0.7:
            out["human_reviews"].append(json.dumps({"review_id": f"{tag}-r{i}", "run_id": run, "ts": ts, "reviewer": "bench",
                                                    "decision": rng.choice(["accept", "reject", "unsure"])}))
        else:
            out["task_outcomes"].append(json.dumps({"run_id": run, "ts": ts,
                                                    "status": rng.choice(["success", "failure", "partial"])}))
    return {stream: "".join(line + "\n" for line in lines).encode() for stream, lines in out.items() if lines}


def _append(home: Home, files: dict[str, bytes]) -> list[Appended]:
    """Append bytes to the home's files (by name), as writers would; return what was appended."""
    appended = []
    for name, data in sorted(files.items()):
        target = home.kb / name
        with target.open("ab") as handle:
            start = handle.tell()
            handle.write(data)
        appended.append(Appended(target, start, start + len(data), hashlib.sha256(data).hexdigest()))
    return appended


def _one_percent(home: Home) -> int:
    return max(sum(1 for p in home.kb.glob("*.jsonl") for _ in p.open("rb")) // 100, 12)


def _append_next_day(home: Home, seed: int) -> list[Appended]:
    """The next day's traffic, 1 % of the lines: about 90 % new runs dated the day after the
    last one, about 10 % late signals for runs of the previous three days."""
    n = _one_percent(home)
    last, runs = _last_day_and_runs(home)
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        extra = Home(Path(scratch))
        generate_home(extra, n * 9 // 10, seed, edges=False, start=last + timedelta(days=1), days=1,
                      prefix=f"n{seed}.")
        for path in sorted(extra.kb.glob("*.jsonl")):
            files[path.name] = path.read_bytes()
    recent = [run for run, day in runs if day >= last - timedelta(days=2)] or [run for run, _ in runs]
    late = _late_signals(random.Random(seed), recent, n // 10, last + timedelta(days=1), f"late{seed}")
    for stream, data in late.items():
        files[f"{stream}.jsonl"] = files.get(f"{stream}.jsonl", b"") + data
    return _append(home, files)


def _append_scattered(home: Home, seed: int) -> list[Appended]:
    """1 % of the lines as late signals for runs of any day of the history."""
    n = _one_percent(home)
    last, runs = _last_day_and_runs(home)
    late = _late_signals(random.Random(seed), [run for run, _ in runs], n, last + timedelta(days=1), f"scat{seed}")
    return _append(home, {f"{stream}.jsonl": data for stream, data in late.items()})


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
    dbt_s, node_s = _dbt_times(home)
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        (read_lines,) = conn.execute("select count(*) from base_source_lines").fetchone()
    appended: list[Appended] = []
    try:
        # a day in production: the next day's traffic, a rerun with nothing new, then late
        # signals over the whole history (each appended on top of the last)
        with locked():
            appended += _append_next_day(home, seed + 1)
        next_day = _run_all(home, force=False)
        next_day_dbt_s, next_day_node_s = _dbt_times(home)
        noop = statistics.median(_run_all(home, force=False)[0] for _ in range(runs))
        with locked():
            appended += _append_scattered(home, seed + 2)
        scattered = _run_all(home, force=False)
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
        peak_rss_mb=round(max(r[1] for r in [*results, next_day, scattered]), 1),
        next_day_s=round(next_day[0], 3),
        next_day_pct=round(100 * round(next_day[0], 3) / run_all, 1),
        scattered_s=round(scattered[0], 3),
        scattered_pct=round(100 * round(scattered[0], 3) / run_all, 1),
        noop_s=round(noop, 3),
        runs=runs,
        dbt_s=dbt_s,
        outside_dbt_s=round(results[-1][0] - dbt_s, 2) if dbt_s else 0.0,
        node_s=node_s,
        next_day_dbt_s=next_day_dbt_s,
        next_day_node_s=next_day_node_s,
    )


def write(home: Home, result: BenchResult) -> Path:
    path = home.reports / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=2) + "\n")
    return path
