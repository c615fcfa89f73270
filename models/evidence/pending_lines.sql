-- Last lines with no newline yet: they may still be being written. Not a skip and not lost:
-- the next run reads them again (complete by then, they become evidence or a skip).

with source_records as (
    select * from {{ ref('base_source_records') }}
    where skip_reason = 'pending'
),

final as (
    select
        source_file,
        line_offset,
        stream,
        byte_offset,
        line_bytes
    from source_records
)

select * from final
order by source_file, line_offset
