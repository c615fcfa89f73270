-- Invariant 3: every evidence row has source_file, line_offset, sig_hash and recorded_at.

select
    evidence_id,
    source_file,
    line_offset,
    sig_hash,
    recorded_at
from {{ ref('evidence') }}
where
    source_file is null
    or line_offset is null
    or sig_hash is null
    or recorded_at is null
