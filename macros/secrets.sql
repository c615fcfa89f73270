{% macro secret_patterns() -%}
    {#- The seed's (pattern_id, regex) rows, read when the model runs (empty while parsing;
        the ref comes first so that dbt records the dependency). -#}
    {%- set seed = ref('secret_patterns') -%}
    {%- if not execute or load_relation(seed) is none -%}
        {#- while parsing, or linting against an empty database: no patterns to inline -#}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query('select pattern_id, regex from ' ~ seed ~ ' order by pattern_id') -%}
    {{ return(rows.rows) }}
{%- endmacro %}

{% macro matched_secret(text) -%}
    {#- The id of the first secret pattern the text matches, or null. One RE2 match per pattern. -#}
    {%- set patterns = secret_patterns() -%}
    {%- if patterns | length == 0 -%}
        null::varchar
    {%- else -%}
        case
        {%- for pattern in patterns %}
            when regexp_matches({{ text }}, '{{ pattern[1] | replace("'", "''") }}') then '{{ pattern[0] }}'
        {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}
