-- Invariant 21: no exported text matches a secret pattern (seeds/secret_patterns.csv): every
-- string of every row of every JSON Lines file under exports/ (the corpora, the quarantine and
-- the consumer formats), ids and provenance included.
-- depends_on: {{ ref('export_rag') }}
-- depends_on: {{ ref('export_sft') }}
-- depends_on: {{ ref('export_preference') }}
-- depends_on: {{ ref('quarantine') }}

{%- set pattern = output_path() ~ '/exports/**/*.jsonl' %}
{%- set found = execute and run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] > 0 %}

with exported_rows as (
    {%- if found %}
        select
            filename as export_file,
            json as exported_row
        from read_json_objects('{{ pattern }}', format = 'newline_delimited', filename = true)
    {%- else %}
        -- no part was written (an empty corpus, or a run that touched no export day)
        select
            null::varchar as export_file,
            null::json as exported_row
        where false
    {%- endif %}
),

matched as (
    select
        export_file,
        exported_row ->> 'id' as id,
        {{ matched_secret(string_leaves('exported_row')) }} as secret_pattern
    from exported_rows
)

select * from matched
where secret_pattern is not null
