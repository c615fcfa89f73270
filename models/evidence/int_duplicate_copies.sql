-- The second and later copies of a source line (same stream and sig_hash; the first copy by
-- source file and line is kept). Computed over the narrow columns only: scoring leaves these
-- rows out, and the quarantine holds them back as duplicate.
-- Incremental (docs/design.md, "Incremental runs"): a delta run decides again only the groups
-- (stream, sig_hash) its new evidence joins, whole; the pre-hook (in the YAML) first deletes
-- their rows. The copies of every other group stand.

with evidence as (
    select * from {{ ref('evidence') }}
),

new_evidence as (
    select * from {{ ref('int_new_evidence') }}
),

groups_to_decide as (
    select evidence.*
    from evidence
    {%- if in_delta() %}
    semi join new_evidence
        on evidence.stream = new_evidence.stream and evidence.sig_hash = new_evidence.sig_hash
    {%- endif %}
),

copies as (
    select
        evidence_id,
        run_id,
        stream,
        sig_hash,
        source_file,
        line_offset,
        recorded_at,
        {{ is_duplicate_copy() }} as is_duplicate_copy
    from groups_to_decide
)

select
    evidence_id,
    run_id,
    stream,
    sig_hash,
    source_file,
    line_offset,
    recorded_at
from copies
where is_duplicate_copy
