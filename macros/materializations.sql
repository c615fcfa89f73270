{#- A table model is replaced in one transaction: drop the old table, create the new one, commit
    (DuckDB's DDL is transactional: a build that fails leaves the old table as it was, as
    dbt-duckdb's own materialization does). dbt-duckdb creates the new table under another name
    and swaps it in with two renames and a drop, each one more statement and more of dbt's
    bookkeeping for every table of every build (docs/design.md, "Performance"). Incremental
    models keep dbt-duckdb's materialization: a Python model must be submitted by the
    materialization dbt calls, so it cannot be wrapped. -#}

{% materialization table, adapter="duckdb", supported_languages=['sql', 'python'] %}
    {%- set language = model['language'] -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- if existing_relation is not none -%}
        {%- call statement('drop_existing') -%}
            drop {{ existing_relation.type }} {{ existing_relation }}
        {%- endcall -%}
        {%- do adapter.cache_dropped(existing_relation) -%}
    {%- endif -%}
    {%- call statement('main', language=language) -%}
        {{- create_table_as(False, target_relation, compiled_code, language) }}
    {%- endcall -%}
    {%- do create_indexes(target_relation) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) -%}
    {%- do apply_grants(target_relation, config.get('grants'), should_revoke=should_revoke) -%}
    {%- do persist_docs(target_relation, model) -%}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
