-- Every secret pattern matches its own example credential, and no pattern matches any
-- pattern's near miss (a prefix, a placeholder, a variable): the table catches what it says
-- and holds back nothing it should not.

with patterns as (
    select * from {{ ref('secret_patterns') }}
),

missed_examples as (
    select
        pattern_id,
        'does not match its example_match' as problem
    from patterns
    where not regexp_matches(example_match, regex)
),

near_misses_caught as (
    select
        near_miss.pattern_id,
        'its example_near_miss matches pattern ' || pattern.pattern_id as problem
    from patterns as near_miss
    cross join patterns as pattern
    where regexp_matches(near_miss.example_near_miss, pattern.regex)
),

final as (
    select * from missed_examples
    union all
    select * from near_misses_caught
)

select * from final
