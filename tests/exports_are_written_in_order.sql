-- Every export file is in the order of its id (write_jsonl sorts it with in_key_order): one row
-- per line that does not follow the line before it.

{%- set exports = ['export_rag', 'export_sft', 'export_preference', 'quarantine'] %}
-- depends_on: {% for model in exports %}{{ ref(model) }} {% endfor %}

with in_file_order as (
    {%- for model in exports %}
        select
            '{{ model }}' as export_name,
            id as row_id,
            lag(id) over () as previous_row_id
        from {{ export_rows(model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from in_file_order
where previous_row_id >= row_id
