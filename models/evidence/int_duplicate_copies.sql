-- The second and later copies of a source line (same stream and sig_hash; the first copy by
-- source file and line is kept). Computed once, over the narrow columns only: scoring leaves
-- these rows out, and the quarantine holds them back as duplicate.

with copies as (
    select
        evidence_id,
        run_id,
        stream,
        source_file,
        line_offset,
        recorded_at,
        {{ is_duplicate_copy() }} as is_duplicate_copy
    from {{ ref('evidence') }}
)

select
    evidence_id,
    run_id,
    stream,
    source_file,
    line_offset,
    recorded_at
from copies
where is_duplicate_copy
