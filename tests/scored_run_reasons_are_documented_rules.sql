-- Every rule id a scored run lists is described in seeds/scoring_rules.csv, and the list
-- follows the seed's rule order. Returns the runs that break this.

with reasons as (
    select
        scored_runs.run_id,
        unnest(scored_runs.reasons) as rule_id,
        generate_subscripts(scored_runs.reasons, 1) as position
    from {{ ref('scored_runs') }} as scored_runs
),

checked as (
    select
        reasons.run_id,
        reasons.rule_id,
        reasons.position,
        scoring_rules.rule_order,
        lag(scoring_rules.rule_order) over (
            partition by reasons.run_id order by reasons.position
        ) as previous_rule_order
    from reasons
    left join {{ ref('scoring_rules') }} as scoring_rules
        on reasons.rule_id = scoring_rules.rule_id
)

select * from checked
where rule_order is null or rule_order <= previous_rule_order
