-- Judgements of a span as stream records: its annotations (Phoenix), its evaluation results
-- (OTel gen_ai.evaluation.result events) or an annotation record of its own. A HUMAN annotator's
-- becomes a human review, an evaluator's user feedback, from the label or else the score.

with units as (
    select * from {{ ref('base_trace_units') }}
    where skip_reason is null
),

notes as (
    -- units that are judgements of a span: its annotations (Phoenix), its evaluation results
    -- (OTel gen_ai.evaluation.result events), or an annotation record of its own in an
    -- OpenInference file (a span_id and a result)
    select
        *,
        case when unit_kind = 'evaluation' then {{ otel_attributes('unit_json') }} else unit_json end as note
    from units
    where {{ is_span_note() }}
),

span_ids as (
    -- an annotation record names its span only: the span's trace is its run
    select
        {{ span_field('unit_json', 'trace') }} as trace_id,
        {{ span_field('unit_json', 'span') }} as span_id
    from units
    where format in ('otel', 'openinference') and unit_kind = 'item' and not {{ is_span_note() }}
),

note_fields as (
    select
        notes.*,
        coalesce(
            {{ span_field('notes.span_json', 'trace') }},
            (
                select any_value(span_ids.trace_id) from span_ids
                where span_ids.span_id = (notes.unit_json ->> '$.span_id')
            )
        ) as trace_id,
        coalesce({{ span_field('notes.span_json', 'span') }}, notes.unit_json ->> '$.span_id') as span_id,
        coalesce(
            try_cast(coalesce(notes.note ->> '$.created_at', notes.note ->> '$.ts') as timestamptz),
            {{ span_started_at('notes.span_json') }}
        ) as noted_at,
        coalesce(notes.note ->> '$.name', notes.note ->> '$."gen_ai.evaluation.name"') as note_name,
        coalesce(
            notes.note ->> '$.label',
            notes.note ->> '$.result.label',
            notes.note ->> '$."gen_ai.evaluation.score.label"'
        ) as note_label,
        try_cast(coalesce(
            notes.note ->> '$.score',
            notes.note ->> '$.result.score',
            notes.note ->> '$."gen_ai.evaluation.score.value"'
        ) as double) as note_score,
        coalesce(
            notes.note ->> '$.explanation', notes.note ->> '$.result.explanation',
            notes.note ->> '$."gen_ai.evaluation.explanation"'
        ) as explanation,
        upper(coalesce(notes.note ->> '$.annotator_kind', 'LLM')) = 'HUMAN' as by_human
    from notes
),

note_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case
            when by_human then 'human_reviews'
            when {{ polarity('note_label', 'note_score') }} is not null then 'user_feedback'
        end as stream,
        case
            when by_human
                then json_object(
                        'review_id', source_file || '#' || line_offset,
                        'run_id', coalesce(trace_id, source_file),
                        'ts', strftime(coalesce(noted_at, '1970-01-01'::timestamptz), '%Y-%m-%dT%H:%M:%S.%fZ'),
                        'reviewer', coalesce(note ->> '$.annotator', note_name),
                        'decision', case {{ polarity('note_label', 'note_score') }}
                            when 'up' then 'accept' when 'down' then 'reject' else 'unsure'
                        end,
                        'notes', explanation,
                        'span_id', span_id
                    )
            else json_object(
                    'feedback_id', source_file || '#' || line_offset,
                    'run_id', coalesce(trace_id, source_file),
                    'ts', strftime(coalesce(noted_at, '1970-01-01'::timestamptz), '%Y-%m-%dT%H:%M:%S.%fZ'),
                    'rating', {{ polarity('note_label', 'note_score') }},
                    'comment', concat_ws(': ', note_name, coalesce(note_label, note_score::varchar))
                    || coalesce(' (' || explanation || ')', ''),
                    'span_id', span_id
                )
        end as record
    from note_fields
)

{{ trace_format_output('note_records') }}
