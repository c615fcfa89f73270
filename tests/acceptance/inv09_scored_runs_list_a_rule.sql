-- Invariant 9: every scored run lists at least one fired rule.

select
    run_id,
    reasons
from {{ ref('scored_runs') }}
where reasons is null or len(reasons) = 0
