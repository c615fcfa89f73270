-- The preference corpus in TRL's conversational preference format: prompt, chosen and rejected
-- as message lists. The same rows as export_preference; written to
-- exports/trl/chosen_rejected_conversational/<day>.jsonl with --format trl-conversational.

with preference as (
    select * from {{ ref('export_preference') }}
),

final as (
    select
        id as preference_id,
        [{ 'role': 'user', 'content': prompt }] as prompt,
        [{ 'role': 'assistant', 'content': chosen }] as chosen,
        [{ 'role': 'assistant', 'content': rejected }] as rejected,
        day
    from preference
)

select * from final
