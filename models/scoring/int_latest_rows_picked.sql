-- The latest rows int_signals_reduced reads, written as a table so that the joins that follow
-- read them from storage: per (run, stream) its latest row; per run, the latest human review
-- that decided edit and gives an edited response (pick `edit`) and the latest row that names
-- a model (pick `model`). Latest is by ts, ties broken by source file and line, as one number
-- per row; one window, which spills, picks them all. The window sorts row pointers only (with
-- the signals in it, it needed memory in proportion to the input: 1 GB at four million lines);
-- the signals are joined back after, and no text is read.

with files as (
    -- each source file's place in name order
    select
        source_file,
        row_number() over (order by source_file) as file_rank
    from (select distinct source_file from {{ ref('int_evidence_joined_to_runs') }})
),

run_evidence as (
    select
        evidence.row_ptr,
        evidence.run_id,
        evidence.stream,
        evidence.model,
        evidence.signals,
        evidence.has_response,
        -- a total order over all rows as one number: ts (a missing one last), then file, then
        -- line (2^64 per microsecond, 2^40 lines per file)
        coalesce(epoch_us(evidence.recorded_at), 9223372036854775807)::hugeint * 18446744073709551616
        + files.file_rank::hugeint * 1099511627776
        + evidence.line_offset as line_order
    from {{ ref('int_evidence_joined_to_runs') }} as evidence
    inner join files on evidence.source_file = files.source_file
),

-- only what the window sorts: each row is named by its row_ptr
candidates as (
    {%- for pick, condition in [
        ('stream', 'true'),
        ("'edit'", "stream = 'human_reviews' and (signals ->> 'decision') = 'edit' and has_response"),
        ("'model'", 'model is not null'),
    ] %}
        select
            run_id,
            {{ pick }} as pick,
            row_ptr,
            line_order
        from run_evidence
        where {{ condition }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

latest as (
    select
        run_id,
        pick,
        row_ptr
    from candidates
    qualify row_number() over (partition by run_id, pick order by line_order desc) = 1
)

select
    latest.run_id,
    latest.pick,
    latest.row_ptr,
    evidence.signals,
    evidence.model,
    evidence.has_instruction,
    evidence.has_response
from latest
inner join {{ ref('int_evidence_joined_to_runs') }} as evidence on latest.row_ptr = evidence.row_ptr
