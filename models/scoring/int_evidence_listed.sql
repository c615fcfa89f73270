-- One row per run: its evidence rows, their source lines and its streams, as sorted lists.
-- Built with window lists over each run's rows, not a GROUP BY: a window partitions and sorts
-- the rows first and spills while doing it, where list states in a hash aggregation stay in
-- memory and fail the memory limit at two million lines.

with listed as (
    select
        run_id,
        list({ 'evidence_id': evidence_id, 'source_line': source_file || ':' || line_offset }) over run_rows
            as run_lines,
        list(stream) over run_rows as run_streams,
        min(recorded_at) over run_rows as first_recorded_at,
        row_number() over run_rows as row_in_run
    from {{ ref('int_evidence_joined_to_runs') }}
    window run_rows as (partition by run_id)
)

select
    run_id,
    -- the run's day: the UTC date of its earliest evidence (the day part its exports go to)
    first_recorded_at::date as run_day,
    list_transform(list_sort(run_lines), lambda line: line['evidence_id']) as evidence_ids,
    list_transform(list_sort(run_lines), lambda line: line['source_line']) as source_lines,
    list_sort(list_distinct(run_streams)) as streams
from listed
where row_in_run = 1
