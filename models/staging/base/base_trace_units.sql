-- Every unit of every trace-format file (var trace_files), its format known by its content
-- (macro content_format; the folder is a hint): a span, a log
-- record, a trajectory step, an event or a sample, with where it sits in its file. A `.jsonl`
-- file is split into lines; any other file is one document. `line_offset` numbers the units of
-- a file from 0 in document order (a line that holds no unit, such as a blank line, is a unit of
-- its own so that it is accounted for); `element` states the physical line and the JSON path.
-- Annotations and evaluation results attached to a span are units of their own.

with files as (
    select
        source_file,
        hinted_format,
        struct_extract(decoded, 'text') as file_text,
        struct_extract(decoded, 'problem') as problem
    from {{ trace_files() }}
),

split as (
    -- one row per physical line of a .jsonl file; one per document otherwise, where a file of
    -- concatenated objects (the OpenTelemetry console exporter's) is read as their list
    select
        source_file,
        hinted_format,
        problem,
        case
            when file_text is null then ['']
            when regexp_matches(source_file, '\.jsonl(\.gz)?$') then string_split(file_text, e'\n')
            when not json_valid(file_text) and json_valid({{ concatenated_as_list('file_text') }})
                then [{{ concatenated_as_list('file_text') }}]
            else [file_text]
        end as texts
    from files
),

lines as (
    select
        source_file,
        hinted_format,
        problem,
        unnest(texts) as text,
        generate_subscripts(texts, 1) - 1 as line_no,
        len(texts) as n_texts
    from split
),

documents as (
    select
        source_file,
        line_no,
        text,
        problem,
        case when json_valid(text) then text::json end as doc,
        coalesce(
            case when json_valid(text) then {{ content_format('text::json', 'source_file', 'hinted_format') }}
                else hinted_format
            end,
            'unknown'
        ) as format  -- noqa: RF04
    from lines
    -- the empty string after a final newline is not a line
    where not (line_no = n_texts - 1 and text = '' and n_texts > 1)
),

elements as (
    -- the units each format holds, tagged with what they are and where they sit
    select
        *,
        case
            when doc is null then []
            when format in ('otel', 'openinference', 'openai_logs') and json_type(doc) = 'ARRAY'
                then {{ span_units('$[*]') }}
            when format = 'otel' and json_type(doc, '$.resourceSpans') = 'ARRAY'
                then {{ span_units('$.resourceSpans[*].scopeSpans[*].spans[*]') }}
            when format in ('otel', 'openinference', 'openai_logs') and json_type(doc) = 'OBJECT'
                then {{ span_units('$') }}
            when format = 'swe_agent' and json_type(doc, '$.trajectory') = 'ARRAY'
                then list_concat(
                        {{ units_at('swe_step', '$.trajectory[*]') }},
                        {{ units_at('swe_submission', '$.info') }}
                    )
            when format = 'openhands' and json_type(doc) = 'ARRAY'
                then {{ units_at('openhands_event', '$[*]') }}
            when format = 'inspect' and json_type(doc, '$.samples') = 'ARRAY'
                -- a sample, and again for its scores (the unit hashed is then sample.scores)
                then list_concat(
                        {{ units_at('inspect_sample', '$.samples[*]') }},
                        {{ units_at('inspect_score', '$.samples[*]', sub="'$.scores'") }}
                    )
            else []
        end as units
    from documents
),

exploded as (
    -- a line or document with no unit stays, as one row with no element, to be skipped
    select
        * exclude (units),
        unnest(if(len(units) = 0, [null], units)) as unit,
        generate_subscripts(if(len(units) = 0, [null], units), 1) - 1 as unit_no
    from elements
),

numbered as (
    select
        *,
        row_number() over (partition by source_file order by line_no, unit_no) - 1 as line_offset
    from exploded
),

final as (
    select  -- noqa: ST06
        numbered.format,
        numbered.source_file,
        numbered.line_offset,
        numbered.line_no,
        unit.kind as unit_kind,
        -- `line N <path>`: the path with its wildcard replaced by the index, or followed by
        -- `#k` (the k-th match, from 0) when it has several; then the path within that match
        'line ' || numbered.line_no || case
            when numbered.unit is null then ''
            when not contains(unit.path, '[*]') then ' ' || unit.path
            when len(string_split(unit.path, '[*]')) = 2
                then ' ' || replace(unit.path, '[*]', '[' || (unit.n - 1) || ']')
            else ' ' || unit.path || ' #' || (unit.n - 1)
        end || coalesce(' ' || unit.sub, '') as element,
        -- the whole document, for units that need its context (the task of a trajectory)
        numbered.doc,
        coalesce(unit.el -> unit.sub, unit.el) as unit_json,
        unit.el as element_json,
        -- the span an annotation or evaluation is attached to
        unit.span as span_json,
        case
            when numbered.unit is not null then null
            when numbered.problem is not null then numbered.problem
            when trim(numbered.text, e' \t\r') = '' then 'blank_line'
            when numbered.doc is null then 'malformed_json'
            else 'unknown_format'
        end as skip_reason,
        case
            when numbered.unit is not null then null
            when numbered.problem = 'invalid_utf8' then 'the file is not UTF-8 text'
            when numbered.problem = 'corrupt_archive' then 'the gzip archive is corrupt or cut short'
            when numbered.problem = 'archive_too_large' then 'the archive decompresses past max_archive_bytes'
            when trim(numbered.text, e' \t\r') = '' then 'the line is empty or whitespace'
            when numbered.doc is null then 'not valid JSON: ' || left(numbered.text, 60)
            when numbered.format = 'unknown'
                then 'valid JSON in no trace format distill reads: looked for resourceSpans (OTLP), spans with '
                    || 'attributes (OpenTelemetry, OpenInference, OpenLLMetry, Vercel AI SDK), request/response or '
                    || 'choices (OpenAI logs), trajectory (SWE-agent), action/observation events (OpenHands), '
                    || 'samples with eval (Inspect)'
            else 'valid JSON but not a unit of the ' || numbered.format || ' format its folder hints at'
        end as skip_detail,
        -- a unit that is not JSON is named by the sha256 of its text (see base_source_records)
        case when numbered.doc is null then sha256(numbered.text) end as unit_sha256
    from numbered
)

select * from final
