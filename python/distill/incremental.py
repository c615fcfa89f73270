"""What a run reads (docs/design.md, "Incremental runs"): only the bytes each source file gained since the last run, or
everything again when a line read before changed, a file went away or the project changed.

The plan is made before dbt runs and handed to the line reader (base_source_lines) as a file.
Each file is remembered by the size the run read up to and the sha256 of those bytes, so an
append is told from an edit: a file whose old bytes hash as before only grew.
"""

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from distill.errors import DistillError
from distill.home import Home

HASH_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class FileState:
    """A source file as a run left it: read up to `size` bytes, which hash to `sha256`; its
    complete lines end at `bytes_done` and number `lines_done` (a pending last line is not done)."""

    size: int
    sha256: str
    bytes_done: int = 0
    lines_done: int = 0


@dataclass(frozen=True)
class FileRead:
    """What this run reads of one file: from `start_byte` (line number `first_line`) to `size`."""

    start_byte: int
    first_line: int
    size: int
    sha256: str
    unchanged_archive: bool = False  # a gzip archive read before, the same bytes: nothing to read


@dataclass(frozen=True)
class ReadPlan:
    seq: int  # this run's read number: the rows it reads carry it
    full: bool  # read every file from its first byte and rebuild every table
    reason: str  # why, in words for the receipt
    options: str  # what the tables were built with (project files and run options)
    files: dict[str, FileRead] = field(default_factory=dict)

    @property
    def new_bytes(self) -> int:
        return sum(f.size - f.start_byte for f in self.files.values())


def state_path(home: Home) -> Path:
    return home.root / "data" / ".dbt" / "read-state.json"


def partial_path(home: Home) -> Path:
    return home.root / "data" / ".dbt" / "partial-build"


def mark_partial(home: Home, stage: str) -> None:
    """A single stage rebuilt part of the tables: the next run-all rebuilds them all."""
    partial_path(home).write_text(stage + "\n")


