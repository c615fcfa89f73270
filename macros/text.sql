{% macro normalize_text(text) -%}
    {#- Case-folded, whitespace collapsed and trimmed: what "the same text" means for dedup and pairing. -#}
    trim(regexp_replace(lower({{ text }}), '\s+', ' ', 'g'))
{%- endmacro %}

{% macro prompt_fingerprint(instruction) -%}
    {#- docs/concepts.md, "Exports": sha256 of the normalised instruction; runs sharing it answer the same prompt. -#}
    sha256({{ normalize_text(instruction) }})
{%- endmacro %}

{% macro is_duplicate_copy() -%}
    {#- True for the second and later copies of a source line (same stream and sig_hash). -#}
    row_number() over (partition by stream, sig_hash order by source_file, line_offset) > 1
{%- endmacro %}
