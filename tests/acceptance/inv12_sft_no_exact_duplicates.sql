-- Invariant 12: SFT has no exact duplicates (same normalised instruction and response). Rows
-- are grouped by the sha256 of their normalised texts, not by the texts themselves, so the
-- groups stay small at any size (the texts held in a hash table failed a 1 GB memory limit
-- at ten million lines).
-- depends_on: {{ ref('export_sft') }}

with sft as (
    select
        id,
        sha256({{ normalize_text('instruction') }} || chr(31) || {{ normalize_text('response') }}) as text_key
    from {{ export_rows('export_sft') }}
)

select
    text_key,
    list(id order by id) as ids
from sft
group by text_key
having count(*) > 1
