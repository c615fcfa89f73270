-- One row per run: the latest row of each stream (by ts, ties broken by source line order)
-- reduced to the signals of SPEC §6, and the run's instruction and response by precedence (§3).

with run_evidence as (
    select
        *,
        -- a total order within a run: ts, then source line order
        { 'recorded_at': recorded_at, 'source_file': source_file, 'line_offset': line_offset } as line_order
    from {{ ref('int_run_evidence') }}
),

latest as (
    select
        run_id,

        -- human review
        arg_max_null(signals ->> 'decision', line_order) filter (
            where stream = 'human_reviews'
        ) as human_decision,
        arg_max_null(response, line_order) filter (
            where stream = 'human_reviews' and (signals ->> 'decision') = 'edit' and response is not null
        ) as edited_response,

        -- task outcome
        arg_max_null(signals ->> 'status', line_order) filter (where stream = 'task_outcomes') as task_status,
        arg_max_null(instruction, line_order) filter (where stream = 'task_outcomes') as outcome_task,

        -- tests and tools
        arg_max_null((signals ->> 'passed')::bigint, line_order) filter (where stream = 'test_runs') as tests_passed,
        arg_max_null((signals ->> 'failed')::bigint, line_order) filter (where stream = 'test_runs') as tests_failed,
        arg_max_null((signals ->> 'exit_code')::bigint, line_order) filter (
            where stream = 'tool_runs'
        ) as tool_exit_code,

        -- gateway
        arg_max_null(signals ->> 'status', line_order) filter (where stream = 'gateway_calls') as gateway_status,
        arg_max_null(signals ->> 'finish_reason', line_order) filter (
            where stream = 'gateway_calls'
        ) as finish_reason,
        arg_max_null(instruction, line_order) filter (where stream = 'gateway_calls') as gateway_instruction,
        arg_max_null(response, line_order) filter (where stream = 'gateway_calls') as gateway_completion,

        -- auto-apply
        arg_max_null((signals ->> 'merged')::boolean, line_order) filter (
            where stream = 'auto_apply'
        ) as is_merged,
        arg_max_null((signals ->> 'reverted')::boolean, line_order) filter (
            where stream = 'auto_apply'
        ) as is_reverted,
        arg_max_null(instruction, line_order) filter (where stream = 'auto_apply') as apply_task,
        arg_max_null(response, line_order) filter (where stream = 'auto_apply') as apply_patch,

        -- audit
        arg_max_null(signals ->> 'verdict', line_order) filter (where stream = 'pr_audits') as audit_verdict,
        arg_max_null((signals ->> 'grounded')::boolean, line_order) filter (
            where stream = 'pr_audits'
        ) as is_audit_grounded,
        arg_max_null((signals ->> 'fabricated_refs')::bigint, line_order) filter (
            where stream = 'pr_audits'
        ) as fabricated_refs,

        -- feedback, answers, escalation attempts
        arg_max_null(signals ->> 'rating', line_order) filter (where stream = 'user_feedback') as feedback_rating,
        arg_max_null(instruction, line_order) filter (where stream = 'answers') as answer_question,
        arg_max_null(response, line_order) filter (where stream = 'answers') as answer_text,
        arg_max_null((signals ->> 'attempt_passed')::boolean, line_order) filter (
            where stream = 'escalations'
        ) as escalation_passed,
        arg_max_null(instruction, line_order) filter (where stream = 'escalations') as escalation_task,
        arg_max_null(response, line_order) filter (where stream = 'escalations') as escalation_output,

        -- the run as a whole
        arg_max(model, line_order) as model,
        max(recorded_at) as recorded_at,
        list(evidence_id order by evidence_id) as evidence_ids,
        list(source_file || ':' || line_offset order by evidence_id) as source_lines,
        list(distinct stream order by stream) as streams
    from run_evidence
    group by run_id
),

final as (
    select
        *,
        coalesce(outcome_task, apply_task, escalation_task, answer_question, gateway_instruction) as instruction,
        coalesce(edited_response, apply_patch, answer_text, gateway_completion, escalation_output) as response,
        -- a run is anchored by something that did work; feedback or reviews alone are orphans
        len(list_intersect(streams, ['gateway_calls', 'task_outcomes', 'auto_apply', 'answers', 'escalations']))
        = 0 as is_orphan
    from latest
)

select * from final
