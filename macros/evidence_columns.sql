{#- What each stream contributes to evidence (docs/concepts.md, "Evidence"): its kind, its run,
    and the columns the scorer reads (recorded_at, model, instruction, response, signals), as
    each stg_<stream> model names them. evidence.sql selects these for every stream of var
    streams, beside the provenance every stream has (source_file, line_offset, sig_hash). -#}

{% macro evidence_columns(stream) -%}
    {%- if stream == 'gateway_calls' %}
    'model_call' as kind,
    run_id,
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
    ) as signals
    {%- elif stream == 'pr_audits' %}
    'audit' as kind,
    run_id,
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
    ) as signals
    {%- elif stream == 'human_reviews' %}
    'review' as kind,
    run_id,
    ts as recorded_at,
    null as model,
    null as instruction,
    edited_response as response,
    json_object('decision', decision, 'reviewer', reviewer, 'notes', notes) as signals
    {%- elif stream == 'tool_runs' %}
    'tool_run' as kind,
    run_id,
    ts as recorded_at,
    null as model,
    null as instruction,
    null as response,
    json_object(
        'tool', tool,
        'command', command,
        'exit_code', exit_code,
        'duration_ms', duration_ms
    ) as signals
    {%- elif stream == 'test_runs' %}
    'test_run' as kind,
    run_id,
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
    ) as signals
    {%- elif stream == 'auto_apply' %}
    'patch' as kind,
    run_id,
    ts as recorded_at,
    null as model,
    task as instruction,
    patch as response,
    json_object(
        'applied', applied,
        'merged', merged,
        'reverted', reverted,
        'revert_reason', revert_reason
    ) as signals
    {%- elif stream == 'task_outcomes' %}
    'outcome' as kind,
    run_id,
    ts as recorded_at,
    null as model,
    task as instruction,
    null as response,
    json_object('status', status, 'score', score) as signals
    {%- elif stream == 'answers' %}
    'answer' as kind,
    run_id,
    ts as recorded_at,
    model,
    question as instruction,
    answer as response,
    json_object('citations', citations) as signals
    {%- elif stream == 'playbooks' %}
    'playbook' as kind,
    null as run_id,
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
    ) as signals
    {%- elif stream == 'user_feedback' %}
    'feedback' as kind,
    run_id,
    ts as recorded_at,
    null as model,
    null as instruction,
    null as response,
    json_object('rating', rating, 'comment', comment) as signals
    {%- elif stream == 'escalations' %}
    'escalation' as kind,
    run_id,
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
    ) as signals
    {%- elif stream == 'replay_runs' %}
    'replay' as kind,
    replay_id as run_id,
    ts as recorded_at,
    model,
    task as instruction,
    output as response,
    json_object(
        'retrieval', retrieval,
        'retrieved_ids', retrieved_ids,
        'validation', validation,
        'escalated', escalated
    ) as signals
    {%- else %}
    {{ exceptions.raise_compiler_error('no evidence columns for stream ' ~ stream) }}
    {%- endif %}
{%- endmacro %}

{% macro not_a_second_copy(evidence) -%}
    {#- Whether an evidence row (its relation's alias `evidence`) is not a second or later copy
        of a source line (int_duplicate_copies): those are quarantined as duplicate, not used. -#}
    not exists (
        select 1 from {{ ref('int_duplicate_copies') }} as copies
        where copies.evidence_id = {{ evidence }}.evidence_id
    )
{%- endmacro %}
