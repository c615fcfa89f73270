-- Every run gets exactly one of four categories by the six ordered rules of docs/concepts.md, "Scoring", with the
-- rules that fired (signal rules, then the deciding rule) listed in order. No model in the loop.
-- Incremental: a delta run replaces the touched runs (int_touched_runs) only.
-- depends_on: {{ ref('int_scored_runs_before') }}
-- depends_on: {{ ref('int_touched_runs') }}

{#- The signal rules in the order seeds/scoring_rules.csv gives them. -#}
{%- set signal_rule_ids = [
    'human_accept', 'human_edit', 'human_reject', 'human_unsure',
    'reject_task_failure', 'reject_tests_failed', 'reject_tool_exit', 'reject_gateway_error',
    'reject_empty_response', 'reject_patch_reverted', 'reject_fabricated_refs', 'reject_escalation_failed',
    'accept_task_success', 'accept_tests_passed', 'accept_patch_merged', 'accept_audit_grounded',
    'accept_feedback_up', 'accept_escalation_passed',
    'partial_task_partial', 'partial_finish_length', 'partial_tests_mixed', 'partial_feedback_down',
] %}

with run_signals as (
    -- the instruction joined in here, by its row_ptr (int_texts_joined says why)
    select
        texts_joined.*,
        instructions.instruction
    from {{ ref('int_texts_joined') }} as texts_joined
    left join {{ ref('int_evidence_joined_to_runs') }} as instructions
        on texts_joined.instruction_ptr = instructions.row_ptr
),

signal_rules as (
    select
        *,

        -- rule 1: human decision
        human_decision = 'accept' as human_accept,
        human_decision = 'edit' as human_edit,
        human_decision = 'reject' as human_reject,
        human_decision = 'unsure' as human_unsure,

        -- hard-reject signals
        task_status = 'failure' as reject_task_failure,
        tests_failed > 0 and tests_passed = 0 as reject_tests_failed,
        tool_exit_code != 0 as reject_tool_exit,
        gateway_status = 'error' as reject_gateway_error,
        response is not null and trim(response) = '' as reject_empty_response,
        coalesce(is_reverted, false) as reject_patch_reverted,
        fabricated_refs > 0 as reject_fabricated_refs,
        not escalation_passed as reject_escalation_failed,

        -- accept signals
        task_status = 'success' as accept_task_success,
        tests_failed = 0 and tests_passed > 0 as accept_tests_passed,
        is_merged and not coalesce(is_reverted, false) as accept_patch_merged,
        audit_verdict = 'approve' and is_audit_grounded as accept_audit_grounded,
        feedback_rating = 'up' as accept_feedback_up,
        escalation_passed is true as accept_escalation_passed,

        -- partial signals
        task_status = 'partial' as partial_task_partial,
        finish_reason = 'length' as partial_finish_length,
        tests_failed > 0 and tests_passed > 0 as partial_tests_mixed,
        feedback_rating = 'down' as partial_feedback_down
    from run_signals
),

signal_groups as (
    select
        *,
        coalesce(human_accept or human_edit or human_reject or human_unsure, false) as has_human,
        coalesce(
            reject_task_failure or reject_tests_failed or reject_tool_exit or reject_gateway_error
            or reject_empty_response or reject_patch_reverted or reject_fabricated_refs
            or reject_escalation_failed,
            false
        ) as has_hard_reject,
        coalesce(
            accept_task_success or accept_tests_passed or accept_patch_merged or accept_audit_grounded
            or accept_feedback_up or accept_escalation_passed,
            false
        ) as has_accept,
        coalesce(
            partial_task_partial or partial_finish_length or partial_tests_mixed or partial_feedback_down,
            false
        ) as has_partial
    from signal_rules
),

decided as (
    select
        *,
        case
            when has_human then 'rule_1_human'
            when has_hard_reject and has_accept then 'rule_2_conflict'
            when has_hard_reject then 'rule_3_reject'
            when has_partial then 'rule_4_partial'
            when has_accept then 'rule_5_accept'
            else 'rule_6_no_signal'
        end as deciding_rule,
        case
            when human_accept or human_edit then 'accepted'
            when human_reject then 'rejected'
            when human_unsure then 'needs_human_review'
            when has_hard_reject and has_accept then 'needs_human_review'
            when has_hard_reject then 'rejected'
            when has_partial then 'partially_accepted'
            when has_accept then 'accepted'
            else 'needs_human_review'
        end as category
    from signal_groups
),

final as (
    select
        -- ids
        decided.run_id,

        -- texts
        decided.instruction,
        decided.response,

        -- the decision
        decided.category,
        -- the signal rules that hold, in rule order, then the deciding rule
        {%- for rule in signal_rule_ids %}
            case when decided.{{ rule }} then ['{{ rule }}'] else []::varchar[] end ||
        {%- endfor %}
        [decided.deciding_rule] as reasons,
        json_object(
            'human_decision', decided.human_decision,
            'task_status', decided.task_status,
            'tests_passed', decided.tests_passed,
            'tests_failed', decided.tests_failed,
            'tool_exit_code', decided.tool_exit_code,
            'gateway_status', decided.gateway_status,
            'finish_reason', decided.finish_reason,
            'is_merged', decided.is_merged,
            'is_reverted', decided.is_reverted,
            'audit_verdict', decided.audit_verdict,
            'is_audit_grounded', decided.is_audit_grounded,
            'fabricated_refs', decided.fabricated_refs,
            'feedback_rating', decided.feedback_rating,
            'escalation_passed', decided.escalation_passed,
            'is_orphan', decided.is_orphan
        ) as signals,

        -- provenance
        decided.evidence_ids,
        decided.model,
        decided.recorded_at,
        decided.run_day,
        '{{ var("rule_version") }}' as rule_version
    from decided
)

select * from final
