-- The preference corpus (PreferenceSample): accepted (chosen) over rejected (rejected) runs on
-- the same prompt fingerprint, as int_preference_pairs chose them, with their texts.
-- On a delta run, the pairs of the touched days only (the pre-hook deletes those days).

with touched_days as (
    select * from {{ ref('int_touched_days') }}
    where output = 'pairs'
),

pairs as (
    select * from {{ ref('int_preference_pairs') }}
    {%- if in_delta() %}
        where day in (select touched_days.day from touched_days)
    {%- endif %}
),

candidates as (
    -- the runs of these pairs only, and only what a pair row takes from them: the two joins
    -- below read this twice, so DuckDB materialises it (every run's texts, at ten million lines
    -- half a minute of a next-day run)
    select
        candidate_id,
        instruction,
        body,
        provenance
    from {{ ref('int_export_candidates') }}
    where
        candidate_kind = 'run'
        and (
            candidate_id in (select pairs.chosen_run_id from pairs)
            or candidate_id in (select pairs.rejected_run_id from pairs)
        )
),

final as (
    select
        pairs.id,
        chosen.instruction as prompt,
        chosen.body as chosen,
        rejected.body as rejected,
        pairs.chosen_run_id,
        pairs.rejected_run_id,
        pairs.day,
        {
            'run_ids': [pairs.chosen_run_id, pairs.rejected_run_id],
            'evidence_ids': list_concat(chosen.provenance['evidence_ids'], rejected.provenance['evidence_ids']),
            'source_lines': list_concat(chosen.provenance['source_lines'], rejected.provenance['source_lines'])
        } as provenance
    from pairs
    inner join candidates as chosen
        on pairs.chosen_run_id = chosen.candidate_id
    inner join candidates as rejected
        on pairs.rejected_run_id = rejected.candidate_id
)

-- stored a day at a time, so each day part's COPY reads only that day's row groups
select * from final
order by day, id
