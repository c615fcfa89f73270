-- Every source line decoded and classified: a JSON object with its sig_hash, or a skip reason.
-- Incremental: only lines read by this run are decoded and hashed; the pre-hook (in the YAML)
-- first deletes rows whose line was read again or is gone, and the trace units, rebuilt each run.

with source_lines as (
    select * from {{ ref('base_source_lines') }}
    {%- if is_incremental() %}
        where read_seq > coalesce({{ max_of(
            'read_seq', this, '(select max(read_seq) from ' ~ this ~ ' where byte_offset is not null)',
            where='byte_offset is not null'
        ) }}, -1)
    {%- endif %}
),

decoded as (
    select
        *,
        try(decode(raw)) as line_text
    from source_lines
),

classified as (
    select
        *,
        case
            when read_status != 'ok' then read_status
            when line_text is null then 'invalid_utf8'
            when trim(line_text, e' \t\r') = '' then 'blank_line'
            when not json_valid(line_text) then 'malformed_json'
            when json_type(line_text) != 'OBJECT' then 'not_an_object'
            -- I-JSON (RFC 7493) forbids duplicate member names: such a line has no canonical form
            when len(json_keys(line_text)) != len(list_distinct(json_keys(line_text))) then 'malformed_json'
        end as read_problem
    from decoded
),

hashed as (
    select
        *,
        case when read_problem is null then distill_sig_hash(line_text) end as sig_hash
    from classified
),

final as (
    select
        -- provenance
        source_file,
        stream,
        line_offset,
        byte_offset,
        line_bytes,
        read_seq,
        sig_hash,

        -- the record
        case when read_problem is null and sig_hash is not null then line_text::json end as record,

        -- why the line cannot become evidence (null: it can, if its stream's fields check out)
        case
            when read_problem is not null then read_problem
            when sig_hash is null then 'malformed_json'
        end as skip_reason,
        case
            when read_problem = 'unknown_stream'
                then 'no stream matches this file name; expected data/_kb/<stream>*.jsonl'
            when read_problem = 'oversize'
                then 'line of ' || line_bytes || ' bytes exceeds max_line_bytes ({{ var("max_line_bytes") }})'
            when read_problem = 'pending'
                then 'no newline after the last line: it may still be being written; read again next run'
            when read_problem = 'invalid_utf8' then 'the line is not valid UTF-8'
            when read_problem = 'corrupt_archive'
                then 'the gzip archive ends early or is corrupt from here on: restore it from a copy'
            when read_problem = 'archive_too_large'
                then 'the gzip archive decompresses past max_archive_bytes ({{ var("max_archive_bytes") }}) '
                    || 'from here on: split it, or raise the var if it is genuine'
            when read_problem = 'blank_line' then 'the line is empty or whitespace'
            when read_problem = 'malformed_json' and json_valid(line_text)
                then 'valid JSON but a member name repeats (not I-JSON, RFC 7493), so it has no canonical form'
            when read_problem = 'malformed_json'
                then 'not valid JSON: ' || left(line_text, 60)
            when read_problem = 'not_an_object'
                then 'a JSON ' || {{ json_type_name('json_type(line_text)') }} || ', not an object'
            when sig_hash is null
                then 'valid JSON but not I-JSON (RFC 7493), so it has no canonical form: '
                    || 'a lone surrogate, a number out of range or nesting too deep'
        end as skip_detail,
        -- a line that cannot be hashed canonically is named by the sha256 of its bytes, so that
        -- a shareable output can point at it without quoting it
        case when sig_hash is null and raw is not null then sha256(raw) end as line_sha256
    from hashed
),

trace_units as (
    -- the units of the standard trace formats, as source records
    select
        source_file,
        stream,
        line_offset,
        byte_offset,
        line_bytes,
        read_seq,
        sig_hash,
        record,
        skip_reason,
        skip_detail,
        line_sha256
    from {{ ref('base_trace_source_records') }}
)

select * from final
union all
select * from trace_units
