"""audit-full, its tamper tests, release-freeze and the operator documents (docs/design.md, "Audit")."""

import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import acceptance_gate, first_part, generated_home, parts, run_cli
from distill import audit
from distill.home import PROJECT_DIR, Home

SFT = "exports/sft"
RAG = "exports/rag"
PREFERENCE = "exports/preference"
FAST = ["--skip", "acceptance passes"]  # the gate has its own tests; tamper tests need not rerun it


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return generated_home(tmp_path_factory, "audit", 600, 7)


@pytest.fixture
def home(built, tmp_path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "home"))


def check_status(stdout: str, name: str) -> str:
    match = re.search(rf"^\s*(pass|fail|skipped|info)\s+{re.escape(name)}:", stdout, re.M)
    assert match, f"no line for {name!r} in:\n{stdout}"
    return match.group(1)


def test_audit_passes_on_a_fresh_run_and_appends_a_baseline(home, tmp_path_factory):
    # the gate has passed on this very project in this session: audit-full reuses its pass (that
    # it runs the gate when there is none: test_the_audit_and_the_release_reuse_a_pass_...)
    acceptance_gate(tmp_path_factory)
    result = run_cli("audit-full", home=home)
    assert result.code == 0, result.stdout + result.stderr
    for name in ("schemas valid and docs/schemas in sync", "every line accounted for", "SFT firewall",
                 "run_hash recomputes", "acceptance passes", "replay retrieval smoke", "docs present"):
        assert check_status(result.stdout, name) == "pass"
    assert "on this very project" in result.stdout
    rows = audit.baseline_rows(Home(home))
    assert len(rows) == 1 and rows[0]["passed"] is True and set(rows[0]["metrics"]) == set(audit.BASELINE_METRICS)
    assert "| run_hash recomputes | pass |" in (home / "reports/audit.md").read_text()


def test_baselines_are_append_only_and_drift_is_measured_against_the_last(home):
    path = home / "data/_kb/audit_baselines.jsonl"
    assert run_cli("audit-full", *FAST, home=home).code == 1  # a skipped check is not a passed audit
    first = path.read_bytes()
    row = json.loads(first)
    row["metrics"] = {k: v * 2 for k, v in row["metrics"].items()}  # a reference twice as large
    row["reference"] = True
    path.write_bytes(first + (json.dumps(row) + "\n").encode())
    before = path.read_bytes()
    result = run_cli("audit-full", *FAST, home=home)
    after = path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    assert "warn" in result.stdout and "-50.0" in result.stdout
    assert check_status(result.stdout, "drift against the last baseline") == "info"


def append_row(folder: Path, change) -> None:
    """Append a row, made from the first, to the first day part of an export."""
    path = first_part(folder.parent.parent, f"exports/{folder.name}")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows.append(change(dict(rows[0])))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def tamper_rejected_sft_row(home: Path) -> None:
    append_row(home / SFT, lambda r: r | {"id": "sft_tampered", "quality_score": "rejected"})


def tamper_self_pair(home: Path) -> None:
    append_row(home / PREFERENCE, lambda r: r | {"id": "pref_self", "rejected_run_id": r["chosen_run_id"], "rejected": "other"})


def tamper_identical_pair(home: Path) -> None:
    append_row(home / PREFERENCE, lambda r: r | {"id": "pref_same", "rejected": r["chosen"]})


def tamper_secret(home: Path) -> None:
    append_row(home / RAG, lambda r: r | {"id": "rag_secret", "text": "token ghp_8f2KcLr0QmZ1xW4vT7yB9nD3sJ6hA5eU2pXq"})


def tamper_ungrounded_rag(home: Path) -> None:
    append_row(home / RAG, lambda r: r | {"id": "rag_ghost", "provenance": r["provenance"] | {"evidence_ids": ["ev_ghost"]}})


def tamper_deleted_source_line(home: Path) -> None:
    path = home / "data/_kb/task_outcomes.jsonl"
    lines = path.read_bytes().split(b"\n")
    del lines[3]
    path.write_bytes(b"\n".join(lines))


def tamper_edited_export(home: Path) -> None:
    path = first_part(home, "exports/quarantine")
    path.write_text(path.read_text().replace("duplicate", "duplicate", 1) + "")
    rows = path.read_text().splitlines()
    row = json.loads(rows[0])
    row["detail"] += " (edited by hand)"
    path.write_text("\n".join([json.dumps(row), *rows[1:]]) + "\n")


def tamper_corrupt_summary(home: Path) -> None:
    summary = sorted(home.glob("reports/*/summary.json"))[-1]
    summary.write_text(summary.read_text()[:40])


def tamper_invalid_record(home: Path) -> None:
    append_row(home / RAG, lambda r: {k: v for k, v in r.items() if k != "text"} | {"id": "rag_no_text"})


def tamper_empty_rag(home: Path) -> None:
    for part in parts(home, RAG):
        part.write_text("")


