-- One row per run: the latest row of each stream (by ts, ties broken by source line order)
-- reduced to the signals of SPEC §6, and where the run's instruction and response are (§3).
-- Built to spill rather than to fail at any size: the latest row of each (run, stream) is
-- found by a window (partitioned and sorted, spilling to disk as it goes), and each stream's
-- latest row is joined to its run; no aggregation keeps per-run states in memory, no text is
-- carried (each row is named by its row_ptr in int_run_evidence; int_run_signals joins the
-- two texts back), and the order of the rows is one number per row.

{#- The streams whose latest row the scorer reads, by the name it goes by here. -#}
{%- set latest_of = {
    'human': 'human_reviews', 'outcome': 'task_outcomes', 'test_run': 'test_runs', 'tool': 'tool_runs',
    'gateway': 'gateway_calls', 'patch': 'auto_apply', 'audit_row': 'pr_audits', 'feedback': 'user_feedback',
    'answer': 'answers', 'escalation': 'escalations',
} %}
{#- Their precedence for each text (SPEC §3). -#}
{%- set instruction_order = ['outcome', 'patch', 'escalation', 'answer', 'gateway'] %}
{%- set response_order = ['patch', 'answer', 'gateway', 'escalation'] %}

with files as (
    -- each source file's place in name order
    select
        source_file,
        row_number() over (order by source_file) as file_rank
    from (select distinct source_file from {{ ref('int_run_evidence') }})
),

run_evidence as (
    select
        evidence.row_ptr,
        evidence.run_id,
        evidence.stream,
        evidence.model,
        evidence.signals,
        evidence.recorded_at,
        evidence.instruction is not null as has_instruction,
        evidence.response is not null as has_response,
        -- a total order over all rows as one number: ts (a missing one last), then file, then
        -- line (2^64 per microsecond, 2^40 lines per file)
        coalesce(epoch_us(evidence.recorded_at), 9223372036854775807)::hugeint * 18446744073709551616
        + files.file_rank::hugeint * 1099511627776
        + evidence.line_offset as line_order
    from {{ ref('int_run_evidence') }} as evidence
    inner join files on evidence.source_file = files.source_file
),

latest_rows as materialized (
    -- the latest row of each (run, stream)
    select
        run_id,
        stream,
        row_ptr,
        signals,
        has_instruction,
        has_response
    from run_evidence
    qualify row_number() over (partition by run_id, stream order by line_order desc) = 1
),

edits as (
    -- the latest human review that decided edit and gives an edited response
    select
        run_id,
        row_ptr
    from run_evidence
    where stream = 'human_reviews' and (signals ->> 'decision') = 'edit' and has_response
    qualify row_number() over (partition by run_id order by line_order desc) = 1
),

models as (
    -- the model of the run's latest row that names one
    select
        run_id,
        model
    from run_evidence
    where model is not null
    qualify row_number() over (partition by run_id order by line_order desc) = 1
),

runs as (
    select
        run_id,
        max(recorded_at) as recorded_at
    from run_evidence
    group by run_id
),

final as (
    select
        runs.run_id,
        runs.recorded_at,
        models.model,
        human.signals ->> 'decision' as human_decision,
        outcome.signals ->> 'status' as task_status,
        (test_run.signals ->> 'passed')::bigint as tests_passed,
        (test_run.signals ->> 'failed')::bigint as tests_failed,
        (tool.signals ->> 'exit_code')::bigint as tool_exit_code,
        gateway.signals ->> 'status' as gateway_status,
        gateway.signals ->> 'finish_reason' as finish_reason,
        (patch.signals ->> 'merged')::boolean as is_merged,
        (patch.signals ->> 'reverted')::boolean as is_reverted,
        audit_row.signals ->> 'verdict' as audit_verdict,
        (audit_row.signals ->> 'grounded')::boolean as is_audit_grounded,
        (audit_row.signals ->> 'fabricated_refs')::bigint as fabricated_refs,
        feedback.signals ->> 'rating' as feedback_rating,
        (escalation.signals ->> 'attempt_passed')::boolean as escalation_passed,
        -- SPEC §3 precedence over the latest rows: the first that has the text gives it
        case
            {%- for name in instruction_order %}
                when {{ name }}.has_instruction then {{ name }}.row_ptr
            {%- endfor %}
        end as instruction_ptr,
        case
            when edits.row_ptr is not null then edits.row_ptr
            {%- for name in response_order %}
                when {{ name }}.has_response then {{ name }}.row_ptr
            {%- endfor %}
        end as response_ptr
    from runs
    left join models on runs.run_id = models.run_id
    left join edits on runs.run_id = edits.run_id
    {%- for name, stream in latest_of.items() %}
        left join latest_rows as {{ name }} on runs.run_id = {{ name }}.run_id and {{ name }}.stream = '{{ stream }}'
    {%- endfor %}
)

select * from final
