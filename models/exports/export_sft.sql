-- The SFT corpus (SftSample, SPEC §7): accepted runs only (with var include_partial, also
-- partially_accepted), each once, as instruction/response and as TRL chat messages.

with candidates as (
    select * from {{ ref('int_export_gates') }}
    where quarantine_reason is null and candidate_kind = 'run'
),

admitted as (
    select * from candidates
    where
        category in {{ sft_categories() }}
        -- SFT firewall, layer 2: these categories never pass, whatever the line above says
        and category not in {{ sft_never() }}
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

select * from final
