-- The RAG corpus (RagSample, SPEC §7): approved playbooks, and runs scored accepted or
-- partially_accepted with a non-empty response. Never rejected or needs_human_review runs.

with candidates as (
    select * from {{ ref('int_export_gates') }}
    where quarantine_reason is null
),

grounded as (
    select * from candidates
    where
        candidate_kind = 'playbook'
        or category in ('accepted', 'partially_accepted')
),

final as (
    select
        {{ make_id('rag', ['candidate_kind', 'candidate_id']) }} as id,
        left(title, 200) as title,
        body as text,
        candidate_kind as source_kind,
        category,
        list_filter([candidate_kind, category], lambda tag: tag is not null) as tags,
        provenance,
        day
    from grounded
)

select * from final
