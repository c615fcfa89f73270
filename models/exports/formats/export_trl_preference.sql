-- The preference corpus in TRL's conversational preference format: prompt, chosen and rejected
-- as message lists. The same rows as export_preference; written to
-- exports/trl/chosen_rejected_conversational/<day>.jsonl with --format trl-conversational.
-- depends_on: {{ ref('int_touched_days') }}

with preference as (
    select * from {{ ref('export_preference') }}
    where {{ format_keeps('trl-conversational') }}
),

final as (
    select
        id as preference_id,
        day,
        [{ 'role': 'user', 'content': prompt }] as prompt,
        [{ 'role': 'assistant', 'content': chosen }] as chosen,
        [{ 'role': 'assistant', 'content': rejected }] as rejected
    from preference
)

-- stored a day at a time, so each day part's COPY reads only that day's row groups
select * from final
order by day, preference_id
