"""How distill runs dbt: offline, and parsing the project again only when it has to."""

import json
from pathlib import Path

import pytest

from distill import dbt
from distill.home import Home


def parsed_files(home: Home, dbt_vars: dict, delta: bool = False) -> int:
    """Run `dbt parse` with these vars; how many project files dbt parsed (not from its saved parse)."""
    dbt.invoke(home, ["parse"], dbt_vars, delta=delta)
    return json.loads((dbt.target_dir(home) / "target" / "perf_info.json").read_text())["parsed_path_count"]


def test_other_vars_do_not_throw_away_the_saved_parse_and_no_usage_event_is_sent(tmp_path: Path, monkeypatch):
    from dbt import tracking

    (tmp_path / "data" / "_kb").mkdir(parents=True)
    home = Home.resolve(tmp_path)
    # vars no other run uses, so the first parse of each is a whole parse
    unique = 10_000 + len(tmp_path.name) * 7 + sum(map(ord, tmp_path.name))
    first, second = {"max_export_chars": unique}, {"max_export_chars": unique + 1}
    before = set(dbt.PARSE_CACHE.glob("*.msgpack"))
    try:
        assert parsed_files(home, first) > 100
        assert parsed_files(home, second) > 100  # dbt parses everything again when the vars change
        assert parsed_files(home, first) == 0  # ... but the parse for the first vars was kept
        # a run's own settings (a delta run, --include-partial, --format) reach the models when
        # they run, not as vars: the same parse serves them all
        settings = {"include_partial": True, "formats": ["openai"], "hash_proof": "bytes"}
        assert parsed_files(home, first | settings) == 0
        assert parsed_files(home, first, delta=True) == 0
        # nor do DuckDB's threads and memory limit (a small run-all sets one thread, acceptance
        # and audit keep two): dbt hashes a profile's settings into its parse
        monkeypatch.setenv("DISTILL_DUCKDB_THREADS", "1")
        monkeypatch.setenv("DISTILL_MEMORY_LIMIT", "512MB")
        assert parsed_files(home, first) == 0
    finally:
        for path in set(dbt.PARSE_CACHE.glob("*.msgpack")) - before:
            path.unlink()
    assert tracking.active_user is not None and tracking.active_user.do_not_track


