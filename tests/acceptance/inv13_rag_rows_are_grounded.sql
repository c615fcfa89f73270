-- Invariant 13: every RAG row is grounded: its provenance resolves to existing evidence.
-- depends_on: {{ ref('export_rag') }}

with rag as (
    select
        id,
        provenance['evidence_ids'] as evidence_ids
    from {{ export_rows('export_rag') }}
),

cited as (
    select
        id,
        unnest(evidence_ids) as evidence_id
    from rag
),

ungrounded as (
    select
        id,
        null as evidence_id
    from rag
    where len(evidence_ids) = 0

    union all

    select
        cited.id,
        cited.evidence_id
    from cited
    left join {{ ref('evidence') }} as evidence
        on cited.evidence_id = evidence.evidence_id
    where evidence.evidence_id is null
)

select * from ungrounded
