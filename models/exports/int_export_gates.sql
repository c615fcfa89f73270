-- Every export candidate with the first gate it fails: orphan_reference, empty_text, oversize,
-- secret_detected (decided per row in int_export_candidates), then duplicate: of the
-- candidates with the same normalised instruction and text, the first by category (accepted
-- first), then id, passes; the others are quarantined. A candidate that fails a gate reaches
-- no export. Keys only, no texts.
-- Incremental (docs/design.md, "Incremental runs"): a delta run decides again only the texts a
-- touched candidate has or had (int_touched_keys), each group whole, and the candidates with no
-- text key (an empty text: a gate of their own row); the pre-hook (in the YAML) first deletes
-- their rows. The decisions of every other text stand.
-- depends_on: {{ ref('int_export_decisions_before') }}
-- depends_on: {{ ref('int_touched_keys') }}

with candidates as (
    select
        candidate_kind,
        candidate_id,
        category,
        day,
        gate_failure,
        gate_detail,
        text_key,
        prompt_fingerprint,
        body_key,
        id_hash
    from {{ ref('int_export_candidates') }}
    {%- if in_delta() %}
        where {{ is_touched_text('text_key') }}
    {%- endif %}
),

ranked as (
    select
        *,
        case
            when gate_failure is null
                then row_number() over (
                        partition by gate_failure is null, text_key
                        order by
                            case category when 'accepted' then 0 when 'partially_accepted' then 1 else 2 end,
                            candidate_id
                    )
        end as rank_among_equal_texts
    from candidates
),

final as (
    select
        candidate_kind,
        candidate_id,
        category,
        day,
        text_key,
        prompt_fingerprint,
        body_key,
        id_hash,
        coalesce(gate_failure, case when rank_among_equal_texts > 1 then 'duplicate' end) as quarantine_reason,
        coalesce(
            gate_detail,
            case when rank_among_equal_texts > 1 then 'same normalised instruction and text as another candidate' end
        ) as quarantine_detail
    from ranked
)

select * from final
