import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, home: Path | None = None, env: dict | None = None, cwd: Path | None = None,
            fresh: bool = False) -> CliResult:
    """Run the `distill` entry point with the argv a user types, in this process (with `env` as
    its environment for the call), which spares each call an interpreter start and dbt's import
    (seconds a call); in a fresh process when the test asks for one."""
    argv = [*(["--home", str(home)] if home is not None else []), *args]
    if fresh:
        proc = subprocess.run([sys.executable, "-m", "distill", *argv], capture_output=True, text=True, env=env,
                              timeout=600, cwd=cwd)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)
    import contextlib
    import io
    import os

    from distill import cli

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd, saved_env = sys.argv, os.getcwd(), dict(os.environ)
    sys.argv = ["distill", *argv]
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(saved_env)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the `distill` entry point in this process (no interpreter start-up): exit code, stdout, stderr."""
    from distill import cli

    monkeypatch.setattr(sys, "argv", ["distill", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def shared_build(factory, key: str, build: Callable[[Path], None]) -> Path:
    """The folder `build` filled, once per test session, by whichever xdist worker asks first
    (the others wait for it): a build many test modules start from."""
    import fcntl
    import os

    base = factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "built-homes"
    shared.mkdir(exist_ok=True)
    built = shared / key
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built / "ready").exists():
            shutil.rmtree(built, ignore_errors=True)
            build(built)
            (built / "ready").touch()
    return built


def own_copy(factory, name: str, built: Path) -> Path:
    """A copy of a shared home whose parts distill then measures as the copy's own (a part is
    known by its inode: a plain copy would make its next run a full rebuild)."""
    from distill.home import Home
    from distill.manifest import describe, remember

    home = factory.mktemp(name)
    shutil.copytree(built, home, symlinks=True, dirs_exist_ok=True)
    remember(Home(home), describe(Home(home), seen={})[1])
    return home


def generated_home(factory, name: str, lines: int, seed: int) -> Path:
    """A home of generated streams that `run-all` has built, for a test module to share: a copy
    of the one built for these (lines, seed) once per test session."""

    def build(folder: Path) -> None:
        assert run_cli("generate", "--lines", str(lines), "--seed", str(seed), home=folder / "home").code == 0
        result = run_cli("run-all", "--quiet", home=folder / "home")
        assert result.code == 0, result.stderr

    return own_copy(factory, name, shared_build(factory, f"{lines}-{seed}", build) / "home")


def acceptance_gate(factory) -> Path:
    """The whole acceptance gate, run once per test session as `distill acceptance` runs it (its
    pass recorded for this very project, which audit-full and release-freeze then reuse): the
    folder holding its home ("gate/"), its verdicts ("verdicts.json"), and its first build's
    run_hash and node results ("first-build/"; the second build, invariant 22's, replaces them)."""
    import json

    from distill import acceptance, dbt, runs
    from distill.home import Home

    def build(folder: Path) -> None:
        first, check_invariants = folder / "first-build", acceptance.check_invariants

        def after_the_first_build(home: Home) -> dict:
            first.mkdir()
            shutil.copy2(dbt.nodes_path(home), first / dbt.NODES_FILE)
            (first / "run_hash").write_text(runs.latest_summary(home).run_hash)
            return check_invariants(home)

        acceptance.check_invariants = after_the_first_build  # the gate checks them right after its first build
        try:
            result = acceptance.run_acceptance(folder / "gate")
        finally:
            acceptance.check_invariants = check_invariants
        verdicts = {number: [v.passed, v.detail] for number, v in sorted(result.verdicts.items())}
        (folder / "verdicts.json").write_text(json.dumps(verdicts))

    return shared_build(factory, "acceptance-gate", build)


def built_fixture(factory, name: str) -> tuple[Path, str]:
    """A copy of the acceptance fixture as the gate leaves it (acceptance_gate), and the gate's
    first run_hash."""
    gate = acceptance_gate(factory)
    return own_copy(factory, name, gate / "gate"), (gate / "first-build" / "run_hash").read_text()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home with its stream folder."""
    (tmp_path / "data" / "_kb").mkdir(parents=True)
    return tmp_path


def write_streams(home: Path, streams: dict[str, list[dict]]) -> None:
    """Write hand-written rows as data/_kb/<stream>.jsonl (one JSON object a line)."""
    import json

    kb = home / "data" / "_kb"
    kb.mkdir(parents=True, exist_ok=True)
    for stream, rows in streams.items():
        (kb / f"{stream}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def ts(minute: int) -> str:
    return f"2026-04-01T10:{minute:02d}:00Z"


@pytest.fixture
def patched_project(tmp_path, monkeypatch):
    """A copy of the dbt project with some of its text replaced, which in-process dbt runs use:
    how a test removes or weakens one guard to show that the others (or the test) catch it."""
    from distill import dbt
    from distill.home import PROJECT_DIR

    def patch(edits: dict[str, tuple[str, str]]) -> Path:
        root = tmp_path / "project"
        if not root.exists():
            shutil.copytree(PROJECT_DIR, root, ignore=shutil.ignore_patterns(
                "target", ".venv", "python", "docs", ".git", "logs", "sample-home", "*.duckdb"))
        for relative, (old, new) in edits.items():
            text = (root / relative).read_text()
            assert old in text, f"{relative} no longer holds the text the test replaces"
            (root / relative).write_text(text.replace(old, new))
        monkeypatch.setattr(dbt, "PROJECT_DIR", root)
        monkeypatch.setattr(dbt, "PARSE_CACHE", root / "target" / "parse-cache")
        return root

    return patch


def parts(home: Path, folder: str) -> list[Path]:
    """An export's day parts (folder relative to the home, e.g. exports/sft), in day order."""
    return sorted((home / folder).glob("*.jsonl"))


def first_part(home: Path, folder: str) -> Path:
    found = parts(home, folder)
    assert found, f"{folder} has no parts"
    return found[0]


def part_rows(home: Path, folder: str) -> list[dict]:
    """Every row of an export, its parts read in day order."""
    import json

    return [json.loads(line) for part in parts(home, folder) for line in part.read_text().splitlines()]


def incident_files(home: Path) -> list[Path]:
    """The files kept in data/incidents/ (each incident's NOTE.md aside)."""
    return sorted(p for p in (home / "data/incidents").rglob("*") if p.is_file() and p.name != "NOTE.md")


# The test files that take longest (wall seconds in `make test`), longest first: xdist hands out
# whole files (--dist loadfile) in the order they are collected (--no-loadscope-reorder: by
# default it orders them by their number of tests), so these start first and no worker is left
# with a long one at the end while the others wait.
LONGEST_FIRST = ("test_acceptance.py", "test_docs.py", "test_audit.py", "test_review.py", "test_incremental.py",
                 "test_operator.py", "test_replay.py", "test_touched.py", "test_resource_faults.py", "test_formats.py",
                 "test_receipts.py", "test_firewall.py", "test_crash_safety.py", "test_dbt.py")


def pytest_collection_modifyitems(items: list) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
