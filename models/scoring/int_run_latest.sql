-- One row per run: the latest row of each stream (by ts, ties broken by source line order)
-- reduced to the signals of SPEC §6, and where the run's instruction and response are (§3).
-- It is built to stay small: the order of the rows is one number per row (no sort of the
-- whole table), the aggregation keeps one small state per stream (the latest row's signals,
-- its row_ptr in int_run_evidence and whether it has texts), and the precedence picks one
-- pointer for the instruction and one for the response; no text is carried (int_run_signals
-- joins the two texts back).

{#- The streams whose latest row can give the run's texts, in the precedence of SPEC §3. -#}
{%- set text_streams = [
    ('outcome', 'task_outcomes', {'status': "signals ->> 'status'"}),
    ('gateway', 'gateway_calls', {'status': "signals ->> 'status'", 'finish_reason': "signals ->> 'finish_reason'"}),
    ('patch', 'auto_apply', {'merged': "(signals ->> 'merged')::boolean", 'reverted': "(signals ->> 'reverted')::boolean"}),
    ('answer', 'answers', {}),
    ('escalation', 'escalations', {'passed': "(signals ->> 'attempt_passed')::boolean"}),
] %}
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

latest as (
    -- the latest row of each stream, one state per stream
    select
        run_id,
        arg_max_null(signals ->> 'decision', line_order) filter (where stream = 'human_reviews') as human_decision,
        arg_max_null(row_ptr, line_order) filter (
            where stream = 'human_reviews' and (signals ->> 'decision') = 'edit' and has_response
        ) as edit_ptr,
        arg_max_null(
            { 'passed': (signals ->> 'passed')::bigint, 'failed': (signals ->> 'failed')::bigint },
            line_order
        ) filter (where stream = 'test_runs') as test_run,
        arg_max_null((signals ->> 'exit_code')::bigint, line_order) filter (
            where stream = 'tool_runs'
        ) as tool_exit_code,
        arg_max_null(
            {
                'verdict': signals ->> 'verdict',
                'grounded': (signals ->> 'grounded')::boolean,
                'fabricated_refs': (signals ->> 'fabricated_refs')::bigint
            },
            line_order
        ) filter (where stream = 'pr_audits') as audit_row,
        arg_max_null(signals ->> 'rating', line_order) filter (where stream = 'user_feedback') as feedback_rating,
        -- the latest row of each stream that can give the run's texts: its signals, where it is,
        -- and which texts it has (one state per stream)
        {%- for name, stream, fields in text_streams %}
            arg_max_null(
                {
                    {%- for field, value in fields.items() %}
                        '{{ field }}': {{ value }},
                    {%- endfor %}
                    'ptr': row_ptr,
                    'has_instruction': has_instruction,
                    'has_response': has_response
                },
                line_order
            ) filter (where stream = '{{ stream }}') as {{ name }},
        {%- endfor %}
        arg_max(model, line_order) as model,
        max(recorded_at) as recorded_at
    from run_evidence
    group by run_id
),

pointed as (
    -- SPEC §3 precedence over the latest rows: the first that has the text gives it
    select
        *,
        case
            {%- for name in instruction_order %}
                when {{ name }}['has_instruction'] then {{ name }}['ptr']
            {%- endfor %}
        end as instruction_ptr,
        case
            when edit_ptr is not null then edit_ptr
            {%- for name in response_order %}
                when {{ name }}['has_response'] then {{ name }}['ptr']
            {%- endfor %}
        end as response_ptr
    from latest
),

final as (
    select
        run_id,
        human_decision,
        tool_exit_code,
        feedback_rating,
        model,
        recorded_at,
        instruction_ptr,
        response_ptr,
        outcome['status'] as task_status,
        test_run['passed'] as tests_passed,
        test_run['failed'] as tests_failed,
        gateway['status'] as gateway_status,
        gateway['finish_reason'] as finish_reason,
        patch['merged'] as is_merged,
        patch['reverted'] as is_reverted,
        audit_row['verdict'] as audit_verdict,
        audit_row['grounded'] as is_audit_grounded,
        audit_row['fabricated_refs'] as fabricated_refs,
        escalation['passed'] as escalation_passed
    from pointed
)

select * from final
