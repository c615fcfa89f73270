-- Source lines that are bad data (not blank, pending or of an unknown stream): the quarantine
-- holds them back as ingest rows. A bad line has no trustworthy ts of its own: it takes the
-- day of the last good line before it in its file (logs are written in time order), else
-- 1970-01-01.

with skipped_lines as (
    select * from {{ ref('skipped_lines') }}
    where reason in (
            'malformed_json', 'invalid_utf8', 'not_an_object', 'wrong_type', 'invalid_value',
            'missing_required', 'oversize'
        )
),

evidence as (
    select
        source_file,
        line_offset,
        recorded_at
    from {{ ref('evidence') }}
),

final as (
    select
        skipped_lines.source_file,
        skipped_lines.line_offset,
        skipped_lines.reason,
        skipped_lines.detail,
        skipped_lines.line_hash,
        coalesce(earlier.recorded_at::date, date '1970-01-01') as day
    from skipped_lines
    asof left join evidence as earlier
        on
            skipped_lines.source_file = earlier.source_file
            and skipped_lines.line_offset > earlier.line_offset
)

select * from final
