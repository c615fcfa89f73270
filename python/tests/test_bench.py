"""`distill bench` measures (a smoke run at a tiny size: the figures themselves are not asserted).
The handoff's bench example is that smoke run: test_docs.py runs it and checks its figures here."""

import json
from pathlib import Path

from conftest import run_cli


def assert_bench_figures(home: Path, stdout: str) -> None:
    """What `distill --home home bench --lines 300 --runs 1 --no-warm-up` must leave."""
    figures = json.loads((home / "reports" / "bench.json").read_text())
    assert figures["lines"] >= 300 and figures["runs"] == 1
    assert figures["floor_s"] > 0 and figures["run_all_s"] > 0 and figures["noop_s"] > 0
    assert figures["ratio"] == round(figures["run_all_s"] / figures["floor_s"], 1)
    assert figures["peak_rss_mb"] > 0 and figures["next_day_s"] > 0 and figures["scattered_s"] > 0
    assert figures["next_day_pct"] == round(100 * figures["next_day_s"] / figures["run_all_s"], 1)
    assert figures["scattered_pct"] == round(100 * figures["scattered_s"] / figures["run_all_s"], 1)
    # where the full run's time went: dbt's nodes (the floor of every run is the line reader)
    assert 0 < figures["dbt_s"] < figures["run_all_s"] and figures["outside_dbt_s"] > 0
    assert "base_source_lines" in figures["node_s"] and len(figures["node_s"]) > 50
    assert list(figures["node_s"].values()) == sorted(figures["node_s"].values(), reverse=True)
    # and the next day's: fewer nodes run (a delta touches part of the graph), each timed
    assert 0 < figures["next_day_dbt_s"] < figures["next_day_s"]
    assert "base_source_lines" in figures["next_day_node_s"]
    for label in ("+1 % next day: dbt s", "run-all s", "no-op s", "+1 % next day s", "+1 % scattered s", "full run: dbt s"):
        assert label in stdout
    # the lines appended for the incremental runs are taken away again
    reference = home / "reference"
    assert run_cli("generate", "--lines", "300", "--seed", "1", home=reference).code == 0
    for path in (reference / "data/_kb").glob("*.jsonl"):
        assert (home / "data/_kb" / path.name).read_bytes() == path.read_bytes(), path.name
    assert sorted(p.name for p in (home / "data/_kb").glob("*.jsonl")) == sorted(
        p.name for p in (reference / "data/_kb").glob("*.jsonl"))


def test_a_failed_measured_run_is_one_line_not_a_traceback(tmp_path):
    import os

    env = os.environ | {"DISTILL_MEMORY_LIMIT": "ten"}
    result = run_cli("bench", "--lines", "100", "--runs", "1", "--no-warm-up", home=tmp_path, env=env)
    assert result.code == 1 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert result.stderr.startswith("distill: bench: a measured run-all failed: DISTILL_MEMORY_LIMIT='ten' is not a size")
