-- Everything the run read, one row per unit it must account for: the physical lines of the
-- stream files and the units of the standard trace formats, with their text (a view: the text
-- is not stored twice).
{{ config(materialized='view') }}

with stream_lines as (
    select
        source_file,
        line_offset,
        try(decode(raw)) as unit_text,
        read_seq
    from {{ ref('base_source_lines') }}
),

trace_units as (
    -- trace-format files are read whole by every run
    select
        source_file,
        line_offset,
        unit_json::varchar as unit_text,
        -- (not read from stream_lines: a CTE read twice is materialised, every line's text with it)
        (select coalesce(max(stream_reads.read_seq), 0) from {{ ref('base_source_lines') }} as stream_reads) as read_seq
    from {{ ref('base_trace_units') }}
),

final as (
    select * from stream_lines
    union all
    select * from trace_units
)

select * from final
