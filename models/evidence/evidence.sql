-- The unified evidence table: one row per valid source line, whatever its stream, with
-- provenance (source_file, line_offset, sig_hash, recorded_at) and the texts and signals
-- the scorer reads. Written to data/evidence/ as Parquet partitioned by day (its post-hook).
-- Incremental: a delta run appends the rows of the lines it read; a line is never evidence twice.
-- depends_on: {{ ref('base_source_records') }}
-- depends_on: {{ ref('base_source_lines') }}

with unified as (
    {%- for stream in var('streams') %}
        {%- if not loop.first %}

            union all by name
        {%- endif %}

        select
            '{{ stream }}' as stream,
            source_file,
            line_offset,
            sig_hash,
            extra,
            {{ evidence_columns(stream) | indent(12) }}
        from {{ ref('stg_' ~ stream) }}
        where
            skip_reason is null
            {{- and_read_now(stream_lines_only=false) }}
    {%- endfor %}
),

final as (
    select
        -- ids
        {{ make_id('ev', ['source_file', 'line_offset', 'sig_hash']) }} as evidence_id,
        run_id,
        stream,
        kind,

        -- provenance
        source_file,
        line_offset,
        sig_hash,
        recorded_at,

        -- content
        model,
        instruction,
        response,
        signals,
        extra
    from unified
)

select * from final
