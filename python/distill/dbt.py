"""Run the dbt project in-process (dbtRunner) against a home, and read what it reports.

dbt's own console log is silenced; failures come back as one DistillError naming the node.
"""

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.errors import DistillError, os_problem
from distill.home import PROJECT_DIR, Home


@dataclass(frozen=True)
class NodeResult:
    name: str
    resource_type: str
    status: str
    message: str | None
    execution_time: float
    rows_affected: int | None
    failures: int | None = None  # failing rows, for tests


def target_dir(home: Home) -> Path:
    """dbt's target folder for this home (kept per home, so homes never share state)."""
    return home.root / "data" / ".dbt"


def lines_spool(home: Home) -> Path:
    """Where base_source_lines writes the lines it read before DuckDB loads them (removed after
    each build by distill; a plain `dbt build` overwrites it the next time)."""
    return target_dir(home) / "base_source_lines.parquet"


# dbt's parse of the project, shared by every home and kept per set of vars: dbt runs inside
# the home with the same profile whatever the home, so the parse of one is the parse of all (a
# new home would otherwise pay a full parse, seconds, on its first run); and dbt parses the
# whole project again whenever the vars differ from those of its saved parse, so a command with
# other vars (acceptance, audit, --format) must not throw away the parse the next run-all needs.
PARSE_CACHE = PROJECT_DIR / "target" / "parse-cache"


@contextmanager
def _inside(home: Home, env: dict[str, str] | None = None) -> Iterator[None]:
    """Run dbt from the home folder: the profile and the models name it as "." (DISTILL_HOME);
    `env`, more environment for the models, only while dbt runs."""
    settings = {"DISTILL_HOME": ".", **(env or {})}
    cwd, before = os.getcwd(), {name: os.environ.get(name) for name in settings}
    os.chdir(home.root)
    os.environ.update(settings)
    try:
        yield
    finally:
        os.chdir(cwd)
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _parse_for(all_vars: dict[str, Any]) -> Path:
    """The shared saved parse for these vars and this version of the project's files (a saved
    parse of other files is never handed to dbt: its partial parsing missed a changed unit test)."""
    digest = hashlib.sha256(json.dumps(all_vars, sort_keys=True).encode())
    root = PARSE_CACHE.parent.parent
    for folder in ("models", "macros", "seeds", "tests"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return PARSE_CACHE / f"partial_parse.{digest.hexdigest()[:16]}.msgpack"


def _copy_parse(source: Path, target: Path) -> None:
    """Copy a saved parse, atomically (best effort: it is a cache)."""
    if not source.exists():
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}")
        shutil.copyfile(source, temporary)
        temporary.replace(target)
    except OSError:
        pass


GC_THRESHOLD = 10_000  # new objects between two collections of the youngest generation, while dbt runs


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, less often while dbt runs: dbt allocates objects by the
    million (its manifest, a context for each node), and at the default threshold (a collection
    every 700 new objects) a small run-all collected ~550 times, in a tenth of its CPU. With a
    threshold of 10,000 it collects ~70 times and spends half as long."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _parse_once(shared: Path, saved: Path, parse: Callable[[], Any]) -> None:
    """With no saved parse for these vars yet, parse the project under a lock, once: commands
    that start together (a run beside the review server, a first run in several homes) wait for
    one parse instead of each parsing all the project's files (seconds of CPU each); then `saved`
    holds it. A parse that fails is left for the command itself to report."""
    import fcntl

    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        lock = open(shared.with_name(f"{shared.name}.lock"), "w")
    except OSError:
        return  # an unwritable cache: the command parses for itself
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shared.exists():  # another command parsed meanwhile
            _copy_parse(shared, saved)
            return
        parse()
        _copy_parse(saved, shared)


# What a dbt command that runs nodes leaves for receipts and bench: each node's result, timing
# and parents (distill writes it from dbtRunner's result, instead of dbt writing manifest.json
# twice and run_results.json, about a second and a half every run).
NODES_FILE = "nodes.json"
# The commands whose JSON artifacts nobody reads (parse and docs keep theirs: release and docs read them).
NO_JSON_COMMANDS = ("build", "run", "test", "seed")


def nodes_path(home: Home) -> Path:
    return target_dir(home) / "target" / NODES_FILE


def forget_results(home: Home) -> None:
    """A run that fails before dbt writes its results must not leave the last run's to be read."""
    nodes_path(home).unlink(missing_ok=True)


def _utc(moment: Any) -> str | None:
    """dbt's timing moment as run_results.json writes it (UTC, with a Z when dbt left it naive)."""
    if moment is None:
        return None
    return moment.isoformat() + ("Z" if moment.tzinfo is None else "")


def _write_nodes(home: Home, result: Any, rows: list[dict]) -> None:
    """The nodes a command ran, in run_results.json's shape, with each node's parents."""
    path = nodes_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"elapsed_time": getattr(result, "elapsed_time", None), "results": rows}))


