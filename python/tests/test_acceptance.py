"""The acceptance gate (docs/concepts.md, "The acceptance gate"): it passes on the fixture, and
each invariant can fail: every break below damages the fixture's outputs the way one invariant guards against, and exactly
that invariant fails."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from conftest import acceptance_gate, built_fixture, first_part, run_cli
from distill import acceptance, receipts
from distill.home import Home

# The exports' folders of day parts: a break edits the first part of one.
SFT = "exports/sft"
RAG = "exports/rag"
PREFERENCE = "exports/preference"
QUARANTINE = "exports/quarantine"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    return built_fixture(tmp_path_factory, "fixture")


@pytest.fixture
def home(built, tmp_path) -> Home:
    return Home(Path(shutil.copytree(built[0], tmp_path / "home")))


# -- helpers that damage a built home --------------------------------------------------------


def sql(home: Home, statement: str) -> None:
    with duckdb.connect(str(home.warehouse)) as conn:
        conn.execute(statement)


def rows(home: Home, folder: str) -> list[dict]:
    return [json.loads(line) for line in first_part(home.root, folder).read_text().splitlines()]


def write_rows(home: Home, folder: str, new_rows: list[dict]) -> None:
    first_part(home.root, folder).write_text("".join(json.dumps(r) + "\n" for r in new_rows))


def edit_first(path: str, change: Callable[[dict], None]) -> Callable[[Home], None]:
    def apply(home: Home) -> None:
        all_rows = rows(home, path)
        change(all_rows[0])
        write_rows(home, path, all_rows)

    return apply


def append(path: str, make: Callable[[Home, list[dict]], dict]) -> Callable[[Home], None]:
    def apply(home: Home) -> None:
        all_rows = rows(home, path)
        write_rows(home, path, [*all_rows, make(home, all_rows)])

    return apply


def run_row(home: Home, run_id: str) -> dict:
    """A scored run as the exports would carry it."""
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        instruction, response, evidence_ids = conn.execute(
            "select instruction, response, evidence_ids from scored_runs where run_id = ?", [run_id]
        ).fetchone()
        lines = [
            f"{f}:{o}"
            for f, o in conn.execute(
                "select source_file, line_offset from evidence where list_contains(?, evidence_id)", [evidence_ids]
            ).fetchall()
        ]
    provenance = {"run_ids": [run_id], "evidence_ids": evidence_ids, "source_lines": lines}
    return {"instruction": instruction, "response": response, "provenance": provenance}


def sft_row_for(run_id: str, quality_score: str) -> Callable[[Home, list[dict]], dict]:
    def make(home: Home, _: list[dict]) -> dict:
        run = run_row(home, run_id)
        messages = [{"role": "user", "content": run["instruction"]}, {"role": "assistant", "content": run["response"]}]
        return {"id": f"sft_forced_{run_id}", **run, "messages": messages, "quality_score": quality_score,
                "model": None}

    return make


def rag_row_for(run_id: str) -> Callable[[Home, list[dict]], dict]:
    def make(home: Home, _: list[dict]) -> dict:
        run = run_row(home, run_id)
        return {"id": f"rag_forced_{run_id}", "title": run["instruction"], "text": run["response"],
                "source_kind": "run", "category": "accepted", "tags": ["run"], "provenance": run["provenance"]}

    return make


def copy_of_first(**changes) -> Callable[[Home, list[dict]], dict]:
    return lambda home, existing: {**existing[0], "id": existing[0]["id"] + "_copy", **changes}


def self_pair(home: Home, existing: list[dict]) -> dict:
    pair = existing[0]
    return {**pair, "id": "pref_self", "rejected_run_id": pair["chosen_run_id"], "rejected": "a different text"}


def swapped_pair(home: Home, existing: list[dict]) -> dict:
    pair = existing[0]
    return {**pair, "id": "pref_swapped", "chosen_run_id": pair["rejected_run_id"],
            "rejected_run_id": pair["chosen_run_id"], "chosen": pair["rejected"], "rejected": pair["chosen"]}


def identical_pair(home: Home, existing: list[dict]) -> dict:
    return {**existing[0], "id": "pref_identical", "rejected": existing[0]["chosen"].upper() + "  "}


def move_a_partition(home: Home) -> None:
    source = home.evidence_dir / "day=2026-04-02"
    source.rename(home.evidence_dir / "day=2026-04-03")


PLAYBOOK_DRAFT = "source_file = 'data/_kb/playbooks.jsonl' and line_offset = 1"
PLAYBOOK_OLD = "source_file = 'data/_kb/playbooks.jsonl' and line_offset = 2"

BREAKS: dict[int, tuple[str, Callable[[Home], None]]] = {
    1: ("a skipped line is deleted from skipped_lines",
        lambda h: sql(h, "delete from skipped_lines where source_file = 'data/_kb/tool_runs.jsonl' and line_offset = 2")),
    2: ("one evidence row takes another's id",
        lambda h: sql(h, f"update evidence set evidence_id = (select evidence_id from evidence where {PLAYBOOK_OLD}) "
                         f"where {PLAYBOOK_DRAFT}")),
    3: ("an evidence row loses its recorded_at",
        lambda h: sql(h, "alter table evidence alter column recorded_at drop not null; "
                         f"update evidence set recorded_at = null where {PLAYBOOK_DRAFT}")),
    4: ("an evidence row's sig_hash no longer matches its line",
        lambda h: sql(h, f"update evidence set sig_hash = repeat('0', 64) where {PLAYBOOK_DRAFT}")),
    5: ("a day's evidence partition is moved to another day", move_a_partition),
    6: ("a run's scored row is deleted",
        lambda h: sql(h, "delete from scored_runs where run_id = 'no-signal'")),
    7: ("a run gets a fifth category",
        lambda h: sql(h, "create or replace table scored_runs as select * replace "
                         "(case when run_id = 'no-signal' then 'great' else category end as category) from scored_runs")),
    8: ("a run gets another valid category than the fixture expects",
        lambda h: sql(h, "update scored_runs set category = 'rejected' where run_id = 'no-signal'")),
    9: ("a scored run lists no rule",
        lambda h: sql(h, "update scored_runs set reasons = []::varchar[] where run_id = 'no-signal'")),
    10: ("a rejected run is appended to the SFT file", append(SFT, sft_row_for("rej-tool", "rejected"))),
    11: ("an SFT response is emptied",
         edit_first(SFT, lambda r: (r.update(response=""), r["messages"][1].update(content="")))),
    12: ("an SFT row is duplicated", append(SFT, copy_of_first())),
    13: ("a RAG row cites evidence that does not exist",
         edit_first(RAG, lambda r: r["provenance"].update(evidence_ids=["ev_doesnotexist"]))),
    14: ("a rejected run is appended to the RAG file", append(RAG, rag_row_for("rej-tool"))),
    15: ("a preference pair of a run with itself", append(PREFERENCE, self_pair)),
    16: ("a preference pair with identical texts", append(PREFERENCE, identical_pair)),
    17: ("a preference pair turned rejected-over-accepted", append(PREFERENCE, swapped_pair)),
    18: ("an SFT row points at a source line that does not exist",
         edit_first(SFT, lambda r: r["provenance"].update(source_lines=["data/_kb/nowhere.jsonl:0"]))),
    19: ("a quarantined (oversize) run is appended to SFT", append(SFT, sft_row_for("oversize", "accepted"))),
    20: ("a quarantine row gets a reason outside the fixed set", edit_first(QUARANTINE, lambda r: r.update(reason="bogus"))),
    21: ("an AWS key is written into an SFT response",
         edit_first(SFT, lambda r: r.update(response=r["response"] + " AKIAQ3EGRJZ5VXNK7PLM"))),
}


def failing(home: Home) -> set[int]:
    return {n for n, verdict in acceptance.check_invariants(home).items() if not verdict.passed}


def test_the_fixture_holds_every_invariant(tmp_path_factory):
    gate = acceptance_gate(tmp_path_factory)  # the whole gate, as `distill acceptance` runs it
    verdicts = json.loads((gate / "verdicts.json").read_text())
    assert {number: passed for number, (passed, _) in verdicts.items()} == {str(n): True for n in acceptance.INVARIANTS}
    assert acceptance.passed_before(acceptance.project_key()) is not None  # recorded for audit-full
    # the gate's first build ran dbt's unit tests too (a production run-all leaves them out)
    runs = receipts.node_runs(gate / "first-build")
    unit_tests = [r.status for r in runs if r.unique_id.startswith("unit_test.")]
    assert len(unit_tests) >= 3 and set(unit_tests) == {"pass"}


@pytest.mark.parametrize("number", sorted(BREAKS), ids=lambda n: f"inv{n:02d}")
def test_each_invariant_fails_when_its_guard_is_broken(home, number):
    _, damage = BREAKS[number]
    damage(home)
    assert failing(home) == {number}


def test_inv22_fails_when_the_second_run_reads_other_input(home, built):
    def change_a_draft_playbook(h: Home) -> None:
        path = h.kb / "playbooks.jsonl"
        path.write_text(path.read_text().replace("Think about it", "Think about it twice"))

    verdict = acceptance.check_determinism(home, built[1], between=change_a_draft_playbook)
    assert not verdict.passed and "run_hash" in verdict.detail
    assert failing(home) == set()  # the other 21 still hold: only determinism broke


def test_distill_acceptance_keeps_the_home_and_names_the_invariant_on_failure(tmp_path, monkeypatch, capsys):
    import sys

    from distill import cli

    monkeypatch.setitem(acceptance.FIXTURE_VARS, "max_export_chars", 100000)  # the oversize run now exports
    # (`distill acceptance` passing, with its 22 lines and its report: the handoff's run of it, test_docs.py)
    # invariant 22's second build proves nothing here: its own test is test_inv22_fails_when_...
    monkeypatch.setattr(acceptance, "check_determinism", lambda home, first_hash, between=None: acceptance.Verdict(22, True))
    monkeypatch.setattr(sys, "argv", ["distill", "--home", str(tmp_path), "acceptance"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    captured = capsys.readouterr()
    assert exit_info.value.code == 1
    assert "FAIL  8." in captured.out
    kept = Path(captured.err.strip().rsplit(" ", 1)[-1])
    assert "invariant(s) 8" in captured.err and kept.is_dir() and (kept / "data" / "warehouse.duckdb").exists()
    shutil.rmtree(kept)
