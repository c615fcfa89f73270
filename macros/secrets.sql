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
    {#- The id of the first secret pattern the text matches, or null. One RE2 pass over all the
        patterns at once; only a text that matches one is tried pattern by pattern. -#}
    {%- set patterns = secret_patterns() -%}
    {%- if patterns | length == 0 -%}
        null::varchar
    {%- else -%}
        case when regexp_matches({{ text }}, '
            {%- for pattern in patterns -%}
                (?:{{ pattern[1] | replace("'", "''") }}){{ '|' if not loop.last }}
            {%- endfor -%}
        ') then
            case
            {%- for pattern in patterns %}
                when regexp_matches({{ text }}, '{{ pattern[1] | replace("'", "''") }}') then '{{ pattern[0] }}'
            {%- endfor %}
            end
        end
    {%- endif -%}
{%- endmacro %}
