-- Invariant 1: every physical line of every source file is accounted for exactly once, as
-- evidence, as a skip (with reason and line number) or as a pending last line. Returns the
-- lines that are not. The units of the standard trace formats count as lines of their files.
-- On a delta run (docs/design.md, "Incremental runs"): the lines this run read, one by one,
-- and the whole corpus by its counts (the runs that read the older lines proved them one by
-- one); plain dbt, `distill acceptance` and `audit-full` check every line.
-- depends_on: {{ ref('base_source_lines') }}

with source_lines as (
    select
        source_file,
        line_offset
    from {{ ref('base_source_units') }}
    {%- if in_delta() %}
        where read_seq = {{ delta_seq() }}
    {%- endif %}
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

checked_outcomes as (
    -- the outcomes of the lines checked one by one
    select outcomes.*
    from outcomes
    {%- if in_delta() %}
    semi join source_lines
        on outcomes.source_file = source_lines.source_file and outcomes.line_offset = source_lines.line_offset
    {%- endif %}
),

outcome_counts as (
    select
        source_file,
        line_offset,
        count(*) as n_outcomes
    from checked_outcomes
    group by source_file, line_offset
),

corpus_counts as (
    -- the whole corpus: as many outcomes as units (a line of any read lost or doubled)
    select
        (select count(*) from {{ ref('base_source_units') }}) as n_units,
        (select count(*) from outcomes) as n_outcomes
),

per_line as (
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
),

final as (
    select * from per_line
    where not is_source_line or n_outcomes != 1

    union all

    select
        '(every source file: ' || n_units || ' units)' as source_file,
        null as line_offset,
        n_outcomes,
        false as is_source_line
    from corpus_counts
    where n_outcomes != n_units
)

select * from final
