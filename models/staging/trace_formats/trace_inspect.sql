-- Inspect AI eval logs as stream records: each sample a gateway_calls record, the first
-- scorer's value a task outcome (C success, I failure, P partial, or a number).

with units as (
    select * from {{ ref('base_trace_units') }}
    where skip_reason is null
),

samples as (
    -- Inspect AI: each sample a model call, and its score the task's outcome
    select
        *,
        coalesce(doc ->> '$.eval.run_id', source_file)
        || ':'
        || (element_json ->> '$.id')
        || ':'
        || coalesce(element_json ->> '$.epoch', '1') as sample_run,
        {{ iso_ts("(doc ->> '$.eval.created')") }} as created,
        -- the first scorer's value: C(orrect), I(ncorrect), P(artial) or a number
        json_extract(element_json, '$.scores.*')[1] ->> '$.value' as score_value,
        case
            when json_type(element_json, '$.input') = 'VARCHAR' then element_json ->> '$.input'
            else {{ chat_messages("(element_json -> '$.input')") }} ->> '$[-1].content'
        end as task  -- noqa: RF04
    from units
    where format = 'inspect'
),

sample_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case
            when unit_kind = 'inspect_sample' then 'gateway_calls'
            when score_value is not null then 'task_outcomes'
        end as stream,
        case unit_kind
            when 'inspect_sample'
                then json_object(
                        'call_id', sample_run,
                        'run_id', sample_run,
                        'ts', created,
                        'provider', 'inspect',
                        'model', coalesce(element_json ->> '$.output.model', doc ->> '$.eval.model'),
                        'messages', {{ chat_messages("(element_json -> '$.messages')") }},
                        'completion', {{ message_text("(element_json -> '$.output.choices[0].message')") }},
                        'finish_reason', {{ finish_reason("(element_json ->> '$.output.choices[0].stop_reason')") }},
                        'prompt_tokens', try_cast(element_json ->> '$.output.usage.input_tokens' as bigint),
                        'completion_tokens', try_cast(element_json ->> '$.output.usage.output_tokens' as bigint),
                        'status', case when (element_json ->> '$.error') is not null then 'error' else 'ok' end
                    )
            else json_object(
                    'run_id', sample_run,
                    'ts', created,
                    'task', task,
                    'status', case
                        when score_value = 'C' or try_cast(score_value as double) >= 1 then 'success'
                        when score_value = 'I' or try_cast(score_value as double) = 0 then 'failure'
                        else 'partial'
                    end,
                    'score', case
                        when score_value = 'C' then 1.0
                        when score_value = 'I' then 0.0
                        when score_value = 'P' then 0.5
                        else least(greatest(try_cast(score_value as double), 0), 1)
                    end,
                    'score_value', score_value
                )
        end as record
    from samples
)

{{ trace_format_output('sample_records') }}
