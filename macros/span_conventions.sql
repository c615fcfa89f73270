{#- The attribute conventions of the common LLM instrumentations, read from a span's attributes
    (`attrs`, one JSON object) and events (`events`, a JSON list): which attribute becomes which
    field is tabled in docs/trace-formats.md, "Attribute conventions". Each macro tries the conventions in
    one order: OpenTelemetry GenAI (current), the Vercel AI SDK, OpenInference, OpenLLMetry /
    Traceloop and the deprecated indexed gen_ai.prompt/gen_ai.completion attributes, then span
    events. -#}

{% macro declared(field) -%}
    {#- The attributes a project declares for a field (var span_attributes), tried first. -#}
    {%- for name in var('span_attributes', {}).get(field, []) or [] -%}{{ attr(name) }}, {% endfor -%}
{%- endmacro %}

{% macro attr(name) -%}
    {#- One attribute as text (names hold dots, so they are quoted as one JSON key). -#}
    (attrs ->> '$."{{ name }}"')
{%- endmacro %}

{% macro json_attr(name) -%}
    {#- One attribute as JSON: a value that is a JSON text in a string (OTLP carries lists and
        objects so) is parsed; anything else as is. -#}
    case
        when json_type(attrs, '$."{{ name }}"') = 'VARCHAR' and json_valid(attrs ->> '$."{{ name }}"')
            then (attrs ->> '$."{{ name }}"')::json
        else attrs -> '$."{{ name }}"'
    end
{%- endmacro %}

{% macro indexed_messages(prefix, suffix) -%}
    {#- Messages flattened into indexed attributes, `<prefix>.<i>.<suffix>role` and
        `...content`, from 0 up to the last index that has a role or a content. -#}
    {%- set pattern = '^' ~ prefix | replace('.', '\\.') ~ '\\.(\\d+)\\.' ~ suffix | replace('.', '\\.') ~ '(role|content)$' -%}
    case
        when list_has_any(json_keys(attrs), ['{{ prefix }}.0.{{ suffix }}role', '{{ prefix }}.0.{{ suffix }}content'])
            then to_json(list_transform(
                    range(0, 1 + list_max(list_transform(
                        list_filter(json_keys(attrs), lambda k: regexp_matches(k, '{{ pattern }}')),
                        lambda k: regexp_extract(k, '{{ pattern }}', 1)::int
                    ))),
                    lambda i: {
                        'role': attrs ->> ('$."{{ prefix }}.' || i || '.{{ suffix }}role"'),
                        'content': coalesce(
                            attrs ->> ('$."{{ prefix }}.' || i || '.{{ suffix }}content"'),
                            attrs ->> ('$."{{ prefix }}.' || i || '.{{ suffix }}contents.0.message_content.text"')
                        )
                    }
                ))
    end
{%- endmacro %}

{% macro vercel_prompt() -%}
    {#- The Vercel AI SDK's top-level `ai.prompt`: {system, prompt} or {system, messages}. -#}
    case
        when {{ json_attr('ai.prompt') }} is not null and json_type({{ json_attr('ai.prompt') }}) = 'OBJECT'
            then to_json(list_concat(
                    case when ({{ json_attr('ai.prompt') }} ->> '$.system') is not null
                            then [{'role': 'system', 'content': {{ json_attr('ai.prompt') }} ->> '$.system'}]
                        else []
                    end,
                    case
                        when json_type({{ json_attr('ai.prompt') }}, '$.messages') = 'ARRAY'
                            then from_json({{ chat_messages(json_attr('ai.prompt') ~ " -> '$.messages'") }},
                                           '{{ message_list_type() }}')
                        when ({{ json_attr('ai.prompt') }} ->> '$.prompt') is not null
                            then [{'role': 'user', 'content': {{ json_attr('ai.prompt') }} ->> '$.prompt'}]
                        else []
                    end
                ))
    end
{%- endmacro %}

{% macro message_list_type() -%}
    [{"role": "VARCHAR", "content": "VARCHAR"}]
{%- endmacro %}

{% macro span_messages() -%}
    {#- The prompt as [{role, content}] JSON, by the first convention the span carries. -#}
    coalesce(
        {%- for name in var('span_attributes', {}).get('prompt', []) or [] %}
        case when {{ attr(name) }} is not null then to_json([{'role': 'user', 'content': {{ attr(name) }}}]) end,
        {%- endfor %}
        case
            when {{ json_attr('gen_ai.input.messages') }} is not null
                then to_json(list_concat(
                        case when {{ system_instructions() }} is not null
                                then [{'role': 'system', 'content': {{ system_instructions() }}}]
                            else []
                        end,
                        from_json({{ chat_messages(json_attr('gen_ai.input.messages')) }}, '{{ message_list_type() }}')
                    ))
        end,
        case
            when {{ json_attr('ai.prompt.messages') }} is not null
                then {{ chat_messages(json_attr('ai.prompt.messages')) }}
        end,
        {{ vercel_prompt() }},
        {{ indexed_messages('llm.input_messages', 'message.') }},
        {{ indexed_messages('gen_ai.prompt', '') }},
        -- span events: gen_ai.<role>.message, content in the event's attributes
        nullif(to_json(list_transform(
            list_filter(
                json_extract(events, '$[*]'),
                lambda e: regexp_matches(e ->> 'name', '^gen_ai\.(system|user|assistant|tool)\.message$')
            ),
            lambda e: {
                'role': regexp_extract(e ->> 'name', '^gen_ai\.(\w+)\.message$', 1),
                'content': coalesce(e ->> '$.attributes.content', e ->> '$.attributes[0].value.stringValue')
            }
        )), '[]'),
        case when {{ attr('input.value') }} is not null
                then to_json([{'role': 'user', 'content': {{ attr('input.value') }}}])
        end
    )
{%- endmacro %}

{% macro system_instructions() -%}
    {#- OpenTelemetry GenAI's `gen_ai.system_instructions` (a list of parts) as one text. -#}
    case
        when json_type({{ json_attr('gen_ai.system_instructions') }}) = 'ARRAY'
            then array_to_string(list_transform(
                    json_extract({{ json_attr('gen_ai.system_instructions') }}, '$[*]'),
                    lambda p: coalesce(p ->> 'content', p ->> 'text', '')
                ), '')
        else {{ attr('gen_ai.system_instructions') }}
    end
{%- endmacro %}

{% macro span_completion() -%}
    {#- The response text, by the first convention the span carries. -#}
    coalesce(
        {{ declared('completion') }}
        case when {{ json_attr('gen_ai.output.messages') }} is not null
                then ({{ chat_messages(json_attr('gen_ai.output.messages')) }}) ->> '$[-1].content'
        end,
        {{ attr('ai.response.text') }},
        {{ attr('ai.response.object') }},
        {{ attr('llm.output_messages.0.message.content') }},
        {{ attr('llm.output_messages.0.message.contents.0.message_content.text') }},
        {{ attr('gen_ai.completion.0.content') }},
        {{ attr('gen_ai.completion') }},
        list_filter(json_extract(events, '$[*]'), lambda e: (e ->> 'name') = 'gen_ai.choice')[1]
        ->> '$.attributes."message.content"',
        {{ attr('output.value') }}
    )
{%- endmacro %}

{% macro span_finish_reason() -%}
    coalesce(
        attrs ->> '$."gen_ai.response.finish_reasons"[0]',
        attrs ->> '$."gen_ai.response.finish_reasons".values[0].stringValue',
        {{ json_attr('gen_ai.response.finish_reasons') }} ->> '$[0]',
        {{ json_attr('gen_ai.output.messages') }} ->> '$[-1].finish_reason',
        {{ attr('ai.response.finishReason') }},
        {{ attr('gen_ai.completion.0.finish_reason') }},
        {{ attr('llm.response.finish_reason') }}
    )
{%- endmacro %}

{% macro span_tokens(which) -%}
    {#- Prompt (which='input') or completion (which='output') tokens. -#}
    {%- set names = {
        'input': ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt',
                  'ai.usage.inputTokens', 'ai.usage.promptTokens', 'llm.usage.prompt_tokens'],
        'output': ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion',
                   'ai.usage.outputTokens', 'ai.usage.completionTokens', 'llm.usage.completion_tokens'],
    }[which] -%}
    coalesce({% for name in names %}try_cast({{ attr(name) }} as bigint){{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro span_operation() -%}
    {#- What the span does, as one word: chat (a text generation), tool, embeddings (vectors,
        retrieval or reranking: not a text generation), or null when it does not say. -#}
    case
        when {{ attr('openinference.span.kind') }} = 'TOOL'
            or {{ attr('gen_ai.operation.name') }} = 'execute_tool'
            or lower({{ attr('traceloop.span.kind') }}) = 'tool'
            or {{ attr('ai.operationId') }} = 'ai.toolCall'
            then 'tool'
        when {{ attr('openinference.span.kind') }} in ('EMBEDDING', 'RETRIEVER', 'RERANKER')
            or {{ attr('gen_ai.operation.name') }} in ('embeddings', 'embedding')
            or {{ attr('llm.request.type') }} in ('embedding', 'rerank')
            or {{ attr('ai.operationId') }} like 'ai.embed%'
            then 'embeddings'
        when {{ attr('openinference.span.kind') }} = 'LLM'
            or {{ attr('gen_ai.operation.name') }} in ('chat', 'text_completion', 'generate_content')
            or {{ attr('llm.request.type') }} in ('chat', 'completion')
            or regexp_matches({{ attr('ai.operationId') }}, '^ai\.(generate|stream)(Text|Object)')
            then 'chat'
    end
{%- endmacro %}

{% macro span_tool(which) -%}
    {#- A tool span's name, input (the call's arguments) or output (its result). -#}
    {%- set names = {
        'name': ['tool.name', 'gen_ai.tool.name', 'ai.toolCall.name', 'traceloop.entity.name'],
        'input': ['input.value', 'gen_ai.tool.call.arguments', 'ai.toolCall.args', 'traceloop.entity.input', 'tool.parameters'],
        'output': ['output.value', 'gen_ai.tool.call.result', 'ai.toolCall.result', 'traceloop.entity.output'],
    }[which] -%}
    coalesce({% for name in names %}{{ attr(name) }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro span_exception() -%}
    {#- The message of a span's first exception event (OTel `exception`), if it has one. -#}
    coalesce(
        list_transform(
            list_filter(json_extract(events, '$[*]'), lambda e: (e ->> 'name') = 'exception'),
            lambda e: {{ otel_attributes('e') }} ->> '$."exception.message"'
        )[1],
        case
            when len(list_filter(json_extract(events, '$[*]'), lambda e: (e ->> 'name') = 'exception')) > 0
                then 'exception'
        end
    )
{%- endmacro %}

{% macro is_span_note(relation=none) -%}
    {#- A unit that is a judgement of a span, not a span: an annotation or evaluation the reader
        split out, or an OpenInference annotation record (a span_id and a result object). -#}
    {%- set p = relation ~ '.' if relation else '' -%}
    (
        {{ p }}unit_kind in ('annotation', 'evaluation')
        or (
            {{ p }}format = 'openinference' and {{ p }}unit_kind = 'item'
            and json_type({{ p }}unit_json, '$.result') = 'OBJECT'
            and ({{ p }}unit_json ->> '$.span_id') is not null
        )
    )
{%- endmacro %}
