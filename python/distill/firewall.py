"""The last firewall layer (docs/concepts.md, "The SFT firewall"): re-read every written export and validate each row.

A row its record type cannot hold (in SFT: anything but accepted, or partially_accepted when
admitted) fails the run, and the file is moved aside so that no trainer can pick it up.
"""

import csv
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
from pydantic import BaseModel, ValidationError

from distill import incidents
from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home
from distill.schemas import PreferenceSample, QuarantineRecord, RagSample, SftSample

EXPORT_TYPES: dict[str, type[BaseModel]] = {
    "export_rag": RagSample,
    "export_sft": SftSample,
    "export_preference": PreferenceSample,
    "quarantine": QuarantineRecord,
}

# What each export may hold beyond what its type allows.
SFT_STRICT = frozenset({"accepted"})
SFT_WITH_PARTIAL = frozenset({"accepted", "partially_accepted"})


SECRET_PATTERNS_CSV = PROJECT_DIR / "seeds" / "secret_patterns.csv"


def _problem(model: str, row: BaseModel, include_partial: bool) -> str | None:
    if isinstance(row, SftSample):
        allowed = SFT_WITH_PARTIAL if include_partial else SFT_STRICT
        if row.quality_score not in allowed:
            return f"quality_score {row.quality_score!r} is not allowed in SFT ({', '.join(sorted(allowed))})"
    if isinstance(row, PreferenceSample) and row.chosen_run_id == row.rejected_run_id:
        return f"self-pair: chosen and rejected are both run {row.chosen_run_id}"
    return None


