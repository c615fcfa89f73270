"""Every physical line of every file in data/_kb, numbered from 0, with its read status.

DuckDB's own JSON reader drops blank lines and renumbers around bad ones, so lines are split
here (distill.lines, vectorised) and everything else about them is decided in SQL downstream.
"""

from pathlib import Path

from distill.home import NOT_SOURCES
from distill.lines import SOURCE_SUFFIXES, read_lines, snapshot


def model(dbt, session):
    dbt.config(materialized="table")
    home = Path(dbt.config.get("home")).resolve()
    max_line_bytes = int(dbt.config.get("max_line_bytes"))

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
    kb = home / "data" / "_kb"
    every_file = sorted(p for p in kb.iterdir() if p.name.endswith(SOURCE_SUFFIXES)) if kb.is_dir() else []
    # A consistent snapshot: each plain file is read up to the size it has now; lines appended
    # while the run reads are left for the next run.
    sources = [
        snapshot(path, path.relative_to(home).as_posix(), stream_of.get(path))
        for path in (p.resolve() for p in every_file)
        if path.name not in NOT_SOURCES
    ]
    return read_lines(sorted(sources, key=lambda s: s.relative), max_line_bytes)
