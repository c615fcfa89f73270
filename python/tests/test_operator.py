"""An operator's day one (docs/operator-handoff.md, docs/recovery-runbook.md): the audit checks the
corpus as the last run built it, distill's own files are never input, incident evidence is kept,
determinism is verified by a rebuild, a re-baseline is kept with its note, and every command run
outside a home, or asked for what it cannot do, says so in one line."""

import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import first_part, generated_home, incident_files, run_main
from distill import audit, pipeline
from distill.runs import run_dirs
from distill.home import PROJECT_DIR, Home

# the checks these tests are not about (each has tests of its own)
SKIP = {"acceptance passes", "replay retrieval smoke"}
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return generated_home(tmp_path_factory, "operator", 600, 7)


@pytest.fixture
def home(built, tmp_path) -> Path:
    """A copy of the built home, its output links kept as links."""
    return Path(shutil.copytree(built, tmp_path / "home", symlinks=True))


def checks(result: audit.Audit) -> dict[str, audit.Check]:
    return {c.name: c for c in result.checks}


def test_audit_checks_an_include_partial_corpus_in_its_own_mode(home, monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "--home", str(home), "run-all", "--include-partial", "--quiet")
    assert code == 0, err
    sft = [json.loads(line) for p in (home / "exports/sft").glob("*.jsonl") for line in p.read_text().splitlines()]
    assert any(row["quality_score"] == "partially_accepted" for row in sft)
    result = audit.run_audit(Home(home), NOW, skip=SKIP)
    found = checks(result)
    assert found["SFT firewall"].status == "pass", found["SFT firewall"].detail
    assert found["schemas valid and docs/schemas in sync"].status == "pass"
    assert "built --include-partial" in found["audited run"].detail
    # the same rows in a corpus built strict are a breach the audit still catches
    summary = run_dirs(Home(home))[-1] / "summary.json"  # the include-partial run's
    raw = json.loads(summary.read_text())
    summary.write_text(json.dumps(raw | {"include_partial": False}))
    assert checks(audit.run_audit(Home(home), NOW, skip=SKIP))["SFT firewall"].status == "fail"


def test_lines_appended_after_the_run_are_information_and_an_edit_is_a_failure(home):
    # a source whose last line is complete (the generator leaves some with a pending one)
    source = next(p for p in sorted((home / "data/_kb").glob("*.jsonl")) if p.read_bytes().endswith(b"\n"))
    with source.open("a") as handle:
        handle.write(json.dumps({"feedback_id": "f-late", "run_id": "r-late", "ts": "2026-05-01T00:00:00Z",
                                 "rating": "up"}) + "\n")
        handle.write('{"feedback_id": "f-half"')  # a writer in the middle of a line
    result = audit.run_audit(Home(home), NOW, skip=SKIP)
    found = checks(result)
    assert not [(c.name, c.detail) for c in result.checks if c.status == "fail"]
    assert found["every line accounted for"].status == "pass"
    assert found["lines appended since the run"].status == "info"
    assert f"2 new line(s) in data/_kb/{source.name} wait for the next run" in found["lines appended since the run"].detail
    text = source.read_bytes()
    source.write_bytes(text.replace(b'"', b"'", 1))  # an old line edited in place
    found = checks(audit.run_audit(Home(home), NOW, skip=SKIP))
    assert found["every line accounted for"].status == "fail"
    assert f"data/_kb/{source.name}" in found["every line accounted for"].detail


def test_a_run_after_an_audit_is_a_no_op(home):
    first = pipeline.build(Home(home), "run-all")
    assert first.unchanged_since is not None  # the built home, unchanged
    audit.run_and_record(Home(home), NOW, skip=SKIP | {"invariants", "schemas valid and docs/schemas in sync"})
    assert (home / "data/_kb/audit_baselines.jsonl").stat().st_size > 0
    assert pipeline.build(Home(home), "run-all").unchanged_since is not None
    # a file in data/_kb that is no stream is no input either
    (home / "data/_kb/NOTES.txt").write_text("what we changed upstream\n")
    assert pipeline.build(Home(home), "run-all").unchanged_since is not None


