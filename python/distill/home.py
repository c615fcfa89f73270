"""Where things live under DISTILL_HOME (docs/concepts.md, "Outputs"): the one module that knows the layout."""

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from distill.errors import DistillError
from distill.project import EXPORT_DIRS, FORMAT_DIRS, PROJECT_DIR, STREAMS  # noqa: F401 (the layout's names)


def env_number(environ, name: str, default: float, minimum: float = 0.0) -> float:
    """A numeric environment variable, or one line saying what is wrong with it."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= minimum or value == float("inf"):
        raise DistillError(f"{name}={raw!r} is not a number >= {minimum:g}: unset it (default {default:g}) or set e.g. {name}={default:g}")
    return value


# Files distill itself keeps in data/_kb that are not source streams.
NOT_SOURCES = ("audit_baselines.jsonl",)
# Source files are JSON Lines, plain or gzip-compressed (rotated archives).
SOURCE_SUFFIXES = (".jsonl", ".jsonl.gz")
# The trace-format files, anywhere under data/_kb but the stream files (var trace_files).
TRACE_SUFFIXES = (".json", ".jsonl", ".traj", ".json.gz", ".jsonl.gz")



@dataclass(frozen=True)
class Home:
    root: Path
    # Where this run writes its outputs: a new generation (distill.outputs) that mirrors the
    # home's layout, moved into place only when complete. None: the outputs in place.
    staged: Path | None = None

    @classmethod
    def resolve(cls, home: str | os.PathLike | None) -> "Home":
        """The home from --home, else DISTILL_HOME, else the current directory."""
        chosen = home if home is not None else os.environ.get("DISTILL_HOME") or "."
        return cls(Path(chosen).expanduser().resolve())

    @property
    def kb(self) -> Path:
        return self.root / "data" / "_kb"

    @property
    def warehouse(self) -> Path:
        return self.root / "data" / "warehouse.duckdb"

    @property
    def output_root(self) -> Path:
        return self.staged or self.root

    @property
    def evidence_dir(self) -> Path:
        return self.output_root / "data" / "evidence"

    @property
    def scored_dir(self) -> Path:
        return self.output_root / "data" / "scored-runs"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def exports(self) -> Path:
        return self.output_root / "exports"

    # The exports, by model name: each a folder of day parts, <folder>/<YYYY-MM-DD>.jsonl; and
    # the consumer formats (`--format`): the dbt model of each, over the same rows, and its folder.
    EXPORT_DIRS = EXPORT_DIRS
    FORMAT_DIRS = FORMAT_DIRS

    def export_dir(self, model: str) -> Path:
        return self.output_root / self.EXPORT_DIRS[model]

    def export_parts(self, model: str) -> list[Path]:
        """An export's day parts, in day order."""
        return sorted(self.export_dir(model).glob("*.jsonl"))

    def part_folders(self) -> list[Path]:
        """Every folder of JSON Lines day parts: the exports and the consumer formats."""
        formats = [f for folders in self.FORMAT_DIRS.values() for f in folders.values()]
        return [self.output_root / f for f in (*self.EXPORT_DIRS.values(), *formats)]

    def output_file(self, relative: str) -> Path:
        return self.output_root / relative

    def make_output_dirs(self) -> None:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        (self.output_root / "data").mkdir(parents=True, exist_ok=True)
        for folder in self.part_folders():
            folder.mkdir(parents=True, exist_ok=True)

    def relative(self, path: Path) -> str:
        """The path as the home names it: a staged output by the place it will take."""
        absolute = Path(os.path.abspath(path))
        if self.staged is not None and absolute.is_relative_to(self.staged):
            return absolute.relative_to(self.staged).as_posix()
        return absolute.relative_to(self.root).as_posix()

    def is_stream_file(self, path: Path) -> bool:
        """A file the line reader reads: <stream>*.jsonl(.gz) directly in data/_kb, not one of
        distill's own (the folders below hold trace-format files, read whole)."""
        return path.parent == self.kb and path.name.endswith(SOURCE_SUFFIXES) and path.name not in NOT_SOURCES

    def is_trace_file(self, path: Path) -> bool:
        """A file of a standard trace format, read whole: one of TRACE_SUFFIXES under data/_kb
        that is not a stream file (those sit directly in data/_kb)."""
        if not path.name.endswith(TRACE_SUFFIXES) or not path.is_relative_to(self.kb):
            return False
        return path.parent != self.kb or not path.name.endswith(SOURCE_SUFFIXES)

    def trace_files(self) -> list[Path]:
        """Every trace-format file under data/_kb, in path order."""
        if not self.kb.is_dir():
            return []
        return sorted(p for p in self.kb.rglob("*") if p.is_file() and self.is_trace_file(p))

    def require_home(self) -> None:
        """Fail with what to do when this is not a home (no folder, or no data/_kb in it)."""
        if not self.root.is_dir() or not self.kb.is_dir():
            what = "does not exist" if not self.root.is_dir() else "is not a distill home (it has no data/_kb/)"
            raise DistillError(
                f"{self.root} {what}: create a home with `distill init {self.root}` (then put your traces in its "
                "data/_kb/), or point at one with --home DIR or DISTILL_HOME"
            )

    def require_sources(self) -> None:
        """Fail with what to do when the home is missing or cannot be written."""
        self.require_home()
        if not os.access(self.root, os.W_OK):
            raise DistillError(f"home {self.root} is not writable: distill writes data/ and reports/ there")
        self.refuse_symlinked_inputs()

    def refuse_symlinked_inputs(self) -> None:
        """No input is read through a symlink: a link under data/_kb could make a run read (and
        export) any file the user can read. One line naming the first link found."""
        for link in (self.root / "data", self.kb):
            if link.is_symlink():
                raise _symlink_error(self, link)
        if not self.kb.is_dir():
            return
        for folder, dirs, files in os.walk(self.kb):  # does not descend into linked folders
            for name in sorted(dirs + files):
                path = Path(folder) / name
                if path.is_symlink():
                    raise _symlink_error(self, path)


