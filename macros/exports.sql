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
        order the model was built in (its SQL ends in ORDER BY id; with preserve_insertion_order
        the table reads back in that order, which tests/exports_are_built_in_order.sql proves),
        so the texts are not sorted a second time. COPY of zero rows writes an empty file
        (unlike dbt-duckdb's external materialization). -#}
    copy (select * from {{ this }}) to '{{ output_path() }}/{{ export_path(this.name) }}' (format json)
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

{% macro write_format(format_name, path, columns) -%}
    {#- Post-hook: write a consumer format's file, with only the columns the format documents,
        when the format was asked for (var formats), in the order the model was built in (see
        write_jsonl). distill removes a stale copy otherwise. -#}
    {%- if format_name in var('formats', []) -%}
        copy (select {{ columns | join(', ') }} from {{ this }}) to '{{ output_path() }}/{{ path }}' (format json)
    {%- else -%}
        select 1 as nothing_to_write
    {%- endif -%}
{%- endmacro %}
