-- Invariant 4: sig_hash recomputes from the source line (RFC 8785 canonical JSON, SPEC §4):
-- the bytes read from the file are hashed again and compared with what evidence recorded.
-- A unit of a standard trace format is hashed again from the element read from its file.

with evidence as (
    select * from {{ ref('evidence') }}
),

source_lines as (
    select
        source_file,
        line_offset,
        unit_text
    from {{ ref('stg_source_units') }}
),

recomputed as (
    select
        evidence.evidence_id,
        evidence.source_file,
        evidence.line_offset,
        evidence.sig_hash,
        distill_sig_hash(source_lines.unit_text) as recomputed_sig_hash
    from evidence
    left join source_lines
        on
            evidence.source_file = source_lines.source_file
            and evidence.line_offset = source_lines.line_offset
)

select * from recomputed
where recomputed_sig_hash is distinct from sig_hash
