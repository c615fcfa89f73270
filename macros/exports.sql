{% macro export_path(model) -%}
    {#- The folder of an export's or a consumer format's day parts, relative to the home (var
        exports and consumer_formats; docs/design.md, "Parts and the manifest"). -#}
    {%- set folders = {} -%}
    {%- for name, spec in var('exports').items() %}{% do folders.update({name: spec.folder}) %}{% endfor -%}
    {%- for models in var('consumer_formats').values() -%}
        {%- for name, spec in models.items() %}{% do folders.update({name: spec.folder}) %}{% endfor -%}
    {%- endfor -%}
    {{- return(folders[model]) -}}
{%- endmacro %}

{% macro write_jsonl() -%}
    {#- Post-hook: write the export's day parts (write_day_parts), every column but the day. -#}
    {{ write_day_parts(export_path(this.name), ['* exclude (day)'], 'id') }}
{%- endmacro %}

{% macro write_day_parts(folder, columns, key) -%}
    {#- Write the model as JSON Lines, one file a day: <folder>/<YYYY-MM-DD>.jsonl, rows sorted
        by `key` (a make_id id), for each day this run writes (days_to_write). A day with no
        rows left is written empty (distill removes empty parts). One COPY per day, each on one
        thread, so a part is one deterministic file and each sort holds one day's rows. COPY of
        zero rows writes an empty file (unlike dbt-duckdb's external materialization). -#}
    {%- set days = days_to_write(this, folder) -%}
    set threads = 1;
    {%- for day in days %}
    copy (
        select {{ columns | join(', ') }} from {{ this }}
        where day = date '{{ day }}'
        order by {{ key }}
    ) to '{{ output_path() }}/{{ folder }}/{{ day }}.jsonl' (format json);
    {%- endfor %}
    set threads = {{ duckdb_threads() }}
{%- endmacro %}

{% macro days_to_write(relation, folder) -%}
    {#- The days whose parts this run writes. A delta run: the days int_touched_days lists (a
        day whose rows all left is written empty; distill removes it and carries the other
        days). Otherwise every day the model has rows for, and every day with a part already in
        the folder (plain dbt writes into the home: a day that emptied is written empty rather
        than left stale). -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if in_delta() -%}
        {%- set touched = run_query(
            "select strftime(day, '%Y-%m-%d') from (" ~ touched_days_of(relation.identifier) ~ ") order by 1"
        ) -%}
        {{ return(touched.columns[0].values() | list) }}
    {%- endif -%}
    {%- set found = run_query(
        "select distinct strftime(day, '%Y-%m-%d') as day from " ~ relation
        ~ " union select regexp_extract(file, '([0-9]{4}-[0-9]{2}-[0-9]{2})[.]jsonl$', 1) from glob('"
        ~ output_path() ~ "/" ~ folder ~ "/*.jsonl') order by 1"
    ) -%}
    {{ return(found.columns[0].values() | select | list) }}
{%- endmacro %}

{% macro export_rows(model, with_filename=false) -%}
    {#- The export's day parts as they lie on disk, typed: what the acceptance gate checks is
        what ships (an empty relation when there are no parts). -#}
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
    {%- set pattern = output_path() ~ '/' ~ export_path(model) ~ '/*.jsonl' -%}
    {%- set found = execute and run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] > 0 -%}
    {%- if found %}
    read_json(
        '{{ pattern }}',
        format = 'newline_delimited',
        {%- if with_filename %}
        filename = true,
        {%- endif %}
        columns = {
            {%- for name, type in columns.items() %}
            {{ name }}: '{{ type }}'{{ ',' if not loop.last }}
            {%- endfor %}
        }
    )
    {%- else %}
    (select {% for name, type in columns.items() %}null::{{ type }} as {{ name }}, {% endfor %}null::varchar as filename where false)
    {%- endif %}
{%- endmacro %}

{% macro write_format(format_name, columns, key) -%}
    {#- Post-hook: write a consumer format's day parts, with only the columns the format
        documents, when the format was asked for (var formats), sorted by `key`
        (write_day_parts). distill removes a stale copy otherwise. -#}
    {%- if format_asked(format_name) -%}
        {{ write_day_parts(export_path(this.name), columns, key) }}
    {%- else -%}
        {#- nothing to write: an empty hook runs no statement -#}
    {%- endif -%}
{%- endmacro %}

{% macro format_asked(format_name) -%}
    {#- Whether this run writes a consumer format (var formats). A format not asked for keeps no
        rows: asking for it later changes the run's options, so that run is a full rebuild. -#}
    {{ return(format_name in run_var('formats', [])) }}
{%- endmacro %}

{% macro format_keeps(format_name) -%}
    {#- Which rows of its export a consumer format's table keeps (a condition on `day`): none when
        the format is not asked for (format_asked); on a delta run, the touched days' (the
        pre-hook deleted those days); otherwise all. -#}
    {%- if not format_asked(format_name) -%}
        false
    {%- elif in_delta() -%}
        day in ({{ touched_days_of(this.name) }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
