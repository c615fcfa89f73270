{#- distill's own materializations for DuckDB: a model's table is replaced in one transaction
    (drop the old table, create the new one, commit; DuckDB's DDL is transactional, so a build
    that fails leaves the old table as it was). dbt-duckdb's build the new table under another
    name and swap it in: two renames, a lookup and a drop of indexes, and a drop of the old table
    after the commit, each one more statement and more of dbt's bookkeeping for every table of
    every full build (docs/design.md, "Performance"). The two materializations below each
    create the table themselves, not through a shared macro: dbt submits a Python model's code
    only from a `statement` the materialization itself calls. -#}

{% macro drop_in_transaction(relation) -%}
    {#- Drop `relation`, if there is one, in the transaction that creates its replacement (it
        begins here), and forget it in dbt's relation cache. -#}
    {%- if relation is not none -%}
        {%- call statement('drop_existing', auto_begin=True) -%}
            drop {{ relation.type }} {{ relation }}
        {%- endcall -%}
        {%- do adapter.cache_dropped(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro finish_build(existing_relation, target_relation) -%}
    {#- What follows the create in a new table: indexes, grants and docs if configured. -#}
    {%- do create_indexes(target_relation) -%}
    {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) -%}
    {%- do apply_grants(target_relation, config.get('grants'), should_revoke=should_revoke) -%}
    {%- do persist_docs(target_relation, model) -%}
{%- endmacro %}


{% materialization table, adapter="duckdb", supported_languages=['sql', 'python'] %}
    {%- set language = model['language'] -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {{ drop_in_transaction(existing_relation) }}
    {%- call statement('main', language=language) -%}
        {{- create_table_as(False, target_relation, compiled_code, language) }}
    {%- endcall -%}
    {{ finish_build(existing_relation, target_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% materialization incremental, adapter="duckdb", supported_languages=['sql', 'python'] %}
    {#- A full build (no table yet, or --full-refresh) creates the table as the table
        materialization does. An incremental run stages the model's new rows in a table of their
        own, checks their columns against the table's (on_schema_change: fail, the only setting
        distill's models use), appends them and drops the staging table, all in one transaction
        (dbt-duckdb never dropped a Python model's, a regular table). Only the append strategy:
        every incremental model of distill appends, after its pre-hook deleted the rows it
        replaces. -#}
    {%- set language = model['language'] -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set strategy = config.get('incremental_strategy') or 'append' -%}
    {%- set on_schema_change = config.get('on_schema_change') or 'ignore' -%}
    {%- if strategy != 'append' or on_schema_change not in ('fail', 'ignore') -%}
        {{ exceptions.raise_compiler_error(
            "distill's incremental materialization (macros/materializations.sql) appends and checks "
            ~ "columns (incremental_strategy: append, on_schema_change: fail or ignore); " ~ this.identifier
            ~ " asks for " ~ strategy ~ " and " ~ on_schema_change) }}
    {%- endif -%}
    {%- set full = existing_relation is none or not existing_relation.is_table or should_full_refresh() -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- if full -%}
        {{ drop_in_transaction(existing_relation) }}
        {%- call statement('main', language=language) -%}
            {{- create_table_as(False, target_relation, compiled_code, language) }}
        {%- endcall -%}
        {{ finish_build(existing_relation, target_relation) }}
    {%- else -%}
        {#- a temporary table (a Python model writes a regular one whatever it is asked) -#}
        {%- set staged = make_temp_relation(target_relation) -%}
        {%- call statement('stage', language=language) -%}
            {{- create_table_as(True, staged, compiled_code, language) }}
        {%- endcall -%}
        {%- do process_schema_changes(on_schema_change, staged, existing_relation) -%}
        {%- set columns = adapter.get_columns_in_relation(existing_relation) -%}
        {%- call statement('main') -%}
            {{ get_insert_into_sql(target_relation, staged, columns) }}
        {%- endcall -%}
        {%- call statement('unstage') -%}
            drop table {{ staged }}
        {%- endcall -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
