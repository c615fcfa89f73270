-- One tool or command execution.
-- Typed fields, undeclared fields in `extra`, and the first field problem.

{#- (name, type, required, allowed values): the stream's schema, SPEC §3. -#}
{%- set fields = [
    ('tool_run_id', 'string', 'required'),
    ('run_id', 'string', 'required'),
    ('ts', 'timestamp', 'required'),
    ('tool', 'string', ''),
    ('command', 'string', ''),
    ('exit_code', 'integer', ''),
    ('duration_ms', 'integer', ''),
    ('stdout_tail', 'string', ''),
    ('stderr_tail', 'string', ''),
] %}

with records as (
    select * from {{ ref('stg_source_records') }}
    where stream = 'tool_runs' and skip_reason is null
),

parsed as (
    select
        *,
        {{ record_members('record') }} as members
    from records
),

typed as (
    select
        -- provenance
        parsed.source_file,
        parsed.line_offset,
        parsed.sig_hash,

        -- declared fields
        {{- typed_columns('members', fields) }}

        -- everything else, and what is wrong with the record if anything
        {{ extra_fields('members', fields) }} as extra,
        {{ field_problem('members', fields) }} as record_problem
    from parsed
),

final as (
    select
        * exclude (record_problem),
        struct_extract(record_problem, 'reason') as skip_reason,
        struct_extract(record_problem, 'detail') as skip_detail
    from typed
)

select * from final
