-- The counts a run reports, one row per (metric, item): what was read, kept, skipped and pending,
-- what was scored and how, what each export admitted and wrote, what was held back and why.
-- The run summary, the receipts, drift and audit-full read this view, not the tables. A stage
-- run builds it too, before later stages have tables: a table not built yet is not counted.
{{ config(materialized='view') }}

{%- set built = {} %}
{%- for model in ['base_source_records', 'evidence', 'skipped_lines', 'pending_lines',
    'int_evidence_joined_to_runs', 'scored_runs', 'int_export_gates', 'quarantine'] + (var('exports') | list) %}
    {%- set relation = ref(model) %}
    {%- if not execute or load_relation(relation) is not none %}
        {%- do built.update({model: relation}) %}
    {%- endif %}
{%- endfor %}

with counted as (
    select
        null::varchar as metric,
        null::varchar as item,
        null::bigint as n
    where false
    {%- if 'base_source_records' in built %}
        union all
        select
            'source_files',
            null,
            count(distinct source_file)
        from {{ built['base_source_records'] }}
        union all
        select
            'source_lines',
            null,
            count(*)
        from {{ built['base_source_records'] }}
    {%- endif %}
    {%- for model, metric in [('evidence', 'evidence'), ('pending_lines', 'pending'),
        ('int_evidence_joined_to_runs', 'run_rows'), ('scored_runs', 'scored')] %}
        {%- if model in built %}
            union all
            select
                '{{ metric }}',
                null,
                count(*)
            from {{ built[model] }}
        {%- endif %}
    {%- endfor %}
    {%- if 'skipped_lines' in built %}
        union all
        select
            'skipped',
            reason,
            count(*)
        from {{ built['skipped_lines'] }}
        group by reason
    {%- endif %}
    {%- if 'scored_runs' in built %}
        union all
        select
            'category',
            category,
            count(*)
        from {{ built['scored_runs'] }}
        group by category
    {%- endif %}
    {%- if 'int_export_gates' in built %}
        {%- for export in var('exports') if export != 'quarantine' %}
            union all
            select
                'admitted',
                '{{ export }}',
                count(*)
            from {{ built['int_export_gates'] }}
            where {{ admitted_to(export) }}
        {%- endfor %}
        union all
        select
            'admitted',
            'quarantine',
            count(*)
        from {{ built['int_export_gates'] }}
    {%- endif %}
    {%- for export in var('exports') if export in built %}
        union all
        select
            'rows',
            '{{ export }}',
            count(*)
        from {{ built[export] }}
    {%- endfor %}
    {%- if 'quarantine' in built %}
        union all
        select
            'quarantined',
            reason,
            count(*)
        from {{ built['quarantine'] }}
        group by reason
        union all
        select
            'secret_hits',
            regexp_extract(detail, 'matches secret pattern (\w+)', 1),
            count(*)
        from {{ built['quarantine'] }}
        where reason = 'secret_detected'
        group by 2
    {%- endif %}
)

select * from counted
