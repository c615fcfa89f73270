-- One row per run: the signals of its latest rows (int_signals_reduced), its evidence lists
-- (int_evidence_listed), and its instruction and response by precedence (docs/concepts.md, "Runs"), the two texts
-- joined back by their row_ptr in int_evidence_joined_to_runs.

with instructions as (
    select
        row_ptr,
        instruction
    from {{ ref('int_evidence_joined_to_runs') }}
),

responses as (
    select
        row_ptr,
        response
    from {{ ref('int_evidence_joined_to_runs') }}
),

final as (
    select
        pointed.run_id,
        pointed.human_decision,
        pointed.task_status,
        pointed.tests_passed,
        pointed.tests_failed,
        pointed.tool_exit_code,
        pointed.gateway_status,
        pointed.finish_reason,
        pointed.is_merged,
        pointed.is_reverted,
        pointed.audit_verdict,
        pointed.is_audit_grounded,
        pointed.fabricated_refs,
        pointed.feedback_rating,
        pointed.escalation_passed,
        pointed.model,
        pointed.recorded_at,
        run_lists.evidence_ids,
        run_lists.source_lines,
        run_lists.streams,
        run_lists.run_day,
        instructions.instruction,
        responses.response,
        -- a run is anchored by something that did work; feedback or reviews alone are orphans
        len(list_intersect(
            run_lists.streams, ['gateway_calls', 'task_outcomes', 'auto_apply', 'answers', 'escalations']
        )) = 0 as is_orphan
    from {{ ref('int_signals_reduced') }} as pointed
    inner join {{ ref('int_evidence_listed') }} as run_lists on pointed.run_id = run_lists.run_id
    left join instructions on pointed.instruction_ptr = instructions.row_ptr
    left join responses on pointed.response_ptr = responses.row_ptr
)

select * from final
