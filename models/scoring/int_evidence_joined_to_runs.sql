-- The evidence of every run, one row per (run, evidence row): run streams as they are, each
-- escalation split into its two runs (<escalation_id>:local and :cloud, docs/concepts.md, "Runs"), and second
-- copies of a duplicated source line left out (they are quarantined as duplicate). On a delta
-- run, the touched runs only (int_touched_runs): everything after it scores those runs.
-- Each kind of row reads `evidence` by itself, with its own filters: a relation of evidence
-- rows that both read would be materialised by DuckDB, texts and all (at ten million lines,
-- 40 s of a next-day run and 90 s of a full one).

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

run_rows as (
    select
        evidence.run_id,
        evidence.evidence_id,
        evidence.stream,
        evidence.recorded_at,
        evidence.source_file,
        evidence.line_offset,
        evidence.model,
        evidence.instruction,
        evidence.response,
        evidence.signals
    from {{ ref('evidence') }} as evidence
    where
        evidence.run_id is not null
        and evidence.stream not in ('escalations', 'replay_runs', 'playbooks')
        {%- if in_delta() %}
            and evidence.run_id in (select touched_runs.run_id from touched_runs)
        {%- endif %}
        and {{ not_a_second_copy('evidence') }}
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
    from {{ ref('evidence') }} as evidence
    inner join escalations
        on
            evidence.source_file = escalations.source_file
            and evidence.line_offset = escalations.line_offset
    where evidence.stream = 'escalations' and {{ not_a_second_copy('evidence') }}
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
