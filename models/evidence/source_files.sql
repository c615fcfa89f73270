-- Every source file as this run read it: a consistent snapshot, read up to the size the file
-- had when the run started, with what became of its lines.

with source_records as (
    select * from {{ ref('base_source_records') }}
),

final as (
    select
        source_file,
        any_value(stream) as stream,
        count(*) as lines_read,
        -- each line's bytes and its newline, but a pending last line has none yet
        sum(line_bytes) + count(*) filter (where skip_reason is distinct from 'pending') as bytes_read,
        count(*) filter (where skip_reason is null) as evidence_lines,
        count(*) filter (where skip_reason is not null and skip_reason != 'pending') as skipped_lines,
        count(*) filter (where skip_reason = 'pending') as pending_lines
    from source_records
    group by source_file
)

select * from final
order by source_file
