-- The preference corpus in OpenAI's preference fine-tuning format: the prompt as input
-- messages, the chosen and rejected answers as one assistant message each. The same rows as
-- export_preference; written to exports/openai/dpo/<day>.jsonl with --format openai.
-- depends_on: {{ ref('int_touched_days') }}

with preference as (
    select * from {{ ref('export_preference') }}
    where {{ format_keeps('openai') }}
),

final as (
    select
        id as preference_id,
        day,
        { 'messages': [{ 'role': 'user', 'content': prompt }] } as input,
        [{ 'role': 'assistant', 'content': chosen }] as preferred_output,
        [{ 'role': 'assistant', 'content': rejected }] as non_preferred_output
    from preference
)

-- stored a day at a time, so each day part's COPY reads only that day's row groups
select * from final
order by day, preference_id
