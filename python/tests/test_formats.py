"""The exports as trainers read them (datasets, TRL, OpenAI), the dataset card, the HTML run
report and the docs site."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import generated_home, part_rows, run_cli

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = generated_home(tmp_path_factory, "formats", 600, 7)  # a first run, for the history chart
    result = run_cli("run-all", "--format", "openai", "--format", "trl-conversational", "--quiet", home=home)
    assert result.code == 0, result.stderr
    return home


def rows(folder: Path) -> list[dict]:
    """An export's rows, its day parts read in day order."""
    return part_rows(folder.parent, folder.name) if folder.is_dir() else []


def load(folder: Path, tmp_path: Path):
    """The export as trainers load it: a glob over its day parts."""
    from datasets import load_dataset

    return load_dataset("json", data_files=str(folder / "*.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))


def test_sft_loads_with_chat_messages(home, tmp_path):
    ds = load(home / "exports/sft", tmp_path)
    assert ds.num_rows > 0
    assert {"id", "instruction", "response", "messages", "quality_score", "provenance"} <= set(ds.column_names)
    row = ds[0]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert row["messages"][0]["content"] == row["instruction"]
    assert row["messages"][1]["content"] == row["response"]
    assert set(ds["quality_score"]) == {"accepted"}


def test_preference_loads_with_string_prompt_chosen_rejected(home, tmp_path):
    ds = load(home / "exports/preference", tmp_path)
    assert ds.num_rows > 0
    for column in ("prompt", "chosen", "rejected"):
        assert ds.features[column].dtype == "string"
    assert all(c != r for c, r in zip(ds["chosen_run_id"], ds["rejected_run_id"]))


def test_rag_loads_with_text_and_provenance(home, tmp_path):
    ds = load(home / "exports/rag", tmp_path)
    assert ds.num_rows > 0
    assert set(ds["source_kind"]) == {"playbook", "run"}
    assert all(len(p["evidence_ids"]) > 0 for p in ds["provenance"])


def test_openai_sft_is_messages_only(home, tmp_path):
    sft = rows(home / "exports/sft")
    openai = rows(home / "exports/openai/sft")
    assert len(openai) == len(sft) > 0
    assert all(set(r) == {"messages"} for r in openai)
    assert [m["role"] for m in openai[0]["messages"]] == ["user", "assistant"]
    assert openai[0]["messages"] == sft[0]["messages"]  # the same rows, in the same order
    assert load(home / "exports/openai/sft", tmp_path).column_names == ["messages"]


def test_openai_dpo_has_input_and_one_preferred_and_non_preferred_message(home, tmp_path):
    pairs = rows(home / "exports/preference")
    dpo = rows(home / "exports/openai/dpo")
    assert len(dpo) == len(pairs) > 0
    first, pair = dpo[0], pairs[0]
    assert set(first) == {"input", "preferred_output", "non_preferred_output"}
    assert first["input"] == {"messages": [{"role": "user", "content": pair["prompt"]}]}
    assert first["preferred_output"] == [{"role": "assistant", "content": pair["chosen"]}]
    assert first["non_preferred_output"] == [{"role": "assistant", "content": pair["rejected"]}]
    assert set(load(home / "exports/openai/dpo", tmp_path).column_names) == set(first)


def test_trl_conversational_preference_is_message_lists(home, tmp_path):
    pairs = rows(home / "exports/preference")
    trl = rows(home / "exports/trl/chosen_rejected_conversational")
    assert trl[0] == {
        "prompt": [{"role": "user", "content": pairs[0]["prompt"]}],
        "chosen": [{"role": "assistant", "content": pairs[0]["chosen"]}],
        "rejected": [{"role": "assistant", "content": pairs[0]["rejected"]}],
    }
    assert set(load(home / "exports/trl/chosen_rejected_conversational", tmp_path).column_names) == {
        "prompt", "chosen", "rejected"}


def test_a_format_not_asked_for_is_removed(home, tmp_path):
    copy = Path(shutil.copytree(home, tmp_path / "copy"))
    assert run_cli("run-all", "--quiet", home=copy).code == 0
    assert not list((copy / "exports/openai").rglob("*.jsonl"))
    assert not list((copy / "exports/trl").rglob("*.jsonl"))


def test_unknown_format_is_refused(home):
    result = run_cli("export-all", "--format", "parquet", home=home)
    assert result.code != 0 and "parquet" in result.stderr


def test_the_card_counts_equal_the_files(home):
    card = (home / "exports/README.md").read_text()
    header = card.split("---")[1]
    for folder in ("sft", "preference", "rag", "openai/sft", "openai/dpo", "trl/chosen_rejected_conversational"):
        path = f"{folder}/*.jsonl"
        assert f"path: {path}" in header
        n = len(rows(home / "exports" / folder))
        assert re.search(rf"\| `{re.escape(path)}` \| {n:,} \|", card), path
    summary = json.loads(sorted(home.glob("reports/*/summary.json"), key=lambda p: p.stat().st_mtime)[-1].read_text())
    assert summary["run_hash"] in card and summary["run_id"] in card
    for reason, n in summary["quarantined"].items():
        assert f"| {reason} | {n:,} |" in card
    assert "distill --home <home> trace <id>" in card


def latest_run(home: Path) -> Path:
    return sorted((d for d in (home / "reports").iterdir() if d.is_dir()), key=lambda d: (d / "receipts.json").stat().st_mtime)[-1]


def test_the_html_report_numbers_are_the_summary(home):
    run_dir = latest_run(home)
    page = (run_dir / "report.html").read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert re.search(r'id="run-hash">([0-9a-f]{64})<', page).group(1) == summary["run_hash"]
    bars = {name: int(value) for name, value in re.findall(r'data-name="([^"]+)" data-value="(\d+)"', page)}
    for category, n in summary["categories"].items():
        assert bars[category] == n
    for reason, n in summary["quarantined"].items():
        assert bars[reason] == n
    assert bars["sft"] == summary["counts"]["sft"] and bars["quarantined"] == summary["counts"]["quarantined"]
    counts = dict(re.findall(r'data-count="([^"]+)">([\d,]+)<', page))
    assert {k: int(v.replace(",", "")) for k, v in counts.items()} == summary["counts"]
    assert page.count("<polyline") == 11  # the drift metrics over the last runs


def test_receipts_html_prints_the_report_path(home):
    result = run_cli("receipts", "--latest", "--html", home=home)
    assert result.code == 0 and result.stdout.strip() == str(latest_run(home) / "report.html")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_html_report_renders_headless_and_is_not_blank(home, tmp_path):
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: `make test` installs it (`make browser`; Debian package chromium)")
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1000,1400", (latest_run(home) / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(set(data[200:20000])) > 50


def test_docs_site_is_written_for_hosting(home, tmp_path):
    result = run_cli("docs", "--output", str(tmp_path / "site"), home=home)
    assert result.code == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert "export_sft" in page and "base_source_lines" in page and "#d0508a" in page


@pytest.mark.parametrize(("export", "fmt", "folder"), [
    ("sft", None, "exports/sft"),
    ("preference", None, "exports/preference"),
    ("preference", "openai", "exports/openai/dpo"),
    ("preference", "trl", "exports/trl/chosen_rejected_conversational"),
])
def test_pack_writes_the_day_parts_as_one_file(home, tmp_path, export, fmt, folder):
    day_parts = sorted((home / folder).glob("*.jsonl"))
    assert len(day_parts) > 1
    for attempt in ("a", "b"):
        result = run_cli("pack", export, *(["--format", fmt] if fmt else []), "--out", str(tmp_path / attempt),
                         home=home)
        assert result.code == 0, result.stderr
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == b"".join(p.read_bytes() for p in day_parts)


def test_pack_refuses_a_part_that_changed_since_the_run(home, tmp_path):
    copy = Path(shutil.copytree(home, tmp_path / "copy", symlinks=True))
    part = sorted((copy / "exports/sft").glob("*.jsonl"))[0].resolve()
    part.write_bytes(part.read_bytes() + b"{}\n")
    result = run_cli("pack", "sft", "--out", str(tmp_path / "out.jsonl"), home=copy)
    assert result.code == 1 and "does not match exports/manifest.json" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_the_manifest_lists_every_part_with_rows_bytes_and_sha256(home):
    import hashlib

    listed = json.loads((home / "exports/manifest.json").read_text())
    on_disk = sorted(
        p for folder in ("exports", "data/evidence", "data/scored-runs") for p in (home / folder).rglob("*")
        if p.is_file() and p.suffix in (".jsonl", ".parquet")
    )
    assert [e["path"] for e in listed["parts"]] == sorted(p.relative_to(home).as_posix() for p in on_disk)
    for entry in listed["parts"]:
        data = (home / entry["path"]).read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        if entry["path"].endswith(".jsonl"):
            assert entry["rows"] == data.count(b"\n")
    summary = json.loads(sorted(home.glob("reports/*/summary.json"), key=lambda p: p.stat().st_mtime)[-1].read_text())
    assert listed["run_hash"] == summary["run_hash"]


def test_the_report_reads_only_the_runs_it_charts(home, tmp_path):
    """A run reads the last nine runs' reports for the page's history, not the whole history
    (a home run every quarter of an hour holds thousands): an older report, even a corrupt one,
    is not opened."""
    from distill.pipeline import HISTORY_RUNS

    copy = tmp_path / "home"
    shutil.copytree(home, copy, symlinks=True)
    latest = latest_run(copy)
    for n in range(HISTORY_RUNS + 1):  # older than every run of the home, the oldest corrupt
        old = copy / "reports" / f"20200101T0000{n:02d}-old"
        shutil.copytree(latest, old)
        if n == 0:
            (old / "receipts.json").write_text("{")
        os.utime(old / "receipts.json", (n + 1, n + 1))
    result = run_cli("run-all", "--quiet", home=copy)
    assert result.code == 0, result.stderr
    page = (latest_run(copy) / "report.html").read_text()
    charted = {len(points.split()) for points in re.findall(r'<polyline[^>]* points="([^"]*)"', page)}
    assert charted == {HISTORY_RUNS + 1}
