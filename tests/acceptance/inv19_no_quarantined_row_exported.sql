-- Invariant 19: no quarantined row appears in any export. A quarantine row with run_ids holds
-- those runs; one without holds its evidence lines.
-- depends_on: {{ ref('export_rag') }}
-- depends_on: {{ ref('export_sft') }}
-- depends_on: {{ ref('export_preference') }}
-- depends_on: {{ ref('quarantine') }}

with quarantined as (
    select * from {{ export_rows('quarantine') }}
),

held as (
    select unnest(provenance['run_ids']) as held_id
    from quarantined
    union all
    select unnest(provenance['evidence_ids']) as held_id
    from quarantined
    where len(provenance['run_ids']) = 0
),

exported as (
    select
        'export_rag' as export_name,
        id,
        provenance
    from {{ export_rows('export_rag') }}
    union all
    select
        'export_sft' as export_name,
        id,
        provenance
    from {{ export_rows('export_sft') }}
    union all
    select
        'export_preference' as export_name,
        id,
        provenance
    from {{ export_rows('export_preference') }}
),

exported_ids as (
    select
        export_name,
        id,
        unnest(list_concat(provenance['run_ids'], provenance['evidence_ids'])) as held_id
    from exported
)

select
    export_name,
    id,
    held_id
from exported_ids
where held_id in (select held.held_id from held)
