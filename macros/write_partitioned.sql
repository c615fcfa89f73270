{% macro write_partitioned(folder, date_column, order_by) -%}
    {#- Post-hook: copy the model to DISTILL_HOME/<folder>/day=YYYY-MM-DD/*.parquet (Hive style). -#}
    copy (
        select
            *,
            strftime({{ date_column }}, '%Y-%m-%d') as day
        from {{ this }}
        order by {{ order_by }}
    ) to '{{ home_path() }}/{{ folder }}' (
        format parquet,
        partition_by (day),
        overwrite true
    )
{%- endmacro %}
