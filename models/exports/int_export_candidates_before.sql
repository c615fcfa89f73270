-- The touched candidates as the last run left them in int_export_candidates, read before it
-- replaces them: their days, and the texts and prompts they shared with other candidates (a
-- candidate that leaves can change which copy of a text passes, or which pairs a prompt has).
-- Empty outside a delta run.
{%- set previous = previous_table('int_export_candidates') %}

with touched_runs as (
    select * from {{ ref('int_touched_runs') }}
),

touched_playbooks as (
    select * from {{ ref('int_touched_playbooks') }}
)

{% if previous is not none -%}
select
    previous.day,
    previous.text_key,
    previous.prompt_fingerprint
from {{ previous }} as previous
where {{ is_touched_candidate('previous.') }}
{%- else -%}
    select
        null::date as day,
        null::varchar as text_key,
        null::varchar as prompt_fingerprint
    from touched_runs
    cross join touched_playbooks
    where false
{%- endif %}
