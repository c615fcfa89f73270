{% macro home_path() -%}
    {{- return(var('home', env_var('DISTILL_HOME', '.'))) -}}
{%- endmacro %}

{% macro output_path() -%}
    {#- Where the data outputs are written and read back: run-all passes a new generation folder
        (moved into place only when complete); plain dbt writes into the home itself. -#}
    {{- return(run_var('output_root', home_path())) -}}
{%- endmacro %}
