"""The SFT firewall of docs/concepts.md, "The SFT firewall", layer by layer, each attacked and shown to hold."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import first_part, generated_home, incident_files, part_rows, parts, query, run_cli, run_main
from distill import dbt
from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home

SFT = "exports/sft"
EXPORTS = ("exports/rag", SFT, "exports/preference", "exports/quarantine")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return generated_home(tmp_path_factory, "firewall", 600, 7)


@pytest.fixture
def home(built, tmp_path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "home"))


def test_layer_1_the_type_and_the_table_refuse_a_rejected_row(home):
    with duckdb.connect(str(home / "data" / "warehouse.duckdb")) as conn:
        with pytest.raises(duckdb.ConstraintException):
            conn.execute(
                "insert into export_sft select * replace ('rejected' as quality_score) from export_sft limit 1"
            )
        with pytest.raises(duckdb.ConstraintException):
            conn.execute(
                "insert into scored_runs select * replace ('maybe' as category) from scored_runs limit 1"
            )


# What the model admits (sft_categories), weakened to every category: only SFT_NEVER then stands
# between the rejected runs and the file.
ADMIT_ALL = {"macros/sft_never.sql": (
    "        ('accepted')\n", "        ('accepted', 'partially_accepted', 'rejected', 'needs_human_review')\n")}
NO_SFT_NEVER = {"models/exports/export_sft.sql": ("and candidates.category not in {{ sft_never() }}", "")}
REBUILD_SFT = ["build", "--select", "int_export_candidates", "int_export_gates", "export_sft"]


def force_everything_rejected(home: Path) -> None:
    with duckdb.connect(str(home / "data" / "warehouse.duckdb")) as conn:
        forced = conn.execute(
            """update scored_runs set category = case when hash(run_id) % 2 = 0 then 'rejected'
               else 'needs_human_review' end where category in ('accepted', 'partially_accepted')
               returning run_id"""
        ).fetchall()
    assert forced


def test_layer_2_sft_never_drops_forced_categories_when_the_admission_admits_everything(home, patched_project):
    patched_project(ADMIT_ALL)
    force_everything_rejected(home)
    dbt.invoke(Home(home), REBUILD_SFT)
    assert parts(home, SFT) and {p.read_text() for p in parts(home, SFT)} == {""}  # every day emptied


def test_layer_1_the_table_refuses_what_passes_the_model_when_sft_never_is_gone(home, patched_project):
    patched_project(ADMIT_ALL | NO_SFT_NEVER)
    force_everything_rejected(home)
    with pytest.raises(DistillError, match="(?i)constraint"):
        dbt.invoke(Home(home), REBUILD_SFT)


def test_layer_3_a_row_forced_past_the_model_fails_the_run_and_nothing_reaches_exports(home, monkeypatch, capsys):
    real_invoke = dbt.invoke

    def invoke_then_smuggle(staged, *args, **kwargs):
        nodes = real_invoke(staged, *args, **kwargs)
        sft = staged.export_parts("export_sft")[0]  # the run's new generation, not yet in place
        row = json.loads(sft.read_text().splitlines()[0])
        row.update(id="sft_smuggled", quality_score="rejected")
        with sft.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        return nodes

    before = {p.name: p.read_bytes() for p in parts(home, SFT)}
    monkeypatch.setattr(dbt, "invoke", invoke_then_smuggle)
    code, out, err = run_main(monkeypatch, capsys, "--home", str(home), "export-sft")
    assert code == 1
    assert "firewall" in err and "quality_score" in err and "incident evidence" in err and "previous outputs stand" in err
    assert err.strip().count("\n") == 0
    assert before == {p.name: p.read_bytes() for p in parts(home, SFT)}  # the parts in place: the previous run's
    [aside] = incident_files(home)
    assert "sft_smuggled" in aside.read_text() and str(aside.relative_to(home)) in err
    assert "Firewall layer 3 refused" in (aside.parents[2] / "NOTE.md").read_text()


def test_layer_3_strict_mode_refuses_a_partial_row_that_include_partial_would_admit(home, monkeypatch, capsys):
    from distill import firewall
    from distill.errors import DistillError

    sft = first_part(home, SFT)
    row = json.loads(sft.read_text().splitlines()[0]) | {"id": "sft_partial", "quality_score": "partially_accepted"}
    sft.write_text(sft.read_text() + json.dumps(row) + "\n")
    assert firewall.validate_export(Home(home), "export_sft", include_partial=True) > 0
    with pytest.raises(DistillError, match="partially_accepted"):
        firewall.validate_export(Home(home), "export_sft", include_partial=False)


def test_include_partial_admits_partial_runs_and_nothing_worse(home):
    result = run_cli("export-sft", "--include-partial", home=home)
    assert result.code == 0, result.stderr
    assert {r["quality_score"] for r in part_rows(home, SFT)} == {"accepted", "partially_accepted"}
    result = run_cli("export-sft", home=home)
    assert {r["quality_score"] for r in part_rows(home, SFT)} == {"accepted"}


def test_sft_has_no_duplicates_and_no_empty_texts(built):
    assert query(built, """select count(*) from export_sft
                            where trim(instruction) = '' or trim(response) = ''""") == [(0,)]
    assert query(built, """select count(*) - count(distinct (lower(instruction), lower(response)))
                            from export_sft""") == [(0,)]


def test_every_export_part_is_sorted_by_id(built):
    for folder in EXPORTS:
        assert parts(built, folder), folder
        for part in parts(built, folder):
            ids = [json.loads(line)["id"] for line in part.read_text().splitlines()]
            assert ids and ids == sorted(ids), part


def test_no_quarantined_run_or_line_reaches_an_export(built):
    # a quarantine row with run_ids holds those runs; one without holds its evidence lines
    held_runs, held_lines = query(built, """
        select count(*) filter (where len(provenance.run_ids) > 0),
               count(*) filter (where len(provenance.run_ids) = 0 and len(provenance.evidence_ids) > 0)
        from quarantine""")[0]
    assert held_runs and held_lines
    assert query(built, """
        with held as (
            select unnest(provenance.run_ids) as held_id from quarantine
            union all
            select unnest(provenance.evidence_ids) from quarantine where len(provenance.run_ids) = 0),
        exported as (
            select unnest(provenance.run_ids) as held_id from export_rag
            union all select unnest(provenance.run_ids) from export_sft
            union all select unnest(provenance.run_ids) from export_preference
            union all select unnest(provenance.evidence_ids) from export_rag
            union all select unnest(provenance.evidence_ids) from export_sft
            union all select unnest(provenance.evidence_ids) from export_preference)
        select count(*) from exported where held_id in (select held_id from held)""") == [(0,)]


def test_an_empty_export_has_no_parts(tmp_path):
    from conftest import write_streams

    write_streams(tmp_path, {"task_outcomes": [{"run_id": "r1", "ts": "2026-04-01T00:00:00Z", "status": "failure"}]})
    result = run_cli("run-all", home=tmp_path)
    assert result.code == 0, result.stderr
    for folder in (SFT, "exports/preference", "exports/rag"):
        assert (tmp_path / folder).is_dir() and parts(tmp_path, folder) == [], folder


def test_project_dir_is_the_repository():
    assert (PROJECT_DIR / "dbt_project.yml").exists()


@pytest.mark.parametrize("proof", ["rehash", "bytes"])
def test_invariant_4_reads_the_file_not_the_stored_copy(home, proof):
    dbt.invoke(Home(home), ["test", "--select", "inv04_sig_hash_recomputes"], {"hash_proof": proof})
    path = home / "data/_kb/task_outcomes.jsonl"
    data = path.read_bytes()
    at = data.index(b'"success"')
    path.write_bytes(data[:at] + b'"SUCCESS"' + data[at + 9:])  # the same length: every offset holds
    with pytest.raises(DistillError, match="inv04_sig_hash_recomputes"):
        dbt.invoke(Home(home), ["test", "--select", "inv04_sig_hash_recomputes"], {"hash_proof": proof})


def test_the_source_reader_reads_each_line_from_its_file(tmp_path):
    import gzip

    import pyarrow as pa

    from distill.duckdb_plugin import source_line_reader

    (tmp_path / "a.jsonl").write_bytes(b'{"a": 1}\n{"b": "\xc3\xa9"}\n\xff\xfe\n' + b"x" * (3 << 20) + b'\n{"far": 2}\n')
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(b'{"z": 0}\n{"y": 1}\n'))
    far = 9 + 12 + 3 + (3 << 20) + 1
    rows = [  # (file, offset, length): what each should read
        ("a.jsonl", 9, 11, b'{"b": "\xc3\xa9"}'),  # a later line first
        ("a.jsonl", 0, 8, b'{"a": 1}'),
        ("b.jsonl.gz", 9, 8, b'{"y": 1}'),  # offsets in a .gz count decompressed bytes
        ("a.jsonl", 21, 2, b"\xff\xfe"),  # not UTF-8: bytes, but no text
        ("a.jsonl", far, 10, b'{"far": 2}'),  # megabytes after the others: read by itself
        ("missing.jsonl", 0, 3, None),
        ("a.jsonl", far + 5, 100, None),  # past the end of the file
        (None, 0, 1, None),
        ("a.jsonl", None, 1, None),
    ]
    files, offsets, lengths, expected = (list(column) for column in zip(*rows))
    batch = (pa.array(files, pa.string()), pa.array(offsets, pa.int64()), pa.array(lengths, pa.int64()))
    assert source_line_reader(tmp_path, text=False)(*batch).to_pylist() == expected
    texts = [None if line is None or line == b"\xff\xfe" else line.decode() for line in expected]
    assert source_line_reader(tmp_path)(*batch).to_pylist() == texts


def test_invariant_10_fails_an_sft_row_that_leads_to_no_run(home):
    sft = first_part(home, SFT).resolve()
    rows = [json.loads(line) for line in sft.read_text().splitlines()]
    rows[0]["provenance"]["run_ids"] = []
    sft.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(DistillError, match="inv10_sft_holds_only_accepted"):
        dbt.invoke(Home(home), ["test", "--select", "inv10_sft_holds_only_accepted"])
