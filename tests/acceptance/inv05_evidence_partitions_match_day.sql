-- Invariant 5: the evidence partitions on disk match recorded_at's day and hold every evidence
-- row once (matched by source line). A null recorded_at is invariant 3's to report. On a delta
-- run, the days it wrote (int_touched_days lists them).

with partitioned as (
    select
        source_file,
        line_offset,
        day
    {%- set columns = [('source_file', 'varchar'), ('line_offset', 'bigint'), ('day', 'varchar')] %}
    from {{ read_partitions('data/evidence', columns) }}
),

evidence as (
    select
        source_file,
        line_offset,
        recorded_at
    from {{ ref('evidence') }}
    {%- if in_delta() %}
        where recorded_at::date in (
                select touched.day from {{ ref('int_touched_days') }} as touched
                where touched.output = 'evidence'
            )
    {%- else %}
        -- depends_on: {{ ref('int_touched_days') }}
    {%- endif %}
),

compared as (
    select
        partitioned.day,
        evidence.recorded_at,
        coalesce(evidence.source_file, partitioned.source_file) as source_file,
        coalesce(evidence.line_offset, partitioned.line_offset) as line_offset,
        partitioned.source_file is null as is_missing_from_partitions,
        evidence.source_file is null as is_unknown_line,
        evidence.recorded_at is not null
        and coalesce(strftime(evidence.recorded_at, '%Y-%m-%d') != partitioned.day::varchar, true) as is_wrong_day
    from evidence
    full outer join partitioned
        on
            evidence.source_file = partitioned.source_file
            and evidence.line_offset = partitioned.line_offset
)

select * from compared
where is_missing_from_partitions or is_unknown_line or is_wrong_day
