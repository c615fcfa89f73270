-- Everything held back at a gate (QuarantineRecord, SPEC §7), with a reason code from a fixed
-- set and the provenance that leads to its source lines. A quarantined row reaches no export.

with gates as (
    select * from {{ ref('int_export_gates') }}
    where quarantine_reason is not null
),

duplicate_lines as (
    select * from {{ ref('int_duplicate_copies') }}
),

evidence as (
    select * from {{ ref('evidence') }}
),

skipped_lines as (
    select * from {{ ref('skipped_lines') }}
),

bad_lines as (
    -- lines that are bad data (not blank, pending or of an unknown stream) are quarantined too
    select * from skipped_lines
    where reason in (
            'malformed_json', 'invalid_utf8', 'not_an_object', 'wrong_type', 'invalid_value',
            'missing_required', 'oversize'
        )
),

dated_bad_lines as (
    -- a bad line has no trustworthy ts of its own: it takes the day of the last good line
    -- before it in its file (logs are written in time order), else 1970-01-01
    select
        bad_lines.*,
        coalesce(earlier.recorded_at::date, date '1970-01-01') as day
    from bad_lines
    asof left join evidence as earlier
        on
            bad_lines.source_file = earlier.source_file
            and bad_lines.line_offset > earlier.line_offset
),

held_candidates as (
    select
        'export' as stage,
        candidate_kind || ':' || candidate_id as subject,
        quarantine_reason as reason,
        quarantine_detail as detail,
        provenance,
        day
    from gates
),

held_lines as (
    select
        'evidence' as stage,
        'evidence:' || evidence_id as subject,
        'duplicate' as reason,
        'same stream and sig_hash as an earlier line; only the first copy is used'
        || coalesce(' (run ' || run_id || ' keeps the first)', '') as detail,
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
    from dated_bad_lines
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

select * from final
