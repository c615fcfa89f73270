"""Every command of the recovery runbook works as written (test_docs.py runs the handoff's)."""

from test_docs import run_documented


def test_every_command_in_the_runbook_works(tmp_path, monkeypatch, capsys):
    ran = run_documented("docs/recovery-runbook.md", tmp_path, monkeypatch, capsys, built=True)  # a home that has been running
    assert any("verify-determinism" in c for c in ran) and any("skipped_lines" in c for c in ran)
