import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, home: Path | None = None, env: dict | None = None) -> CliResult:
    """Run the `distill` entry point as a user would, in a fresh process."""
    argv = [sys.executable, "-m", "distill"]
    if home is not None:
        argv += ["--home", str(home)]
    proc = subprocess.run([*argv, *args], capture_output=True, text=True, env=env, timeout=600)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home with its stream folder."""
    (tmp_path / "data" / "_kb").mkdir(parents=True)
    return tmp_path
