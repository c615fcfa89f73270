-- One row per run: the signals of its latest rows (int_signals_reduced), its evidence lists
-- (int_evidence_listed), and its response by precedence (docs/concepts.md, "Runs"), joined back by
-- its row_ptr in int_evidence_joined_to_runs. The instruction is joined in by scored_runs, from
-- instruction_ptr: one query that joins two texts holds two hash tables of texts at once, and
-- fails the memory limit at ten million lines; one join of texts per query spills when it must.

with responses as (
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
        pointed.instruction_ptr,
        responses.response,
        -- a run is anchored by something that did work; feedback or reviews alone are orphans
        len(list_intersect(
            run_lists.streams, ['gateway_calls', 'task_outcomes', 'auto_apply', 'answers', 'escalations']
        )) = 0 as is_orphan
    from {{ ref('int_signals_reduced') }} as pointed
    inner join {{ ref('int_evidence_listed') }} as run_lists on pointed.run_id = run_lists.run_id
    left join responses on pointed.response_ptr = responses.row_ptr
)

select * from final
