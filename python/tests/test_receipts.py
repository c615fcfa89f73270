"""Receipts, summaries, drift, determinism and tracing (docs/concepts.md, "Receipts and drift";
docs/design.md, "Provenance and determinism")."""

import hashlib
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import first_part, part_rows, parts, run_cli
from distill import cli, dbt
from distill import runs
from distill.home import Home
from distill.drift import change_severity, drift
from distill.fingerprints import output_files, run_hash
from distill.receipts import NodeRun, build_receipts, node_runs, stage_files
from distill.schemas import DriftReport, RunSummary, StageReceipt

RECORDED_AT = "2026-04-30T00:00:00Z"


def data_outputs(home: Path) -> dict[str, str]:
    """Every data output file and its sha256."""
    files = [*home.glob("data/evidence/*/*.parquet"), *home.glob("data/scored-runs/*/*.parquet"),
             *home.glob("exports/*/*.jsonl")]
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)}


def run_dirs(home: Path) -> list[Path]:
    return runs.run_dirs(Home(home))


@pytest.fixture(scope="module")
def twice(tmp_path_factory) -> Path:
    """A home run twice with the same --recorded-at; the data outputs of the first kept aside."""
    home = tmp_path_factory.mktemp("receipts")
    assert run_cli("generate", "--lines", "700", "--seed", "31", home=home).code == 0
    first = run_cli("run-all", "--recorded-at", RECORDED_AT, home=home)
    assert first.code == 0, first.stderr
    (home / "first-outputs.json").write_text(json.dumps(data_outputs(home)))
    (home / "first-summary.json").write_bytes(next(home.glob("reports/*/summary.json")).read_bytes())
    (home / "first-card.md").write_bytes((home / "exports/README.md").read_bytes())
    second = run_cli("run-all", "--recorded-at", RECORDED_AT, "--quiet", "--force", home=home)
    assert second.code == 0, second.stderr
    assert second.stdout == ""
    return home


def test_run_all_writes_receipts_summary_and_drift(twice):
    run_dir = run_dirs(twice)[-1]
    receipts = [StageReceipt.model_validate(r) for r in json.loads((run_dir / "receipts.json").read_text())]
    assert [r.stage for r in receipts] == ["materialize", "score", "export-rag", "export-sft", "export-preference",
                                           "quarantine"]
    assert all(r.status == "success" and r.outputs and r.rows_out > 0 for r in receipts)
    materialize = receipts[0]
    assert materialize.rows_in == materialize.rows_out + materialize.rows_skipped + materialize.rows_pending
    assert materialize.rows_pending == 1  # the generator's last line still being written
    nodes = node_runs(dbt.target_dir(Home(twice)) / "target")
    assert len(nodes) > 50 and not [n for n in nodes if n.unique_id.startswith("unit_test.")]  # the gate runs those
    for r in receipts:
        for out in r.outputs:
            assert hashlib.sha256((twice / out.path).read_bytes()).hexdigest() == out.sha256
    summary = RunSummary.model_validate_json((run_dir / "summary.json").read_text())
    assert summary.recorded_at == datetime(2026, 4, 30, tzinfo=timezone.utc)
    assert summary.run_hash == run_hash([o for r in receipts for o in r.outputs])
    assert sum(summary.categories.values()) == summary.counts["scored"]
    report = DriftReport.model_validate_json((run_dir / "drift.json").read_text())
    # the second run of the same input keeps its own reports, and compares with the first
    assert report.previous_run_id == run_dirs(twice)[0].name and report.severity == "ok"


def test_the_same_recorded_at_is_the_same_logical_run_and_a_rerun_keeps_its_own_reports(twice):
    first, second = run_dirs(twice)
    assert first.name.startswith("20260430T000000-") and second.name == first.name + "-2"
    assert (first / "summary.json").read_bytes() == (twice / "first-summary.json").read_bytes()
    # the rerun's summary and card differ from the first's only in the run they name
    assert (second / "summary.json").read_text().replace(second.name, first.name) == (first / "summary.json").read_text()
    card = (twice / "exports/README.md").read_text()
    assert second.name in card and card.replace(second.name, first.name) == (twice / "first-card.md").read_text()


