-- The unified evidence table: one row per valid source line, whatever its stream, with
-- provenance (source_file, line_offset, sig_hash, recorded_at) and the texts and signals
-- the scorer reads. Written to data/evidence/ as Parquet partitioned by day (its post-hook).
-- Incremental: a delta run appends the rows of the lines it read; a line is never evidence twice.
-- depends_on: {{ ref('stg_source_records') }}
-- depends_on: {{ ref('stg_source_lines') }}

with gateway_calls as (
    select * from {{ ref('stg_gateway_calls') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

pr_audits as (
    select * from {{ ref('stg_pr_audits') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

human_reviews as (
    select * from {{ ref('stg_human_reviews') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

tool_runs as (
    select * from {{ ref('stg_tool_runs') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

test_runs as (
    select * from {{ ref('stg_test_runs') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

auto_apply as (
    select * from {{ ref('stg_auto_apply') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

task_outcomes as (
    select * from {{ ref('stg_task_outcomes') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

answers as (
    select * from {{ ref('stg_answers') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

playbooks as (
    select * from {{ ref('stg_playbooks') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

user_feedback as (
    select * from {{ ref('stg_user_feedback') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

escalations as (
    select * from {{ ref('stg_escalations') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

replay_runs as (
    select * from {{ ref('stg_replay_runs') }}
    where
        skip_reason is null
        {%- if in_delta() %}
            and read_seq = {{ delta_seq() }}
        {%- endif %}
),

unified as (
    select
        'gateway_calls' as stream,
        'model_call' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        model,
        last_user_message as instruction,
        completion as response,
        json_object(
            'status', status,
            'finish_reason', finish_reason,
            'error', error,
            'latency_ms', latency_ms,
            'prompt_tokens', prompt_tokens,
            'completion_tokens', completion_tokens
        ) as signals,
        extra
    from gateway_calls

    union all by name

    select
        'pr_audits' as stream,
        'audit' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        model,
        diff_summary as instruction,
        null as response,
        json_object(
            'verdict', verdict,
            'grounded', grounded,
            'fabricated_refs', fabricated_refs,
            'findings', json_array_length(findings),
            'repo', repo,
            'pr_number', pr_number
        ) as signals,
        extra
    from pr_audits

    union all by name

    select
        'human_reviews' as stream,
        'review' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        null as model,
        null as instruction,
        edited_response as response,
        json_object('decision', decision, 'reviewer', reviewer, 'notes', notes) as signals,
        extra
    from human_reviews

    union all by name

    select
        'tool_runs' as stream,
        'tool_run' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        null as model,
        null as instruction,
        null as response,
        json_object(
            'tool', tool,
            'command', command,
            'exit_code', exit_code,
            'duration_ms', duration_ms
        ) as signals,
        extra
    from tool_runs

    union all by name

    select
        'test_runs' as stream,
        'test_run' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        null as model,
        null as instruction,
        null as response,
        json_object(
            'suite', suite,
            'passed', passed,
            'failed', failed,
            'skipped', skipped,
            'duration_ms', duration_ms
        ) as signals,
        extra
    from test_runs

    union all by name

    select
        'auto_apply' as stream,
        'patch' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        null as model,
        task as instruction,
        patch as response,
        json_object(
            'applied', applied,
            'merged', merged,
            'reverted', reverted,
            'revert_reason', revert_reason
        ) as signals,
        extra
    from auto_apply

    union all by name

    select
        'task_outcomes' as stream,
        'outcome' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        null as model,
        task as instruction,
        null as response,
        json_object('status', status, 'score', score) as signals,
        extra
    from task_outcomes

    union all by name

    select
        'answers' as stream,
        'answer' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        model,
        question as instruction,
        answer as response,
        json_object('citations', citations) as signals,
        extra
    from answers

    union all by name

    select
        'playbooks' as stream,
        'playbook' as kind,
        null as run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        null as model,
        title as instruction,
        concat_ws(
            chr(10),
            problem,
            array_to_string(
                list_transform(coalesce(steps::varchar[], []), (step, i) -> i || '. ' || step),
                chr(10)
            )
        ) as response,
        json_object(
            'playbook_id', playbook_id,
            'status', status,
            'author', author,
            'steps', json_array_length(steps)
        ) as signals,
        extra
    from playbooks

    union all by name

    select
        'user_feedback' as stream,
        'feedback' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        null as model,
        null as instruction,
        null as response,
        json_object('rating', rating, 'comment', comment) as signals,
        extra
    from user_feedback

    union all by name

    select
        'escalations' as stream,
        'escalation' as kind,
        run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        cloud_model as model,
        task as instruction,
        null as response,
        json_object(
            'escalation_id', escalation_id,
            'local_model', local_model,
            'local_passed', local_passed,
            'cloud_model', cloud_model,
            'cloud_passed', cloud_passed
        ) as signals,
        extra
    from escalations

    union all by name

    select
        'replay_runs' as stream,
        'replay' as kind,
        replay_id as run_id,
        source_file,
        line_offset,
        sig_hash,
        ts as recorded_at,
        model,
        task as instruction,
        output as response,
        json_object(
            'retrieval', retrieval,
            'retrieved_ids', retrieved_ids,
            'validation', validation,
            'escalated', escalated
        ) as signals,
        extra
    from replay_runs
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
