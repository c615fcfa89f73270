-- Invariant 10: the SFT file holds no rejected or needs_human_review row. Strict mode (the
-- default) admits accepted only; with include_partial, partially_accepted too. Both the row's
-- quality_score and its run's category are checked.
-- depends_on: {{ ref('export_sft') }}

with sft as (
    select * from {{ export_rows('export_sft') }}
),

sft_runs as (
    select
        sft.id,
        sft.quality_score,
        unnest(sft.provenance['run_ids']) as run_id
    from sft
),

checked as (
    select
        sft_runs.id,
        sft_runs.quality_score,
        sft_runs.run_id,
        scored_runs.category
    from sft_runs
    left join {{ ref('scored_runs') }} as scored_runs
        on sft_runs.run_id = scored_runs.run_id
)

select * from checked
where
    quality_score not in {{ sft_categories() }}
    or category is null
    or category not in {{ sft_categories() }}
