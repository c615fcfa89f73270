-- The texts and prompts of the touched candidates, as they were and as they are: the groups in
-- which a duplicate or a preference pair can change this run, and the days those candidates
-- were and are in.

with touched_runs as (
    select * from {{ ref('int_touched_runs') }}
),

touched_playbooks as (
    select * from {{ ref('int_touched_playbooks') }}
),

candidates as (
    select * from {{ ref('int_export_candidates') }}
),

final as (
    select
        day,
        text_key,
        prompt_fingerprint
    from candidates
    where
        (candidate_kind = 'run' and candidate_id in (select touched_runs.run_id from touched_runs))
        or (
            candidate_kind = 'playbook'
            and playbook_id in (select touched_playbooks.playbook_id from touched_playbooks)
        )
    union all
    select
        day,
        text_key,
        prompt_fingerprint
    from {{ ref('int_export_candidates_before') }}
)

select * from final