def test_commands_that_start_together_wait_for_one_parse(tmp_path: Path):
    """With no saved parse for the vars, one command parses and the others wait for it, then
    read its parse (each would otherwise parse all the project's files)."""
    import threading
    import time

    shared, parses = tmp_path / "cache" / "partial_parse.x.msgpack", []

    def command(name: str) -> None:
        saved = tmp_path / name / "partial_parse.msgpack"

        def parse() -> None:
            parses.append(name)
            time.sleep(0.3)  # the others start meanwhile
            saved.parent.mkdir(parents=True)
            saved.write_text("parsed")

        dbt._parse_once(shared, saved, parse)

    threads = [threading.Thread(target=command, args=(f"home{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(parses) == 1 and shared.read_text() == "parsed"
    assert [(tmp_path / f"home{i}" / "partial_parse.msgpack").read_text() for i in range(3)] == ["parsed"] * 3


def test_dbt_runs_with_fewer_garbage_collections_and_the_setting_is_put_back(tmp_path: Path, monkeypatch):
    import gc
    from types import SimpleNamespace

    import dbt.cli.main as dbt_main

    seen = []

    class Runner:
        def __init__(self, callbacks):
            pass

        def invoke(self, args):
            seen.append((args[0], gc.get_threshold()[0]))
            if args[0] == "run":
                raise RuntimeError("dbt crashed")
            return SimpleNamespace(result=None, success=True, exception=None)

    monkeypatch.setattr(dbt_main, "dbtRunner", Runner)
    monkeypatch.setattr(dbt, "PARSE_CACHE", tmp_path / "parse-cache")  # no saved parse: a parse first
    (tmp_path / "data" / "_kb").mkdir(parents=True)
    before = gc.get_threshold()
    dbt.invoke(Home.resolve(tmp_path), ["build"])
    assert seen == [("parse", dbt.GC_THRESHOLD), ("build", dbt.GC_THRESHOLD)] and gc.get_threshold() == before
    with pytest.raises(RuntimeError):
        dbt.invoke(Home.resolve(tmp_path), ["run"])
    assert gc.get_threshold() == before


def test_a_python_models_traceback_becomes_one_line_naming_the_exception():
    from distill.dbt import _reason

    message = (
        "Runtime Error in model base_source_lines (models/staging/base/base_source_lines.py)\n  Python model failed:\n"
        "Traceback (most recent call last):\n  File \"/x/__init__.py\", line 290, in run_python_job\n"
        "    module.materialize(df, con)\n  File \"/x/local.py\", line 23, in execute\n"
        "    return self._cursor.execute(sql)\n           ^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "_duckdb.TransactionException: TransactionContext Error: Failed to commit: "
        "Could not write file \"/h/data/warehouse.duckdb.wal\": File too large\n"
    )
    reason = _reason(message)
    assert reason == (
        "Runtime Error in model base_source_lines (models/staging/base/base_source_lines.py): TransactionException: "
        "TransactionContext Error: Failed to commit: Could not write file \"/h/data/warehouse.duckdb.wal\": File too large"
    )
    assert "Traceback" not in reason and "\n" not in reason


def test_dbt_builds_two_nodes_at_a_time_only_between_the_two_sizes(tmp_path: Path, monkeypatch):
    from datetime import datetime
    from types import SimpleNamespace

    from conftest import run_cli
    from distill import pipeline

    assert run_cli("generate", "--lines", "150", "--seed", "3", home=tmp_path).code == 0

    def intervals() -> list[tuple[datetime, datetime]]:
        nodes = json.loads((tmp_path / "data/.dbt/target/nodes.json").read_text())["results"]
        spans = [next(t for t in n["timing"] if t["name"] == "execute") for n in nodes]
        return sorted((datetime.fromisoformat(s["started_at"][:-1]), datetime.fromisoformat(s["completed_at"][:-1]))
                      for s in spans)

    def overlapping(spans) -> int:
        return sum(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))

    seen = []
    invoke = dbt.invoke
    monkeypatch.setattr(dbt, "invoke", lambda *args, **kwargs: seen.append(kwargs.get("env")) or invoke(*args, **kwargs))
    pipeline.build(Home(tmp_path), "run-all")
    assert overlapping(intervals()) == 0  # a small home: one node at a time, on one DuckDB thread
    assert seen == [{dbt.DUCKDB_THREADS_ENV: "1"}]
    low, high = pipeline.TWO_NODES_AT_A_TIME_BYTES
    monkeypatch.setattr(pipeline, "TWO_NODES_AT_A_TIME_BYTES", (0, high))
    pipeline.build(Home(tmp_path), "run-all", force=True)
    assert overlapping(intervals()) > 0
    # past the upper size, one node at a time again (the memory bound); below the smallest size,
    # one DuckDB thread too, unless the operator set DuckDB's threads
    monkeypatch.setattr(pipeline, "TWO_NODES_AT_A_TIME_BYTES", (low, high))

    def plan(size: int) -> SimpleNamespace:
        return SimpleNamespace(files={"data/_kb/a.jsonl": SimpleNamespace(size=size)})

    duckdb_one = {dbt.DUCKDB_THREADS_ENV: "1"}
    assert low == pipeline.SMALL_SOURCES_BYTES
    assert [pipeline._threads(plan(size)) for size in (low - 1, low, high, high + 1)] == [
        ([], duckdb_one), (["--threads", "2"], {}), (["--threads", "2"], {}), ([], {})]
    monkeypatch.setenv(dbt.DUCKDB_THREADS_ENV, "2")
    assert pipeline._threads(plan(low - 1)) == ([], {})


def test_a_models_table_is_replaced_in_one_transaction(tmp_path_factory, monkeypatch):
    """macros/materializations.sql: the old table is dropped and the new one created in one
    transaction; a build that fails after the drop leaves the table as it was."""
    from conftest import generated_home, query

    home = generated_home(tmp_path_factory, "one-transaction", 600, 7)
    models = ["int_evidence_joined_to_runs", "skipped_lines"]  # a table, an incremental model

    def tables() -> dict[str, list[tuple]]:
        return {model: query(home, f"select * from {model} order by all") for model in models}

    before = tables()
    log = home / "data/.dbt/logs/dbt.log"
    start = log.stat().st_size if log.exists() else 0
    command = ["run", "--select", *models, "--full-refresh"]
    monkeypatch.setenv(dbt.MEMORY_LIMIT_VAR, "2MB")  # room for the drop, not for the query
    nodes = dbt.invoke(Home(home), [*command, "--log-level-file", "debug"], check=False)
    assert sorted((n.name, n.status) for n in nodes) == [(model, "error") for model in models]
    assert all("Out of Memory Error" in n.message for n in nodes)
    ran = log.read_text()[start:]
    for model in models:
        in_model = ran[ran.index(f'drop table "warehouse"."main"."{model}"'):]
        assert in_model.index("Out of Memory Error") < in_model.index("ROLLBACK")
        assert before[model]
    assert tables() == before
    monkeypatch.delenv(dbt.MEMORY_LIMIT_VAR)
    assert [n.status for n in dbt.invoke(Home(home), command)] == ["success", "success"]
    assert tables() == before
    assert query(home, "select table_name from duckdb_tables() where table_name like '%dbt%'") == []


def test_an_incremental_model_that_does_not_append_is_refused_by_name(tmp_path_factory, patched_project):
    from conftest import generated_home

    home = generated_home(tmp_path_factory, "merge", 600, 7)
    patched_project({"models/staging/stg_answers.yml": ("incremental_strategy: append", "incremental_strategy: merge")})
    [node] = dbt.invoke(Home(home), ["run", "--select", "stg_answers"], check=False)
    assert node.status == "error" and "stg_answers asks for merge and fail" in " ".join(node.message.split())
