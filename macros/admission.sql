{% macro admitted_to(export, relation=none) -%}
    {#- Which candidates an export admits, written once (docs/concepts.md, "Exports"): the export
        models filter by it and models/metrics/run_counts counts by it. RAG: approved playbooks
        and runs accepted or partially accepted; SFT: runs of sft_categories() (accepted, and
        partially_accepted with var include_partial); preference: accepted and rejected runs. -#}
    {%- set p = relation ~ '.' if relation else '' -%}
    {%- if export == 'export_rag' -%}
        ({{ p }}candidate_kind = 'playbook' or {{ p }}category in ('accepted', 'partially_accepted'))
    {%- elif export == 'export_sft' -%}
        ({{ p }}candidate_kind = 'run' and {{ p }}category in {{ sft_categories() }})
    {%- elif export == 'export_preference' -%}
        ({{ p }}candidate_kind = 'run' and {{ p }}category in ('accepted', 'rejected'))
    {%- else -%}
        {{ exceptions.raise_compiler_error('no admission rule for ' ~ export) }}
    {%- endif -%}
{%- endmacro %}
