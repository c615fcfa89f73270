{#- A stream's fields are declared once at the top of its staging model as
    (name, type, required, allowed values) tuples; these macros turn them into typed columns,
    the first problem of a record, and the `extra` object of fields nobody declared.
    A record is parsed once, into a map of its members (`record_members`); every field is then
    read from that map, so a wide record is never parsed again per field. -#}

{% macro record_members(record) -%}
    {#- The record's members as MAP(VARCHAR, JSON): one parse (a JSON null member maps to NULL). -#}
    {{ record }}::map(varchar, json)
{%- endmacro %}

{% macro member(members, name) -%}
    map_extract_value({{ members }}, '{{ name }}')
{%- endmacro %}

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

{% macro json_value(members, name, type) -%}
    {%- set value = member(members, name) -%}
    {%- if type == 'string' -%}
        case when json_type({{ value }}) = 'VARCHAR' then {{ value }} ->> '$' end
    {%- elif type == 'timestamp' -%}
        {{ parse_timestamp(value ~ " ->> '$'") }}
    {%- elif type == 'integer' -%}
        case
            when json_type({{ value }}) in ('BIGINT', 'UBIGINT')
                then try_cast({{ value }} ->> '$' as bigint)
        end
    {%- elif type == 'number' -%}
        case
            when json_type({{ value }}) in ('BIGINT', 'UBIGINT', 'DOUBLE')
                then try_cast({{ value }} ->> '$' as double)
        end
    {%- elif type == 'boolean' -%}
        case when json_type({{ value }}) = 'BOOLEAN' then ({{ value }} ->> '$')::boolean end
    {%- elif type in ('array', 'object') -%}
        case when json_type({{ value }}) = '{{ type | upper }}' then {{ value }} end
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown field type " ~ type) }}
    {%- endif -%}
{%- endmacro %}

{% macro parse_timestamp(text) -%}
    {#- ISO-8601 with any offset, read as UTC; no offset means UTC. -#}
    try_cast(try_cast({{ text }} as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro typed_columns(members, fields) -%}
    {%- for field in fields %}
        {{ json_value(members, field[0], field[1]) }} as {{ field[0] }},
    {%- endfor %}
{%- endmacro %}

{% macro field_problem(members, fields) -%}
    {#- A struct (reason, detail) for the first field that is missing, mistyped or out of range. -#}
    case
    {%- for field in fields %}
        {%- set name, type, required = field[0], field[1], field[2] %}
        {%- set value = member(members, name) %}
        {%- if required == 'required' %}
        when coalesce(json_type({{ value }}), 'NULL') = 'NULL'
            then {'reason': 'missing_required', 'detail': 'required field "{{ name }}" is missing or null'}
        {%- endif %}
        when coalesce(json_type({{ value }}), 'NULL') not in ('NULL', {{ json_types(type) }})
            then {'reason': 'wrong_type', 'detail': 'field "{{ name }}" should be {{ type }}, got ' || {{ json_type_name('json_type(' ~ value ~ ')') }}}
        {%- if type == 'timestamp' %}
        when {{ value }} ->> '$' is not null and {{ json_value(members, name, type) }} is null
            then {'reason': 'wrong_type', 'detail': 'field "{{ name }}" is not an ISO-8601 timestamp'}
        {%- endif %}
        {%- if field | length > 3 and field[3] is mapping %}
        when not ({{ json_value(members, name, type) }} between {{ field[3].min }} and {{ field[3].max }})
            then {'reason': 'invalid_value', 'detail': 'field "{{ name }}" must be between {{ field[3].min }} and {{ field[3].max }}'}
        {%- elif field | length > 3 %}
        when {{ value }} ->> '$' not in ('{{ field[3] | join("', '") }}')
            then {'reason': 'invalid_value', 'detail': 'field "{{ name }}" must be one of {{ field[3] | join(", ") }}'}
        {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}

{% macro extra_fields(members, fields) -%}
    {#- The fields a stream does not declare, kept as one JSON object. -#}
    map_from_entries(
        list_filter(
            map_entries({{ members }}),
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
