-- Invariant 1: every physical line of every source file is accounted for exactly once, as
-- evidence, as a skip (with reason and line number) or as a pending last line. Returns the
-- lines that are not. The units of the standard trace formats count as lines of their files.

with source_lines as (
    select
        source_file,
        line_offset
    from {{ ref('base_source_units') }}
),

outcomes as (
    select
        source_file,
        line_offset
    from {{ ref('evidence') }}

    union all

    select
        source_file,
        line_offset
    from {{ ref('skipped_lines') }}

    union all

    select
        source_file,
        line_offset
    from {{ ref('pending_lines') }}
),

outcome_counts as (
    select
        source_file,
        line_offset,
        count(*) as n_outcomes
    from outcomes
    group by source_file, line_offset
),

final as (
    select
        coalesce(source_lines.source_file, outcome_counts.source_file) as source_file,
        coalesce(source_lines.line_offset, outcome_counts.line_offset) as line_offset,
        coalesce(outcome_counts.n_outcomes, 0) as n_outcomes,
        source_lines.source_file is not null as is_source_line
    from source_lines
    full outer join outcome_counts
        on
            source_lines.source_file = outcome_counts.source_file
            and source_lines.line_offset = outcome_counts.line_offset
)

select * from final
where not is_source_line or n_outcomes != 1
