{% macro write_partitioned(folder, date_column, order_by, delta_days) -%}
    {#- Post-hook: copy the model to DISTILL_HOME/<folder>/day=YYYY-MM-DD/data_0.parquet (Hive
        style): every day on a full build, on a delta run only the days `delta_days` (a query)
        lists (distill carries the others). Rows arrive a day at a time, few writers are open at
        once and they flush small, so memory stays bounded over thousands of days; one thread,
        so each day is exactly one file, the same file every run. -#}
    set partitioned_write_max_open_files = 4;
    set partitioned_write_flush_threshold = 10000;
    {%- call on_one_thread() %}
    copy (
        select
            *,
            strftime({{ date_column }}, '%Y-%m-%d') as day
        from {{ this }}
        {%- if in_delta() %}
            where {{ date_column }}::date in ({{ delta_days }})
        {%- endif %}
        order by day, {{ order_by }}
    ) to '{{ output_path() }}/{{ folder }}' (
        format parquet,
        partition_by (day),
        overwrite true
    )
    {%- endcall %}
{%- endmacro %}

{% macro on_one_thread() -%}
    {#- Run a COPY on one DuckDB thread, then go back to the threads distill's plugin set. A
        COPY that keeps the row order buffers the batches that finish out of turn outside
        DuckDB's memory limit: at four million lines the SFT file's copy peaked at 2.0 GB on two
        threads and 1.2 GB on one, and one thread was faster. (DuckDB's threads are one setting
        for the whole database: a node running beside it runs on one thread meanwhile.) Back to
        DuckDB's threads of the plugin, not dbt's: with dbt on one thread (a large home), every
        node after the first COPY ran on one DuckDB thread. -#}
    set threads = 1;
    {{ caller() }};
    set threads = {{ duckdb_threads() }}
{%- endmacro %}

{% macro duckdb_threads() -%}
    {#- DuckDB's threads as distill's plugin sets them (distill.dbt.duckdb_threads), read when
        the hook runs: an env_var read at parse time would make dbt parse the models that write
        parts again whenever the threads differ from the last command's (as run_var). -#}
    {{- (env_var('DISTILL_DUCKDB_THREADS', '2') if execute else 2) | int -}}
{%- endmacro %}

{% macro read_partitions(folder, columns) -%}
    {#- The Hive-partitioned Parquet files under DISTILL_HOME/<folder>, or an empty relation of
        the given (name, type) columns when there are none (read_parquet fails on no match). -#}
    {%- set pattern = output_path() ~ '/' ~ folder ~ '/*/*.parquet' -%}
    {%- set found = execute and run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] > 0 -%}
    {%- if found -%}
        read_parquet('{{ pattern }}', hive_partitioning = true)
    {%- else -%}
        (select {% for name, type in columns %}null::{{ type }} as {{ name }}{{ ', ' if not loop.last }}{% endfor %} where false)
    {%- endif -%}
{%- endmacro %}
