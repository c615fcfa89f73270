-- Invariant 16: preference has no identical chosen/rejected texts (after normalisation).
-- depends_on: {{ ref('export_preference') }}

select
    id,
    chosen,
    rejected
from {{ export_rows('export_preference') }}
where {{ normalize_text('chosen') }} = {{ normalize_text('rejected') }}
