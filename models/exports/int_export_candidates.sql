-- Every export candidate (scored runs that can feed an export, the latest version of each
-- approved playbook) with its texts, the first per-row gate it fails (orphan_reference,
-- empty_text, oversize, secret_detected) and the keys that compare it with the others. The
-- duplicate gate compares candidates with each other: int_export_gates decides it on keys.
-- On a delta run, only the touched runs and playbooks are decided again (the rows of the
-- others stand): the pre-hook deletes them, and this model inserts them as they are now.
-- depends_on: {{ ref('int_export_candidates_before') }}

with touched_runs as (
    select * from {{ ref('int_touched_runs') }}
),

touched_playbooks as (
    select * from {{ ref('int_touched_playbooks') }}
),

scored_runs as (
    select * from {{ ref('scored_runs') }}
    {%- if in_delta() %}
        where run_id in (select touched_runs.run_id from touched_runs)
    {%- endif %}
),

run_signals as (
    select * from {{ ref('int_texts_joined') }}
),

playbook_rows as (
    select * from {{ ref('int_evidence_deduplicated') }}
    where
        stream = 'playbooks'
        {%- if in_delta() %}
            and (signals ->> 'playbook_id')::varchar in (select touched_playbooks.playbook_id from touched_playbooks)
        {%- endif %}
),

run_candidates as (
    -- needs_human_review runs feed no export, so no gate applies to them
    select
        'run' as candidate_kind,
        scored_runs.run_id as candidate_id,
        null as playbook_id,
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
    select * from playbook_rows
    qualify row_number() over (
            partition by signals ->> 'playbook_id'
            order by recorded_at desc, source_file desc, line_offset desc
        ) = 1
),

playbook_candidates as (
    select
        'playbook' as candidate_kind,
        evidence_id as candidate_id,
        signals ->> 'playbook_id' as playbook_id,
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
        end as first_failure,
        -- each text normalised once: the keys below share them
        {{ normalize_text('instruction') }} as normalized_instruction,
        {{ normalize_text('body') }} as normalized_body
    from candidates
),

final as (
    select
        candidate_kind,
        candidate_id,
        playbook_id,
        category,
        title,
        instruction,
        body,
        model,
        day,
        coalesce(first_failure, case when secret_pattern is not null then 'secret_detected' end) as gate_failure,
        case
            when first_failure = 'orphan_reference'
                then 'the run has only reviews, feedback, tool, test or audit rows: '
                    || 'no call, outcome, patch, answer or escalation'
            when first_failure = 'empty_text' then 'instruction or text is empty'
            when first_failure = 'oversize'
                then (length(instruction) + length(body)) || ' characters exceed max_export_chars ('
                    || {{ var('max_export_chars') }} || ')'
            when secret_pattern is not null then 'matches secret pattern ' || secret_pattern
        end as gate_detail,
        -- the keys candidates are compared by: equal normalised texts (duplicates), the same
        -- prompt (preference pairs), equal normalised responses (no identical pairs)
        sha256(normalized_instruction || chr(31) || normalized_body) as text_key,
        sha256(normalized_instruction) as prompt_fingerprint,  -- prompt_fingerprint(instruction)
        sha256(normalized_body) as body_key,
        sha256(candidate_id) as id_hash,
        {
            -- a run id that is itself a secret leaves with no row: the evidence ids still lead
            -- to the run's lines
            'run_ids': case when has_secret_in_ids then []::varchar[] else run_ids end,
            'evidence_ids': evidence_ids,
            'source_lines': source_lines
        } as provenance
    from gated
)

select * from final
