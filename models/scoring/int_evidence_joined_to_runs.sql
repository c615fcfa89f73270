-- The evidence of every run, one row per (run, evidence row): run streams as they are, each
-- escalation split into its two runs (<escalation_id>:local and :cloud, docs/concepts.md, "Runs"), and second
-- copies of a duplicated source line left out (they are quarantined as duplicate). On a delta
-- run, the touched runs only (int_touched_runs): everything after it scores those runs. Both
-- kinds of rows read `evidence`, which DuckDB therefore materialises: on a delta run it is
-- picked down to the touched runs' rows first (at ten million lines, materialising all of it
-- took 40 s of a next-day run).

with touched_runs as (
    select * from {{ ref('int_touched_runs') }}
),

escalations as (
    select * from {{ ref('stg_escalations') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and (
                escalation_id || ':local' in (select touched_runs.run_id from touched_runs)
                or escalation_id || ':cloud' in (select touched_runs.run_id from touched_runs)
            )
        {%- endif %}
),

evidence as (
    -- second copies of a line are left out
    select deduplicated.* from {{ ref('int_evidence_deduplicated') }} as deduplicated
    {%- if in_delta() %}
        where
            deduplicated.run_id in (select touched_runs.run_id from touched_runs)
            or exists (
                select 1 from escalations
                where
                    escalations.source_file = deduplicated.source_file
                    and escalations.line_offset = deduplicated.line_offset
            )
    {%- endif %}
),

run_rows as (
    select
        run_id,
        evidence_id,
        stream,
        recorded_at,
        source_file,
        line_offset,
        model,
        instruction,
        response,
        signals
    from evidence
    where
        run_id is not null
        and stream not in ('escalations', 'replay_runs', 'playbooks')
        {%- if in_delta() %}
            and run_id in (select touched_runs.run_id from touched_runs)
        {%- endif %}
),

escalation_attempts as (
    select
        evidence.evidence_id,
        evidence.recorded_at,
        evidence.source_file,
        evidence.line_offset,
        escalations.escalation_id,
        escalations.task,
        unnest([
            {
                'attempt': 'local',
                'model': escalations.local_model,
                'output': escalations.local_output,
                'passed': escalations.local_passed
            },
            {
                'attempt': 'cloud',
                'model': escalations.cloud_model,
                'output': escalations.cloud_output,
                'passed': escalations.cloud_passed
            }
        ]) as attempt
    from evidence
    inner join escalations
        on
            evidence.source_file = escalations.source_file
            and evidence.line_offset = escalations.line_offset
),

escalation_rows as (
    select
        escalation_id || ':' || attempt['attempt'] as run_id,
        evidence_id,
        'escalations' as stream,
        recorded_at,
        source_file,
        line_offset,
        attempt['model'] as model,
        task as instruction,
        attempt['output'] as response,
        json_object('attempt', attempt['attempt'], 'attempt_passed', attempt['passed']) as signals
    from escalation_attempts
    {%- if in_delta() %}
        where escalation_id || ':' || attempt['attempt'] in (select touched_runs.run_id from touched_runs)
    {%- endif %}
),

final as (
    select
        *,
        -- whether the row has each text, so that picking a run's latest rows reads no text
        instruction is not null as has_instruction,
        response is not null as has_response,
        -- where the row is in this table: int_signals_reduced points at texts with it
        row_number() over () as row_ptr
    from (
        select * from run_rows
        union all
        select * from escalation_rows
    ) as run_and_escalation_rows
)

select * from final
