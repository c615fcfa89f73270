-- The decisions of the last run that this run may change, read before they are made again:
-- the gates of every candidate sharing a text with a touched candidate (a duplicate can change
-- with it), and the pairs of every prompt a touched candidate answers. int_touched_days
-- compares them with the new ones: only the days whose rows differ are written. Empty outside
-- a delta run.
{%- set gates = previous_table('int_export_gates') %}
{%- set pairs = previous_table('int_preference_pairs') %}

with touched_keys as (
    select * from {{ ref('int_touched_keys') }}
)

{% if gates is not none and pairs is not none -%}
select
    'gate' as decision,
    previous.candidate_kind || ':' || previous.candidate_id as decided,
    previous.day,
    coalesce(previous.quarantine_reason, 'passed') as outcome
from {{ gates }} as previous
where previous.text_key in (select touched_keys.text_key from touched_keys)
union all
select
    'pair' as decision,
    previous.id as decided,
    previous.day,
    previous.chosen_run_id || ' over ' || previous.rejected_run_id as outcome
from {{ pairs }} as previous
where previous.prompt_fingerprint in (select touched_keys.prompt_fingerprint from touched_keys)
{%- else -%}
    select
        null::varchar as decision,
        null::varchar as decided,
        null::date as day,
        null::varchar as outcome
    from touched_keys
    where false
{%- endif %}
