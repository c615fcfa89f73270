-- The evidence this run made (docs/design.md, "Incremental runs"): on a delta run, the rows of
-- the lines it read; otherwise every row. Narrow columns: what the touched set is found from.

with evidence as (
    select * from {{ ref('evidence') }}
),

new_lines as (
    {{ lines_read_now() }}
),

new_evidence as (
    select evidence.*
    from evidence
    {%- if in_delta() %}
    semi join new_lines
        on evidence.source_file = new_lines.source_file and evidence.line_offset = new_lines.line_offset
    {%- endif %}
),

final as (
    select
        evidence_id,
        run_id,
        stream,
        sig_hash,
        source_file,
        line_offset,
        recorded_at,
        signals ->> 'escalation_id' as escalation_id,
        signals ->> 'playbook_id' as playbook_id
    from new_evidence
)

select * from final
