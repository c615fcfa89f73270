"""The last firewall layer (SPEC §7): re-read every written export and validate each row.

A row its record type cannot hold (in SFT: anything but accepted, or partially_accepted when
admitted) fails the run, and the file is moved aside so that no trainer can pick it up.
"""

import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from distill.errors import DistillError
from distill.home import Home
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


def validate_export(home: Home, model: str, include_partial: bool = False, move_aside: bool = True) -> int:
    """Validate one written export; return its row count or raise (after moving it aside)."""
    path = home.export_file(model)
    if not path.exists():
        raise DistillError(f"{home.relative(path)} was not written: rerun `distill run-all`")
    record_type = EXPORT_TYPES[model]
    rows = 0
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle):
            try:
                row = record_type.model_validate_json(line)
            except ValidationError as exc:
                problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
            else:
                problem = _problem(model, row, include_partial)
            if problem:
                where = f"{home.relative(path)} line_offset {line_no} is not a valid {record_type.__name__}: {problem}"
                if not move_aside:
                    raise DistillError(where)
                aside = quarantine_path(path)
                path.replace(aside)
                raise DistillError(
                    f"firewall: {where}; the file was moved aside to {os.path.relpath(aside, home.root)}. "
                    "Nothing was exported; check the scoring rules and seeds, then rerun"
                )
            rows += 1
    return rows
