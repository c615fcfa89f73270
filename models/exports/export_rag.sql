-- The RAG corpus (RagSample): approved playbooks, and runs scored accepted or
-- partially_accepted with a non-empty response. Never rejected or needs_human_review runs.
-- On a delta run, the rows of the touched days only (the pre-hook deletes those days).

with touched_days as (
    select * from {{ ref('int_touched_days') }}
    where output = 'rows'
),

passed as (
    select * from {{ ref('int_export_gates') }}
    where
        quarantine_reason is null
        {%- if in_delta() %}
            and day in (select touched_days.day from touched_days)
        {%- endif %}
),

candidates as (
    select * from {{ ref('int_export_candidates') }}
    {%- if in_delta() %}
        -- a candidate's day is its gate's: DuckDB can then skip the other days' texts
        where day in (select touched_days.day from touched_days)
    {%- endif %}
),

grounded as (
    select candidates.* from candidates
    semi join passed
        on candidates.candidate_kind = passed.candidate_kind and candidates.candidate_id = passed.candidate_id
    where {{ admitted_to('export_rag', 'candidates') }}
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

-- stored a day at a time, so each day part's COPY reads only that day's row groups
select * from final
order by day, id
