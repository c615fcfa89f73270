-- One row per run: the latest row of each stream (by ts, ties broken by source line order)
-- reduced to the signals of SPEC §6, and the run's instruction and response by precedence (§3).
-- The aggregation carries only small values: the latest row of each text-bearing stream is
-- kept as a row pointer (rowid) with whether its texts are present, the precedence picks one
-- pointer for the instruction and one for the response, and just those two texts are joined
-- back, so memory stays bounded however many runs there are and no text is copied twice.

{#- The streams whose latest row can give the run's texts, with the precedence of SPEC §3. -#}
{%- set text_streams = {
    'outcome': 'task_outcomes', 'apply': 'auto_apply', 'escalation': 'escalations',
    'answer': 'answers', 'gateway': 'gateway_calls',
} %}
{%- set instruction_order = ['outcome', 'apply', 'escalation', 'answer', 'gateway'] %}
{%- set response_order = ['apply', 'answer', 'gateway', 'escalation'] %}

with run_evidence as (
    select
        rowid as row_ptr,
        run_id,
        stream,
        model,
        signals,
        recorded_at,
        evidence_id,
        source_file,
        line_offset,
        instruction is not null as has_instruction,
        response is not null as has_response,
        -- a total order over all rows: ts, then source line order (no texts are sorted)
        row_number() over (order by recorded_at, source_file, line_offset) as line_order
    from {{ ref('int_run_evidence') }}
),

latest as (
    select
        run_id,

        -- human review
        arg_max_null(signals ->> 'decision', line_order) filter (
            where stream = 'human_reviews'
        ) as human_decision,
        arg_max_null(row_ptr, line_order) filter (
            where stream = 'human_reviews' and (signals ->> 'decision') = 'edit' and has_response
        ) as edit_ptr,

        -- task outcome
        arg_max_null(signals ->> 'status', line_order) filter (where stream = 'task_outcomes') as task_status,

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

        -- auto-apply
        arg_max_null((signals ->> 'merged')::boolean, line_order) filter (
            where stream = 'auto_apply'
        ) as is_merged,
        arg_max_null((signals ->> 'reverted')::boolean, line_order) filter (
            where stream = 'auto_apply'
        ) as is_reverted,

        -- audit
        arg_max_null(signals ->> 'verdict', line_order) filter (where stream = 'pr_audits') as audit_verdict,
        arg_max_null((signals ->> 'grounded')::boolean, line_order) filter (
            where stream = 'pr_audits'
        ) as is_audit_grounded,
        arg_max_null((signals ->> 'fabricated_refs')::bigint, line_order) filter (
            where stream = 'pr_audits'
        ) as fabricated_refs,

        -- feedback, escalation attempts
        arg_max_null(signals ->> 'rating', line_order) filter (where stream = 'user_feedback') as feedback_rating,
        arg_max_null((signals ->> 'attempt_passed')::boolean, line_order) filter (
            where stream = 'escalations'
        ) as escalation_passed,

        -- the latest row of each text-bearing stream: where it is and which texts it has
        {%- for name, stream in text_streams.items() %}
            arg_max_null(row_ptr, line_order) filter (where stream = '{{ stream }}') as {{ name }}_ptr,
            arg_max_null(has_instruction, line_order) filter (
                where stream = '{{ stream }}'
            ) as {{ name }}_has_instruction,
            arg_max_null(has_response, line_order) filter (where stream = '{{ stream }}') as {{ name }}_has_response,
        {%- endfor %}

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

pointed as (
    -- SPEC §3 precedence over the latest rows: the first that has the text gives it
    select
        *,
        case
            {%- for name in instruction_order %}
                when {{ name }}_has_instruction then {{ name }}_ptr
            {%- endfor %}
        end as instruction_ptr,
        case
            when edit_ptr is not null then edit_ptr
            {%- for name in response_order %}
                when {{ name }}_has_response then {{ name }}_ptr
            {%- endfor %}
        end as response_ptr
    from latest
),

instructions as (
    select
        rowid as row_ptr,
        instruction
    from {{ ref('int_run_evidence') }}
),

responses as (
    select
        rowid as row_ptr,
        response
    from {{ ref('int_run_evidence') }}
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
        pointed.evidence_ids,
        pointed.source_lines,
        pointed.streams,
        instructions.instruction,
        responses.response,
        -- a run is anchored by something that did work; feedback or reviews alone are orphans
        len(list_intersect(
            pointed.streams, ['gateway_calls', 'task_outcomes', 'auto_apply', 'answers', 'escalations']
        )) = 0 as is_orphan
    from pointed
    left join instructions on pointed.instruction_ptr = instructions.row_ptr
    left join responses on pointed.response_ptr = responses.row_ptr
)

select * from final
