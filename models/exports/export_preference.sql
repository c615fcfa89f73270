-- The preference corpus (PreferenceSample, SPEC §7): for runs sharing a prompt fingerprint,
-- accepted (chosen) over rejected (rejected). No self-pairs, no identical texts, a deterministic
-- choice of at most var preference_pairs_per_prompt pairs per prompt.
-- Pairs are formed among the first cap + 1 runs of each side (by a hash of the run id), so the
-- work per prompt is bounded however many runs share it; cap + 1 per side always leaves cap
-- pairs with different texts where the whole of each side would.

{%- set per_side = var('preference_pairs_per_prompt') + 1 %}

with candidates as (
    select
        *,
        {{ prompt_fingerprint('instruction') }} as prompt_fingerprint,
        {{ normalize_text('body') }} as normalized_body
    from {{ ref('int_export_gates') }}
    where quarantine_reason is null and candidate_kind = 'run' and category in ('accepted', 'rejected')
),

sides as (
    -- the first runs of each side of each prompt, in a stable, spread-out order
    select * from candidates
    qualify row_number() over (
            partition by prompt_fingerprint, category
            order by sha256(candidate_id)
        ) <= {{ per_side }}
),

chosen as (
    select * from sides
    where category = 'accepted'
),

rejected as (
    select * from sides
    where category = 'rejected'
),

pairs as (
    select
        chosen.prompt_fingerprint,
        chosen.instruction as prompt,
        chosen.body as chosen,
        rejected.body as rejected,
        chosen.candidate_id as chosen_run_id,
        rejected.candidate_id as rejected_run_id,
        chosen.provenance as chosen_provenance,
        rejected.provenance as rejected_provenance,
        -- a pair belongs to the later of its two runs' days
        greatest(chosen.day, rejected.day) as day
    from chosen
    inner join rejected
        on chosen.prompt_fingerprint = rejected.prompt_fingerprint
    where
        chosen.candidate_id != rejected.candidate_id
        and chosen.normalized_body != rejected.normalized_body
),

capped as (
    -- a stable, spread-out choice: order pairs by a hash of their two run ids
    select * from pairs
    qualify row_number() over (
            partition by prompt_fingerprint
            order by sha256(chosen_run_id || chr(31) || rejected_run_id)
        ) <= {{ var('preference_pairs_per_prompt') }}
),

final as (
    select
        {{ make_id('pref', ['chosen_run_id', 'rejected_run_id']) }} as id,
        prompt,
        chosen,
        rejected,
        chosen_run_id,
        rejected_run_id,
        {
            'run_ids': [chosen_run_id, rejected_run_id],
            'evidence_ids': list_concat(chosen_provenance['evidence_ids'], rejected_provenance['evidence_ids']),
            'source_lines': list_concat(chosen_provenance['source_lines'], rejected_provenance['source_lines'])
        } as provenance,
        day
    from capped
)

select * from final
