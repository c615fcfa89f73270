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

checked_lines as (
    -- the stream lines this run read, each read again from its file ...
    select
        source_file,
        line_offset,
        distill_sig_hash(distill_source_line(source_file, byte_offset, line_bytes)) as file_sig_hash
    from source_records
    where
        byte_offset is not null
        and read_seq = (select max(source_units.read_seq) from source_units)
    union all
    -- ... and the trace units, which this run read whole from their files
    select
        source_units.source_file,
        source_units.line_offset,
        distill_sig_hash(source_units.unit_text) as file_sig_hash
    from source_units
    semi join source_records
        on
            source_units.source_file = source_records.source_file
            and source_units.line_offset = source_records.line_offset
            and source_records.byte_offset is null
),

recomputed as (
    select
        evidence.evidence_id,
        evidence.source_file,
        evidence.line_offset,
        evidence.sig_hash,
        checked_lines.file_sig_hash as recomputed_sig_hash
    from evidence
    inner join checked_lines
        on evidence.source_file = checked_lines.source_file and evidence.line_offset = checked_lines.line_offset
)

select * from recomputed
where recomputed_sig_hash is distinct from sig_hash
