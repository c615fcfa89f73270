-- Each unit of a standard trace format mapped to a record of one of the twelve streams, so the
-- same stg_<stream> models type and check it: the union of the format models
-- (models/staging/trace_formats/, one per format), each record stamped with where it came from.
-- Units that map to no stream are kept with a null stream (skipped as `unmapped_element`).

with mapped as (
    select * from {{ ref('trace_otel_spans') }}
    union all
    select * from {{ ref('trace_span_notes') }}
    union all
    select * from {{ ref('trace_openai_logs') }}
    union all
    select * from {{ ref('trace_swe_agent') }}
    union all
    select * from {{ ref('trace_openhands') }}
    union all
    select * from {{ ref('trace_inspect') }}
),

final as (
    select
        source_file,
        line_offset,
        stream,
        format,
        element,
        unmapped_detail,
        distill_sig_hash(unit_json::varchar) as sig_hash,
        -- where the record came from travels with it (it lands in evidence.extra)
        case when stream is not null
                then json_merge_patch(record, json_object('_source_format', format, '_source_element', element))
        end as record,
        strlen(unit_json::varchar) as unit_bytes
    from mapped
)

select * from final
