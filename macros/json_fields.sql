{#- A stream's fields are declared once at the top of its staging model as
    (name, type, required, allowed values) tuples; these macros turn them into typed columns,
    the first problem of a record, and the `extra` object of fields nobody declared. -#}

{% macro json_types(type) -%}
    {#- The json_type() names a declared field type accepts, as a SQL list. -#}
    {%- set names = {
        'string': ['VARCHAR'],
        'timestamp': ['VARCHAR'],
        'integer': ['BIGINT', 'UBIGINT'],
        'number': ['BIGINT', 'UBIGINT', 'DOUBLE'],
        'boolean': ['BOOLEAN'],
        'array': ['ARRAY'],
        'object': ['OBJECT'],
    } -%}
    {%- if type not in names -%}
        {{ exceptions.raise_compiler_error("unknown field type " ~ type) }}
    {%- endif -%}
    {{- return("'" ~ names[type] | join("', '") ~ "'") -}}
{%- endmacro %}

{% macro json_path(name) -%}
    '$."{{ name }}"'
{%- endmacro %}

{% macro json_value(record, name, type) -%}
    {%- set path = json_path(name) -%}
    {%- if type == 'string' -%}
        case when json_type({{ record }}, {{ path }}) = 'VARCHAR' then {{ record }} ->> {{ path }} end
    {%- elif type == 'timestamp' -%}
        {{ parse_timestamp(record ~ ' ->> ' ~ path) }}
    {%- elif type == 'integer' -%}
        case
            when json_type({{ record }}, {{ path }}) in ('BIGINT', 'UBIGINT')
                then try_cast({{ record }} ->> {{ path }} as bigint)
        end
    {%- elif type == 'number' -%}
        case
            when json_type({{ record }}, {{ path }}) in ('BIGINT', 'UBIGINT', 'DOUBLE')
                then try_cast({{ record }} ->> {{ path }} as double)
        end
    {%- elif type == 'boolean' -%}
        case when json_type({{ record }}, {{ path }}) = 'BOOLEAN' then ({{ record }} ->> {{ path }})::boolean end
    {%- elif type in ('array', 'object') -%}
        case when json_type({{ record }}, {{ path }}) = '{{ type | upper }}' then json_extract({{ record }}, {{ path }}) end
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown field type " ~ type) }}
    {%- endif -%}
{%- endmacro %}

{% macro parse_timestamp(text) -%}
    {#- ISO-8601 with any offset, read as UTC; no offset means UTC. -#}
    try_cast(try_cast({{ text }} as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro typed_columns(record, fields) -%}
    {%- for field in fields %}
        {{ json_value(record, field[0], field[1]) }} as {{ field[0] }},
    {%- endfor %}
{%- endmacro %}

{% macro field_problem(record, fields) -%}
    {#- A struct (reason, detail) for the first field that is missing, mistyped or out of range. -#}
    case
    {%- for field in fields %}
        {%- set name, type, required = field[0], field[1], field[2] %}
        {%- set path = json_path(name) %}
        {%- if required == 'required' %}
        when coalesce(json_type({{ record }}, {{ path }}), 'NULL') = 'NULL'
            then {'reason': 'missing_required', 'detail': 'required field "{{ name }}" is missing or null'}
        {%- endif %}
        when coalesce(json_type({{ record }}, {{ path }}), 'NULL') not in ('NULL', {{ json_types(type) }})
            then {'reason': 'wrong_type', 'detail': 'field "{{ name }}" should be {{ type }}, got ' || {{ json_type_name('json_type(' ~ record ~ ', ' ~ path ~ ')') }}}
        {%- if type == 'timestamp' %}
        when {{ record }} ->> {{ path }} is not null and {{ json_value(record, name, type) }} is null
            then {'reason': 'wrong_type', 'detail': 'field "{{ name }}" is not an ISO-8601 timestamp'}
        {%- endif %}
        {%- if field | length > 3 and field[3] is mapping %}
        when not ({{ json_value(record, name, type) }} between {{ field[3].min }} and {{ field[3].max }})
            then {'reason': 'invalid_value', 'detail': 'field "{{ name }}" must be between {{ field[3].min }} and {{ field[3].max }}'}
        {%- elif field | length > 3 %}
        when {{ record }} ->> {{ path }} not in ('{{ field[3] | join("', '") }}')
            then {'reason': 'invalid_value', 'detail': 'field "{{ name }}" must be one of {{ field[3] | join(", ") }}'}
        {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}

{% macro extra_fields(record, fields) -%}
    {#- The fields a stream does not declare, kept as one JSON object. -#}
    map_from_entries(
        list_filter(
            map_entries({{ record }}::map(varchar, json)),
            lambda entry: entry['key'] not in ('{{ fields | map(attribute=0) | join("', '") }}')
        )
    )::json
{%- endmacro %}

{% macro json_type_name(json_type) -%}
    {#- json_type()'s name for a value, in the words the field declarations use. -#}
    case {{ json_type }}
        when 'VARCHAR' then 'string'
        when 'BIGINT' then 'integer'
        when 'UBIGINT' then 'integer'
        when 'DOUBLE' then 'number'
        else lower({{ json_type }})
    end
{%- endmacro %}
