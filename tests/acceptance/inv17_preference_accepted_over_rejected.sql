-- Invariant 17: every preference pair is an accepted run (chosen) over a rejected run
-- (rejected) on the same prompt fingerprint. Self-pairs are invariant 15's to report.
-- depends_on: {{ ref('export_preference') }}

with pairs as (
    select * from {{ export_rows('export_preference') }}
    where chosen_run_id != rejected_run_id
),

scored_runs as (
    select * from {{ ref('scored_runs') }}
),

checked as (
    select
        pairs.id,
        chosen.category as chosen_category,
        rejected.category as rejected_category,
        {{ prompt_fingerprint('chosen.instruction') }} as chosen_fingerprint,
        {{ prompt_fingerprint('rejected.instruction') }} as rejected_fingerprint,
        {{ prompt_fingerprint('pairs.prompt') }} as prompt_fingerprint
    from pairs
    left join scored_runs as chosen
        on pairs.chosen_run_id = chosen.run_id
    left join scored_runs as rejected
        on pairs.rejected_run_id = rejected.run_id
)

select * from checked
where
    chosen_category is distinct from 'accepted'
    or rejected_category is distinct from 'rejected'
    or chosen_fingerprint is distinct from rejected_fingerprint
    or prompt_fingerprint is distinct from chosen_fingerprint
