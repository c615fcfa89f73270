"""Read-only access to the warehouse DuckDB file that dbt builds (ad-hoc SQL, counts, trace)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from distill.errors import DistillError
from distill.home import Home


def make_private(home: Home) -> None:
    """The warehouse, its spill folder and dbt's folder (the line spool, compiled SQL) hold every
    raw line, secrets included: readable by the owner only, from before the first byte lands."""
    data = home.root / "data"
    for folder in (data / ".dbt", data / "warehouse.duckdb.tmp"):
        folder.mkdir(parents=True, exist_ok=True)
        _restrict(folder, 0o700)
    if not home.warehouse.exists():
        duckdb.connect(str(home.warehouse)).close()  # an empty database, made private before dbt writes to it
    for path in (home.warehouse, home.warehouse.with_name(home.warehouse.name + ".wal")):
        if path.exists():
            _restrict(path, 0o600)


def _restrict(path: Path, mode: int) -> None:
    """Only the owner may change a mode; another user's home keeps the modes its owner chose."""
    if path.stat().st_uid == os.geteuid():
        path.chmod(mode)


@contextmanager
def connect(home: Home) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; a clear error when the warehouse is missing or locked."""
    if not home.warehouse.exists():
        raise DistillError(
            f"{home.warehouse} does not exist: run `distill --home {home.root} run-all` first"
        )
    try:
        conn = duckdb.connect(str(home.warehouse), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DistillError(
                f"{home.warehouse} is locked by another process (a run in progress?): "
                "wait for it to finish and try again"
            ) from None
        raise DistillError(f"cannot open {home.warehouse}: {exc}") from None
    try:
        conn.execute("set TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


def query(home: Home, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
    """Column names and rows of one query; a DistillError (one line) if the SQL is wrong."""
    with connect(home) as conn:
        try:
            cursor = conn.execute(sql, params or [])
        except duckdb.Error as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise DistillError(f"SQL error: {first_line}") from None
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()


def read_counts(conn) -> dict[tuple[str, str | None], int]:
    """run_counts as {(metric, item): n}; empty when no build has made it yet."""
    if "run_counts" not in views(conn):
        return {}
    return {(metric, item): n for metric, item, n in conn.execute("select metric, item, n from run_counts").fetchall()}


def views(conn) -> set[str]:
    return {name for (name,) in conn.execute("select view_name from duckdb_views() where not internal").fetchall()}
