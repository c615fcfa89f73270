-- One model call through the gateway.
-- Typed fields, undeclared fields in `extra`, and the first field problem.

{#- (name, type, required, allowed values): the stream's schema, docs/concepts.md, "Streams". -#}
{%- set fields = [
    ('call_id', 'string', 'required'),
    ('run_id', 'string', 'required'),
    ('ts', 'timestamp', 'required'),
    ('provider', 'string', ''),
    ('model', 'string', ''),
    ('messages', 'array', ''),
    ('completion', 'string', ''),
    ('finish_reason', 'string', '', ['stop', 'length', 'tool_calls', 'error']),
    ('latency_ms', 'integer', ''),
    ('prompt_tokens', 'integer', ''),
    ('completion_tokens', 'integer', ''),
    ('status', 'string', '', ['ok', 'error']),
    ('error', 'string', ''),
] %}

with records as (
    -- each record parsed once, into its members
    select
        *,
        {{ record_members('record') }} as members
    from {{ ref('base_source_records') }}
    where
        stream = 'gateway_calls' and skip_reason is null
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
        -- the last user message is the call's instruction (docs/concepts.md, "Runs")
        list_filter(
            coalesce(messages::json[], []), lambda message: (message ->> 'role') = 'user'
        )[-1] ->> 'content' as last_user_message,
        struct_extract(record_problem, 'reason') as skip_reason,
        struct_extract(record_problem, 'detail') as skip_detail
    from typed
)

select * from final
