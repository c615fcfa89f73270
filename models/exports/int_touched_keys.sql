-- The texts and prompts of the touched candidates, as they were and as they are: the groups in
-- which a duplicate or a preference pair can change this run, and the days those candidates
-- were and are in.

with candidates as (
    select * from {{ ref('int_export_candidates') }}
),

final as (
    select
        day,
        text_key,
        prompt_fingerprint
    from candidates
    where {{ is_touched_candidate() }}
    union all
    select
        day,
        text_key,
        prompt_fingerprint
    from {{ ref('int_export_candidates_before') }}
)

select * from final
