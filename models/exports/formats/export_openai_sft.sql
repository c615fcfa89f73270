-- The SFT corpus in OpenAI's supervised fine-tuning chat format: {"messages": [...]} per line.
-- The same rows as export_sft; written to exports/openai/sft/<day>.jsonl with --format openai.
-- depends_on: {{ ref('int_touched_days') }}

with sft as (
    select * from {{ ref('export_sft') }}
    {%- if not format_asked('openai') %}
        -- not asked for: no rows to keep
        where false
    {%- elif in_delta() %}
        -- a delta run: the rows of the touched days only (the pre-hook deletes those days)
        where day in (
                select touched_days.day from {{ ref('int_touched_days') }} as touched_days
                where touched_days.output = 'rows'
            )
    {%- endif %}
),

final as (
    select
        id as sft_id,
        messages,
        day
    from sft
)

-- stored a day at a time, so each day part's COPY reads only that day's row groups
select * from final
order by day, sft_id
