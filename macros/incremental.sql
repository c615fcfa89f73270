{% macro forget_reread_records() -%}
    {#- Pre-hook of base_source_records: on an incremental run, delete the rows whose line the
        reader has read again or no longer has (their read_seq no longer matches), and the trace
        units, which every run rebuilds. -#}
    {%- if is_incremental() -%}
        delete from {{ this }} as records
        where
            records.byte_offset is null
            or not exists (
                select 1 from {{ ref('base_source_lines') }} as read_lines
                where
                    read_lines.source_file = records.source_file
                    and read_lines.line_offset = records.line_offset
                    and read_lines.read_seq = records.read_seq
            )
    {%- else -%}
        {#- nothing to forget: an empty hook runs no statement -#}
    {%- endif -%}
{%- endmacro %}
