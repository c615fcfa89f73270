-- Each unit of a standard trace format mapped to a record of one of the twelve streams, so the
-- same stg_<stream> models type and check it: a model call becomes a gateway_calls record, a
-- tool step a tool_runs record, a submitted patch an auto_apply record, a verdict or score a
-- task_outcomes record. trace_id (or the file) becomes run_id; an error status becomes the
-- call's status. Units that carry none of these are skipped as `unmapped_element`.

with units as (
    select * from {{ ref('stg_trace_units') }}
    where skip_reason is null
),

notes as (
    -- units that are judgements of a span: its annotations (Phoenix), its evaluation results
    -- (OTel gen_ai.evaluation.result events), or an annotation record of its own in an
    -- OpenInference file (a span_id and a result)
    select
        *,
        case when unit_kind = 'evaluation' then {{ otel_attributes('unit_json') }} else unit_json end as note
    from units
    where
        unit_kind in ('annotation', 'evaluation')
        or (
            format = 'openinference' and unit_kind = 'item'
            and json_type(unit_json, '$.result') = 'OBJECT' and (unit_json ->> '$.span_id') is not null
        )
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
        and not exists (
            select 1 from notes
            where notes.source_file = units.source_file and notes.line_offset = units.line_offset
        )
),

note_fields as (
    select
        notes.*,
        coalesce(
            {{ span_field('notes.span_json', 'trace') }},
            (
                select any_value(spans.trace_id) from spans
                where spans.span_id = (notes.unit_json ->> '$.span_id')
            )
        ) as trace_id,
        coalesce({{ span_field('notes.span_json', 'span') }}, notes.unit_json ->> '$.span_id') as span_id,
        coalesce(
            try_cast(coalesce(notes.note ->> '$.created_at', notes.note ->> '$.ts') as timestamptz),
            {{ span_started_at('notes.span_json') }}
        ) as noted_at,
        coalesce(notes.note ->> '$.name', notes.note ->> '$."gen_ai.evaluation.name"') as note_name,
        coalesce(
            notes.note ->> '$.label',
            notes.note ->> '$.result.label',
            notes.note ->> '$."gen_ai.evaluation.score.label"'
        ) as note_label,
        try_cast(coalesce(
            notes.note ->> '$.score',
            notes.note ->> '$.result.score',
            notes.note ->> '$."gen_ai.evaluation.score.value"'
        ) as double) as note_score,
        coalesce(
            notes.note ->> '$.explanation', notes.note ->> '$.result.explanation',
            notes.note ->> '$."gen_ai.evaluation.explanation"'
        ) as explanation,
        upper(coalesce(notes.note ->> '$.annotator_kind', 'LLM')) = 'HUMAN' as by_human
    from notes
),

note_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case
            when by_human then 'human_reviews'
            when {{ polarity('note_label', 'note_score') }} is not null then 'user_feedback'
        end as stream,
        case
            when by_human
                then json_object(
                        'review_id', source_file || '#' || line_offset,
                        'run_id', coalesce(trace_id, source_file),
                        'ts', strftime(coalesce(noted_at, '1970-01-01'::timestamptz), '%Y-%m-%dT%H:%M:%S.%fZ'),
                        'reviewer', coalesce(note ->> '$.annotator', note_name),
                        'decision', case {{ polarity('note_label', 'note_score') }}
                            when 'up' then 'accept' when 'down' then 'reject' else 'unsure'
                        end,
                        'notes', explanation,
                        'span_id', span_id
                    )
            else json_object(
                    'feedback_id', source_file || '#' || line_offset,
                    'run_id', coalesce(trace_id, source_file),
                    'ts', strftime(coalesce(noted_at, '1970-01-01'::timestamptz), '%Y-%m-%dT%H:%M:%S.%fZ'),
                    'rating', {{ polarity('note_label', 'note_score') }},
                    'comment', concat_ws(': ', note_name, coalesce(note_label, note_score::varchar))
                    || coalesce(' (' || explanation || ')', ''),
                    'span_id', span_id
                )
        end as record
    from note_fields
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
        status_code in ('2', 'STATUS_CODE_ERROR', 'ERROR', 'StatusCode.ERROR') as is_status_error
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
),

trajectories as (
    -- SWE-agent: each step a tool run, the submission an auto_apply patch for the issue
    select
        *,
        regexp_extract(source_file, '([^/]+?)(\.traj|\.json)?$', 1) as instance,
        list_filter(
            json_extract(doc, '$.history[*]'),
            lambda m: (m ->> 'role') = 'user' and not coalesce((m ->> 'is_demo')::boolean, false)
        )[1] as first_user
    from units
    where format = 'swe_agent'
),

trajectory_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case unit_kind when 'swe_step' then 'tool_runs' when 'swe_submission' then 'auto_apply' end as stream,
        case unit_kind
            when 'swe_step'
                then json_object(
                        'tool_run_id', instance || ':step:' || line_offset,
                        'run_id', instance,
                        'ts', '1970-01-01T00:00:00Z',
                        'tool', 'swe-agent',
                        'command', trim(unit_json ->> '$.action'),
                        'stdout_tail', right(unit_json ->> '$.observation', 4000)
                    )
            else json_object(
                    'apply_id', instance,
                    'run_id', instance,
                    'ts', '1970-01-01T00:00:00Z',
                    'task', coalesce(first_user ->> '$.content', instance),
                    'patch', unit_json ->> '$.submission',
                    'applied',
                    (unit_json ->> '$.exit_status') = 'submitted' and (unit_json ->> '$.submission') is not null,
                    'exit_status', unit_json ->> '$.exit_status'
                )
        end as record
    from trajectories
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
),

mapped as (
    -- why a span maps to no stream, where the span says (the other formats map or not by kind)
    select * from span_records
    union all
    select
        *,
        null::varchar as unmapped_detail
    from note_records
    union all
    select
        *,
        null::varchar as unmapped_detail
    from openai_records
    union all
    select
        *,
        null::varchar as unmapped_detail
    from trajectory_records
    union all
    select
        *,
        null::varchar as unmapped_detail
    from event_records
    union all
    select
        *,
        null::varchar as unmapped_detail
    from sample_records
),

final as (
    select
        mapped.source_file,
        mapped.line_offset,
        mapped.stream,
        mapped.format,
        mapped.element,
        mapped.unmapped_detail,
        distill_sig_hash(mapped.unit_json::varchar) as sig_hash,
        -- where the record came from travels with it (it lands in evidence.extra)
        case when mapped.stream is not null
                then json_merge_patch(
                        mapped.record, json_object('_source_format', mapped.format, '_source_element', mapped.element)
                    )
        end as record,
        strlen(mapped.unit_json::varchar) as unit_bytes
    from mapped
)

select * from final
