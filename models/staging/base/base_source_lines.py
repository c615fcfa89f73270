"""Every physical line of every file in data/_kb, numbered from 0, with its read status.

DuckDB's own JSON reader drops blank lines and renumbers around bad ones, so lines are split
here (distill.lines, vectorised) and everything else about them is decided in SQL downstream.

Incremental (docs/design.md, "Incremental runs"): `distill run-all` plans what to read (distill.incremental): for a file
that only grew, the lines after those read before; a run that finds an old line changed reads
everything again with --full-refresh. The rows this run replaces (a pending last line read again,
the lines of a file read from its start, a file that is gone) are deleted before the new ones
are appended, so plain `dbt build` without a plan rereads every file and stays correct.
"""

from dataclasses import replace
from pathlib import Path

from distill.home import SOURCE_SUFFIXES, Home
from distill.incremental import read_plan, source_files
from distill.dbt import lines_spool
from distill.lines import snapshot, spool_lines


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    home = Path(dbt.config.get("home")).resolve()
    max_line_bytes = int(dbt.config.get("max_line_bytes"))
    max_archive_bytes = int(dbt.config.get("max_archive_bytes"))

    # One literal call per stream: dbt reads these to draw the lineage.
    stream_files = {
        "gateway_calls": dbt.source("kb", "gateway_calls"),
        "pr_audits": dbt.source("kb", "pr_audits"),
        "human_reviews": dbt.source("kb", "human_reviews"),
        "tool_runs": dbt.source("kb", "tool_runs"),
        "test_runs": dbt.source("kb", "test_runs"),
        "auto_apply": dbt.source("kb", "auto_apply"),
        "task_outcomes": dbt.source("kb", "task_outcomes"),
        "answers": dbt.source("kb", "answers"),
        "playbooks": dbt.source("kb", "playbooks"),
        "user_feedback": dbt.source("kb", "user_feedback"),
        "escalations": dbt.source("kb", "escalations"),
        "replay_runs": dbt.source("kb", "replay_runs"),
    }
    stream_of = {}
    for stream, files in stream_files.items():
        for (name,) in files.fetchall():
            if name.endswith(SOURCE_SUFFIXES):
                stream_of.setdefault(Path(name).resolve(), stream)

    # Files of no known stream are read too: each of their lines is skipped as unknown_stream.
    every_file = source_files(Home(home))
    plan = read_plan(home)
    incremental = dbt.is_incremental
    seq = plan.seq if plan else 0
    if incremental and plan is None:
        (seq,) = session.execute(f"select coalesce(max(read_seq), 0) + 1 from {dbt.this}").fetchone()
    # A consistent snapshot: each plain file is read up to the size it has now (or the size the
    # plan measured and hashed); lines appended while the run reads are left for the next run.
    sources = []
    for path in (p.resolve() for p in every_file):
        relative = path.relative_to(home).as_posix()
        read = plan.files.get(relative) if plan and incremental else None
        if read is not None and read.unchanged_archive:
            continue
        source = replace(snapshot(path, relative, stream_of.get(path), read.size if read else None), read_seq=seq)
        if read is not None:
            source = replace(source, start_byte=read.start_byte, first_line=read.first_line)
        sources.append(source)
    if incremental:
        # rows this run reads again, or whose file is gone, make way for the new ones
        first_lines = [(s.relative, s.first_line) for s in sources]
        session.execute("create or replace temp table distill_reread (source_file varchar, first_line bigint)")
        if first_lines:
            session.executemany("insert into distill_reread values (?, ?)", first_lines)
        kept = [p.relative_to(home).as_posix() for p in every_file]
        session.execute(
            f"""
            delete from {dbt.this} as lines
            where
                lines.source_file not in (select unnest(?::varchar[]))
                or exists (
                    select 1 from distill_reread as reread
                    where reread.source_file = lines.source_file and lines.line_offset >= reread.first_line
                )
            """,
            [kept],
        )
    # written to a Parquet file first, which DuckDB reads within its memory limit (an Arrow
    # stream it holds for the whole statement: memory grew with the input)
    spool = spool_lines(
        sorted(sources, key=lambda s: s.relative), max_line_bytes, lines_spool(Home(home)), max_archive_bytes
    )
    return session.read_parquet(str(spool))
