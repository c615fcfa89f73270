-- The days whose parts a delta run writes, per output (docs/design.md, "Incremental runs"):
-- evidence, the days of its new rows; scored runs, the days the touched runs were in and are
-- in now; the rows of rag, sft and quarantine, the days of the touched candidates before and
-- after, of every gate decided otherwise than by the last run (in the texts a touched candidate
-- has), of every line that shares a stream and sig_hash with a new one, and of the new bad
-- lines; the preference pairs, the days of every pair chosen otherwise than by the last run (in
-- the prompts a touched candidate answers) and of every pair of a touched run. The parts
-- of every other day are carried unchanged into the new generation. Empty on a full build,
-- which writes every day.

with new_evidence as (
    select * from {{ ref('int_new_evidence') }}
),

touched_runs as (
    select * from {{ ref('int_touched_runs') }}
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

evidence as (
    select
        stream,
        sig_hash,
        recorded_at
    from {{ ref('evidence') }}
),

new_lines as (
    {{ lines_read_now() }}
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

touched_keys as (
    select * from {{ ref('int_touched_keys') }}
),

decisions_before as (
    select * from {{ ref('int_export_decisions_before') }}
),

decisions_now as (
    -- the same decisions as made this run, for the same groups
    select
        'gate' as decision,
        gates.candidate_kind || ':' || gates.candidate_id as decided,
        gates.day,
        coalesce(gates.quarantine_reason, 'passed') as outcome
    from {{ ref('int_export_gates') }} as gates
    where gates.text_key in (select touched_keys.text_key from touched_keys)
    union all
    select
        'pair' as decision,
        pairs.id as decided,
        pairs.day,
        pairs.chosen_run_id || ' over ' || pairs.rejected_run_id as outcome
    from {{ ref('int_preference_pairs') }} as pairs
    where pairs.prompt_fingerprint in (select touched_keys.prompt_fingerprint from touched_keys)
),

changed_decisions as (
    (
        select * from decisions_before
        except
        select * from decisions_now
    )
    union all
    (
        select * from decisions_now
        except
        select * from decisions_before
    )
),

pairs_of_touched_runs as (
    -- a pair whose run changed changes its row, whether or not the pair itself did
    select pairs.day from {{ ref('int_preference_pairs') }} as pairs
    where
        pairs.chosen_run_id in (select touched_runs.run_id from touched_runs)
        or pairs.rejected_run_id in (select touched_runs.run_id from touched_runs)
    union all
    select decisions_before.day from decisions_before
    where
        decisions_before.decision = 'pair'
        and (
            split_part(decisions_before.outcome, ' over ', 1) in (select touched_runs.run_id from touched_runs)
            or split_part(decisions_before.outcome, ' over ', 2) in (select touched_runs.run_id from touched_runs)
        )
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

pair_days as (
    -- pairs chosen otherwise than before, and every pair of a touched run
    select day from changed_decisions
    where decision = 'pair'
    union
    select day from pairs_of_touched_runs
),

row_days as (
    -- the touched candidates' own rows (rag, sft, quarantine), before and after
    select day from touched_keys
    union
    -- candidates whose duplicate gate was decided otherwise than before
    select day from changed_decisions
    where decision = 'gate'
    union
    -- duplicate lines: every line sharing a stream and sig_hash with a new one
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
        'rows' as output,
        day
    from row_days
    union all
    select
        'pairs' as output,
        day
    from pair_days
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
