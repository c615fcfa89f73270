-- The days whose parts a delta run writes, per output (docs/design.md, "Incremental runs"):
-- evidence, the days of its new rows; scored runs, the days the touched runs were in and are
-- in now; the exports, the days of the touched candidates before and after, of every candidate
-- that shares a text or a prompt with one (a duplicate or a pair can change with it), of every
-- line that shares a stream and sig_hash with a new one, and of the new bad lines. The parts
-- of every other day are carried unchanged into the new generation. Empty on a full build,
-- which writes every day. Its post-hooks write the evidence and scored-runs partitions.

with new_evidence as (
    select * from {{ ref('int_new_evidence') }}
),

touched_runs as (
    select * from {{ ref('int_touched_runs') }}
),

touched_playbooks as (
    select * from {{ ref('int_touched_playbooks') }}
),

scored_before as (
    select * from {{ ref('int_scored_runs_before') }}
),

scored_runs as (
    select
        run_id,
        recorded_at
    from {{ ref('scored_runs') }}
),

candidates_before as (
    select * from {{ ref('int_export_candidates_before') }}
),

candidates as (
    select
        candidate_kind,
        candidate_id,
        playbook_id,
        day,
        text_key,
        prompt_fingerprint
    from {{ ref('int_export_candidates') }}
),

evidence as (
    select
        stream,
        sig_hash,
        recorded_at
    from {{ ref('evidence') }}
),

new_lines as (
    select
        source_file,
        line_offset
    from {{ ref('stg_source_records') }}
    where read_seq = {{ delta_seq() }} and byte_offset is not null
),

new_bad_lines as (
    select bad_lines.* from {{ ref('int_bad_lines') }} as bad_lines
    semi join new_lines
        on bad_lines.source_file = new_lines.source_file and bad_lines.line_offset = new_lines.line_offset
),

touched_groups as (
    select distinct
        stream,
        sig_hash
    from new_evidence
),

touched_candidates as (
    select
        day,
        text_key,
        prompt_fingerprint
    from candidates
    where
        (candidate_kind = 'run' and candidate_id in (select touched_runs.run_id from touched_runs))
        or (
            candidate_kind = 'playbook'
            and playbook_id in (select touched_playbooks.playbook_id from touched_playbooks)
        )
    union all
    select
        day,
        text_key,
        prompt_fingerprint
    from candidates_before
),

evidence_days as (
    select distinct recorded_at::date as day from new_evidence
),

scored_days as (
    select scored_day as day from scored_before
    union
    select scored_runs.recorded_at::date as day from scored_runs
    semi join touched_runs
        on scored_runs.run_id = touched_runs.run_id
),

export_days as (
    select day from touched_candidates
    union
    select candidates.day from candidates
    semi join touched_candidates
        on candidates.text_key = touched_candidates.text_key
    union
    select candidates.day from candidates
    semi join touched_candidates
        on candidates.prompt_fingerprint = touched_candidates.prompt_fingerprint
    union
    select evidence.recorded_at::date as day from evidence
    semi join touched_groups
        on evidence.stream = touched_groups.stream and evidence.sig_hash = touched_groups.sig_hash
    union
    select day from new_bad_lines
),

final as (
    select
        'evidence' as output,
        day
    from evidence_days
    union all
    select
        'scored_runs' as output,
        day
    from scored_days
    union all
    select
        'exports' as output,
        day
    from export_days
)

select distinct
    output,
    day
from final
where
    day is not null
    {%- if not in_delta() %}
        -- a full build writes every day: nothing is carried
        and false
    {%- endif %}
