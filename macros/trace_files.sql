{% macro trace_files() -%}
    {#- Every file of the standard trace formats (var trace_formats), whole: its format, its path
        relative to the home and its text; an empty relation when there are none (read_text
        fails on no match). A file matched by two formats is read as the first. -#}
    {%- set home = home_path() -%}
    {%- set selects = [] -%}
    {%- for format, globs in var('trace_formats', {}).items() -%}
        {%- for glob in globs -%}
            {%- set pattern = home ~ '/' ~ glob -%}
            {%- set found = execute and run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] > 0 -%}
            {%- if found -%}
                {%- do selects.append(
                    "select '" ~ format ~ "' as format, " ~ loop.index0 ~ " as glob_rank, filename, content"
                    ~ " from read_text('" ~ pattern ~ "')"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if selects -%}
        (
            select
                format,
                substr(filename, {{ home | length + 2 }}) as source_file,
                content
            from ({{ selects | join(' union all ') }})
            qualify row_number() over (partition by filename order by glob_rank) = 1
        )
    {%- else -%}
        (select null::varchar as format, null::varchar as source_file, null::varchar as content where false)
    {%- endif -%}
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
            then array_to_string(
                list_transform(
                    json_extract({{ message_json }}, '$.parts[*]'),
                    lambda part: coalesce(part ->> 'content', part ->> 'text', '')
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
