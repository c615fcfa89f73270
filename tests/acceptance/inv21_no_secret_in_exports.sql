-- Invariant 21: no exported text matches a secret pattern (seeds/secret_patterns.csv).
-- depends_on: {{ ref('export_rag') }}
-- depends_on: {{ ref('export_sft') }}
-- depends_on: {{ ref('export_preference') }}

with exported_texts as (
    select
        'export_rag' as export_name,
        id,
        concat_ws(chr(10), title, text) as exported_text
    from {{ export_rows('export_rag') }}
    union all
    select
        'export_sft' as export_name,
        id,
        concat_ws(chr(10), instruction, response, messages[1]['content'], messages[2]['content']) as exported_text
    from {{ export_rows('export_sft') }}
    union all
    select
        'export_preference' as export_name,
        id,
        concat_ws(chr(10), prompt, chosen, rejected) as exported_text
    from {{ export_rows('export_preference') }}
),

matched as (
    select
        export_name,
        id,
        {{ matched_secret('exported_text') }} as secret_pattern
    from exported_texts
)

select * from matched
where secret_pattern is not null
