-- Every export candidate (scored runs that can feed an export, approved playbooks) with the
-- first gate it fails: orphan_reference, empty_text, oversize, secret_detected, duplicate.
-- A candidate that fails a gate is quarantined and reaches no export.

with scored_runs as (
    select * from {{ ref('scored_runs') }}
),

run_signals as (
    select * from {{ ref('int_run_signals') }}
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
        run_signals.source_lines,
        scored_runs.run_day as day
    from scored_runs
    inner join run_signals
        on scored_runs.run_id = run_signals.run_id
    where scored_runs.category in ('accepted', 'partially_accepted', 'rejected')
),

latest_playbooks as (
    -- the latest version of each playbook decides whether it is exported
    select * from {{ ref('evidence') }} as evidence_rows
    where
        stream = 'playbooks'
        and not exists (
            select 1 from {{ ref('int_duplicate_copies') }} as copies
            where copies.evidence_id = evidence_rows.evidence_id
        )
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
        [source_file || ':' || line_offset] as source_lines,
        recorded_at::date as day
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
        -- every text a row carries out: its texts, its model name and its run ids
        {{ matched_secret(
            "concat_ws(chr(10), instruction, body, model, array_to_string(run_ids, chr(10)))"
        ) }} as secret_pattern,
        {{ matched_secret("array_to_string(run_ids, chr(10))") }} is not null as has_secret_in_ids,
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

keyed as (
    -- each gate-passing candidate's normalised texts, hashed: equal texts have equal keys
    select
        *,
        case when first_failure is null then hash({{ normalize_text('instruction') }}) end as instruction_key,
        case when first_failure is null then hash({{ normalize_text('body') }}) end as body_key
    from secrets_checked
),

shared_keys as (
    -- the few keys more than one candidate has; only those candidates can be duplicates
    select
        instruction_key,
        body_key
    from keyed
    where first_failure is null
    group by instruction_key, body_key
    having count(*) > 1
),

repeated as (
    -- identical texts are exported once: the first by category (accepted first), then id;
    -- the texts themselves are compared, so a hash collision never makes a duplicate
    select
        keyed.candidate_kind,
        keyed.candidate_id,
        row_number() over (
            partition by {{ normalize_text('keyed.instruction') }}, {{ normalize_text('keyed.body') }}
            order by
                case keyed.category when 'accepted' then 0 when 'partially_accepted' then 1 else 2 end,
                keyed.candidate_id
        ) > 1 as is_duplicate
    from keyed
    semi join shared_keys
        on keyed.instruction_key = shared_keys.instruction_key and keyed.body_key = shared_keys.body_key
),

deduplicated as (
    select
        keyed.*,
        coalesce(repeated.is_duplicate, false) as is_duplicate
    from keyed
    left join repeated
        on keyed.candidate_kind = repeated.candidate_kind and keyed.candidate_id = repeated.candidate_id
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
        day,
        coalesce(first_failure, case when is_duplicate then 'duplicate' end) as quarantine_reason,
        case
            when first_failure = 'orphan_reference'
                then 'the run has only reviews, feedback, tool, test or audit rows: '
                    || 'no call, outcome, patch, answer or escalation'
            when first_failure = 'empty_text' then 'instruction or text is empty'
            when first_failure = 'oversize'
                then (length(instruction) + length(body)) || ' characters exceed max_export_chars ('
                    || {{ var('max_export_chars') }} || ')'
            when first_failure = 'secret_detected' then 'matches secret pattern ' || secret_pattern
            when is_duplicate then 'same normalised instruction and text as another candidate'
        end as quarantine_detail,
        {
            -- a run id that is itself a secret leaves with no row: the evidence ids still lead
            -- to the run's lines
            'run_ids': case when has_secret_in_ids then []::varchar[] else run_ids end,
            'evidence_ids': evidence_ids,
            'source_lines': source_lines
        } as provenance
    from deduplicated
)

select * from final
