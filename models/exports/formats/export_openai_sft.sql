-- The SFT corpus in OpenAI's supervised fine-tuning chat format: {"messages": [...]} per line.
-- The same rows as export_sft; written to exports/openai/sft/<day>.jsonl with --format openai.
-- depends_on: {{ ref('int_touched_days') }}

with sft as (
    select * from {{ ref('export_sft') }}
    where {{ format_keeps('openai') }}
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
