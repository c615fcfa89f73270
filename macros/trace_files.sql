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

{% macro source_units() -%}
    {#- Everything the run read, one row per unit it must account for: the physical lines of the
        stream files and the units of the standard trace formats, with their text. -#}
    (
        select
            source_file,
            line_offset,
            try(decode(raw)) as unit_text
        from {{ ref('stg_source_lines') }}

        union all

        select
            source_file,
            line_offset,
            unit_json::varchar as unit_text
        from {{ ref('stg_trace_units') }}
    )
{%- endmacro %}

{% macro units_at(kind, path, label=none) -%}
    {#- The elements of `doc` at a JSON path, each tagged with its kind and the path it came
        from (`label`, when the unit is recorded under another path than it is read from). -#}
    [{ 'kind': '{{ kind }}', 'path': '{{ label or path }}', 'el': x } for x in json_extract(doc, '{{ path }}')]
{%- endmacro %}
