from datetime import datetime

import pytest
from pydantic import ValidationError

from distill.home import PROJECT_DIR
from distill.schemas import RECORD_TYPES, ExportProvenance, SftSample, json_schemas

SCHEMA_DIR = PROJECT_DIR / "docs" / "schemas"


def test_docs_schemas_are_in_sync_with_the_record_types():
    expected = json_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    stale = sorted(name for name in expected if on_disk.get(name) != expected[name])
    extra = sorted(set(on_disk) - set(expected))
    assert not stale and not extra, f"run `make schemas`: stale {stale}, not a record type {extra}"


def test_every_record_type_of_the_spec_is_exported():
    names = {t.__name__ for t in RECORD_TYPES}
    assert names >= {"EvidenceRecord", "ScoredRun", "RagSample", "SftSample", "PreferenceSample",
                     "QuarantineRecord", "StageReceipt", "RunSummary", "DriftReport", "ReplayRun",
                     "AuditBaseline"}


@pytest.mark.parametrize("category", ["rejected", "needs_human_review", "unknown"])
def test_sft_sample_cannot_hold_a_forbidden_category(category):
    with pytest.raises(ValidationError):
        SftSample(
            id="sft_1", instruction="do it", response="done",
            messages=[{"role": "user", "content": "do it"}, {"role": "assistant", "content": "done"}],
            quality_score=category, model=None,
            provenance=ExportProvenance(run_ids=["r1"], evidence_ids=["ev_1"], source_lines=["data/_kb/a.jsonl:0"]),
        )


def test_evidence_record_rejects_a_bad_sig_hash():
    from distill.schemas import EvidenceRecord

    with pytest.raises(ValidationError):
        EvidenceRecord(
            evidence_id="ev_1", run_id="r1", stream="answers", kind="answer", source_file="data/_kb/a.jsonl",
            line_offset=0, sig_hash="XYZ", recorded_at=datetime(2026, 4, 1), model=None, instruction=None,
            response=None, signals={}, extra={},
        )
