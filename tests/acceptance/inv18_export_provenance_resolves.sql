-- Invariant 18: every export row's provenance resolves to a source line that was read.
-- depends_on: {{ ref('export_rag') }}
-- depends_on: {{ ref('export_sft') }}
-- depends_on: {{ ref('export_preference') }}
-- depends_on: {{ ref('quarantine') }}

with exported as (
    select
        'export_rag' as export_name,
        id,
        provenance['source_lines'] as source_lines
    from {{ export_rows('export_rag') }}
    union all
    select
        'export_sft' as export_name,
        id,
        provenance['source_lines'] as source_lines
    from {{ export_rows('export_sft') }}
    union all
    select
        'export_preference' as export_name,
        id,
        provenance['source_lines'] as source_lines
    from {{ export_rows('export_preference') }}
    union all
    select
        'quarantine' as export_name,
        id,
        provenance['source_lines'] as source_lines
    from {{ export_rows('quarantine') }}
),

cited as (
    select
        export_name,
        id,
        unnest(source_lines) as source_line
    from exported
),

source_lines as (
    select source_file || ':' || line_offset as source_line
    from {{ ref('base_source_units') }}
),

unresolved as (
    select
        export_name,
        id,
        null as source_line
    from exported
    where coalesce(len(source_lines), 0) = 0

    union all

    select
        cited.export_name,
        cited.id,
        cited.source_line
    from cited
    left join source_lines
        on cited.source_line = source_lines.source_line
    where source_lines.source_line is null
)

select * from unresolved
