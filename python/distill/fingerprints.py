"""What a run read and built, as hashes (docs/design.md, "Parts and the manifest"): each data
part's sha256 and the run_hash over them, the project's and the input's fingerprints (equal
fingerprints, equal outputs: a no-op run), and the git head a summary names."""

import hashlib
import json
import subprocess
from pathlib import Path

from distill.home import PROJECT_DIR, Home
from distill.schemas import OutputFile


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def output_files(home: Home, paths: list[Path], known: dict[str, str] | None = None) -> list[OutputFile]:
    """Each part with its sha256 (from `known`, path -> sha256, where the run measured it)."""
    known = known or {}
    out = []
    for path in paths:
        relative = home.relative(path)
        sha = known.get(relative) or (file_sha256(path) if path.exists() else None)
        if sha is not None:
            out.append(OutputFile(path=relative, sha256=sha))
    return out


def run_hash(outputs: list) -> str:
    """sha256 over the sorted (path, sha256) pairs of every data part: the receipts' outputs or
    the manifest's parts (anything with a path and a sha256)."""
    digest = hashlib.sha256()
    for out in sorted(outputs, key=lambda o: o.path):
        digest.update(f"{out.path}\t{out.sha256}\n".encode())
    return digest.hexdigest()


def project_fingerprint(options: dict) -> str:
    """What the tables are built with: every file of the dbt project and the package, and the
    run's options. A change rebuilds every table (an incremental run would mix two versions)."""
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode())
    add_project_files(digest, PROJECT_DIR, ("models", "macros", "seeds", "tests/acceptance", "python/distill"),
                      lambda path: path.suffix in (".sql", ".yml", ".csv", ".py"), ("dbt_project.yml",))
    return digest.hexdigest()


def add_project_files(digest, root: Path, folders: tuple[str, ...], keep, files: tuple[str, ...]) -> None:
    """Feed every file under `folders` that `keep` keeps (its path and its bytes, in path
    order), then each of `files`, into `digest`."""
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and keep(path):
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    for name in files:
        digest.update((root / name).read_bytes())


def input_fingerprint(home: Home, options: dict) -> str:
    """What a run's outputs depend on: every source file's path, size and mtime, every file of
    the dbt project and the package, and the run's options. Equal fingerprints, equal outputs.
    Only what the readers read counts: distill's own files in data/_kb (the audit baselines)
    and files that are not streams are not input, so appending to them gives a run no work."""
    digest = hashlib.sha256(project_fingerprint(options).encode())
    if home.kb.is_dir():
        # the stream files and the files of the standard trace formats
        for path in sorted(home.kb.rglob("*")):
            if path.is_file() and (home.is_stream_file(path) or home.is_trace_file(path)):
                stat = path.stat()
                name = path.relative_to(home.kb).as_posix()
                digest.update(f"{name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def git_head() -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except OSError:
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None
