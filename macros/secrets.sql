{% macro secret_patterns() -%}
    {#- The seed's (pattern_id, regex) rows, read when the model runs. The gate fails closed: with
        the seed not loaded, or empty, the model stops instead of letting every text through
        (only parsing, and linting against the empty lint database, see no patterns). The ref
        comes first so that dbt records the dependency. -#}
    {%- set seed = ref('secret_patterns') -%}
    {%- if model is defined and model.resource_type == 'unit_test' -%}
        {#- a unit test's ref is its given rows; the gate under test uses the seed as loaded -#}
        {%- set seed = adapter.get_relation(target.database, target.schema, 'secret_patterns') -%}
    {%- endif -%}
    {%- if not execute or target.name == 'lint' -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = [] if load_relation(seed) is none
        else run_query('select pattern_id, regex from ' ~ seed ~ ' order by pattern_id').rows -%}
    {%- if rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "the secret_patterns seed (seeds/secret_patterns.csv) is not loaded or is empty: "
            ~ "nothing is exported without it; run `distill run-all` or `dbt build` (which loads seeds first)") }}
    {%- endif -%}
    {{ return(rows) }}
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

{% macro string_leaves(json_value) -%}
    {#- Every string value anywhere in a JSON document, decoded and joined by newlines: what a
        secret scan of a whole row reads (ids, names, provenance and texts alike). -#}
    array_to_string(
        list_transform(
            list_filter(json_extract({{ json_value }}, '$..*'), lambda leaf: json_type(leaf) = 'VARCHAR'),
            lambda leaf: leaf ->> '$'
        ),
        chr(10)
    )
{%- endmacro %}
