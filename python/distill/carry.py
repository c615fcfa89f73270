"""What a delta run does not write it carries (docs/design.md, "Incremental runs"): the parts
of the days it did not touch go into the new generation as hard links to the current ones,
after each is shown to be the very file the last run measured (size, mtime, inode).

A part that is not as measured was changed behind distill's back: it is validated again; a
forbidden row in it is a firewall breach (the part is moved aside as incident evidence and the
run fails); anything else makes the run a full rebuild, so no output depends on it.
"""

import os
from pathlib import Path

from distill import firewall, manifest, outputs
from distill.errors import DistillError
from distill.home import Home
from distill.warehouse import connect

# The output folders of day partitions, by the output name int_touched_days uses.
PARTITIONS = {"evidence": "data/evidence", "scored_runs": "data/scored-runs"}
# The folders of day parts that follow the preference pairs' touched days (the others follow
# their candidates' rows).
PAIR_FOLDERS = ("exports/preference", "exports/openai/dpo", "exports/trl/chosen_rejected_conversational")


def verify_current(home: Home, include_partial: bool) -> str | None:
    """Check the current parts against what the last run measured. None: every part is as it
    was. Otherwise the reason for a full rebuild; raises on a forbidden row."""
    seen = manifest.load_seen(home)
    on_disk = dict(manifest.named_parts(home))
    if set(on_disk) != set(seen):
        missing = sorted(set(seen) - set(on_disk)) or sorted(set(on_disk) - set(seen))
        return f"{missing[0]} is not as the last run left it (missing or extra)"
    changed = [name for name, path in on_disk.items() if not manifest.is_as_seen(path, seen[name])]
    for name in changed:
        model = _export_of(home, name)
        if model is None:
            continue
        try:
            firewall.validate_part(home, on_disk[name], model, include_partial, move_aside=False)
        except DistillError as exc:
            kept = firewall.set_aside(home, on_disk[name], f"A part changed after the run that wrote it holds a "
                                                          f"forbidden row: {exc}. Nothing was exported.")
            raise DistillError(
                f"firewall: {exc}; it was written after the run that made it. The part was moved to {kept} "
                "as incident evidence and nothing was exported; the next run rebuilds it from the sources"
            ) from None
    return f"{changed[0]} changed since the run that wrote it" if changed else None


def stage_of_breach(message: str) -> str:
    """The receipt stage a breach in this part belongs to."""
    for folder, stage in (("exports/rag/", "export-rag"), ("exports/sft/", "export-sft"),
                          ("exports/preference/", "export-preference")):
        if folder in message:
            return stage
    return "quarantine"


def _export_of(home: Home, relative: str) -> str | None:
    folder = relative.rsplit("/", 1)[0]
    return next((model for model, f in home.EXPORT_DIRS.items() if f == folder), None)


def touched_days(staged: Home) -> dict[str, set[str]]:
    """The days this run wrote, per output (int_touched_days)."""
    with connect(staged) as conn:
        rows = conn.execute("select output, strftime(day, '%Y-%m-%d') from int_touched_days").fetchall()
    days: dict[str, set[str]] = {"evidence": set(), "scored_runs": set(), "rows": set(), "pairs": set()}
    for output, day in rows:
        days[output].add(day)
    return days


def carry_untouched(home: Home, staged: Home) -> int:
    """Link every part of an untouched day from the current generation into the new one;
    return how many were carried."""
    current = outputs.current_generation(home)
    if current is None:
        raise DistillError("a delta run found no current outputs to carry: rerun with --force")
    days = touched_days(staged)
    carried = 0
    for output, folder in PARTITIONS.items():
        for day_dir in sorted((current / folder).glob("day=*")):
            if day_dir.name.removeprefix("day=") not in days[output]:
                carried += _link_all(day_dir, staged.output_root / folder / day_dir.name)
    for folder in staged.part_folders():
        relative = folder.relative_to(staged.output_root)
        touched = days["pairs" if relative.as_posix() in PAIR_FOLDERS else "rows"]
        for part in sorted((current / relative).glob("*.jsonl")):
            day = part.name.removesuffix(".jsonl")
            target = folder / part.name
            if day not in touched and not target.exists():
                os.link(part, target)
                carried += 1
    return carried


def _link_all(source: Path, target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in source.iterdir() if p.is_file())
    for path in files:
        os.link(path, target / path.name)
    return len(files)
