-- Invariant 7: every category is one of the four.

select
    run_id,
    category
from {{ ref('scored_runs') }}
where
    category is null
    or category not in ('accepted', 'partially_accepted', 'rejected', 'needs_human_review')
