-- Invariant 20: every quarantine row has a reason from the fixed set (docs/concepts.md, "Gates and quarantine").
-- depends_on: {{ ref('quarantine') }}

select
    id,
    reason
from {{ export_rows('quarantine') }}
where
    reason is null
    or reason not in (
        'malformed_json', 'schema_invalid', 'missing_required', 'empty_text', 'oversize',
        'secret_detected', 'duplicate', 'orphan_reference'
    )