def trace_fingerprint(home: Home) -> str:
    """The trace-format files under data/_kb (read whole every run): path, size, mtime."""
    digest = hashlib.sha256()
    for path in home.trace_files():
        stat = path.stat()
        digest.update(f"{path.relative_to(home.kb).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def plan_path(home: Home) -> Path:
    return home.root / "data" / ".dbt" / "read-plan.json"


def source_files(home: Home) -> list[Path]:
    """The stream files the line reader reads (the trace-format files are read whole each run)."""
    if not home.kb.is_dir():
        return []
    home.refuse_symlinked_inputs()
    return sorted(p for p in home.kb.iterdir() if home.is_stream_file(p) and p.is_file())


def read_state(home: Home) -> dict[str, FileState] | None:
    """What the last complete run read of each source file (None: no complete run)."""
    state = _load_state(home)
    return state[2] if state else None


def _load_state(home: Home) -> tuple[int, str, dict[str, FileState], str] | None:
    try:
        raw = json.loads(state_path(home).read_text())
        files = {name: FileState(**f) for name, f in raw["files"].items()}
        return raw["seq"], raw["options"], files, raw.get("traces", "")
    except (OSError, ValueError, KeyError, TypeError):
        return None


def hash_file(path: Path, known: FileState | None) -> tuple[int, str, bool]:
    """(size now, sha256 of the whole file, whether its first known.size bytes hash as before).
    The whole file is always hashed: a file found changed needs its full hash for the rebuild."""
    digest = hashlib.sha256()
    unchanged = known is None or known.size == 0
    done = 0
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        while done < size:
            want = min(HASH_BLOCK, size - done)
            if known is not None and done < known.size:
                want = min(want, known.size - done)  # stop once at the old size, to compare
            block = handle.read(want)
            if not block:
                break
            digest.update(block)
            done += len(block)
            if known is not None and done == known.size:
                unchanged = digest.hexdigest() == known.sha256
    return done, digest.hexdigest(), unchanged


def make_plan(home: Home, options: str, force_full: str | None = None) -> ReadPlan:
    """Compare the source files with what the last run read; a full rebuild when anything read
    before is not as it was (the reason names the file). Every file is read once."""
    previous = _load_state(home)
    seq = previous[0] + 1 if previous else 1
    files = {p.relative_to(home.root).as_posix(): p for p in source_files(home)}
    known = previous[2] if previous else {}
    reason = force_full
    if reason is None and previous is None:
        reason = "first run (nothing read before)"
    elif reason is None and previous[1] != options:
        reason = "the project or the run's options changed"
    elif reason is None and partial_path(home).exists():
        stage = partial_path(home).read_text().strip()
        reason = f"the last command (distill {stage}) built only part of the pipeline"
    elif reason is None and previous[3] != trace_fingerprint(home):
        reason = "a trace-format file changed (those are read whole)"
    elif reason is None:
        gone = sorted(set(known) - set(files))
        if gone:
            reason = f"{gone[0]} is gone: its rows are rebuilt away"
    compare = known if reason is None else {}

    def measure(item: tuple[str, Path]) -> tuple[str, tuple[int, str, bool]]:
        name, path = item
        try:
            return name, hash_file(path, compare.get(name))
        except FileNotFoundError:
            raise DistillError(f"{name}: it went away while the run listed it; rerun") from None
        except OSError as exc:
            raise DistillError(f"{name}: cannot read it ({exc.strerror or exc}); fix its permissions or remove it") from None

    with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib releases the GIL
        measured = dict(pool.map(measure, files.items()))
    for name, (_, sha, unchanged) in measured.items():
        if reason is None and not unchanged:
            reason = f"{name}: bytes read before changed (edited, truncated or replaced)"
        elif reason is None and name.endswith(".gz") and name in compare and sha != compare[name].sha256:
            reason = f"{name}: the archive changed"
    full = reason is not None
    reads: dict[str, FileRead] = {}
    for name, (size, sha, _) in measured.items():
        before = None if full else known.get(name)
        if before is not None and name.endswith(".gz"):
            reads[name] = FileRead(0, before.lines_done, before.size, sha, unchanged_archive=True)
        elif before is not None:
            reads[name] = FileRead(before.bytes_done, before.lines_done, size, sha)
        else:
            reads[name] = FileRead(0, 0, size, sha)
    return ReadPlan(
        seq=seq,
        full=full,
        reason=reason if full else "incremental: only lines appended since the last run are read",
        options=options,
        files=reads,
    )


def write_plan(home: Home, plan: ReadPlan) -> None:
    path = plan_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(plan), sort_keys=True))


def read_plan(home: Path) -> ReadPlan | None:
    """The plan the line reader follows (None: read everything, as plain `dbt build` does)."""
    try:
        raw = json.loads((home / "data" / ".dbt" / "read-plan.json").read_text())
        raw["files"] = {name: FileRead(**f) for name, f in raw["files"].items()}
        return ReadPlan(**raw)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_state(home: Home, plan: ReadPlan, done: dict[str, tuple[int, int]]) -> None:
    """After a complete build: what each file was read up to, for the next run's plan.
    done: per file, (bytes of its complete lines, number of complete lines)."""
    files = {
        name: FileState(read.size, read.sha256, *done.get(name, (read.start_byte, read.first_line)))
        for name, read in plan.files.items()
    }
    state = {"seq": plan.seq, "options": plan.options, "files": {n: asdict(f) for n, f in sorted(files.items())},
             "traces": trace_fingerprint(home)}
    path = state_path(home)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, sort_keys=True))
    temporary.replace(path)
    partial_path(home).unlink(missing_ok=True)


def forget(home: Home) -> None:
    """The next run reads everything (the tables may no longer match what the state says)."""
    state_path(home).unlink(missing_ok=True)
    plan_path(home).unlink(missing_ok=True)
