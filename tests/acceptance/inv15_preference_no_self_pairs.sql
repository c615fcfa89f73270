-- Invariant 15: preference has no self-pairs.
-- depends_on: {{ ref('export_preference') }}

select
    id,
    chosen_run_id,
    rejected_run_id
from {{ export_rows('export_preference') }}
where chosen_run_id = rejected_run_id
