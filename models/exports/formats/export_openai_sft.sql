-- The SFT corpus in OpenAI's supervised fine-tuning chat format: {"messages": [...]} per line.
-- The same rows as export_sft; written to exports/openai/sft/<day>.jsonl with --format openai.

with sft as (
    select * from {{ ref('export_sft') }}
),

final as (
    select
        id as sft_id,
        messages,
        day
    from sft
)

select * from final
