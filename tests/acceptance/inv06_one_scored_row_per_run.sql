-- Invariant 6: every run has exactly one scored row. On a delta run, every touched run (the
-- runs int_evidence_joined_to_runs holds then).

with runs as (
    select distinct run_id from {{ ref('int_evidence_joined_to_runs') }}
),

scored as (
    select
        run_id,
        count(*) as n_rows
    from {{ ref('scored_runs') }}
    {%- if in_delta() %}
        where run_id in (select touched.run_id from {{ ref('int_touched_runs') }} as touched)
    {%- else %}
        -- depends_on: {{ ref('int_touched_runs') }}
    {%- endif %}
    group by run_id
),

compared as (
    select
        coalesce(runs.run_id, scored.run_id) as run_id,
        coalesce(scored.n_rows, 0) as n_scored_rows,
        runs.run_id is null as is_unknown_run
    from runs
    full outer join scored
        on runs.run_id = scored.run_id
)

select * from compared
where n_scored_rows != 1 or is_unknown_run