TAMPERS = {
    "SFT firewall": tamper_rejected_sft_row,
    "preference self-pairs": tamper_self_pair,
    "preference identical texts": tamper_identical_pair,
    "no secrets in exports": tamper_secret,
    "RAG grounded": tamper_ungrounded_rag,
    "every line accounted for": tamper_deleted_source_line,
    "run_hash recomputes": tamper_edited_export,
    "latest RunSummary valid": tamper_corrupt_summary,
    "schemas valid and docs/schemas in sync": tamper_invalid_record,
    "replay retrieval smoke": tamper_empty_rag,
}


@pytest.mark.parametrize("check", sorted(TAMPERS))
def test_audit_fails_on_the_check_its_tamper_breaks(home, check):
    TAMPERS[check](home)
    result = run_cli("audit-full", *FAST, home=home)
    assert result.code == 1
    assert check_status(result.stdout, check) == "fail"
    assert check in result.stderr and result.stderr.count("\n") == 1
    assert json.loads((home / "data/_kb/audit_baselines.jsonl").read_text().splitlines()[-1])["passed"] is False


def test_audit_fails_when_a_document_is_missing(home, monkeypatch):
    monkeypatch.setattr(audit, "DOCS", (*audit.DOCS, "docs/missing.md"))
    result = audit.run_audit(Home(home), datetime.now(timezone.utc), skip={"acceptance passes"})
    assert [c.status for c in result.checks if c.name == "docs present"] == ["fail"]


def test_audit_fails_when_nothing_was_scored(home):
    import duckdb

    with duckdb.connect(str(home / "data/warehouse.duckdb")) as conn:
        conn.execute("delete from scored_runs")
    result = run_cli("audit-full", *FAST, home=home)
    assert result.code == 1 and check_status(result.stdout, "scored distribution non-empty") == "fail"


def tags() -> str:
    return subprocess.run(["git", "-C", str(PROJECT_DIR), "tag", "--list"], capture_output=True, text=True).stdout


def test_release_freeze_reports_every_gate_and_never_tags(home):
    before = tags()
    # the slow gates have their own tests; here: the report, the manifest and that it never tags
    result = run_cli("release-freeze", "--skip", "full test suite", "--skip", "acceptance", "--skip", "audit-full", home=home)
    assert tags() == before
    assert result.code == 1 and "not release-ready" in result.stderr  # skipped gates are not ready
    manifest = json.loads((home / "reports/release-manifest.json").read_text())
    assert [g["gate"] for g in manifest["gates"]] == [
        "clean git tree", "full test suite", "dbt project documented and contracted", "acceptance", "audit-full",
        "release tag not yet taken",
    ]
    statuses = {g["gate"]: g["status"] for g in manifest["gates"]}
    assert statuses["dbt project documented and contracted"] == "pass"
    assert statuses["audit-full"] == "skipped" and statuses["release tag not yet taken"] == "pass"
    assert manifest["git_head"] and manifest["released_at"] and manifest["release_tag"].startswith("v")
    assert "| full test suite | skipped |" in (home / "reports/release.md").read_text()


def test_the_clean_tree_gate_tolerates_only_the_homes_own_reports(tmp_path):
    from distill.home import PROJECT_DIR, Home
    from distill.release import tolerated_reports

    home = Home(PROJECT_DIR / "sample-home")
    dirty = ["sample-home/reports/acceptance.md", "models/reports/evil.sql", "python/distill/reports/x.py",
             "reports/other.md", "sample-home/reports/../models/x.sql"]
    assert tolerated_reports(home, dirty) == dirty[1:]


def test_the_audit_and_the_release_reuse_a_pass_of_this_very_project_and_run_the_gate_otherwise(patched_project,
                                                                                                   monkeypatch):
    from distill import acceptance, release

    patched_project({})  # a copy of the project, with its own record of passes
    ran = []

    def gate(workdir: Path, between=None) -> acceptance.Acceptance:
        ran.append(workdir)
        result = acceptance.Acceptance(workdir)
        result.verdicts = {n: acceptance.Verdict(n, n != 8) for n in acceptance.INVARIANTS}
        return result

    monkeypatch.setattr(acceptance, "run_acceptance", gate)
    acceptance.remember_pass(acceptance.project_key(), datetime(2026, 5, 1, tzinfo=timezone.utc))
    check, gate_held = audit.check_acceptance(), release.gate_acceptance()
    assert (check.status, gate_held.status, ran) == ("pass", "pass", [])
    assert check.detail == gate_held.detail == \
        "22/22 invariants hold on the fixture (passed at 2026-05-01T00:00:00+00:00 on this very project)"
    # any change to the project: the pass is not this project's, the gate runs
    patched_project({"models/scoring/scored_runs.sql": ("No model in the loop.", "No model in the loop!")})
    check, gate_failed = audit.check_acceptance(), release.gate_acceptance()
    assert (check.status, gate_failed.status, len(ran)) == ("fail", "fail", 2)
    assert gate_failed.detail == "invariant(s) 8 fail: run `distill acceptance`"
