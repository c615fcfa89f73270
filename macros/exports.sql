{% macro export_path(model) -%}
    {#- Where each export is written, relative to the home (SPEC §2). -#}
    {%- set paths = {
        'export_rag': 'exports/rag/playbooks.jsonl',
        'export_sft': 'exports/sft/instruction_response.jsonl',
        'export_preference': 'exports/preference/chosen_rejected.jsonl',
        'quarantine': 'exports/quarantine/quarantined.jsonl',
    } -%}
    {{- return(paths[model]) -}}
{%- endmacro %}

{% macro write_jsonl() -%}
    {#- Post-hook: write the model to its export file as JSON Lines, one object a row, in the
        order of its id (in_key_order). COPY of zero rows writes an empty file (unlike
        dbt-duckdb's external materialization). -#}
    {%- call on_one_thread() %}
    copy ({{ in_key_order(this, 'id') }}) to '{{ output_path() }}/{{ export_path(this.name) }}' (format json)
    {%- endcall %}
{%- endmacro %}

{% macro in_key_order(relation, key, columns=['*']) -%}
    {#- The rows of a stored table sorted by `key`, a make_id id (<prefix>_<hex digits>), one
        part after another: a sort held every row it sorted in memory (wide texts did not
        spill), so each part sorts about var export_rows_per_part rows (100,000), those whose id
        falls in one range of its first two hex digits, and UNION ALL keeps the parts in order.
        The ranges cover every string, whatever the key holds; how many parts is decided when
        the model runs, and the output is the same however many (test_formats.py proves it). -#}
    {%- set rows_per_part = var('export_rows_per_part', 100000) | int -%}
    {%- set parts, prefix = 1, '' -%}
    {%- if execute -%}
        {%- set found = run_query('select count(*), min(' ~ key ~ ') from ' ~ relation).rows[0] -%}
        {%- set parts = [[(found[0] + rows_per_part - 1) // rows_per_part, 1] | max, 256] | min -%}
        {%- set prefix = (found[1] or '').split('_')[0] ~ '_' -%}
    {%- endif -%}
    select * from (
    {%- for part in range(parts) %}
        (
            select {{ columns | join(', ') }} from {{ relation }}
            {%- if not loop.first %}
                where {{ key }} >= '{{ prefix }}{{ '%02x' | format(part * 256 // parts) }}'
            {%- endif %}
            {%- if not loop.last %}
                {{ 'and' if not loop.first else 'where' }}
                {{ key }} < '{{ prefix }}{{ '%02x' | format((part + 1) * 256 // parts) }}'
            {%- elif not loop.first %}
                or {{ key }} is null
            {%- endif %}
            order by {{ key }}
        )
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    )
{%- endmacro %}

{% macro export_rows(model) -%}
    {#- The export file as it lies on disk, typed: what the acceptance gate checks is what ships. -#}
    {%- set provenance = "STRUCT(run_ids VARCHAR[], evidence_ids VARCHAR[], source_lines VARCHAR[])" -%}
    {%- set columns = {
        'export_rag': {'id': 'VARCHAR', 'title': 'VARCHAR', 'text': 'VARCHAR', 'source_kind': 'VARCHAR',
                       'category': 'VARCHAR', 'tags': 'VARCHAR[]', 'provenance': provenance},
        'export_sft': {'id': 'VARCHAR', 'instruction': 'VARCHAR', 'response': 'VARCHAR',
                       'messages': 'STRUCT(role VARCHAR, content VARCHAR)[]', 'quality_score': 'VARCHAR',
                       'model': 'VARCHAR', 'provenance': provenance},
        'export_preference': {'id': 'VARCHAR', 'prompt': 'VARCHAR', 'chosen': 'VARCHAR', 'rejected': 'VARCHAR',
                              'chosen_run_id': 'VARCHAR', 'rejected_run_id': 'VARCHAR', 'provenance': provenance},
        'quarantine': {'id': 'VARCHAR', 'stage': 'VARCHAR', 'reason': 'VARCHAR', 'detail': 'VARCHAR',
                       'provenance': provenance},
    }[model] -%}
    read_json(
        '{{ output_path() }}/{{ export_path(model) }}',
        format = 'newline_delimited',
        columns = {
            {%- for name, type in columns.items() %}
            {{ name }}: '{{ type }}'{{ ',' if not loop.last }}
            {%- endfor %}
        }
    )
{%- endmacro %}

{% macro write_format(format_name, path, columns, key) -%}
    {#- Post-hook: write a consumer format's file, with only the columns the format documents,
        when the format was asked for (var formats), in the order of `key` (in_key_order).
        distill removes a stale copy otherwise. -#}
    {%- if format_name in var('formats', []) -%}
        {%- call on_one_thread() %}
        copy ({{ in_key_order(this, key, columns) }}) to '{{ output_path() }}/{{ path }}' (format json)
        {%- endcall %}
    {%- else -%}
        select 1 as nothing_to_write
    {%- endif -%}
{%- endmacro %}
