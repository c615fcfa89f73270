-- Invariant 8: every scored fixture run gets its expected category, and every export its
-- expected row count (seeds/fixture/). Only meaningful on the acceptance fixture, so only enabled
-- there. A missing run is invariant 6's to report, a category outside the four invariant 7's.
{{ config(enabled=var('acceptance_fixture', false)) }}

with scored as (
    select
        run_id,
        category
    from {{ ref('scored_runs') }}
    where category in ('accepted', 'partially_accepted', 'rejected', 'needs_human_review')
),

expected_categories as (
    select
        run_id,
        expected_category
    from {{ ref('acceptance_expected_categories') }}
),

category_mismatches as (
    select
        scored.run_id as subject,
        scored.category as actual,
        coalesce(expected_categories.expected_category, 'not expected') as expected
    from scored
    left join expected_categories
        on scored.run_id = expected_categories.run_id
    where scored.category is distinct from expected_categories.expected_category
),

export_counts as (
    select
        'export_rag' as subject,
        count(*) as actual
    from {{ ref('export_rag') }}
    union all
    select
        'export_sft' as subject,
        count(*) as actual
    from {{ ref('export_sft') }}
    union all
    select
        'export_preference' as subject,
        count(*) as actual
    from {{ ref('export_preference') }}
    union all
    select
        'quarantine' as subject,
        count(*) as actual
    from {{ ref('quarantine') }}
),

count_mismatches as (
    select
        expected_counts.export_name as subject,
        coalesce(export_counts.actual, 0)::varchar as actual,
        expected_counts.expected_rows::varchar as expected
    from {{ ref('acceptance_expected_counts') }} as expected_counts
    left join export_counts
        on expected_counts.export_name = export_counts.subject
    where coalesce(export_counts.actual, 0) != expected_counts.expected_rows
)

select * from category_mismatches
union all
select * from count_mismatches
