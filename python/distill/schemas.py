"""The record types (docs/design.md, "Records"; schema_version 2), the boundary between distill and its users.

Each is exported as JSON Schema to docs/schemas/ (`write_json_schemas`); a test keeps them in
sync. A schema changes only with a SCHEMA_VERSION bump.
"""

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# 2 added the run's options to RunSummary and the re-baseline note to AuditBaseline; readers
# still accept version 1 files (the fields added have defaults).
SCHEMA_VERSION = 2

Category = Literal["accepted", "partially_accepted", "rejected", "needs_human_review"]
QuarantineReason = Literal[
    "malformed_json",
    "schema_invalid",
    "missing_required",
    "empty_text",
    "oversize",
    "secret_detected",
    "duplicate",
    "orphan_reference",
]
Severity = Literal["ok", "warn", "alert"]
Sha256 = str  # lowercase hex; pattern checked where it is produced


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(Record):
    """How a row leads back to its evidence and so to the source lines."""

    run_ids: list[str] = Field(description="the runs the row comes from (none for a playbook)")
    evidence_ids: list[str] = Field(description="none for a source line that never became evidence")
    source_lines: list[str] = Field(min_length=1, description="'<source_file>:<line_offset>' of each line")


class ExportProvenance(Provenance):
    """An exported row is always grounded in evidence."""

    evidence_ids: list[str] = Field(min_length=1)


class EvidenceRecord(Record):
    evidence_id: str
    run_id: str | None
    stream: str
    kind: str
    source_file: str
    line_offset: int = Field(ge=0)
    sig_hash: Sha256 = Field(pattern=r"^[0-9a-f]{64}$")
    recorded_at: datetime
    model: str | None
    instruction: str | None
    response: str | None
    signals: dict[str, Any]
    extra: dict[str, Any]


class ScoredRun(Record):
    run_id: str
    instruction: str | None
    response: str | None
    category: Category
    reasons: list[str] = Field(min_length=1, description="rule ids that fired, in order")
    signals: dict[str, Any]
    evidence_ids: list[str] = Field(min_length=1)
    model: str | None
    recorded_at: datetime
    rule_version: str


class ChatMessage(Record):
    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class RagSample(Record):
    id: str
    title: str
    text: str = Field(min_length=1)
    source_kind: str
    category: Category | None
    tags: list[str]
    provenance: ExportProvenance


class SftSample(Record):
    id: str
    instruction: str = Field(min_length=1)
    response: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=2, max_length=2)
    # The SFT firewall's first layer: the type cannot hold rejected or needs_human_review.
    quality_score: Literal["accepted", "partially_accepted"]
    model: str | None
    provenance: ExportProvenance


class PreferenceSample(Record):
    id: str
    prompt: str = Field(min_length=1)
    chosen: str = Field(min_length=1)
    rejected: str = Field(min_length=1)
    chosen_run_id: str
    rejected_run_id: str
    provenance: ExportProvenance


class QuarantineRecord(Record):
    id: str
    stage: str
    reason: QuarantineReason
    detail: str
    provenance: Provenance


class OutputFile(Record):
    path: str
    sha256: Sha256
    rows: int | None = None


class StageReceipt(Record):
    stage: Literal["materialize", "score", "export-rag", "export-sft", "export-preference", "quarantine"]
    status: Literal["success", "failed", "skipped"]
    started_at: datetime
    ended_at: datetime
    duration_ms: int = Field(ge=0)
    rows_in: int = Field(ge=0)
    rows_out: int = Field(ge=0)
    rows_skipped: int = Field(ge=0)
    rows_pending: int = Field(default=0, ge=0, description="last lines with no newline yet, read again next run")
    outputs: list[OutputFile]
    error: str | None = None
    read: str | None = Field(
        default=None,
        description="materialize only: how the sources were read (incremental, or a full rebuild and why)",
    )
    secret_hits: dict[str, int] | None = Field(
        default=None, description="quarantine only: rows held back per secret pattern (seeds/secret_patterns.csv)"
    )


class RunSummary(Record):
    schema_version: Literal[1, 2] = SCHEMA_VERSION
    run_id: str
    recorded_at: datetime
    git_head: str | None
    counts: dict[str, int]
    categories: dict[str, int]
    quarantined: dict[str, int] = Field(default_factory=dict, description="quarantine rows by reason")
    run_hash: Sha256
    input_fingerprint: Sha256 | None = Field(
        default=None, description="sha256 of the source files (path, size, mtime), the project and the run's options"
    )
    include_partial: bool = Field(
        default=False, description="the run admitted partially_accepted runs into SFT (run-all --include-partial)"
    )
    formats: list[str] = Field(default_factory=list, description="the consumer formats the run wrote (--format)")


class DriftMetric(Record):
    metric: str
    old: float | None
    new: float
    change_pct: float | None
    severity: Severity


class DriftReport(Record):
    schema_version: Literal[1, 2] = SCHEMA_VERSION
    run_id: str
    previous_run_id: str | None
    metrics: list[DriftMetric]
    severity: Severity


class ReplayValidation(Record):
    passed: bool
    reasons: list[str]


class ReplayRun(Record):
    replay_id: str
    ts: datetime
    task: str
    retrieval: bool
    retrieved_ids: list[str]
    model: str
    output: str
    validation: ReplayValidation
    escalated: bool


class AuditBaseline(Record):
    audited_at: datetime
    run_id: str | None
    run_hash: Sha256 | None
    metrics: dict[str, int]
    passed: bool
    reference: bool = Field(
        default=True,
        description="later audits measure drift against this row: the first audit, a passed audit within ±20 %, "
        "or a re-baseline (a failed or drifting audit is history, not a yardstick)",
    )
    note: str | None = Field(
        default=None, description="why the operator re-baselined (audit-full --rebaseline --note); None for a plain audit"
    )


RECORD_TYPES: tuple[type[Record], ...] = (
    EvidenceRecord,
    ScoredRun,
    RagSample,
    SftSample,
    PreferenceSample,
    QuarantineRecord,
    StageReceipt,
    RunSummary,
    DriftReport,
    ReplayRun,
    AuditBaseline,
)


def json_schemas() -> dict[str, str]:
    """file name -> JSON Schema text, for every record type."""
    out = {}
    for record_type in RECORD_TYPES:
        schema = record_type.model_json_schema()
        schema["$id"] = f"distill/{record_type.__name__}/v{SCHEMA_VERSION}"
        out[f"{record_type.__name__}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write_json_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in json_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