def validate_export(home: Home, model: str, include_partial: bool = False, move_aside: bool = True,
                    parts: list[Path] | None = None) -> int:
    """Validate an export's day parts (all of them, or `parts`); return the rows read or raise,
    after moving the part with a forbidden row aside. Parts are validated side by side, one
    process per core (pydantic holds the GIL), when there is enough to validate."""
    folder = home.export_dir(model)
    if not folder.is_dir():
        raise DistillError(f"{home.relative(folder)} was not written: rerun `distill run-all`")
    paths = sorted(home.export_parts(model) if parts is None else parts)
    jobs = [(str(path), model, include_partial) for path in paths]
    workers = min(os.cpu_count() or 1, len(paths))
    if workers > 1 and sum(path.stat().st_size for path in paths) > PARALLEL_BYTES:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            checked = list(pool.map(check_part, *zip(*jobs), chunksize=max(1, len(jobs) // (4 * workers))))
    else:
        checked = [check_part(*job) for job in jobs]
    rows = 0
    for path, (count, bad) in zip(paths, checked):
        if bad is not None:
            _breach(home, path, model, *bad, move_aside=move_aside)
        rows += count
    return rows


# Below this many bytes of parts, starting worker processes costs more than it saves.
PARALLEL_BYTES = 8 * 1024 * 1024


def check_part(path: str, model: str, include_partial: bool) -> tuple[int, tuple[int, str] | None]:
    """One part's rows, and the line and problem of its first row that its record type (or the
    export's rules) does not allow."""
    record_type = EXPORT_TYPES[model]
    rows = 0
    with open(path, "rb") as handle:
        for line_no, line in enumerate(handle):
            try:
                row = record_type.model_validate_json(line)
            except ValidationError as exc:
                problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
            else:
                problem = _problem(model, row, include_partial)
            if problem:
                return rows, (line_no, problem)
            rows += 1
    return rows, None


def validate_part(home: Home, path: Path, model: str, include_partial: bool = False, move_aside: bool = True) -> int:
    """Validate one day part against its record type; return its rows or raise (after moving it aside)."""
    rows, bad = check_part(str(path), model, include_partial)
    if bad is not None:
        _breach(home, path, model, *bad, move_aside=move_aside)
    return rows


def _breach(home: Home, path: Path, model: str, line_no: int, problem: str, move_aside: bool) -> None:
    where = f"{home.relative(path)} line_offset {line_no} is not a valid {EXPORT_TYPES[model].__name__}: {problem}"
    if not move_aside:
        raise DistillError(where)
    kept = set_aside(home, path, f"Firewall layer 3 refused this part: {where}. Nothing was exported.")
    raise DistillError(
        f"firewall: {where}; the file was moved to {kept} as incident evidence. "
        "Nothing was exported; check the scoring rules and seeds, then rerun"
    )


def set_aside(home: Home, path: Path, why: str) -> str:
    """Move a refused file out of the outputs into a new incident folder; return where it is now."""
    name = home.relative(path)
    folder = incidents.keep(home, [(path, name)], why)
    return (folder / name).relative_to(home.root).as_posix()


def secret_patterns(path: Path = SECRET_PATTERNS_CSV) -> list[tuple[str, str]]:
    """(pattern_id, RE2 regex) from the seed; the scan fails closed without them."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            patterns = [(row["pattern_id"], row["regex"]) for row in csv.DictReader(handle) if row.get("regex")]
    except (OSError, KeyError, csv.Error) as exc:
        raise DistillError(f"secret scan: cannot read {path} ({exc}); nothing is exported without its patterns") from None
    if not patterns:
        raise DistillError(f"secret scan: {path} holds no patterns; nothing is exported without them")
    return patterns


def any_secret(patterns: list[tuple[str, str]]) -> str:
    """One RE2 pattern that matches where any of the secret patterns does."""
    return "|".join(f"(?:{regex})" for _, regex in patterns)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scan_secrets(home: Home, patterns: list[tuple[str, str]] | None = None) -> None:
    """Scan every string of every row of every JSON Lines file under exports/, and every other
    file there as text, for the secret patterns. A match
    fails the run: the file is moved aside and the error names it, the row id and the pattern
    (never the secret)."""
    patterns = secret_patterns() if patterns is None else patterns
    files = sorted(p for p in (home.exports.rglob("*") if home.exports.is_dir() else []) if p.is_file() and not p.is_symlink())
    if not files:
        return
    combined = _literal(any_secret(patterns))
    which = " ".join(f"when regexp_matches(text, {_literal(regex)}) then {_literal(pid)}" for pid, regex in patterns)
    jsonl = [str(p) for p in files if p.suffix == ".jsonl"]
    other = [str(p) for p in files if p.suffix != ".jsonl"]
    texts = []
    if jsonl:
        texts.append(
            """
            select filename, json ->> 'id' as row_id, array_to_string(list_transform(
                list_filter(json_extract(json, '$..*'), lambda leaf: json_type(leaf) = 'VARCHAR'),
                lambda leaf: leaf ->> '$'), chr(10)) as text
            from read_json_objects($jsonl, format = 'newline_delimited', filename = true)
            """
        )
    if other:
        texts.append("select filename, null as row_id, content as text from read_text($other)")
    with duckdb.connect() as conn:
        conn.execute("set threads = 2")
        found = conn.execute(
            f"""
            select filename, row_id, case {which} end as pattern_id
            from ({" union all ".join(texts)})
            where regexp_matches(text, {combined})
            order by filename, row_id
            limit 1
            """,
            {k: v for k, v in (("jsonl", jsonl), ("other", other)) if v},
        ).fetchone()
    if found is None:
        return
    filename, row_id, pattern_id = found
    path = Path(filename)
    where = f"row {row_id}" if row_id else ("a row" if path.suffix == ".jsonl" else "its text")
    what = f"{home.relative(path)} ({where}) matches secret pattern {pattern_id}"
    kept = set_aside(home, path, f"The last secret scan found a secret: {what}. Nothing was exported.")
    raise DistillError(
        f"firewall: {what}; the file was moved to {kept} as incident evidence. Nothing was exported; add the "
        "leak's source to the export gate (seeds/secret_patterns.csv covers the pattern) and rerun"
    )
