-- Every export candidate (scored runs that can feed an export, approved playbooks) with the
-- first gate it fails: orphan_reference, empty_text, oversize, secret_detected, duplicate.
-- A candidate that fails a gate is quarantined and reaches no export.

with scored_runs as (
    select * from {{ ref('scored_runs') }}
),

run_signals as (
    select * from {{ ref('int_run_signals') }}
),

evidence as (
    select
        *,
        {{ is_duplicate_copy() }} as is_duplicate_copy
    from {{ ref('evidence') }}
),

run_candidates as (
    -- needs_human_review runs feed no export, so no gate applies to them
    select
        'run' as candidate_kind,
        scored_runs.run_id as candidate_id,
        scored_runs.category,
        scored_runs.instruction as title,
        scored_runs.instruction,
        scored_runs.response as body,
        run_signals.is_orphan,
        scored_runs.model,
        [scored_runs.run_id] as run_ids,
        scored_runs.evidence_ids,
        run_signals.source_lines
    from scored_runs
    inner join run_signals
        on scored_runs.run_id = run_signals.run_id
    where scored_runs.category in ('accepted', 'partially_accepted', 'rejected')
),

latest_playbooks as (
    -- the latest version of each playbook decides whether it is exported
    select * from evidence
    where stream = 'playbooks' and not is_duplicate_copy
    qualify row_number() over (
            partition by signals ->> 'playbook_id'
            order by recorded_at desc, source_file desc, line_offset desc
        ) = 1
),

playbook_candidates as (
    select
        'playbook' as candidate_kind,
        evidence_id as candidate_id,
        null as category,
        instruction as title,
        instruction,
        response as body,
        false as is_orphan,
        null as model,
        []::varchar[] as run_ids,
        [evidence_id] as evidence_ids,
        [source_file || ':' || line_offset] as source_lines
    from latest_playbooks
    where (signals ->> 'status') = 'approved'
),

candidates as (
    select * from run_candidates
    union all
    select * from playbook_candidates
),

gated as (
    select
        *,
        {{ matched_secret("coalesce(instruction, '') || chr(10) || coalesce(body, '')") }} as secret_pattern,
        case
            when is_orphan then 'orphan_reference'
            when coalesce(trim(instruction), '') = '' or coalesce(trim(body), '') = '' then 'empty_text'
            when length(instruction) + length(body) > {{ var('max_export_chars') }} then 'oversize'
        end as first_failure
    from candidates
),

secrets_checked as (
    select
        * exclude (first_failure),
        coalesce(first_failure, case when secret_pattern is not null then 'secret_detected' end) as first_failure
    from gated
),

deduplicated as (
    -- identical texts are exported once: the first by category (accepted first), then id
    select
        *,
        first_failure is null and row_number() over (
            partition by
                first_failure is null,
                {{ normalize_text('instruction') }},
                {{ normalize_text('body') }}
            order by
                case category when 'accepted' then 0 when 'partially_accepted' then 1 else 2 end,
                candidate_id
        ) > 1 as is_duplicate
    from secrets_checked
),

final as (
    select
        candidate_kind,
        candidate_id,
        category,
        title,
        instruction,
        body,
        model,
        coalesce(first_failure, case when is_duplicate then 'duplicate' end) as quarantine_reason,
        case
            when first_failure = 'orphan_reference'
                then 'run ' || candidate_id || ' has only reviews, feedback, tool, test or audit rows: '
                    || 'no call, outcome, patch, answer or escalation'
            when first_failure = 'empty_text' then 'instruction or text is empty'
            when first_failure = 'oversize'
                then (length(instruction) + length(body)) || ' characters exceed max_export_chars ('
                    || {{ var('max_export_chars') }} || ')'
            when first_failure = 'secret_detected' then 'matches secret pattern ' || secret_pattern
            when is_duplicate then 'same normalised instruction and text as another candidate'
        end as quarantine_detail,
        {
            'run_ids': run_ids,
            'evidence_ids': evidence_ids,
            'source_lines': source_lines
        } as provenance
    from deduplicated
)

select * from final
