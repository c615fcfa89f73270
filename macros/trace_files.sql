{% macro trace_files() -%}
    {#- Every trace-format file (var trace_files: globs under the home), whole: its path relative
        to the home, its text (a .gz decompressed) or why it has none, and the format its folder
        hints at (var trace_formats). The stream files directly in data/_kb are the line
        reader's, not these. An empty relation when there are none. -#}
    {%- set home = home_path() -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for glob in var('trace_files', []) -%}
            {%- set rows = run_query("select file from glob('" ~ home ~ "/" ~ glob ~ "') order by file").columns[0].values() -%}
            {%- for file in rows -%}
                {%- set name = file[home | length + 1:] -%}
                {%- if not modules.re.match('^data/_kb/[^/]+[.]jsonl([.]gz)?$', name) and file not in found -%}
                    {%- do found.append(file) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if found -%}
        (
            select
                substr(filename, {{ home | length + 2 }}) as source_file,
                distill_trace_text(filename, content) as decoded,
                case
                    {%- for format, folders in var('trace_formats', {}).items() %}
                    {%- for folder in folders %}
                    when substr(filename, {{ home | length + 2 }}) like '{{ folder }}%' then '{{ format }}'
                    {%- endfor %}
                    {%- endfor %}
                end as hinted_format
            from read_blob([{% for file in found %}'{{ file | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %}])
        )
    {%- else -%}
        (select null::varchar as source_file, null::struct(text varchar, problem varchar) as decoded,
            null::varchar as hinted_format where false)
    {%- endif -%}
{%- endmacro %}

{% macro concatenated_as_list(text) -%}
    {#- Concatenated JSON objects (one after another on their own lines) as one JSON list: a line
        break cannot sit inside a JSON string, so `}` + line break + `{` only joins two values. -#}
    '[' || regexp_replace({{ text }}, '\}[ \t\r]*\n\s*\{', '},{', 'g') || ']'
{%- endmacro %}

{% macro content_format(doc, source_file, hint) -%}
    {#- The trace format a JSON document is in, by what it holds; the folder's hint when the
        content says nothing (docs/trace-formats: "Formats by content"). -#}
    {%- set first = "(case when json_type(" ~ doc ~ ") = 'ARRAY' then " ~ doc ~ " -> '$[0]' else " ~ doc ~ " end)" -%}
    case
        when {{ source_file }} like '%.traj' or json_type({{ doc }}, '$.trajectory') = 'ARRAY' then 'swe_agent'
        when json_type({{ doc }}, '$.samples') = 'ARRAY' and json_type({{ doc }}, '$.eval') = 'OBJECT' then 'inspect'
        when json_type({{ doc }}, '$.resourceSpans') = 'ARRAY' then 'otel'
        when json_type({{ doc }}) = 'ARRAY'
            and (json_type({{ first }}, '$.action') = 'VARCHAR' or json_type({{ first }}, '$.observation') = 'VARCHAR')
            then 'openhands'
        when json_type({{ first }}, '$.request') = 'OBJECT' or json_type({{ first }}, '$.choices') = 'ARRAY'
            or (json_type({{ first }}, '$.messages') = 'ARRAY' and json_type({{ first }}, '$.response.choices') = 'ARRAY')
            then 'openai_logs'
        -- spans: OpenInference's own attributes or annotation records, else OpenTelemetry
        when json_type({{ first }}) = 'OBJECT' and (
                list_has_any(json_keys({{ first }}, '$.attributes'), ['openinference.span.kind'])
                or list_has_any(json_keys({{ first }}), ['openinference.span.kind'])
                or (json_type({{ first }}, '$.result') = 'OBJECT' and ({{ first }} ->> '$.span_id') is not null)
            ) then 'openinference'
        when json_type({{ first }}) = 'OBJECT' and (
                json_type({{ first }}, '$.attributes') in ('OBJECT', 'ARRAY')
                or ({{ first }} -> '$.spanContext') is not null
                or ({{ first }} -> '$.context.trace_id') is not null
                or len(list_filter(
                    json_keys({{ first }}), lambda k: regexp_matches(k, '^(gen_ai|llm|ai|traceloop)\.')
                )) > 0
            ) then 'otel'
        else {{ hint }}
    end
{%- endmacro %}

{% macro message_text(message_json) -%}
    {#- A chat message's content as text: a string as is, a list of parts joined (text parts). -#}
    case
        when json_type({{ message_json }}, '$.content') = 'ARRAY'
            then array_to_string(
                list_transform(
                    json_extract({{ message_json }}, '$.content[*]'),
                    lambda part: coalesce(part ->> 'text', part ->> 'content', '')
                ),
                ''
            )
        when json_type({{ message_json }}, '$.parts') = 'ARRAY'
            -- OpenTelemetry GenAI parts: text, and a tool call or its result written out
            then array_to_string(
                list_transform(
                    json_extract({{ message_json }}, '$.parts[*]'),
                    lambda part: case part ->> 'type'
                        when 'tool_call'
                            then '[tool call ' || coalesce(part ->> 'name', '?') || ' '
                                || coalesce((part -> 'arguments')::varchar, '{}') || ']'
                        when 'tool_call_response'
                            then '[tool result ' || coalesce(part ->> 'response', (part -> 'result')::varchar, '') || ']'
                        else coalesce(part ->> 'content', part ->> 'text', '')
                    end
                ),
                ''
            )
        else {{ message_json }} ->> '$.content'
    end
{%- endmacro %}

{% macro chat_messages(list_json) -%}
    {#- A JSON list of chat messages (or a JSON string holding one) as [{role, content}] text. -#}
    to_json(list_transform(
        json_extract(
            case when json_type({{ list_json }}) = 'VARCHAR' then ({{ list_json }} ->> '$')::json else {{ list_json }} end,
            '$[*]'
        ),
        lambda m: {'role': m ->> 'role', 'content': {{ message_text('m') }}}
    ))
{%- endmacro %}

{% macro finish_reason(raw) -%}
    {#- A provider's stop reason as one of the gateway's four (null when it maps to none). -#}
    case
        when lower({{ raw }}) in ('stop', 'end_turn', 'stop_sequence', 'completed', 'eos') then 'stop'
        when lower({{ raw }}) in ('length', 'max_tokens', 'model_length') then 'length'
        when lower({{ raw }}) in ('tool_calls', 'tool-calls', 'tool_use', 'function_call') then 'tool_calls'
        when lower({{ raw }}) in ('error') then 'error'
    end
{%- endmacro %}

{% macro iso_ts(raw) -%}
    {#- An ISO-8601 text (no zone: UTC) as the stream's ts; undated units get the epoch. -#}
    strftime(coalesce(try_cast({{ raw }} as timestamptz), '1970-01-01'::timestamptz), '%Y-%m-%dT%H:%M:%S.%fZ')
{%- endmacro %}


{% macro numbered(list_expr) -%}
    {#- A list as [(element, 1-based position)], for lambdas that need both. -#}
    list_zip({{ list_expr }}, range(1, len({{ list_expr }}) + 1))
{%- endmacro %}

{% macro units_at(kind, path, sub='null') -%}
    {#- The elements of `doc` at a JSON path, as units: kind, path, n (the 1-based match), sub (a
        path within the match that is the unit itself), el (the match), span (null here). -#}
    {%- if '[*]' in path -%}
        list_transform(
            {{ numbered("json_extract(doc, '" ~ path ~ "')") }},
            lambda x: {
                'kind': '{{ kind }}', 'path': '{{ path }}', 'n': x[2]::bigint, 'sub': {{ sub }}::varchar,
                'el': x[1], 'span': null::json
            }
        )
    {%- else -%}
        [{
            'kind': '{{ kind }}', 'path': '{{ path }}', 'n': 1::bigint, 'sub': {{ sub }}::varchar,
            'el': coalesce(json_extract(doc, '{{ path }}'), '{}'::json), 'span': null::json
        }]
    {%- endif -%}
{%- endmacro %}

{% macro span_units(path) -%}
    {#- The spans (or log records) at a JSON path of `doc`, and the annotations (`annotations[]`)
        and evaluation results (`gen_ai.evaluation.result` events) attached to each. -#}
    {%- set spans = "json_extract(doc, '" ~ path ~ "')" if '[*]' in path else "[doc]" -%}
    list_concat(
        {{ units_at('item', path) }},
        {%- for kind, member in [('annotation', 'annotations'), ('evaluation', 'events')] %}
        flatten(list_transform(
            {{ numbered(spans) }},
            lambda s: list_filter(
                list_transform(
                    {{ numbered("coalesce(json_extract(s[1], '$." ~ member ~ "[*]'), [])") }},
                    lambda x: {
                        'kind': '{{ kind }}', 'path': '{{ path }}', 'n': s[2]::bigint,
                        'sub': '$.{{ member }}[' || (x[2] - 1) || ']', 'el': s[1], 'span': s[1]
                    }
                ),
                {%- if kind == 'evaluation' %}
                lambda u: (s[1] -> struct_extract(u, 'sub') ->> 'name') = 'gen_ai.evaluation.result'
                {%- else %}
                lambda u: true
                {%- endif %}
            )
        )){{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro otel_attributes(span) -%}
    {#- A span's (or event's) attributes as one JSON object: OTLP key/value lists are folded,
        an attributes object is taken as is, and anything else is a bare attribute map. -#}
    case
        when json_type({{ span }}, '$.attributes') = 'ARRAY' and json_array_length({{ span }}, '$.attributes') > 0
            then to_json(map_from_entries(list_transform(
                json_extract({{ span }}, '$.attributes[*]'),
                lambda a: { 'k': a ->> 'key', 'v': coalesce(
                    a -> '$.value.stringValue', a -> '$.value.intValue', a -> '$.value.doubleValue',
                    a -> '$.value.boolValue', a -> '$.value.arrayValue'
                ) }
            )))
        when json_type({{ span }}, '$.attributes') = 'OBJECT' then {{ span }} -> '$.attributes'
        else {{ span }}
    end
{%- endmacro %}

{% macro span_field(span, which) -%}
    {#- A span's trace id (which='trace') or span id (which='span'), whatever the exporter. -#}
    {%- set name = {'trace': ['traceId', 'trace_id'], 'span': ['spanId', 'span_id']}[which] -%}
    coalesce(
        {{ span }} ->> '$.{{ name[0] }}', {{ span }} ->> '$.spanContext.{{ name[0] }}',
        {{ span }} ->> '$.context.{{ name[1] }}', {{ span }} ->> '$.{{ name[1] }}'
    )
{%- endmacro %}

{% macro span_started_at(span) -%}
    {#- When a span started: OTLP nanoseconds, an SDK HrTime [seconds, nanoseconds] or ISO text. -#}
    coalesce(
        to_timestamp(try_cast({{ span }} ->> '$.startTimeUnixNano' as double) / 1e9),
        to_timestamp(
            try_cast({{ span }} ->> '$.startTime[0]' as double)
            + coalesce(try_cast({{ span }} ->> '$.startTime[1]' as double), 0) / 1e9
        ),
        try_cast({{ span }} ->> '$.start_time' as timestamptz)
    )
{%- endmacro %}

{% macro polarity(label, score) -%}
    {#- An annotation's verdict: up, down, or null when neither its label nor its score says. -#}
    case
        when lower({{ label }}) in (
            'correct', 'pass', 'passed', 'good', 'thumbs_up', 'up', 'accept', 'yes', 'true', 'relevant', 'factual'
        ) then 'up'
        when lower({{ label }}) in (
            'incorrect', 'fail', 'failed', 'bad', 'thumbs_down', 'down', 'reject', 'no', 'false', 'irrelevant',
            'hallucinated', 'unfactual'
        ) then 'down'
        when {{ score }} >= 0.5 then 'up'
        when {{ score }} < 0.5 then 'down'
    end
{%- endmacro %}

{% macro trace_format_output(records, unmapped_detail='null::varchar') -%}
    {#- The columns every trace-format model ends with, in the order base_trace_records' union
        lines them up: the unit, where it sits, the stream it maps to, why it maps to none, and
        its record (none for a unit that maps to no stream). -#}
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        stream,
        {{ unmapped_detail }} as unmapped_detail,
        case when stream is not null then record end as record
    from {{ records }}
{%- endmacro %}
