-- Evidence without the second and later copies of a source line (int_duplicate_copies): what
-- scoring and the export candidates read. The copies are quarantined as duplicate instead.
-- Ephemeral: a query inside the models that read it.
{{ config(materialized='ephemeral') }}

select
    evidence_rows.evidence_id,
    evidence_rows.run_id,
    evidence_rows.stream,
    evidence_rows.kind,
    evidence_rows.source_file,
    evidence_rows.line_offset,
    evidence_rows.sig_hash,
    evidence_rows.recorded_at,
    evidence_rows.model,
    evidence_rows.instruction,
    evidence_rows.response,
    evidence_rows.signals,
    evidence_rows.extra
from {{ ref('evidence') }} as evidence_rows
where {{ not_a_second_copy('evidence_rows') }}
