-- OpenAI chat logs as gateway_calls records: the request and the response side by side, or
-- nested; the run is var openai_logs_run_field, else the response id, else the file and line.

with units as (
    select * from {{ ref('base_trace_units') }}
    where skip_reason is null
),

openai_logs as (
    -- one chat completion a record: the request and the response side by side, or nested
    select
        *,
        coalesce(unit_json -> '$.request', unit_json) as request,
        coalesce(unit_json -> '$.response', unit_json) as response
    from units
    where format = 'openai_logs'
),

openai_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case
            when
                json_type(request, '$.messages') = 'ARRAY' or json_type(response, '$.choices') = 'ARRAY'
                then 'gateway_calls'
        end as stream,
        json_object(
            'call_id', coalesce(response ->> '$.id', source_file || '#' || line_offset),
            'run_id', coalesce(
                unit_json ->> '$."{{ var("openai_logs_run_field") }}"',
                unit_json ->> '$.metadata."{{ var("openai_logs_run_field") }}"',
                request ->> '$.metadata."{{ var("openai_logs_run_field") }}"',
                response ->> '$.id',
                source_file || '#' || line_offset
            ),
            'ts', strftime(coalesce(
                try_cast(coalesce(unit_json ->> '$.ts', unit_json ->> '$.timestamp') as timestamptz),
                to_timestamp(try_cast(response ->> '$.created' as double)),
                '1970-01-01'::timestamptz
            ), '%Y-%m-%dT%H:%M:%S.%fZ'),
            'provider', coalesce(unit_json ->> '$.provider', 'openai'),
            'model', coalesce(response ->> '$.model', request ->> '$.model'),
            'messages', coalesce({{ chat_messages("(request -> '$.messages')") }}, '[]'::json),
            'completion', {{ message_text("(response -> '$.choices[0].message')") }},
            'finish_reason', {{ finish_reason("(response ->> '$.choices[0].finish_reason')") }},
            'prompt_tokens', try_cast(response ->> '$.usage.prompt_tokens' as bigint),
            'completion_tokens', try_cast(response ->> '$.usage.completion_tokens' as bigint),
            'status',
            case
                when
                    (unit_json -> '$.error') is not null and json_type(unit_json, '$.error') != 'NULL'
                    then 'error'
                else 'ok'
            end,
            'error',
            coalesce(
                unit_json ->> '$.error.message',
                case when json_type(unit_json, '$.error') = 'VARCHAR' then unit_json ->> '$.error' end
            )
        ) as record
    from openai_logs
)

{{ trace_format_output('openai_records') }}