def test_drift_compares_with_the_previous_run(twice, tmp_path):
    home = Path(shutil.copytree(twice, tmp_path / "home"))
    assert run_cli("run-all", "--quiet", home=home).code == 0
    latest = run_dirs(home)[-1]
    report = DriftReport.model_validate_json((latest / "drift.json").read_text())
    assert report.previous_run_id == run_dirs(home)[-2].name != latest.name
    assert {m.metric for m in report.metrics} >= {"evidence", "sft", "rejected", "firewall_breaches"}


def test_same_input_and_recorded_at_give_identical_outputs_and_run_hash(twice):
    assert json.loads((twice / "first-outputs.json").read_text()) == data_outputs(twice)
    hashes = {json.loads((d / "summary.json").read_text())["run_hash"] for d in run_dirs(twice)}
    assert len(hashes) == 1


def test_no_wall_clock_time_leaks_into_data_outputs(twice):
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    for path in data_outputs(twice):
        assert today.encode() not in (twice / path).read_bytes(), path


def test_a_changed_input_line_moves_the_run_hash(twice, tmp_path):
    home = Path(shutil.copytree(twice, tmp_path / "home"))
    path = home / "data/_kb/task_outcomes.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace('"status": "success"', '"status": "failure"').replace('"status": "partial"', '"status": "failure"')
    lines[0] = lines[0].replace('"task": "', '"task": "Urgent: ', 1)
    path.write_text("".join(lines))
    assert run_cli("run-all", "--recorded-at", RECORDED_AT, "--quiet", home=home).code == 0
    hashes = {json.loads((d / "summary.json").read_text())["run_hash"] for d in run_dirs(home)}
    assert len(hashes) == 2


def test_receipts_latest_prints_summary_receipts_and_drift(twice):
    result = run_cli("receipts", "--latest", home=twice)
    assert result.code == 0, result.stderr
    for text in ("run_hash", "receipts", "materialize", "drift against", "firewall_breaches"):
        assert text in result.stdout


def test_receipts_by_run_id_as_json(twice):
    first = run_dirs(twice)[0].name
    result = run_cli("receipts", "--run-id", first, "--json", home=twice)
    payload = json.loads(result.stdout)
    assert payload["run_id"] == first and payload["drift"]["previous_run_id"] is None
    assert len(payload["receipts"]) == 6 and payload["summary"]["quarantined"]


@pytest.mark.parametrize("args", [["--run-id", "nope"], [], ["--latest", "--run-id", "x"]])
def test_receipts_bad_arguments_are_one_line(twice, args):
    result = run_cli("receipts", *args, home=twice)
    assert result.code == 1 and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("old", "new", "severity"),
    [(100, 119, "ok"), (100, 81, "ok"), (100, 121, "warn"), (100, 79, "warn"), (100, 149, "warn"),
     (100, 51, "warn"), (100, 151, "alert"), (100, 49, "alert"), (0, 0, "ok"), (0, 5, "alert"), (None, 5, "ok")],
)
def test_drift_severity_at_the_thresholds(old, new, severity):
    assert change_severity(old, new)[1] == severity


def summary(run_id: str, sft: int) -> RunSummary:
    return RunSummary(run_id=run_id, recorded_at=datetime(2026, 4, 1, tzinfo=timezone.utc), git_head=None,
                      counts={"evidence": 100, "sft": sft}, categories={"accepted": 10}, run_hash="0" * 64)


def test_drift_reports_each_metric_and_the_worst_severity():
    report = drift(summary("b", 121), summary("a", 100), firewall_breaches=0)
    by_metric = {m.metric: m for m in report.metrics}
    assert by_metric["sft"].change_pct == 21.0 and by_metric["sft"].severity == "warn"
    assert by_metric["evidence"].severity == "ok"
    assert report.severity == "warn" and report.previous_run_id == "a"


