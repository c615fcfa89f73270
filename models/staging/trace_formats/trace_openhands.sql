-- OpenHands event streams as stream records: model actions gateway_calls, observations
-- tool_runs, `finish` a task outcome `partial` (the agent says it is done; nothing verifies it).

with units as (
    select * from {{ ref('base_trace_units') }}
    where skip_reason is null
),

events as (
    -- OpenHands: actions and observations linked by `cause`, ending in `finish`
    select
        *,
        regexp_extract(source_file, '([^/]+?)(\.json[l]?)?$', 1) as conversation,
        -- the conversation's first user message is its task
        arg_min(unit_json ->> '$.message', line_offset) filter (
            where (unit_json ->> '$.source') = 'user' and (unit_json ->> '$.action') = 'message'
        ) over (partition by source_file) as task,  -- noqa: RF04
        unit_json -> '$.tool_call_metadata.model_response' as model_response
    from units
    where format = 'openhands'
),

event_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case
            when (unit_json ->> '$.action') = 'finish' then 'task_outcomes'
            when (unit_json ->> '$.observation') is not null and (unit_json ->> '$.cause') is not null then 'tool_runs'
            when (unit_json ->> '$.action') is not null and model_response is not null then 'gateway_calls'
        end as stream,
        case
            when (
                unit_json ->> '$.action'
            ) = 'finish'
                then json_object(
                        'run_id', conversation,
                        'ts', {{ iso_ts("(unit_json ->> '$.timestamp')") }},
                        'task', task,
                        -- the agent says it is done; nothing in the stream verifies it
                        'status', 'partial',
                        'final_message', unit_json ->> '$.message'
                    )
            when (
                unit_json ->> '$.observation'
            ) is not null
                then json_object(
                        'tool_run_id', conversation || ':' || (unit_json ->> '$.id'),
                        'run_id', conversation,
                        'ts', {{ iso_ts("(unit_json ->> '$.timestamp')") }},
                        'tool', unit_json ->> '$.observation',
                        'command', coalesce(unit_json ->> '$.extras.command', unit_json ->> '$.extras.path'),
                        'exit_code', try_cast(unit_json ->> '$.extras.metadata.exit_code' as bigint),
                        'stdout_tail', right(unit_json ->> '$.content', 4000),
                        'cause', unit_json ->> '$.cause'
                    )
            else json_object(
                    'call_id', conversation || ':' || (unit_json ->> '$.id'),
                    'run_id', conversation,
                    'ts', {{ iso_ts("(unit_json ->> '$.timestamp')") }},
                    'provider', 'openhands',
                    'model', model_response ->> '$.model',
                    'messages', to_json([{ 'role': 'user', 'content': task }]),
                    'completion', coalesce(
                        nullif({{ message_text("(model_response -> '$.choices[0].message')") }}, ''),
                        unit_json ->> '$.message'
                    ),
                    'finish_reason', {{ finish_reason("(model_response ->> '$.choices[0].finish_reason')") }},
                    'prompt_tokens', try_cast(model_response ->> '$.usage.prompt_tokens' as bigint),
                    'completion_tokens', try_cast(model_response ->> '$.usage.completion_tokens' as bigint),
                    'status', 'ok'
                )
        end as record
    from events
)

{{ trace_format_output('event_records') }}
