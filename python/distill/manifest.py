"""The data outputs as day parts, and exports/manifest.json that lists them (docs/design.md,
"Parts and the manifest"): every part of evidence, scored runs, the exports and the formats,
with its rows, bytes and sha256. run_hash is the sha256 over the sorted (path, sha256) pairs.

A part is described once: what was measured is kept beside the warehouse with the part's size,
mtime and inode (data/.dbt/parts.json), so a part carried unchanged into a new generation (a
hard link: the same inode) is not read again, and one that changed behind distill's back is.
"""

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from distill.errors import DistillError
from distill.fingerprints import run_hash
from distill.home import Home
from distill.project import EXPORT_DIRS, FORMAT_DIRS

MANIFEST = "exports/manifest.json"


@dataclass(frozen=True)
class Part:
    path: str  # relative to the home, as the home shows it (exports/sft/2026-03-05.jsonl)
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Seen:
    """A part as distill last measured it, with the file identity it had then."""

    part: Part
    size: int
    mtime_ns: int
    inode: int


def state_path(home: Home) -> Path:
    return home.root / "data" / ".dbt" / "parts.json"


def named_parts(home: Home) -> list[tuple[str, Path]]:
    """Every data part on disk, as (the name the home gives it, the file), in name order:
    evidence and scored-runs Parquet partitions, the exports' and the formats' day parts."""
    files = [*home.evidence_dir.glob("*/*.parquet"), *home.scored_dir.glob("*/*.parquet")]
    for folder in home.part_folders():
        files += folder.glob("*.jsonl")
    return sorted((home.relative(path), path) for path in files)


def _measure(path: Path, relative: str) -> Part:
    digest = hashlib.sha256()
    size = 0
    newlines = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            newlines += block.count(b"\n")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # only when a partition is measured: a no-op run measures none

        newlines = pq.read_metadata(path).num_rows
    rows = newlines
    return Part(relative, rows, size, digest.hexdigest())


def load_seen(home: Home) -> dict[str, Seen]:
    try:
        raw = json.loads(state_path(home).read_text())
        return {path: Seen(Part(**s["part"]), s["size"], s["mtime_ns"], s["inode"]) for path, s in raw.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def is_as_seen(path: Path, seen: Seen | None) -> bool:
    """The file is the one distill measured: the same size, mtime and inode."""
    if seen is None:
        return False
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino) == (seen.size, seen.mtime_ns, seen.inode)


def describe(home: Home, seen: dict[str, Seen] | None = None) -> tuple[list[Part], dict[str, Seen]]:
    """Every part on disk, measured (or taken from `seen` where the file is the one measured)."""
    seen = load_seen(home) if seen is None else seen
    parts, now = [], {}
    for relative, path in named_parts(home):
        known = seen.get(relative)
        stat = os.stat(path)
        identity = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        same = known is not None and identity == (known.size, known.mtime_ns, known.inode)
        part = known.part if same else _measure(path, relative)
        if not same:
            stat = os.stat(path)
        parts.append(part)
        now[relative] = Seen(part, stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return parts, now


def write(home: Home, parts: list[Part]) -> Path:
    """exports/manifest.json: deterministic (sorted, no times), so it is byte-identical for the
    same outputs however they were reached."""
    path = home.output_file(MANIFEST)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "run_hash": run_hash(parts),  # the same hash the receipts give (distill.fingerprints)
        "parts": [asdict(p) for p in sorted(parts, key=lambda p: p.path)],
    }
    path.write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")
    return path


def remember(home: Home, seen: dict[str, Seen]) -> None:
    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({k: asdict(v) for k, v in sorted(seen.items())}))
    temporary.replace(path)


def read(home: Home) -> dict | None:
    """The manifest as the home shows it now, or None."""
    try:
        return json.loads((home.root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


# What `distill pack EXPORT [--format F]` concatenates: the folder of day parts.
PACKS = {
    ("rag", None): EXPORT_DIRS["export_rag"],
    ("sft", None): EXPORT_DIRS["export_sft"],
    ("sft", "trl"): EXPORT_DIRS["export_sft"],  # the SFT rows carry `messages` as TRL's SFTTrainer reads them
    ("sft", "openai"): FORMAT_DIRS["openai"]["export_openai_sft"],
    ("preference", None): EXPORT_DIRS["export_preference"],
    ("preference", "trl"): FORMAT_DIRS["trl-conversational"]["export_trl_preference"],
    ("preference", "openai"): FORMAT_DIRS["openai"]["export_openai_dpo"],
    ("quarantine", None): EXPORT_DIRS["quarantine"],
}
FORMAT_OPTION = {folder: name for name, models in FORMAT_DIRS.items() for folder in models.values()}


def pack(home: Home, export: str, fmt: str | None, out: Path) -> tuple[int, int]:
    """Concatenate an export's day parts, in day order, into one file (the same bytes for the
    same input), checking each part against the manifest; return (parts, rows)."""
    folder = PACKS.get((export, fmt))
    if folder is None:
        raise DistillError(f"no {fmt} format for {export}: pack rag, sft, preference or quarantine; "
                           "--format trl or openai for sft and preference")
    listed = read(home)
    if listed is None:
        raise DistillError(f"{MANIFEST} is missing: run `distill --home {home.root} run-all` first")
    entries = {p["path"]: p for p in listed["parts"] if p["path"].startswith(folder + "/")}
    if not entries and folder in FORMAT_OPTION:
        raise DistillError(f"{folder} has no parts: run `distill run-all --format {FORMAT_OPTION[folder]}` first")
    temporary = out.with_name(f".{out.name}.partial")
    rows = 0
    with temporary.open("wb") as target:
        for relative, entry in sorted(entries.items()):
            data = (home.root / relative).read_bytes()
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                temporary.unlink()
                raise DistillError(f"{relative} does not match {MANIFEST}: it changed since the run; "
                                   "rerun `distill run-all` (a forbidden row in it fails the run)")
            target.write(data)
            rows += entry["rows"]
    temporary.replace(out)
    return len(entries), rows
