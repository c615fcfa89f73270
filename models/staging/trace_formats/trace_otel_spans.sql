-- OpenTelemetry and OpenInference spans as stream records: a model call with text (or one that
-- failed) a gateway_calls record, a tool span a tool_runs record; an embeddings, retrieval or
-- text-less span maps to no stream and says why (unmapped_detail). Which attribute gives which
-- field: macros/span_conventions.sql (docs/trace-formats.md, "Attribute conventions").

with units as (
    select * from {{ ref('base_trace_units') }}
    where skip_reason is null
),

spans as (
    -- OpenTelemetry spans: OTLP JSON (attributes as key/value lists), SDK dumps (attributes as
    -- an object, spanContext, HrTime) or a bare attribute map; OpenInference spans (Phoenix)
    select
        *,
        {{ otel_attributes('unit_json') }} as attrs,
        {{ span_field('unit_json', 'trace') }} as trace_id,
        {{ span_field('unit_json', 'span') }} as span_id,
        {{ span_started_at('unit_json') }} as started_at,
        coalesce(
            unit_json ->> '$.status.code', unit_json ->> '$.status.status_code', unit_json ->> '$.status_code'
        ) as status_code,
        coalesce(
            unit_json ->> '$.status.message', unit_json ->> '$.status.description', unit_json ->> '$.status_message'
        ) as status_message,
        coalesce(unit_json -> '$.events', '[]'::json) as events
    from units
    where
        format in ('otel', 'openinference') and unit_kind = 'item'
        and not {{ is_span_note() }}
),

span_fields as (
    -- the conventions each instrumentation writes (macros/span_conventions.sql)
    select
        *,
        coalesce(
            {{ declared('model') }}
            {{ attr('gen_ai.response.model') }}, {{ attr('gen_ai.request.model') }},
            {{ attr('llm.model_name') }}, {{ attr('ai.response.model') }}, {{ attr('ai.model.id') }}
        ) as model,
        coalesce(
            {{ attr('gen_ai.provider.name') }}, {{ attr('gen_ai.system') }}, {{ attr('llm.provider') }},
            {{ attr('llm.system') }}, {{ attr('ai.model.provider') }}
        ) as provider,  -- noqa: RF04
        {{ span_operation() }} as span_purpose,
        {{ span_messages() }} as messages,
        {{ span_completion() }} as completion,  -- noqa: RF04
        {{ span_finish_reason() }} as raw_finish_reason,
        {{ span_tokens('input') }} as prompt_tokens,
        {{ span_tokens('output') }} as completion_tokens,
        {{ span_exception() }} as exception_message,
        coalesce(status_code in ('2', 'STATUS_CODE_ERROR', 'ERROR', 'StatusCode.ERROR'), false) as is_status_error
    from spans
),

span_kinds as (
    select
        *,
        is_status_error or exception_message is not null as is_error,
        (is_status_error or exception_message is not null)
        and (span_purpose = 'chat' or model is not null) as is_failed_call,
        -- a model call carries text: a prompt with some content, or a completion
        coalesce(len(list_filter(
            json_extract(messages, '$[*]'), lambda m: coalesce(m ->> 'content', '') != ''
        )) > 0, false) or coalesce(completion, '') != '' as has_text
    from span_fields
),

span_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case
            when span_purpose = 'tool' then 'tool_runs'
            when span_purpose = 'embeddings' then null
            -- a model call with text, or one that failed (its error is a signal without text)
            when has_text or is_failed_call then 'gateway_calls'
        end as stream,
        case
            when span_purpose = 'tool'
                then json_object(
                        'tool_run_id', coalesce(span_id, source_file || '#' || line_offset),
                        'run_id', coalesce(trace_id, source_file),
                        'ts', strftime(coalesce(started_at, '1970-01-01'::timestamptz), '%Y-%m-%dT%H:%M:%S.%fZ'),
                        'tool', coalesce({{ span_tool('name') }}, unit_json ->> '$.name'),
                        'command', {{ span_tool('input') }},
                        'exit_code', case when is_error then 1 else 0 end,
                        'stdout_tail', right({{ span_tool('output') }}, 4000),
                        'stderr_tail', case when is_error then coalesce(exception_message, status_message) end
                    )
            else json_object(
                    'call_id', coalesce(span_id, source_file || '#' || line_offset),
                    'run_id', coalesce(trace_id, source_file),
                    'ts', strftime(coalesce(started_at, '1970-01-01'::timestamptz), '%Y-%m-%dT%H:%M:%S.%fZ'),
                    'provider', provider,
                    'model', model,
                    'messages', coalesce(messages, '[]'::json),
                    'completion', completion,
                    'finish_reason', {{ finish_reason('raw_finish_reason') }},
                    'prompt_tokens', prompt_tokens,
                    'completion_tokens', completion_tokens,
                    'status', case when is_error then 'error' else 'ok' end,
                    'error',
                    case when is_error then coalesce(status_message, exception_message, 'span status error') end
                )
        end as record,
        case
            when span_purpose = 'embeddings'
                then 'an embeddings, retrieval or reranking span: vectors or documents, not a text generation'
            when coalesce(span_purpose, '') != 'tool' and not has_text and not is_failed_call
                then 'a span with no prompt or completion text: not a model call distill can score'
        end as unmapped_detail
    from span_kinds
)

{{ trace_format_output('span_records', 'unmapped_detail') }}
