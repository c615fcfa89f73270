-- The touched runs as the last run left them in scored_runs, read before scored_runs replaces
-- them: the day partition each was in, which this run writes again. Empty outside a delta run.
{%- set previous = previous_table('scored_runs') %}

with touched_runs as (
    select * from {{ ref('int_touched_runs') }}
)

{% if previous is not none -%}
select
    previous.run_id,
    previous.recorded_at::date as scored_day
from {{ previous }} as previous
semi join touched_runs
    on previous.run_id = touched_runs.run_id
{%- else -%}
    select
        null::varchar as run_id,
        null::date as scored_day
    from touched_runs
    where false
{%- endif %}
