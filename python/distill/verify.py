"""verify-determinism (docs/recovery-runbook.md, "Hash mismatch on identical input"): rebuild the input of the last
run from scratch in a temporary home and compare every part, and the run_hash, with the outputs
in place. The copy holds each source file up to the bytes the run read (lines appended since are
left out) and the trace-format files whole; the rebuild uses the run's mode, formats and
recorded time. Equal input, equal bytes: any difference names the part."""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from distill import incremental, manifest, pipeline, runs
from distill.errors import DistillError
from distill.home import Home

COPY_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Verdict:
    run_id: str
    run_hash: str
    rebuilt_hash: str
    parts: int
    differing: list[str]  # parts whose bytes differ, or that only one side has
    workdir: Path

    @property
    def identical(self) -> bool:
        return not self.differing and self.run_hash == self.rebuilt_hash


def _copy_prefix(source: Path, target: Path, size: int) -> None:
    """The first `size` bytes of source: what the run read of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reader, target.open("wb") as writer:
        left = size
        while left > 0:
            block = reader.read(min(COPY_BLOCK, left))
            if not block:
                raise DistillError(f"{source}: shorter than the {size:,} bytes the last run read; "
                                   "the source changed since: run `distill run-all` first, then verify")
            writer.write(block)
            left -= len(block)


def copy_input(home: Home, target: Home) -> None:
    """The sources as the last complete run read them."""
    state = incremental.read_state(home)
    if state is None:
        raise DistillError("no complete run to verify (data/.dbt/read-state.json is missing): run `distill run-all` first")
    target.kb.mkdir(parents=True)
    for name, known in sorted(state.items()):
        _copy_prefix(home.root / name, target.root / name, known.size)
    for path in home.trace_files():
        (target.kb / path.relative_to(home.kb)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target.kb / path.relative_to(home.kb))


def verify(home: Home) -> Verdict:
    summary = runs.latest_summary(home)
    if summary is None:
        raise DistillError("no run to verify (no reports/<run_id>/summary.json): run `distill run-all` first")
    workdir = Path(tempfile.mkdtemp(prefix="distill-verify-"))
    fresh = Home(workdir / "home")
    copy_input(home, fresh)
    result = pipeline.build(fresh, "run-all", include_partial=summary.include_partial,
                            recorded_at=summary.recorded_at, formats=summary.formats)
    here = {p.path: p.sha256 for p in manifest.describe(home, seen={})[0]}
    there = {p.path: p.sha256 for p in manifest.describe(fresh, seen={})[0]}
    differing = sorted(path for path in set(here) | set(there) if here.get(path) != there.get(path))
    return Verdict(summary.run_id, summary.run_hash, result.summary.run_hash, len(here), differing, workdir)
