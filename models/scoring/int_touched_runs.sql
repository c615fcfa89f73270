-- The runs this run must score again (docs/design.md, "Incremental runs"): the runs of the
-- new evidence, and of every line with the same stream and sig_hash as a new one (a new copy
-- can change which line is the first); an escalation row as its two runs. On a full build
-- the new evidence is all of it, and so every run. Scoring works on these runs only.

with new_evidence as (
    select * from {{ ref('int_new_evidence') }}
),

touched_groups as (
    select distinct
        stream,
        sig_hash
    from new_evidence
),

touched_evidence as (
    {%- if in_delta() %}
        select evidence.* from {{ ref('evidence') }} as evidence
        semi join touched_groups
            on evidence.stream = touched_groups.stream and evidence.sig_hash = touched_groups.sig_hash
    {%- else %}
        select * from {{ ref('evidence') }}
    {%- endif %}
),

attempts as (
    select unnest(['local', 'cloud']) as attempt
),

run_ids as (
    select run_id from touched_evidence
    where run_id is not null and stream not in ('escalations', 'replay_runs', 'playbooks')
    union all
    select (touched_evidence.signals ->> 'escalation_id') || ':' || attempts.attempt as run_id
    from touched_evidence
    cross join attempts
    where touched_evidence.stream = 'escalations'
)

select distinct run_id from run_ids