def test_a_firewall_breach_is_an_alert_whatever_the_counts():
    report = drift(summary("b", 100), summary("a", 100), firewall_breaches=1)
    assert report.severity == "alert"
    assert {m.metric: m.severity for m in report.metrics}["firewall_breaches"] == "alert"


def test_a_failed_dbt_node_gives_a_failed_receipt_with_its_error(tmp_path):
    home = Home(tmp_path)
    now = datetime(2026, 4, 1, tzinfo=timezone.utc)
    nodes = [
        NodeRun("model.distill.evidence", "materialize", "success", now, now, "OK"),
        NodeRun("model.distill.scored_runs", "score", "error", now, now, "Binder Error: no column x"),
        NodeRun("model.distill.export_sft", "export-sft", "skipped", None, None, None),
    ]
    receipts = {r.stage: r for r in build_receipts(home, nodes, None, now, now, {}, {"materialize", "score", "export-sft"})}
    assert receipts["score"].status == "failed" and receipts["score"].error == "Binder Error: no column x"
    assert receipts["export-sft"].status == "skipped"


def test_a_firewall_failure_still_writes_receipts_and_an_alert(twice, tmp_path, monkeypatch, capsys):
    home = Path(shutil.copytree(twice, tmp_path / "home"))
    real_invoke = dbt.invoke

    def invoke_then_smuggle(staged, *args, **kwargs):
        nodes = real_invoke(staged, *args, **kwargs)
        sft = staged.export_parts("export_sft")[0]
        row = json.loads(sft.read_text().splitlines()[0]) | {"id": "sft_x", "quality_score": "needs_human_review"}
        sft.write_text(sft.read_text() + json.dumps(row) + "\n")
        return nodes

    monkeypatch.setattr(dbt, "invoke", invoke_then_smuggle)
    monkeypatch.setattr(sys, "argv", ["distill", "--home", str(home), "run-all", "--quiet", "--force"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "firewall" in err and "receipts.json" in err
    run_dir = run_dirs(home)[-1]
    receipts = {r["stage"]: r for r in json.loads((run_dir / "receipts.json").read_text())}
    assert receipts["export-sft"]["status"] == "failed" and "firewall" in receipts["export-sft"]["error"]
    assert receipts["materialize"]["status"] == "success"
    assert not (run_dir / "summary.json").exists()
    assert json.loads((run_dir / "drift.json").read_text())["severity"] == "alert"


def first_id(home: Path, export: str) -> str:
    return part_rows(home, export)[0]["id"]


@pytest.mark.parametrize("export", ["exports/sft", "exports/rag", "exports/preference", "exports/quarantine"])
def test_trace_an_export_row_down_to_its_source_lines(twice, export):
    result = run_cli("trace", first_id(twice, export), home=twice)
    assert result.code == 0, result.stderr
    assert "source line data/_kb/" in result.stdout and "BROKEN" not in result.stdout


def test_trace_a_run_id(twice):
    run_id = part_rows(twice, "exports/sft")[0]["provenance"]["run_ids"][0]
    result = run_cli("trace", run_id, home=twice)
    assert result.code == 0 and f"run {run_id}" in result.stdout


def test_trace_names_the_broken_link_when_a_source_line_is_deleted(twice, tmp_path):
    home = Path(shutil.copytree(twice, tmp_path / "home"))

    def next_line_differs(row: dict) -> bool:  # deleting a line followed by its own copy changes nothing
        source_file, line = row["provenance"]["source_lines"][0].rsplit(":", 1)
        lines = (home / source_file).read_bytes().split(b"\n")
        return lines[int(line)] != lines[int(line) + 1]

    row = next(r for r in part_rows(home, "exports/sft") if next_line_differs(r))
    source_file, line = row["provenance"]["source_lines"][0].rsplit(":", 1)
    lines = (home / source_file).read_bytes().split(b"\n")
    del lines[int(line)]
    (home / source_file).write_bytes(b"\n".join(lines))
    result = run_cli("trace", row["id"], home=home)
    assert result.code == 1
    assert f"source line {source_file}:{line}" in result.stderr and "BROKEN" in result.stdout


def test_output_files_hash_what_is_on_disk(twice):
    home = Home(twice)
    files = output_files(home, stage_files(home)["export-sft"])
    assert files[0].path == first_part(twice, "exports/sft").relative_to(twice).as_posix()
    assert files[0].sha256 == hashlib.sha256((twice / files[0].path).read_bytes()).hexdigest()


def test_a_rerun_with_nothing_new_does_no_data_work(twice, tmp_path, monkeypatch):
    from distill import pipeline

    home = Path(shutil.copytree(twice, tmp_path / "home"))
    run_results = home / "data/.dbt/target/nodes.json"
    before = run_results.stat().st_mtime_ns

    def no_warehouse(home):
        raise AssertionError("a run with nothing to do read the warehouse")

    # it reports the counts the run it repeats kept, without counting the tables again
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "connect", no_warehouse)
        result = run_cli("run-all", home=home)
    assert result.code == 0 and "nothing changed since run" in result.stdout, result.stderr
    assert run_results.stat().st_mtime_ns == before  # dbt did not run
    latest = run_dirs(home)[-1]
    assert {r["status"] for r in json.loads((latest / "receipts.json").read_text())} == {"skipped"}
    summaries = [json.loads((d / "summary.json").read_text()) for d in run_dirs(home)]
    assert len({s["run_hash"] for s in summaries}) == 1
    assert summaries[-1]["counts"] == summaries[-2]["counts"] and summaries[-1]["counts"]["evidence"] > 0
    # without the kept counts (or with those of other outputs) it counts the tables: the same
    (home / "data/.dbt" / pipeline.KEPT_COUNTS).unlink()
    result = run_cli("run-all", home=home)
    assert result.code == 0 and "nothing changed since run" in result.stdout
    assert json.loads((run_dirs(home)[-1] / "summary.json").read_text())["counts"] == summaries[-1]["counts"]


@pytest.mark.parametrize("change", ["append a line", "delete an export"])
def test_a_changed_input_or_missing_output_does_the_work_again(twice, tmp_path, change):
    home = Path(shutil.copytree(twice, tmp_path / "home"))
    if change == "append a line":
        with (home / "data/_kb/task_outcomes.jsonl").open("a") as handle:
            handle.write('{"run_id": "new-run", "ts": "2026-04-03T00:00:00Z", "status": "success", "task": "New"}\n')
    else:
        missing = first_part(home, "exports/sft")
        missing.unlink()
    result = run_cli("run-all", home=home)
    assert result.code == 0 and "nothing changed" not in result.stdout
    assert parts(home, "exports/sft")
    latest = run_dirs(home)[-1]
    assert {r["status"] for r in json.loads((latest / "receipts.json").read_text())} == {"success"}


def test_run_hash_covers_every_data_file_on_disk(twice):
    """Computed here from a walk of the output folders, not from the product's list of outputs:
    a data file the run wrote but did not hash would change this figure."""
    summary = json.loads((run_dirs(twice)[-1] / "summary.json").read_text())
    lines = []
    for folder in ("exports", "data/evidence", "data/scored-runs"):
        root = (twice / folder).resolve()
        for path in sorted(root.rglob("*")):
            # the dataset card and the manifest quote the run_hash themselves
            if path.is_file() and path.name not in ("README.md", "manifest.json"):
                relative = f"{folder}/{path.relative_to(root).as_posix()}"
                lines.append(f"{relative}\t{hashlib.sha256(path.read_bytes()).hexdigest()}\n")
    assert len(lines) > 6
    assert hashlib.sha256("".join(sorted(lines)).encode()).hexdigest() == summary["run_hash"]
