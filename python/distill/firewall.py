"""The last firewall layer (SPEC §7): re-read every written export and validate each row.

A row its record type cannot hold (in SFT: anything but accepted, or partially_accepted when
admitted) fails the run, and the file is moved aside so that no trainer can pick it up.
"""

import csv
import os
from pathlib import Path

import duckdb
from pydantic import BaseModel, ValidationError

from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home
from distill.rowcheck import valid_row_sql
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


def quarantine_path(path: Path) -> Path:
    """Where a breached export file is moved: beside it, never under its own name."""
    return path.with_name(path.stem + ".firewall-breach" + path.suffix)


def _problem(model: str, row: BaseModel, include_partial: bool) -> str | None:
    if isinstance(row, SftSample):
        allowed = SFT_WITH_PARTIAL if include_partial else SFT_STRICT
        if row.quality_score not in allowed:
            return f"quality_score {row.quality_score!r} is not allowed in SFT ({', '.join(sorted(allowed))})"
    if isinstance(row, PreferenceSample) and row.chosen_run_id == row.rejected_run_id:
        return f"self-pair: chosen and rejected are both run {row.chosen_run_id}"
    return None


def _allowed_problems_sql(model: str, include_partial: bool) -> str:
    """The rules of `_problem` as SQL over a row's JSON: true when the row passes them."""
    if model == "export_sft":
        allowed = SFT_WITH_PARTIAL if include_partial else SFT_STRICT
        return f"(json ->> 'quality_score') in ({', '.join(repr(c) for c in sorted(allowed))})"
    if model == "export_preference":
        return "(json ->> 'chosen_run_id') is distinct from (json ->> 'rejected_run_id')"
    return "true"


def validate_export(home: Home, model: str, include_partial: bool = False, move_aside: bool = True,
                    parts: list[Path] | None = None) -> int:
    """Validate an export's day parts (all of them, or `parts`); return the rows read or raise,
    after moving the part with a forbidden row aside. Every row is checked in one DuckDB pass
    (distill.rowcheck); pydantic validates the first row of each part, and every row of a part
    the pass finds a problem in, so that the error names the line and the field."""
    folder = home.export_dir(model)
    if not folder.is_dir():
        raise DistillError(f"{home.relative(folder)} was not written: rerun `distill run-all`")
    paths = sorted(home.export_parts(model) if parts is None else parts)
    if not paths:
        return 0
    record_type = EXPORT_TYPES[model]
    counted = _row_counts(paths, f"{valid_row_sql(record_type)} and {_allowed_problems_sql(model, include_partial)}")
    rows = 0
    for path in paths:
        lines, good = counted.get(str(path), (None, None)) if counted is not None else (None, None)
        if lines is None or good != lines or _newlines(path) != lines:
            rows += validate_part(home, path, model, include_partial, move_aside)  # names the row, or raises
            continue
        with path.open("rb") as handle:
            first = handle.readline()
        if first:
            _validate_line(home, path, 0, first, model, include_partial, move_aside)
        rows += lines
    return rows


def _row_counts(paths: list[Path], valid: str) -> dict[str, tuple[int, int]] | None:
    """Each part's rows and the rows `valid` holds for, in one pass; None if DuckDB cannot read
    a part as JSON lines (pydantic then reads each part and names the line)."""
    try:
        with duckdb.connect() as conn:
            conn.execute("set threads = 2")
            found = conn.execute(
                f"""
                select filename, count(*), count(*) filter (where {valid})
                from read_json_objects(?, format = 'newline_delimited', filename = true)
                group by filename
                """,
                [[str(p) for p in paths]],
            ).fetchall()
    except duckdb.Error:
        return None
    return {name: (lines, good) for name, lines, good in found}


def _newlines(path: Path) -> int | None:
    """The lines of a part that ends with a newline (None otherwise): a blank line, which the
    JSON reader skips, makes the count differ from the rows read."""
    data = path.read_bytes()
    return data.count(b"\n") if not data or data.endswith(b"\n") else None


def validate_part(home: Home, path: Path, model: str, include_partial: bool = False, move_aside: bool = True) -> int:
    """Validate one day part, row by row, against its record type; return its rows or raise
    (after moving it aside)."""
    rows = 0
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle):
            _validate_line(home, path, line_no, line, model, include_partial, move_aside)
            rows += 1
    return rows


def _validate_line(home: Home, path: Path, line_no: int, line: bytes, model: str, include_partial: bool,
                   move_aside: bool) -> None:
    """One row against its record type and the export's rules; raise (after moving the part
    aside) if it does not hold."""
    record_type = EXPORT_TYPES[model]
    try:
        row = record_type.model_validate_json(line)
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
    else:
        problem = _problem(model, row, include_partial)
    if not problem:
        return
    where = f"{home.relative(path)} line_offset {line_no} is not a valid {record_type.__name__}: {problem}"
    if not move_aside:
        raise DistillError(where)
    aside = quarantine_path(path)
    path.replace(aside)
    raise DistillError(
        f"firewall: {where}; the file was moved aside to {os.path.relpath(aside, home.root)}. "
        "Nothing was exported; check the scoring rules and seeds, then rerun"
    )


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


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scan_secrets(home: Home, patterns: list[tuple[str, str]] | None = None) -> None:
    """Scan every string of every row of every JSON Lines file under exports/, and every other
    file there as text, for the secret patterns. A match
    fails the run: the file is moved aside and the error names it, the row id and the pattern
    (never the secret)."""
    patterns = secret_patterns() if patterns is None else patterns
    # files set aside by an earlier breach are incident evidence, not exports
    files = sorted(
        p for p in (home.exports.rglob("*") if home.exports.is_dir() else [])
        if p.is_file() and not p.is_symlink() and ".firewall-breach" not in p.name
    )
    if not files:
        return
    combined = _literal("|".join(f"(?:{regex})" for _, regex in patterns))
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
    aside = quarantine_path(path)
    path.replace(aside)
    where = f"row {row_id}" if row_id else ("a row" if path.suffix == ".jsonl" else "its text")
    raise DistillError(
        f"firewall: {home.relative(path)} ({where}) matches secret pattern {pattern_id}; the file was moved "
        f"aside to {os.path.relpath(aside, home.root)}. Nothing was exported; add the leak's source to the "
        "export gate (seeds/secret_patterns.csv covers the pattern) and rerun"
    )
