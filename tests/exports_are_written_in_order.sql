-- Every export part is in the order of its id (write_day_parts sorts each day): one row per
-- line that does not follow the line before it in the same part.

{%- set exports = ['export_rag', 'export_sft', 'export_preference', 'quarantine'] %}
-- depends_on: {% for model in exports %}{{ ref(model) }} {% endfor %}

with in_file_order as (
    {%- for model in exports %}
        select
            '{{ model }}' as export_name,
            filename as part_file,
            id as row_id,
            row_number() over () as line_in_read
        from {{ export_rows(model, with_filename=true) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

with_previous as (
    select
        *,
        lag(row_id) over (partition by export_name, part_file order by line_in_read) as previous_row_id
    from in_file_order
)

select * from with_previous
where previous_row_id >= row_id
