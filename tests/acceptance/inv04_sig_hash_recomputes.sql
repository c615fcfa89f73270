-- Invariant 4: sig_hash recomputes from the source line (RFC 8785 canonical JSON): each stream
-- line is read again from its file (distill_source_line: the file's own bytes at the recorded
-- offset, not the copy the run stored) and hashed again. A unit of a standard trace format is
-- hashed again from the element read from its file this run (those files are read whole).
-- The lines this run read are checked: an incremental run reads only appended lines, and the
-- bytes of the lines read before are proven unchanged (sha256 of each file's read prefix).

with evidence as (
    select * from {{ ref('evidence') }}
),

source_records as (
    select * from {{ ref('stg_source_records') }}
),

source_units as (
    select * from {{ ref('stg_source_units') }}
),

read_now as (
    select
        source_file,
        line_offset,
        byte_offset,
        line_bytes,
        read_seq = (select max(source_units.read_seq) from source_units) as is_read_now
    from source_records
),

trace_units as (
    select
        source_file,
        line_offset,
        unit_text
    from source_units
),

recomputed as (
    select
        evidence.evidence_id,
        evidence.source_file,
        evidence.line_offset,
        evidence.sig_hash,
        case
            when read_now.is_read_now is false then evidence.sig_hash
            when read_now.byte_offset is not null
                then distill_sig_hash(try(decode(
                        distill_source_line(read_now.source_file, read_now.byte_offset, read_now.line_bytes)
                    )))
            else distill_sig_hash(trace_units.unit_text)
        end as recomputed_sig_hash
    from evidence
    left join read_now
        on
            evidence.source_file = read_now.source_file
            and evidence.line_offset = read_now.line_offset
    left join trace_units
        on
            read_now.byte_offset is null
            and evidence.source_file = trace_units.source_file
            and evidence.line_offset = trace_units.line_offset
)

select * from recomputed
where recomputed_sig_hash is distinct from sig_hash
