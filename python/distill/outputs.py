"""Atomic output sets (docs/operations.md; a run killed at any moment must not leave a mix
behind).

A run writes its evidence, scored runs and exports into data/generations/next/, laid out like
the home (always the same path, so dbt's vars, and with them its partial parse, stay the same).
When every stage, check and report is complete the folder is renamed to a run-* name of its own
and one rename(2) of the data/current symlink moves the whole set into place:
exports/, data/evidence and data/scored-runs are symlinks through data/current, so a reader
sees the previous set or the new one, never a mix, and a killed run leaves the previous set
exactly as it was. A failed run's folder is kept for inspection as data/generations/failed/
until the next failure.
"""

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from distill.errors import DistillError, os_problem
from distill.home import Home

GENERATIONS = Path("data/generations")
CURRENT = Path("data/current")
# Each output folder of the home, and where its symlink points (relative to the link's folder).
LINKS = {
    "exports": "data/current/exports",
    "data/evidence": "current/data/evidence",
    "data/scored-runs": "current/data/scored-runs",
}
# Present while a run is between its first write and its commit: the warehouse may then hold a
# mix of old and new tables, so the next run must rebuild rather than call itself unchanged.
IN_PROGRESS = Path("data/.run-in-progress")
NEXT = "next"  # the generation being written (one run at a time: the home's lock)
FAILED = "failed"  # the last failed run's generation


def begin(home: Home, carry: bool) -> Home:
    """A home whose outputs go to a new generation; with carry, it starts as a copy of the
    current set (a single stage rewrites only part of it)."""
    _adopt_unlinked(home)
    prune(home)
    try:
        (home.root / IN_PROGRESS).touch()
        staged = _new_generation(home)
        if carry:
            _copy_outputs(home, staged)
    except OSError as exc:
        raise _io_error(exc, "prepare this run's outputs") from None
    home = replace(home, staged=staged)
    home.make_output_dirs()
    return home


def commit(home: Home) -> None:
    """Move a complete generation into place: one atomic rename of data/current."""
    assert home.staged is not None
    try:
        _sync(home.staged)
        complete = Path(tempfile.mkdtemp(prefix="run-", dir=home.staged.parent))
        home.staged.replace(complete)  # over the empty folder that reserved the name
        complete.chmod(0o777 & ~_umask())  # the exports in it follow the umask
        _point(home.root / CURRENT, Path("generations") / complete.name)
        _link_outputs(home)
        (home.root / IN_PROGRESS).unlink(missing_ok=True)
    except OSError as exc:
        raise _io_error(exc, "move this run's outputs into place") from None
    prune(home)


def discard(home: Home) -> Path | None:
    """Keep a failed run's generation, for inspection, as the one failed/ folder."""
    if home.staged is None or not home.staged.exists():
        return None
    failed = home.staged.with_name(FAILED)
    shutil.rmtree(failed, ignore_errors=True)
    try:
        home.staged.rename(failed)
    except OSError:
        shutil.rmtree(home.staged, ignore_errors=True)
        return None
    return failed


def current_generation(home: Home) -> Path | None:
    link = home.root / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def prune(home: Home) -> None:
    """Remove generations no link points to, except the last failed one (runs hold the home's
    lock, so any other folder, next/ included, is one a killed run left behind)."""
    for partial in [*home.reports.glob(".*.partial"), *home.reports.glob(".*.replaced")]:
        shutil.rmtree(partial, ignore_errors=True)  # report folders a killed run did not finish
    folder = home.root / GENERATIONS
    folder.mkdir(parents=True, exist_ok=True)
    keep = current_generation(home)
    for entry in folder.iterdir():
        if entry.name == FAILED or (keep is not None and entry.resolve() == keep):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _adopt_unlinked(home: Home) -> None:
    """A home written before outputs were atomic has real folders where the links go: copy them
    into a first generation and swap each folder for its link; each step keeps the same content."""
    unlinked = [n for n in (*LINKS, CURRENT) if (home.root / n).is_dir() and not (home.root / n).is_symlink()]
    if not unlinked:
        return
    staged = _new_generation(home)
    _copy_outputs(home, staged)
    commit(replace(home, staged=staged))


def _copy_outputs(home: Home, staged: Path) -> None:
    """Copy the output folders as the home shows them now into a new generation."""
    for name in LINKS:
        if (home.root / name).is_dir():
            shutil.copytree(home.root / name, staged / name, symlinks=True, dirs_exist_ok=True)


def _new_generation(home: Home) -> Path:
    folder = home.root / GENERATIONS / NEXT
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # evidence and scored runs hold raw text: readable by the owner only (the exports beside
    # them, gated, follow the umask)
    (folder / "data").mkdir(mode=0o700)
    (folder / "data").chmod(0o700)
    return folder


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _link_outputs(home: Home) -> None:
    for name, target in LINKS.items():
        link = home.root / name
        if not (link.is_symlink() and os.readlink(link) == target):
            _point(link, Path(target))


def _point(link: Path, target: Path) -> None:
    """Make link point at target in one rename, whatever was there before."""
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{os.getpid()}.link")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    if link.is_dir() and not link.is_symlink():
        # a real folder where the link goes (a home copied with its links followed): its
        # content was carried into a generation first, so it can go
        aside = link.with_name(f".{link.name}.unlinked")
        shutil.rmtree(aside, ignore_errors=True)
        link.rename(aside)
        os.replace(temporary, link)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(temporary, link)
    _sync_dir(link.parent)


def _sync(folder: Path) -> None:
    """Flush a generation to disk before it is made current (survives power loss, not only kill)."""
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _sync_dir(folder)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _io_error(exc: OSError, doing: str) -> DistillError:
    return DistillError(f"cannot {doing}: {os_problem(exc, GENERATIONS)} (the previous outputs stand)")
