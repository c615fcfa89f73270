-- Everything held back at a gate (QuarantineRecord; docs/concepts.md, "Gates and quarantine"),
-- with a reason code from a fixed set and the provenance that leads to its source lines. A
-- quarantined row reaches no export.
-- On a delta run, the rows of the touched days only (the pre-hook deletes those days).

with touched_days as (
    select * from {{ ref('int_touched_days') }}
    where output = 'rows'
),

gates as (
    select * from {{ ref('int_export_gates') }}
    where
        quarantine_reason is not null
        {%- if in_delta() %}
            and day in (select touched_days.day from touched_days)
        {%- endif %}
),

candidates as (
    select
        candidate_kind,
        candidate_id,
        provenance
    from {{ ref('int_export_candidates') }}
    {%- if in_delta() %}
        -- a candidate's day is its gate's: DuckDB can then skip the other days' rows
        where day in (select touched_days.day from touched_days)
    {%- endif %}
),

duplicate_lines as (
    select * from {{ ref('int_duplicate_copies') }}
    {%- if in_delta() %}
        where recorded_at::date in (select touched_days.day from touched_days)
    {%- endif %}
),

bad_lines as (
    select * from {{ ref('int_bad_lines') }}
    {%- if in_delta() %}
        where day in (select touched_days.day from touched_days)
    {%- endif %}
),

held_candidates as (
    select
        'export' as stage,
        gates.candidate_kind || ':' || gates.candidate_id as subject,
        gates.quarantine_reason as reason,
        gates.quarantine_detail as detail,
        candidates.provenance,
        gates.day
    from gates
    inner join candidates
        on gates.candidate_kind = candidates.candidate_kind and gates.candidate_id = candidates.candidate_id
),

held_lines as (
    select
        'evidence' as stage,
        'evidence:' || evidence_id as subject,
        'duplicate' as reason,
        'same stream and sig_hash as an earlier line; only the first copy is used' as detail,
        {
            -- only the line is held back, not its run
            'run_ids': []::varchar[],
            'evidence_ids': [evidence_id],
            'source_lines': [source_file || ':' || line_offset]
        } as provenance,
        recorded_at::date as day
    from duplicate_lines
),

held_bad_lines as (
    select
        'ingest' as stage,
        'line:' || source_file || ':' || line_offset as subject,
        case reason
            when 'invalid_utf8' then 'malformed_json'
            when 'not_an_object' then 'schema_invalid'
            when 'wrong_type' then 'schema_invalid'
            when 'invalid_value' then 'schema_invalid'
            else reason
        end as reason,
        -- reason, position, the line's hash and the schema's field names: never the line's text
        reason || ' at ' || source_file || ' line ' || line_offset
        || case
            when reason in ('missing_required', 'wrong_type', 'invalid_value')
                then coalesce(' (field ' || nullif(regexp_extract(detail, 'field "([^"]+)"', 1), '') || ')', '')
            else ''
        end
        || coalesce('; line hash ' || line_hash, '') as detail,
        {
            'run_ids': []::varchar[],
            'evidence_ids': []::varchar[],
            'source_lines': [source_file || ':' || line_offset]
        } as provenance,
        day
    from bad_lines
),

held as (
    select * from held_candidates
    union all
    select * from held_lines
    union all
    select * from held_bad_lines
),

final as (
    select
        {{ make_id('q', ['stage', 'subject']) }} as id,
        stage,
        reason,
        detail,
        provenance,
        day
    from held
)

-- stored a day at a time, so each day part's COPY reads only that day's row groups
select * from final
order by day, id