def test_a_part_moved_aside_by_hand_is_kept_as_an_incident_and_listed(home, monkeypatch, capsys):
    part = first_part(home, "exports/sft")
    held = part.with_name(part.name + ".QUARANTINED")
    part.rename(held)  # the runbook's drill: take a part out of service, keep it
    code, _, err = run_main(monkeypatch, capsys, "--home", str(home), "run-all", "--quiet")
    assert code == 0, err
    [kept] = incident_files(home)
    assert kept.name == held.name and kept.read_bytes()
    assert kept.relative_to(home).parts[:2] == ("data", "incidents")
    note = (kept.parents[2] / "NOTE.md").read_text()
    assert "not written by distill" in note and f"exports/sft/{held.name}" in note
    assert part.exists()  # the run rebuilt the part from the sources
    code, out, _ = run_main(monkeypatch, capsys, "--home", str(home), "receipts", "--latest")
    assert code == 0 and f"open incident: data/incidents/{kept.parents[2].name}" in out
    # a later run never deletes it
    assert pipeline.build(Home(home), "run-all", force=True).summary is not None
    assert incident_files(home) == [kept]
    found = checks(audit.run_audit(Home(home), NOW, skip=SKIP | {"invariants"}))
    assert kept.parents[2].name in found["open incidents"].detail


def test_verify_determinism_rebuilds_and_names_a_part_that_differs(home, monkeypatch, capsys):
    with (home / "data/_kb/user_feedback.jsonl").open("a") as handle:  # not yet read: left out of the rebuild
        handle.write(json.dumps({"feedback_id": "f-new", "run_id": "r-new", "ts": "2026-05-01T00:00:00Z",
                                 "rating": "down"}) + "\n")
    # (a rebuild that gives the same parts: the handoff's and the runbook's runs of it, test_docs.py)
    part = first_part(home, "exports/rag").resolve()
    part.write_text(part.read_text().replace('"', "'", 2))  # changed by hand behind distill's back
    code, out, err = run_main(monkeypatch, capsys, "--home", str(home), "verify-determinism")
    assert code == 1 and f"differs: exports/rag/{part.name}" in out
    assert err.count("\n") == 1 and "not deterministic: 1 of" in err and "kept at" in err


def test_equal_runs_keep_their_own_reports(home):
    at = datetime(2026, 5, 1, tzinfo=timezone.utc)
    # two runs with the same recorded_at and outputs (with nothing new to read: no data work)
    first = pipeline.build(Home(home), "run-all", recorded_at=at)
    second = pipeline.build(Home(home), "run-all", recorded_at=at)
    assert second.run_id == first.run_id + "-2"
    assert first.summary.run_hash == second.summary.run_hash
    assert (home / "reports" / first.run_id / "summary.json").exists()


def test_a_rebaseline_is_kept_with_its_note_and_drift_is_measured_against_it(home, monkeypatch, capsys):
    path = home / "data/_kb/audit_baselines.jsonl"
    fast = [arg for name in (*SKIP, "invariants") for arg in ("--skip", name)]
    code, _, err = run_main(monkeypatch, capsys, "--home", str(home), "audit-full", "--rebaseline", *fast)
    assert code == 1 and '--rebaseline needs --note "why"' in err and not path.exists()
    twice = {k: v * 2 for k, v in audit.metrics(Home(home)).items()}  # a reference twice as large
    path.write_text(json.dumps({"audited_at": "2026-05-01T00:00:00Z", "run_id": None, "run_hash": None,
                                "metrics": twice, "passed": True, "reference": True}) + "\n")
    code, out, _ = run_main(monkeypatch, capsys, "--home", str(home), "audit-full", *fast)
    assert "-50.0" in out and "warn" in out
    assert json.loads(path.read_text().splitlines()[-1])["reference"] is False  # skipped checks: not a yardstick
    code, out, _ = run_main(monkeypatch, capsys, "--home", str(home), "audit-full", *fast,
                            "--rebaseline", "--note", "a second team's traces joined on 1 June")
    row = json.loads(path.read_text().splitlines()[-1])
    assert row["note"] == "a second team's traces joined on 1 June" and row["reference"] is True
    assert "re-baselined: a second team's traces joined on 1 June" in out
    code, out, _ = run_main(monkeypatch, capsys, "--home", str(home), "audit-full", *fast)
    assert "-50.0" not in out and re.search(r"evidence\s+[\d,]+\s+[\d,]+\s+\+0\.0\s+ok", out)
    # a row appended by hand that is no baseline is named, never silently skipped
    with path.open("a") as handle:
        handle.write(json.dumps({"note": "rebaseline after the outage"}) + "\n")
    code, _, err = run_main(monkeypatch, capsys, "--home", str(home), "audit-full", *fast)
    assert code == 1 and err.count("\n") == 1
    assert "audit_baselines.jsonl line 5 is not an audit baseline" in err and "--rebaseline --note" in err


