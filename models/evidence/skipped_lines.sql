-- Every source line that did not become evidence, with a reason code and its line number.
-- With evidence and pending_lines it accounts for every physical line exactly once
-- (docs/concepts.md, "Nothing is lost").

with line_problems as (
    select
        source_file,
        line_offset,
        stream,
        skip_reason,
        skip_detail,
        line_sha256 as line_hash
    from {{ ref('base_source_records') }}
    -- a pending last line is not a skip: pending_lines holds it
    where
        skip_reason is not null and skip_reason != 'pending'
        {{- and_read_now() }}
),

field_problems as (
    {%- for stream in var('streams') %}
        select
            source_file,
            line_offset,
            '{{ stream }}' as stream,
            skip_reason,
            skip_detail,
            sig_hash as line_hash
        from {{ ref('stg_' ~ stream) }}
        where
            skip_reason is not null
            {{- and_read_now(stream_lines_only=false) }}
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        source_file,
        line_offset,
        stream,
        skip_reason as reason,
        skip_detail as detail,
        line_hash
    from line_problems

    union all

    select
        source_file,
        line_offset,
        stream,
        skip_reason as reason,
        skip_detail as detail,
        line_hash
    from field_problems
)

select * from final
order by source_file, line_offset
