-- The SFT corpus (SftSample): accepted runs only (with var include_partial, also
-- partially_accepted), each once, as instruction/response and as TRL chat messages.
-- On a delta run, the rows of the touched days only (the pre-hook deletes those days).

with touched_days as (
    select * from {{ ref('int_touched_days') }}
    where output = 'rows'
),

passed as (
    select * from {{ ref('int_export_gates') }}
    where
        quarantine_reason is null and candidate_kind = 'run'
        {%- if in_delta() %}
            and day in (select touched_days.day from touched_days)
        {%- endif %}
),

candidates as (
    select * from {{ ref('int_export_candidates') }}
    where
        candidate_kind = 'run'
        {%- if in_delta() %}
            -- a candidate's day is its gate's: DuckDB can then skip the other days' texts
            and day in (select touched_days.day from touched_days)
        {%- endif %}
),

admitted as (
    select candidates.* from candidates
    semi join passed
        on candidates.candidate_id = passed.candidate_id
    where
        {{ admitted_to('export_sft', 'candidates') }}
        -- SFT firewall, layer 2: these categories never pass, whatever the line above says
        and candidates.category not in {{ sft_never() }}
),

final as (
    select
        {{ make_id('sft', ['candidate_id']) }} as id,
        instruction,
        body as response,
        [
            { 'role': 'user', 'content': instruction },
            { 'role': 'assistant', 'content': body }
        ] as messages,
        category as quality_score,
        model,
        provenance,
        day
    from admitted
)

-- stored a day at a time, so each day part's COPY reads only that day's row groups
select * from final
order by day, id
