{% macro sft_never() -%}
    {#- docs/concepts.md, "The SFT firewall": categories that must never reach the SFT corpus, whatever else is configured. -#}
    ('rejected', 'needs_human_review')
{%- endmacro %}

{% macro sft_categories() -%}
    {#- Strict by default; --include-partial (var include_partial) admits partially_accepted. -#}
    {%- if run_var('include_partial', false) in (true, 'true', 'True', 1, '1') -%}
        ('accepted', 'partially_accepted')
    {%- else -%}
        ('accepted')
    {%- endif -%}
{%- endmacro %}