# Called as each node starts and finishes: (event, node name, status).
NodeListener = Callable[[str, str, str], None]


# DuckDB's memory limit and threads for dbt's builds: given by the plugin when DuckDB opens the
# warehouse (distill.duckdb_plugin), not as settings in profiles.yml, because dbt hashes the
# profile's settings into its saved parse: a command with other threads or another limit than
# the last would parse the whole project again (seconds), e.g. `acceptance` after a small run-all.
MEMORY_LIMIT_VAR = "DISTILL_MEMORY_LIMIT"  # default 1GB
DUCKDB_THREADS_ENV = "DISTILL_DUCKDB_THREADS"  # default 2
SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(bytes|b|[kmgt]i?b)\s*", re.IGNORECASE)  # what DuckDB reads


def memory_limit() -> str:
    """DuckDB's memory limit for dbt's builds (default 1GB)."""
    limit = os.environ.get(MEMORY_LIMIT_VAR, "1GB")
    if not SIZE.fullmatch(limit):
        raise DistillError(
            f"{MEMORY_LIMIT_VAR}={limit!r} is not a size: set it to a number and a unit, e.g. {MEMORY_LIMIT_VAR}=2GB"
        )
    return limit


def duckdb_threads() -> int:
    """DuckDB's threads for dbt's builds (default 2)."""
    threads = os.environ.get(DUCKDB_THREADS_ENV, "2")
    if not threads.strip().isdigit() or int(threads) < 1:
        raise DistillError(f"{DUCKDB_THREADS_ENV}={threads!r} is not a number of threads: set it to 1 or more, or unset it")
    return int(threads)


def _release_warehouse() -> None:
    """Close the warehouse dbt kept open for the whole invocation (profiles.yml: keep_open), so
    that the Python layer, or another process, can open the file next (dbt-duckdb #616: its own
    close_all_connections drops the handle without closing it)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

    with manager._LOCK:
        if manager._ENV is not None:
            try:
                manager._ENV.close()
            finally:
                manager._ENV = None


# The settings of a run that only the SQL a model runs depends on: passed in the environment
# (macro run_var), not as dbt vars, because dbt parses the whole project again whenever its vars
# change, and each of these would cost a parse (seconds) the first time it differs from the last
# command's: a delta run after a full one, --format, --include-partial, the acceptance checks
# (docs/design.md, "Incremental runs"). The vars left decide what the project is (the fixture's
# seeds, the limits the acceptance fixture sets).
RUN_VARS = ("delta", "output_root", "include_partial", "formats", "hash_proof")
RUN_VARS_ENV = "DISTILL_RUN_VARS"


def invoke(
    home: Home,
    command: list[str],
    dbt_vars: dict[str, Any] | None = None,
    on_node: NodeListener | None = None,
    check: bool = True,
    delta: bool = False,
    on_retry: Callable[[list[str]], None] | None = None,
    env: dict[str, str] | None = None,
) -> list[NodeResult]:
    """Run one dbt command; return its node results, or (with check) raise naming the first failure.
    `delta`: the models work on the touched set (macro in_delta). `env`: more environment while
    dbt runs (e.g. DuckDB's threads). `on_retry` (a full build of
    the whole project only): nodes that ran out of memory are built again, with all that follows
    them, on one DuckDB thread, and on_retry is told their names (docs/design.md, "Performance")."""
    memory_limit(), duckdb_threads()  # a setting DuckDB would refuse is named before dbt starts
    (home.root / "data").mkdir(parents=True, exist_ok=True)
    forget_results(home)
    # paths relative to the home (dbt runs inside it), so that the settings are the same for every home
    all_vars = {"output_root": os.path.relpath(home.output_root, home.root), "delta": delta, **(dbt_vars or {})}
    run_vars = {name: value for name, value in all_vars.items() if name in RUN_VARS}
    parse_vars = {name: value for name, value in all_vars.items() if name not in RUN_VARS}
    saved, shared = target_dir(home) / "target" / "partial_parse.msgpack", _parse_for(parse_vars)
    common = [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target_dir(home) / "target"),
        "--log-path", str(target_dir(home) / "logs"),
        "--vars", json.dumps(parse_vars),
        "--log-level", "none",
    ]
    args = [*command, *common,
            *(["--no-write-json"] if command[0] in NO_JSON_COMMANDS and "--no-write-json" not in command else [])]
    callbacks = []
    if on_node is not None:

        def relay(event) -> None:
            if event.info.name in ("NodeStart", "NodeFinished"):
                info = event.data.node_info
                on_node(event.info.name, info.node_name, info.node_status)

        callbacks.append(relay)
    from dbt.cli.main import dbtRunner  # here, not at import: a second and a half every command would pay

    def run(args: list[str], more_env: dict[str, str]) -> Any:
        with _inside(home, {RUN_VARS_ENV: json.dumps(run_vars, sort_keys=True), **more_env}), _fewer_collections():
            try:
                return dbtRunner(callbacks=callbacks).invoke(args)
            finally:
                _release_warehouse()

    if shared.exists():
        _copy_parse(shared, saved)
    else:
        saved.unlink(missing_ok=True)  # a parse of other files than these
        if command[0] != "parse":
            _parse_once(shared, saved, lambda: run(["parse", *common, "--no-write-json"], env or {}))
    outcome = run(args, env or {})
    _copy_parse(saved, shared)
    nodes, rows = _node_results(outcome.result)
    starved = _out_of_memory(nodes) if on_retry is not None else []
    if starved:
        # DuckDB's spilling can fail near its limit where the same query on one thread fits:
        # the starved nodes and everything after them again, on one thread (a full build
        # rebuilds each table whole, so a node built twice is the same table)
        on_retry(starved)
        outcome = run([*args, "--select", *(f"{name}+" for name in starved)], {**(env or {}), DUCKDB_THREADS_ENV: "1"})
        again, again_rows = _node_results(outcome.result)
        done = {row["unique_id"] for row in again_rows}
        nodes = [n for n, row in zip(nodes, rows) if row["unique_id"] not in done] + again
        rows = [row for row in rows if row["unique_id"] not in done] + again_rows
    if command[0] in NO_JSON_COMMANDS and rows:
        _write_nodes(home, outcome.result, rows)
    if not check and nodes:
        return nodes
    failed = failed_nodes(nodes)
    if failed:
        first = failed[0]
        message = _reason(first.message or "")
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise DistillError(f"dbt {command[0]} failed at {first.name}: {message}{more}")
    if isinstance(outcome.exception, OSError):
        raise DistillError(f"dbt {command[0]} failed: {os_problem(outcome.exception, target_dir(home))}")
    if not outcome.success:
        reason = " ".join(str(outcome.exception or "see data/.dbt/logs/dbt.log").split())
        raise DistillError(f"dbt {command[0]} failed: {reason}")
    return nodes


OUT_OF_MEMORY = "Out of Memory Error"


def failed_nodes(nodes: list) -> list:
    """The nodes (anything with a dbt `status`) that errored or failed."""
    return [n for n in nodes if n.status in ("error", "fail", "runtime error")]


def _out_of_memory(nodes: list[NodeResult]) -> list[str]:
    """The nodes that failed, when every one of them failed for DuckDB's memory limit (else none)."""
    failed = failed_nodes(nodes)
    if failed and all(OUT_OF_MEMORY in (n.message or "") for n in failed):
        return [n.name for n in failed]
    return []


