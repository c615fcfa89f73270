-- Invariant 2: evidence ids are unique. Returns every id that appears more than once.

select
    evidence_id,
    count(*) as n_rows
from {{ ref('evidence') }}
group by evidence_id
having count(*) > 1
