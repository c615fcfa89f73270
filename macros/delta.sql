{% macro in_delta() -%}
    {#- True on a run-all whose read plan is incremental: the models then work on the touched set
        only (docs/design.md, "Incremental runs"). Plain dbt and full rebuilds: false, and every
        model is built whole. A ref that only a delta branch makes is made at parse time too
        (`and_read_now`, `-- depends_on`): one parse serves both (run_var). -#}
    {{ return(run_var('delta', false) in (true, 'true', 'True', 1, '1')) }}
{%- endmacro %}

{% macro run_var(name, default=none) -%}
    {#- A setting of this run that only the SQL a model runs depends on (delta, output_root,
        include_partial, formats, hash_proof): distill passes it in DISTILL_RUN_VARS (JSON), read
        when a model runs; otherwise, and where nothing runs (parsing, the linter), the dbt var.
        Not a var under distill: dbt parses the whole project again whenever its vars change, and
        each of these settings would cost a parse (seconds) the first time it differs
        (docs/design.md, "Incremental runs"). A unit test sets its own (overrides: vars). -#}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set given = fromjson(env_var('DISTILL_RUN_VARS', '{}')) -%}
        {%- if name in given -%}
            {{ return(given[name]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(var(name, default)) }}
{%- endmacro %}

{% macro delta_seq() -%}
    {#- The read number of this run: the lines it read carry it. Written as a number, looked up
        when the model runs (the line reader has run by then): DuckDB prunes the row groups of
        the older reads by a constant, where a subquery made it read every row of the history
        (docs/design.md, "Incremental runs"). A subquery where no table can be asked yet. -#}
    {{ return(max_of('read_seq', ref('base_source_lines'), '(select max(read_seq) from ' ~ ref('base_source_lines') ~ ')')) }}
{%- endmacro %}

{% macro max_of(column, relation, otherwise, where='true') -%}
    {#- max(column) of a built relation as a SQL literal (NULL when the relation is empty), or
        `otherwise` (a SQL expression) when it cannot be looked up: at parse or compile time, in
        a unit test, or before the relation exists. -#}
    {%- if execute and flags.WHICH in ('run', 'build', 'test') and not model.resource_type == 'unit_test'
        and adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none -%}
        {%- set found = run_query('select max(' ~ column ~ ') from ' ~ relation ~ ' where ' ~ where).columns[0].values()[0] -%}
        {{ return('null' if found is none else found | string) }}
    {%- endif -%}
    {{ return(otherwise) }}
{%- endmacro %}

{% macro and_read_now(stream_lines_only=true) -%}
    {#- The filter a model's rows of base_source_records (or of a staging model) end with: on a
        delta run, only the lines this run read; with stream_lines_only, not the trace units
        (read whole by every run, unchanged). Its ref of the line reader is made at parse time
        whatever the run, so that one parse serves full and delta runs (in_delta). -#}
    {%- if not execute -%}
        {%- do ref('base_source_lines') -%}
    {%- endif -%}
    {%- if in_delta() %}
        and read_seq = {{ delta_seq() }}{{ ' and byte_offset is not null' if stream_lines_only }}
    {%- endif %}
{%- endmacro %}

{% macro lines_read_now() -%}
    {#- A select of the (source_file, line_offset) of every stream line this run read (not the
        trace units, which every run reads whole). -#}
    select
        source_file,
        line_offset
    from {{ ref('base_source_records') }}
    where read_seq = {{ delta_seq() }} and byte_offset is not null
{%- endmacro %}

{% macro reset_unless_delta() -%}
    {#- Pre-hook of the tables a delta run maintains: outside one, empty the table first, so
        that plain dbt rebuilds it whole. -#}
    {%- if is_incremental() and not in_delta() -%}
        delete from {{ this }}
    {%- else -%}
        {#- nothing to reset: an empty hook runs no statement -#}
    {%- endif -%}
{%- endmacro %}

{% macro delete_touched(key, touched_model, touched_key=none) -%}
    {#- Pre-hook: on a delta run, delete the rows whose `key` is in the touched set (they are
        inserted again as they are now); otherwise reset_unless_delta. -#}
    {%- if is_incremental() and in_delta() -%}
        delete from {{ this }}
        where {{ key }} in (select {{ touched_key or key }} from {{ ref(touched_model) }})
    {%- else -%}
        {{ reset_unless_delta() }}
    {%- endif -%}
{%- endmacro %}

{% macro previous_table(identifier) -%}
    {#- The table as the last run left it, read before this run replaces it (a relation found
        by name, not a ref: it is downstream of the model reading it), or none. -#}
    {%- if not execute or not in_delta() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=this.database, schema=this.schema, identifier=identifier)) }}
{%- endmacro %}

{% macro touched_output(model_name) -%}
    {#- Which touched days an export follows (int_touched_days.output): the preference pairs and
        their formats follow the pairs; every other export follows its candidates' rows. -#}
    {{ return('pairs' if model_name in ('export_preference', 'export_openai_dpo', 'export_trl_preference') else 'rows') }}
{%- endmacro %}

{% macro touched_days_of(model_name) -%}
    {#- A select of the days a delta run writes of a model's output (int_touched_days, by
        touched_output): what its pre-hook deletes and its parts are written for. -#}
    select day from {{ ref('int_touched_days') }} where output = '{{ touched_output(model_name) }}'
{%- endmacro %}

{% macro delete_touched_days() -%}
    {#- Pre-hook of the exports and formats: on a delta run, delete the rows of the days this
        run writes (they are inserted again as they are now); otherwise reset_unless_delta. -#}
    {%- if is_incremental() and in_delta() -%}
        delete from {{ this }}
        where day in ({{ touched_days_of(this.name) }})
    {%- else -%}
        {{ reset_unless_delta() }}
    {%- endif -%}
{%- endmacro %}

{% macro is_touched_candidate(prefix='') -%}
    {#- Whether a candidate row (its columns behind `prefix`, e.g. 'previous.') belongs to a
        touched run or playbook. -#}
    (
        ({{ prefix }}candidate_kind = 'run'
            and {{ prefix }}candidate_id in (select run_id from {{ ref('int_touched_runs') }}))
        or ({{ prefix }}candidate_kind = 'playbook'
            and {{ prefix }}playbook_id in (select playbook_id from {{ ref('int_touched_playbooks') }}))
    )
{%- endmacro %}

{% macro is_touched_text(key) -%}
    {#- Whether a candidate's text_key or prompt_fingerprint (`key`) is one a touched candidate
        has or had (int_touched_keys); a row with no text key (an empty text) is decided again
        every delta run, by its own row. -#}
    ({{ key }} in (select touched_keys.{{ key }} from {{ ref('int_touched_keys') }} as touched_keys) or {{ key }} is null)
{%- endmacro %}

{% macro delete_touched_texts(key) -%}
    {#- Pre-hook of int_export_gates and int_preference_pairs: on a delta run, delete the rows of
        the touched texts or prompts (is_touched_text); otherwise reset_unless_delta. -#}
    {%- if is_incremental() and in_delta() -%}
        delete from {{ this }}
        where {{ is_touched_text(key) }}
    {%- else -%}
        {{ reset_unless_delta() }}
    {%- endif -%}
{%- endmacro %}

{% macro delete_touched_candidates() -%}
    {#- Pre-hook of int_export_candidates: on a delta run, delete the touched runs' and
        playbooks' candidates (they are inserted again as they are now, or leave). -#}
    {%- if is_incremental() and in_delta() -%}
        delete from {{ this }}
        where {{ is_touched_candidate() }}
    {%- else -%}
        {{ reset_unless_delta() }}
    {%- endif -%}
{%- endmacro %}