def _reason(message: str) -> str:
    """dbt's message on one line; a source that could not be read is named by distill's own
    message, not the Python traceback dbt wraps around it; running out of memory says which
    setting to raise, not DuckDB's SET advice (the profile sets the limit on every cursor)."""
    message = " ".join(message.split())
    if "SourceReadError: " in message:
        return message.rsplit("SourceReadError: ", 1)[1]
    if "Traceback (most recent call last)" in message:
        # a Python model's error: what failed, and the exception its last frame raised
        where = message.split("Python model failed", 1)[0].split("Traceback (most recent call last)", 1)[0]
        raised = re.search(r"\b(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception)): (.*)", message.rsplit('File "', 1)[-1])
        if raised:
            message = f"{where.rstrip(' :')}: {raised[1]}: {raised[2]}"
    if OUT_OF_MEMORY in message:
        used = re.search(r"\(([^()]* used)\)", message)
        limit = memory_limit()
        return (
            f"DuckDB ran out of memory under its limit of {limit}{f' ({used[1]})' if used else ''}: "
            f"set {MEMORY_LIMIT_VAR} higher (e.g. {MEMORY_LIMIT_VAR}=2GB; peak memory is about 0.8 GB "
            "above it) and run again"
        )
    return message


def _node_results(result: Any) -> tuple[list[NodeResult], list[dict]]:
    """Each node dbt ran: as a NodeResult, and as the row nodes.json keeps of it."""
    if result is None or not hasattr(result, "results"):
        return [], []
    nodes, rows = [], []
    for item in result.results:
        node = item.node
        adapter = getattr(item, "adapter_response", None) or {}
        nodes.append(
            NodeResult(
                name=node.name,
                resource_type=str(node.resource_type),
                status=str(item.status),
                message=item.message,
                execution_time=item.execution_time,
                rows_affected=adapter.get("rows_affected"),
                failures=getattr(item, "failures", None),
            )
        )
        rows.append({
            "unique_id": node.unique_id,
            "status": str(item.status),
            "message": item.message,
            "execution_time": item.execution_time,
            "timing": [
                {"name": t.name, "started_at": _utc(t.started_at), "completed_at": _utc(t.completed_at)}
                for t in (item.timing or [])
            ],
            "depends_on": list(getattr(getattr(node, "depends_on", None), "nodes", []) or []),
            "model": getattr(node, "model", None) if str(node.resource_type) == "unit_test" else None,
        })
    return nodes, rows
