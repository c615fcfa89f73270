"""Incident evidence (docs/design.md, "Incidents"): a part the firewall refused, or a file found
in the outputs that distill did not write (an operator's `.QUARANTINED` copy, a file dropped in
by hand), is moved to data/incidents/<UTC time>/ under the path it had, beside a NOTE.md saying
why. No run deletes that folder; receipts and audit-full list what is in it until an operator
removes an incident after dealing with it.
"""

from datetime import datetime, timezone
from pathlib import Path

from distill import manifest
from distill.home import Home, free_path

NOTE = "NOTE.md"
# distill's own files in the exports folder besides the day parts
OWN_FILES = ("exports/manifest.json", "exports/README.md")


def folder(home: Home) -> Path:
    return home.root / "data" / "incidents"


def keep(home: Home, files: list[tuple[Path, str]], why: str) -> Path:
    """Move each (file, the name the home gave it) into a new incident folder with a note; return
    the folder. Never overwrites: each incident has a folder of its own."""
    target = free_path(folder(home), datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ"))
    target.mkdir(parents=True, mode=0o700)
    for path, name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        path.replace(destination)
    listing = "\n".join(f"- `{name}`" for _, name in files)
    (target / NOTE).write_text(f"# Incident {target.name}\n\n{why}\n\nFiles kept (by the path they had):\n\n{listing}\n")
    return target


def listed(home: Home) -> list[str]:
    """Open incidents, oldest first: each as `data/incidents/<name>: <why>`."""
    if not folder(home).is_dir():
        return []
    out = []
    for entry in sorted(p for p in folder(home).iterdir() if p.is_dir()):
        note = entry / NOTE
        lines = note.read_text(errors="replace").splitlines() if note.is_file() else []
        why = next((line for line in lines[1:] if line.strip()), "no note")
        out.append(f"{home.relative(entry)}: {why}")
    return out


def sweep_foreign(home: Home) -> Path | None:
    """Before a run: files in the current outputs that are not distill's own (not a part it
    measured, not the manifest or the card) are kept as an incident, never pruned with the old
    generation. Returns the incident folder, if any."""
    own = {name for name, _ in manifest.named_parts(home)} | set(OWN_FILES)
    foreign = []
    for top in (home.exports, home.evidence_dir, home.scored_dir):
        if not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            if (path.is_file() or path.is_symlink()) and home.relative(path) not in own:
                foreign.append((path, home.relative(path)))
    if not foreign:
        return None
    names = ", ".join(name for _, name in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
    return keep(home, foreign, f"Found in the outputs before a run, not written by distill (moved aside or added by "
                               f"hand): {names}. Kept here as evidence; no run reads it.")

