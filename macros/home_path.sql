{% macro home_path() -%}
    {{- return(var('home', env_var('DISTILL_HOME', '.'))) -}}
{%- endmacro %}
