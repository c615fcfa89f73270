-- An operator-written procedure; not a run.
-- Typed fields, undeclared fields in `extra`, and the first field problem.

{#- (name, type, required, allowed values): the stream's schema, docs/concepts.md, "Streams". -#}
{%- set fields = [
    ('playbook_id', 'string', 'required'),
    ('ts', 'timestamp', 'required'),
    ('title', 'string', 'required'),
    ('problem', 'string', ''),
    ('steps', 'array', ''),
    ('author', 'string', ''),
    ('status', 'string', 'required', ['approved', 'draft', 'deprecated']),
] %}

with records as (
    -- each record parsed once, into its members
    select
        *,
        {{ record_members('record') }} as members
    from {{ ref('base_source_records') }}
    where
        stream = 'playbooks' and skip_reason is null
        -- a delta run types only the lines it read (not the trace units: read whole, unchanged)
        {{- and_read_now() }}
),

typed as (
    select
        -- provenance
        records.source_file,
        records.line_offset,
        records.sig_hash,
        records.read_seq,

        -- declared fields
        {{- typed_columns('members', fields) }}

        -- everything else, and what is wrong with the record if anything
        {{ extra_fields('members', fields) }} as extra,
        {{ field_problem('members', fields) }} as record_problem
    from records
),

final as (
    select
        * exclude (record_problem),
        struct_extract(record_problem, 'reason') as skip_reason,
        struct_extract(record_problem, 'detail') as skip_detail
    from typed
)

select * from final
