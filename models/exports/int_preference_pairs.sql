-- The preference pairs, on keys: for runs sharing a prompt fingerprint, accepted (chosen) over
-- rejected (rejected). No self-pairs, no identical texts (equal normalised responses), and a
-- deterministic choice of at most var preference_pairs_per_prompt pairs per prompt. Pairs are
-- formed among the first cap + 1 runs of each side (by a hash of the run id), so the work per
-- prompt is bounded however many runs share it; cap + 1 per side always leaves cap pairs with
-- different texts where the whole of each side would. A pair's day is the later of its runs'.
-- Incremental (docs/design.md, "Incremental runs"): a delta run forms again only the pairs of
-- the prompts a touched candidate answers or answered (int_touched_keys: every candidate whose
-- gate changed shares one of them); the pre-hook (in the YAML) first deletes their pairs.
-- depends_on: {{ ref('int_export_decisions_before') }}
-- depends_on: {{ ref('int_touched_keys') }}

{%- set per_side = var('preference_pairs_per_prompt') + 1 %}

with candidates as (
    select * from {{ ref('int_export_gates') }}
    where
        quarantine_reason is null and {{ admitted_to('export_preference') }}
        {%- if in_delta() %}
            and {{ is_touched_text('prompt_fingerprint') }}
        {%- endif %}
),

sides as (
    -- the first runs of each side of each prompt, in a stable, spread-out order
    select * from candidates
    qualify row_number() over (
            partition by prompt_fingerprint, category
            order by id_hash
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
        chosen.candidate_id as chosen_run_id,
        rejected.candidate_id as rejected_run_id,
        greatest(chosen.day, rejected.day) as day
    from chosen
    inner join rejected
        on chosen.prompt_fingerprint = rejected.prompt_fingerprint
    where
        chosen.candidate_id != rejected.candidate_id
        and chosen.body_key != rejected.body_key
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
        prompt_fingerprint,
        chosen_run_id,
        rejected_run_id,
        day
    from capped
)

select * from final
