-- Every unit of the standard trace formats as a source record, in base_source_records' shape:
-- its stream record (base_trace_records) and sig_hash, or why it is skipped (the reader's
-- problem, a unit that maps to no stream, a unit with no canonical form). Trace files are read
-- whole by every run, so their units carry the run's read_seq. Ephemeral: a query inside
-- base_source_records.
{{ config(materialized='ephemeral') }}

with read_lines as (
    -- this run's read: trace files are read whole by every run
    select coalesce(max(read_seq), 0) as read_seq from {{ ref('base_source_lines') }}
),

units as (
    select * from {{ ref('base_trace_units') }}
),

records as (
    select * from {{ ref('base_trace_records') }}
),

final as (
    select
        units.source_file,
        records.stream,
        units.line_offset,
        read_lines.read_seq,
        records.sig_hash,
        units.unit_sha256 as line_sha256,
        null::bigint as byte_offset,
        coalesce(records.unit_bytes, 0)::bigint as line_bytes,
        case when records.sig_hash is not null then records.record end as record,
        case
            when units.skip_reason is not null then units.skip_reason
            when records.stream is null then 'unmapped_element'
            when records.sig_hash is null then 'malformed_json'
        end as skip_reason,
        case
            when units.skip_reason is not null then units.skip_detail || ' (' || units.element || ')'
            when records.stream is null
                then units.element || ' of this ' || units.format || ' file is '
                    || coalesce(
                        records.unmapped_detail,
                        'not a model call, tool step, submission or verdict distill scores'
                    )
            when records.sig_hash is null then units.element || ' is not I-JSON (RFC 7493)'
        end as skip_detail
    from units
    left join records
        on units.source_file = records.source_file and units.line_offset = records.line_offset
    cross join read_lines
)

select * from final
