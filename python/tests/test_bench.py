"""`distill bench` measures (a smoke run at a tiny size: the figures themselves are not asserted)."""

import json

from conftest import run_cli


def test_bench_writes_its_figures(tmp_path):
    result = run_cli("bench", "--lines", "300", "--runs", "1", home=tmp_path)
    assert result.code == 0, result.stderr
    figures = json.loads((tmp_path / "reports" / "bench.json").read_text())
    assert figures["lines"] >= 300 and figures["runs"] == 1
    assert figures["floor_s"] > 0 and figures["run_all_s"] > 0 and figures["noop_s"] > 0
    assert figures["ratio"] == round(figures["run_all_s"] / figures["floor_s"], 1)
    assert figures["peak_rss_mb"] > 0
    assert "run-all s" in result.stdout and "no-op s" in result.stdout
