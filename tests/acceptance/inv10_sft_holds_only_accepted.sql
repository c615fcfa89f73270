-- Invariant 10: the SFT file holds no rejected or needs_human_review row. Strict mode (the
-- default) admits accepted only; with include_partial, partially_accepted too. The row's own
-- quality_score is checked, and so is the category of every run it leads to; a row that leads
-- to no run fails too (it cannot be shown to be accepted).
-- depends_on: {{ ref('export_sft') }}

with sft as (
    select * from {{ export_rows('export_sft') }}
),

scored_runs as (
    select * from {{ ref('scored_runs') }}
),

sft_runs as (
    select
        id,
        unnest(provenance['run_ids']) as run_id
    from sft
),

checked as (
    select
        sft.id,
        sft.quality_score,
        sft_runs.run_id,
        scored_runs.category
    from sft
    left join sft_runs
        on sft.id = sft_runs.id
    left join scored_runs
        on sft_runs.run_id = scored_runs.run_id
)

select * from checked
where
    quality_score is null
    or quality_score not in {{ sft_categories() }}
    or category is null
    or category not in {{ sft_categories() }}