INIT_README = """# A distill home

Put your traces here, then run `distill --home {root} run-all`.

- `data/_kb/<stream>*.jsonl`: the twelve source streams, one JSON object a line, any number of
  files each (gateway_calls, pr_audits, human_reviews, tool_runs, test_runs, auto_apply,
  task_outcomes, answers, playbooks, user_feedback, escalations, replay_runs); rotated archives
  as `<stream>*.jsonl.gz`. Append only: an edited line makes the next run a full rebuild.
- `data/_kb/<any folder>/`: traces in a standard format (`.json`, `.jsonl`, `.traj`, gzipped
  too), read whole each run, the format known by content: OpenTelemetry (OTLP/JSON, SDK dumps,
  console exporter), OpenInference, OpenAI chat logs, SWE-agent, OpenHands, Inspect.

distill writes `data/` (warehouse, evidence, scored runs, incidents), `exports/` (the corpora)
and `reports/` (one folder a run). `distill generate --lines 2000` writes a synthetic sample.
"""


def init_home(root: Path) -> list[str]:
    """Create a home: its stream folder and a README of where traces go. Returns what was made
    (nothing when the home exists; an existing README is never overwritten)."""
    made = []
    home = Home(root)
    if root.exists() and not root.is_dir():
        raise DistillError(f"{root} is a file: give distill init a folder")
    if not home.kb.is_dir():
        home.refuse_symlinked_inputs()
        home.kb.mkdir(parents=True)
        made.append(home.relative(home.kb) + "/")
    readme = root / "README.md"
    if not readme.exists():
        readme.write_text(INIT_README.format(root=root))
        made.append("README.md")
    return made


def _symlink_error(home: "Home", path: Path) -> DistillError:
    return DistillError(
        f"{path.relative_to(home.root)} is a symlink: distill reads no input through a symlink "
        "(it could point anywhere); copy or move the file itself into the home"
    )


def free_path(folder: Path, stem: str, suffix: str = "") -> Path:
    """folder/<stem><suffix>, or the first of <stem>-2<suffix>, <stem>-3<suffix>, ... that does
    not exist yet: a name of its own, never one already taken."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


def open_no_follow(path: Path, flags: int, mode: int = 0o600) -> int:
    """os.open that refuses a symlink in the last component (for distill's own files: the lock,
    the audit baselines, the replay log), with one line naming it."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DistillError(
                f"{path} is a symlink: distill does not write through symlinks; remove it and rerun"
            ) from None
        raise


def append_line(path: Path, line: str) -> None:
    """Append one line with one O_APPEND write (a reader sees it whole or pending, never torn),
    never through a symlink."""
    fd = open_no_follow(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
