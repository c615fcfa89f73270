-- Invariant 11: SFT instructions and responses are non-empty (and so are their chat messages).
-- depends_on: {{ ref('export_sft') }}

select
    id,
    instruction,
    response
from {{ export_rows('export_sft') }}
where
    coalesce(trim(instruction), '') = ''
    or coalesce(trim(response), '') = ''
    or len(messages) != 2
    or coalesce(trim(messages[1]['content']), '') = ''
    or coalesce(trim(messages[2]['content']), '') = ''
