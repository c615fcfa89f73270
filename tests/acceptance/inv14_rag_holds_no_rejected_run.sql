-- Invariant 14: RAG holds no rejected or needs_human_review run.
-- depends_on: {{ ref('export_rag') }}

with rag_runs as (
    select
        id,
        unnest(provenance['run_ids']) as run_id
    from {{ export_rows('export_rag') }}
)

select
    rag_runs.id,
    rag_runs.run_id,
    scored_runs.category
from rag_runs
left join {{ ref('scored_runs') }} as scored_runs
    on rag_runs.run_id = scored_runs.run_id
where scored_runs.category is null or scored_runs.category in ('rejected', 'needs_human_review')
