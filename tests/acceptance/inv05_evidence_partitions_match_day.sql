-- Invariant 5: the evidence partitions on disk match recorded_at's day, and hold every
-- evidence row once.

with partitioned as (
    select
        evidence_id,
        recorded_at,
        day
    from read_parquet('{{ home_path() }}/data/evidence/*/*.parquet', hive_partitioning = true)
),

evidence as (
    select
        evidence_id,
        recorded_at
    from {{ ref('evidence') }}
),

compared as (
    select
        coalesce(evidence.evidence_id, partitioned.evidence_id) as evidence_id,
        partitioned.day,
        evidence.recorded_at,
        partitioned.evidence_id is null as is_missing_from_partitions,
        evidence.evidence_id is null as is_unknown_evidence,
        strftime(evidence.recorded_at, '%Y-%m-%d') is distinct from partitioned.day::varchar as is_wrong_day
    from evidence
    full outer join partitioned
        on evidence.evidence_id = partitioned.evidence_id
)

select * from compared
where is_missing_from_partitions or is_unknown_evidence or is_wrong_day
