{% macro make_id(prefix, parts) -%}
    {#- A deterministic id: the prefix and the first 24 hex digits of sha256 over the parts. -#}
    '{{ prefix }}_' || left(sha256(concat_ws(chr(31), {{ parts | join(', ') }})), 24)
{%- endmacro %}
