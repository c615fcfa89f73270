"""Every command the operator handoff and the recovery runbook show works as written, run in
order on a generated sample home with the placeholders filled from it: the handoff's first, then
the runbook's on the home the handoff left running (a command both documents show runs once: the
same argv on the same home). Each runs through the `distill` entry point in this process, from
the folder that holds the sample home: the same argv a user types, without an interpreter start
for each."""

import json
import re
import shlex
import subprocess
from pathlib import Path

from conftest import run_main
from test_bench import assert_bench_figures
from distill.home import PROJECT_DIR

DOCS = ("docs/operator-handoff.md", "docs/recovery-runbook.md")
# release-freeze's own test-suite gate would run this suite again, and a working tree under
# development is not clean: the docs test skips those two gates and expects them, and only them,
# to keep the release from being ready
RELEASE_SKIPS = ("clean git tree", "full test suite")


def acceptance_printed_22_and_wrote_the_report(home: Path, out: str) -> None:
    assert out.count("pass ") == 22 and "22/22 invariants hold" in out
    assert (home / "reports" / "acceptance.md").read_text().count("| pass |") == 22


def a_rebuild_gave_the_same_parts(home: Path, out: str) -> None:
    assert re.search(r"deterministic: a rebuild from scratch gives the same \d+ parts and run_hash [0-9a-f]{64}", out)


# What a documented command's output must show, where the docs test is the run of that command
# the suite makes (its failures have tests of their own: test_acceptance.py, test_operator.py,
# test_bench.py)
CHECKS = {
    "acceptance": acceptance_printed_22_and_wrote_the_report,
    "verify-determinism": a_rebuild_gave_the_same_parts,
    "bench": assert_bench_figures,
}


def docs_commands(doc: str) -> list[str]:
    text = (PROJECT_DIR / doc).read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        commands += [line.strip() for line in block.splitlines() if line.strip()]
    return commands


def fill(command: str, home: Path) -> str:
    """The placeholders, from the home as it is now."""
    if "<run_id>" in command:
        runs = sorted((home / "reports").glob("*/summary.json"), key=lambda p: p.stat().st_mtime_ns)
        command = command.replace("<run_id>", runs[-1].parent.name)
    if "<sft_id>" in command:
        part = sorted((home / "exports/sft").glob("*.jsonl"))[0]
        command = command.replace("<sft_id>", json.loads(part.read_text().splitlines()[0])["id"])
    return command


def run_documented(docs: tuple[str, ...], workdir: Path, monkeypatch, capsys) -> list[str]:
    """Run each distinct command of the documents in order, from workdir (which holds the sample
    home); return them as run."""
    monkeypatch.chdir(workdir)
    home = workdir / "sample-home"
    assert run_main(monkeypatch, capsys, "--home", str(home), "generate", "--lines", "400", "--seed", "7")[0] == 0
    ran = []
    for command in dict.fromkeys(c for doc in docs for c in docs_commands(doc)):
        argv = shlex.split(fill(command, home))
        if argv[0] == "git":
            assert subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True).returncode == 0, command
        elif argv[-1] == "release-freeze":
            argv += [arg for gate in RELEASE_SKIPS for arg in ("--skip", gate)]
            code, out, err = run_main(monkeypatch, capsys, *argv[1:])
            assert code == 1, out + err
            assert err.strip() == f"distill: not release-ready: {', '.join(RELEASE_SKIPS)}", out
        else:
            code, out, err = run_main(monkeypatch, capsys, *argv[1:])
            assert code == 0, f"{command}\n{out}\n{err}"
            CHECKS.get(argv[3] if len(argv) > 3 else "", lambda *_: None)(workdir / argv[2], out)
        ran.append(command)
    return ran


def test_docs_commands_are_all_distill_or_read_only_git():
    for doc in DOCS:
        commands = docs_commands(doc)
        assert len(commands) >= 5, doc
        assert all(c.startswith(("distill ", "git tag --list")) for c in commands), commands


def test_every_command_in_the_handoff_and_the_runbook_works(tmp_path, monkeypatch, capsys):
    ran = run_documented(DOCS, tmp_path, monkeypatch, capsys)
    handoff, runbook = (docs_commands(doc) for doc in DOCS)
    assert len(set(handoff)) >= 20 and set(ran) == set(handoff) | set(runbook)
    assert any("skipped_lines" in c for c in runbook) and "distill --home sample-home verify-determinism" in runbook
    assert (tmp_path / "my-home/data/_kb").is_dir() and (tmp_path / "sample-home/sft-openai.jsonl").stat().st_size
    assert (tmp_path / "bench-home/reports/bench.json").exists()
