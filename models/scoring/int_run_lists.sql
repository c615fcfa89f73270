-- One row per run: its evidence rows, their source lines and its streams, as sorted lists.
-- Aggregated on their own: list states beside the signal states of int_run_latest in one hash
-- table do not fit the memory limit at a million lines, nor beside them in a second thread,
-- so it is built after int_run_latest.
-- depends_on: {{ ref('int_run_latest') }}

select
    run_id,
    -- (list_sort, not an ordered aggregate: those buffer every row of a group in memory)
    list_sort(list(evidence_id)) as evidence_ids,
    list_transform(
        list_sort(list({ 'evidence_id': evidence_id, 'source_line': source_file || ':' || line_offset })),
        lambda line: line['source_line']
    ) as source_lines,
    list_sort(list_distinct(list(stream))) as streams
from {{ ref('int_run_evidence') }}
group by run_id
