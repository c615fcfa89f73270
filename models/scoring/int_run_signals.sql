-- One row per run: the latest row of each stream (by ts, ties broken by source line order)
-- reduced to the signals of SPEC §6, and the run's instruction and response by precedence (§3).
-- The aggregation carries only small values: each stream's latest row is kept as its place in
-- the line order and its texts are joined back afterwards, so memory stays bounded however
-- many runs there are.

with run_evidence as materialized (
    select
        *,
        -- a total order over all rows: ts, then source line order
        row_number() over (order by recorded_at, source_file, line_offset) as line_order
    from {{ ref('int_run_evidence') }}
),

texts as (
    select
        line_order,
        instruction,
        response
    from run_evidence
),

latest as (
    select
        run_id,

        -- human review
        arg_max_null(signals ->> 'decision', line_order) filter (
            where stream = 'human_reviews'
        ) as human_decision,
        max(line_order) filter (
            where stream = 'human_reviews' and (signals ->> 'decision') = 'edit' and response is not null
        ) as edit_row,

        -- task outcome
        arg_max_null(signals ->> 'status', line_order) filter (where stream = 'task_outcomes') as task_status,
        max(line_order) filter (where stream = 'task_outcomes') as outcome_row,

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
        max(line_order) filter (where stream = 'gateway_calls') as gateway_row,

        -- auto-apply
        arg_max_null((signals ->> 'merged')::boolean, line_order) filter (
            where stream = 'auto_apply'
        ) as is_merged,
        arg_max_null((signals ->> 'reverted')::boolean, line_order) filter (
            where stream = 'auto_apply'
        ) as is_reverted,
        max(line_order) filter (where stream = 'auto_apply') as apply_row,

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
        max(line_order) filter (where stream = 'answers') as answer_row,
        arg_max_null((signals ->> 'attempt_passed')::boolean, line_order) filter (
            where stream = 'escalations'
        ) as escalation_passed,
        max(line_order) filter (where stream = 'escalations') as escalation_row,

        -- the run as a whole
        arg_max(model, line_order) as model,
        max(recorded_at) as recorded_at,
        -- (list_sort, not an ordered aggregate: those buffer every row of a group in memory)
        list_sort(list(evidence_id)) as evidence_ids,
        list_transform(
            list_sort(list({ 'evidence_id': evidence_id, 'source_line': source_file || ':' || line_offset })),
            lambda line: line['source_line']
        ) as source_lines,
        list_sort(list_distinct(list(stream))) as streams
    from run_evidence
    group by run_id
),

with_texts as (
    select
        latest.*,
        edit_texts.response as edited_response,
        outcome_texts.instruction as outcome_task,
        gateway_texts.instruction as gateway_instruction,
        gateway_texts.response as gateway_completion,
        apply_texts.instruction as apply_task,
        apply_texts.response as apply_patch,
        answer_texts.instruction as answer_question,
        answer_texts.response as answer_text,
        escalation_texts.instruction as escalation_task,
        escalation_texts.response as escalation_output
    from latest
    left join texts as edit_texts on latest.edit_row = edit_texts.line_order
    left join texts as outcome_texts on latest.outcome_row = outcome_texts.line_order
    left join texts as gateway_texts on latest.gateway_row = gateway_texts.line_order
    left join texts as apply_texts on latest.apply_row = apply_texts.line_order
    left join texts as answer_texts on latest.answer_row = answer_texts.line_order
    left join texts as escalation_texts on latest.escalation_row = escalation_texts.line_order
),

final as (
    select
        * exclude (edit_row, outcome_row, gateway_row, apply_row, answer_row, escalation_row),
        coalesce(outcome_task, apply_task, escalation_task, answer_question, gateway_instruction) as instruction,
        coalesce(edited_response, apply_patch, answer_text, gateway_completion, escalation_output) as response,
        -- a run is anchored by something that did work; feedback or reviews alone are orphans
        len(list_intersect(streams, ['gateway_calls', 'task_outcomes', 'auto_apply', 'answers', 'escalations']))
        = 0 as is_orphan
    from with_texts
)

select * from final
