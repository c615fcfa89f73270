-- Every export table reads back in the order of its id: the export files are written in table
-- order (write_jsonl, write_format), so this is the order of the files. One row per row that
-- does not follow the one before it.

{%- set exports = [
    ('export_rag', 'id'), ('export_sft', 'id'), ('export_preference', 'id'), ('quarantine', 'id'),
    ('export_openai_sft', 'sft_id'), ('export_openai_dpo', 'preference_id'),
    ('export_trl_preference', 'preference_id'),
] %}

with in_table_order as (
    {%- for model, key in exports %}
        select
            '{{ model }}' as export_name,
            {{ key }} as row_id,
            lag({{ key }}) over () as previous_row_id
        from {{ ref(model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from in_table_order
where previous_row_id >= row_id
