{% macro write_jsonl(path, order_by='id') -%}
    {#- Post-hook: write the model to DISTILL_HOME/<path> as JSON Lines, sorted, one object a row.
        COPY of zero rows writes an empty file (unlike dbt-duckdb's external materialization). -#}
    copy (
        select * from {{ this }}
        order by {{ order_by }}
    ) to '{{ home_path() }}/{{ path }}' (format json)
{%- endmacro %}
