-- Invariant 4: sig_hash recomputes from the source line (RFC 8785 canonical JSON, SPEC §4):
-- the bytes read from the file are hashed again and compared with what evidence recorded.
-- A unit of a standard trace format is hashed again from the element read from its file.
-- The lines this run read are checked: an incremental run reads only appended lines, and the
-- bytes of the lines read before are proven unchanged (sha256 of each file's read prefix).

with evidence as (
    select * from {{ ref('evidence') }}
),

source_lines as (
    select
        source_file,
        line_offset,
        unit_text,
        read_seq = (select max(units.read_seq) from {{ ref('stg_source_units') }} as units) as is_read_now
    from {{ ref('stg_source_units') }}
),

recomputed as (
    select
        evidence.evidence_id,
        evidence.source_file,
        evidence.line_offset,
        evidence.sig_hash,
        case
            when source_lines.is_read_now is false then evidence.sig_hash
            else distill_sig_hash(source_lines.unit_text)
        end as recomputed_sig_hash
    from evidence
    left join source_lines
        on
            evidence.source_file = source_lines.source_file
            and evidence.line_offset = source_lines.line_offset
)

select * from recomputed
where recomputed_sig_hash is distinct from sig_hash
