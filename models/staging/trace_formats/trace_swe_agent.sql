-- SWE-agent trajectories as stream records: each step a tool_runs record, the submission an
-- auto_apply patch for the issue (the first user message). The file is the run.

with units as (
    select * from {{ ref('base_trace_units') }}
    where skip_reason is null
),

trajectories as (
    -- SWE-agent: each step a tool run, the submission an auto_apply patch for the issue
    select
        *,
        regexp_extract(source_file, '([^/]+?)(\.traj|\.json)?$', 1) as instance,
        list_filter(
            json_extract(doc, '$.history[*]'),
            lambda m: (m ->> 'role') = 'user' and not coalesce((m ->> 'is_demo')::boolean, false)
        )[1] as first_user
    from units
    where format = 'swe_agent'
),

trajectory_records as (
    select
        format,
        source_file,
        line_offset,
        element,
        unit_json,
        case unit_kind when 'swe_step' then 'tool_runs' when 'swe_submission' then 'auto_apply' end as stream,
        case unit_kind
            when 'swe_step'
                then json_object(
                        'tool_run_id', instance || ':step:' || line_offset,
                        'run_id', instance,
                        'ts', '1970-01-01T00:00:00Z',
                        'tool', 'swe-agent',
                        'command', trim(unit_json ->> '$.action'),
                        'stdout_tail', right(unit_json ->> '$.observation', 4000)
                    )
            else json_object(
                    'apply_id', instance,
                    'run_id', instance,
                    'ts', '1970-01-01T00:00:00Z',
                    'task', coalesce(first_user ->> '$.content', instance),
                    'patch', unit_json ->> '$.submission',
                    'applied',
                    (unit_json ->> '$.exit_status') = 'submitted' and (unit_json ->> '$.submission') is not null,
                    'exit_status', unit_json ->> '$.exit_status'
                )
        end as record
    from trajectories
)

{{ trace_format_output('trajectory_records') }}