def test_audit_prints_a_tally_and_names_the_run(home, monkeypatch, capsys):
    code, out, _ = run_main(monkeypatch, capsys, "--home", str(home), "audit-full", "--skip", "acceptance passes")
    assert code == 1  # a skipped check is not a passed audit
    assert re.search(r"^\d+/\d+ required checks held; report:", out, re.M)
    held, total = map(int, re.search(r"(\d+)/(\d+) required checks held", out).groups())
    assert held == total - 1
    report = (home / "reports/audit.md").read_text()
    run_id = json.loads(next(home.glob("reports/*/summary.json")).read_text())["run_id"]
    assert f"{held}/{total} required checks held, auditing run {run_id}" in report


def test_outside_a_home_every_command_names_init_and_home(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISTILL_HOME", raising=False)
    for command in (["run-all"], ["sql", "select 1"], ["receipts", "--latest"], ["audit-full"], ["trace", "sft_1"],
                    ["verify-determinism"], ["replay", "--task", "x"]):
        code, _, err = run_main(monkeypatch, capsys, *command)
        assert code == 1 and err.count("\n") == 1, (command, err)
        assert "is not a distill home" in err and "distill init" in err and "--home" in err, (command, err)
    code, out, _ = run_main(monkeypatch, capsys, "init")
    assert code == 0 and (tmp_path / "data/_kb").is_dir() and "created data/_kb/, README.md" in out
    assert "data/_kb/<stream>*.jsonl" in (tmp_path / "README.md").read_text()
    code, out, _ = run_main(monkeypatch, capsys, "init")
    assert code == 0 and "nothing to create" in out


def test_replay_says_what_it_needs(built, monkeypatch, capsys):
    for name in ("DISTILL_LOCAL_MODEL_URL", "DISTILL_ESCALATION_MODEL_URL"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run_main(monkeypatch, capsys, "--home", str(built), "replay", "--task", "rotate the key",
                            "--no-retrieval")
    assert code == 1 and err.count("\n") == 1 and "DISTILL_LOCAL_MODEL_URL" in err and "--no-retrieval" in err
    code, _, err = run_main(monkeypatch, capsys, "--home", str(built), "replay", "--task",
                            "How do I rotate the signing key for billing-api?", "--allow-escalation")
    assert "escalation is off: --allow-escalation needs DISTILL_ESCALATION_MODEL_URL" in err


def test_the_handoff_lists_every_command_and_environment_variable():
    from distill.cli import app

    handoff = (PROJECT_DIR / "docs/operator-handoff.md").read_text()
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", handoff, re.S))
    commands = sorted(c.name for c in app.registered_commands)
    missing = [c for c in commands if not re.search(rf"^distill (--home \S+ )?{re.escape(c)}\b", blocks, re.M)]
    assert not missing, f"commands with no known-good example in the handoff: {missing}"
    code = "\n".join(p.read_text() for p in (PROJECT_DIR / "python/distill").glob("*.py"))
    variables = sorted(set(re.findall(r"DISTILL_[A-Z_]+[A-Z]", code)) - {"DISTILL_"})
    assert variables and not [v for v in variables if v not in handoff], variables


def test_a_rejected_row_appended_by_hand_fails_the_next_run_with_no_new_input(home):
    from distill.errors import DistillError

    part = first_part(home, "exports/sft").resolve()
    row = json.loads(part.read_text().splitlines()[0])
    with part.open("a") as handle:  # behind distill's back, and nothing new in the sources
        handle.write(json.dumps(row | {"id": "sft_forged", "quality_score": "rejected"}) + "\n")
    with pytest.raises(DistillError, match="firewall: .*quality_score.*incident evidence"):
        pipeline.build(Home(home), "run-all")
    [kept] = incident_files(home)
    assert "sft_forged" in kept.read_text()
    assert not any("sft_forged" in p.read_text() for p in (home / "exports/sft").glob("*.jsonl"))
