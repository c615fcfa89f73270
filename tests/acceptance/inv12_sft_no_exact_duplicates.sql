-- Invariant 12: SFT has no exact duplicates (same normalised instruction and response).
-- depends_on: {{ ref('export_sft') }}

select
    {{ normalize_text('instruction') }} as normalized_instruction,
    {{ normalize_text('response') }} as normalized_response,
    list(id order by id) as ids
from {{ export_rows('export_sft') }}
group by all
having count(*) > 1
