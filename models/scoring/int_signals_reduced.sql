-- One row per run: the latest row of each stream (by ts, ties broken by source line order)
-- reduced to the signals (docs/concepts.md, "Scoring"), and where the run's instruction and
-- response are (docs/concepts.md, "Runs"). The latest rows come from int_latest_rows_picked (a
-- table, found by a window that spills), each joined to its run; no aggregation keeps per-run
-- states of texts or lists, no text is carried (each row is named by its row_ptr in
-- int_evidence_joined_to_runs; int_texts_joined joins the response back, scored_runs the
-- instruction).

{#- The latest rows the scorer reads (their pick in int_latest_rows_picked), by the name each goes
    by here: one per stream, the latest edit and the latest row that names a model. -#}
{%- set latest_of = {
    'human': 'human_reviews', 'outcome': 'task_outcomes', 'test_run': 'test_runs', 'tool': 'tool_runs',
    'gateway': 'gateway_calls', 'patch': 'auto_apply', 'audit_row': 'pr_audits', 'feedback': 'user_feedback',
    'answer': 'answers', 'escalation': 'escalations', 'edit_row': 'edit', 'model_row': 'model',
} %}
{#- Their precedence for each text (docs/concepts.md, "Runs"). -#}
{%- set instruction_order = ['outcome', 'patch', 'escalation', 'answer', 'gateway'] %}
{%- set response_order = ['patch', 'answer', 'gateway', 'escalation'] %}

with runs as (
    select
        run_id,
        max(recorded_at) as recorded_at
    from {{ ref('int_evidence_joined_to_runs') }}
    group by run_id
),

final as (
    select
        runs.run_id,
        runs.recorded_at,
        model_row.model,
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
        -- docs/concepts.md, "Runs" precedence over the latest rows: the first that has the text gives it
        case
            {%- for name in instruction_order %}
                when {{ name }}.has_instruction then {{ name }}.row_ptr
            {%- endfor %}
        end as instruction_ptr,
        case
            when edit_row.row_ptr is not null then edit_row.row_ptr
            {%- for name in response_order %}
                when {{ name }}.has_response then {{ name }}.row_ptr
            {%- endfor %}
        end as response_ptr
    from runs
    {%- for name, pick in latest_of.items() %}
        left join {{ ref('int_latest_rows_picked') }} as {{ name }}
            on runs.run_id = {{ name }}.run_id and {{ name }}.pick = '{{ pick }}'
    {%- endfor %}
)

select * from final
