"""Every command the operator handoff and the recovery runbook show works as written (a module of
its own: it is the longest test, and the suite spreads modules over its workers)."""

import re
import subprocess

from conftest import run_cli
from distill.home import PROJECT_DIR


def docs_commands() -> list[str]:
    commands = []
    for doc in ("docs/operator-handoff.md", "docs/recovery-runbook.md"):
        text = (PROJECT_DIR / doc).read_text()
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            commands += [line.strip() for line in block.splitlines() if line.strip()]
    return commands


def test_docs_commands_are_all_distill_or_read_only_git():
    commands = docs_commands()
    assert len(commands) >= 15
    assert all(c.startswith(("distill ", "git tag --list")) for c in commands), commands


def test_every_command_in_the_docs_works(tmp_path):
    import shlex

    home = tmp_path / "sample-home"
    assert run_cli("generate", "--lines", "400", "--seed", "7", home=home).code == 0
    for command in dict.fromkeys(docs_commands()):  # each distinct command once, in order
        argv = shlex.split(command.replace("sample-home", str(home)))
        if argv[0] == "git":
            assert subprocess.run(argv, cwd=PROJECT_DIR, capture_output=True).returncode == 0, command
            continue
        result = run_cli(*argv[1:])
        assert result.code == 0, f"{command}\n{result.stdout}\n{result.stderr}"
