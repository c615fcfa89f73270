"""The exports as trainers read them (datasets, TRL, OpenAI), the dataset card, the HTML run
report and the docs site."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("formats")
    assert run_cli("generate", "--lines", "800", "--seed", "12", home=home).code == 0
    assert run_cli("run-all", "--quiet", home=home).code == 0  # a first run, for the history chart
    result = run_cli("run-all", "--format", "openai", "--format", "trl-conversational", "--quiet", home=home)
    assert result.code == 0, result.stderr
    return home


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def load(path: Path, tmp_path: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))


def test_sft_loads_with_chat_messages(home, tmp_path):
    ds = load(home / "exports/sft/instruction_response.jsonl", tmp_path)
    assert ds.num_rows > 0
    assert {"id", "instruction", "response", "messages", "quality_score", "provenance"} <= set(ds.column_names)
    row = ds[0]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert row["messages"][0]["content"] == row["instruction"]
    assert row["messages"][1]["content"] == row["response"]
    assert set(ds["quality_score"]) == {"accepted"}


def test_preference_loads_with_string_prompt_chosen_rejected(home, tmp_path):
    ds = load(home / "exports/preference/chosen_rejected.jsonl", tmp_path)
    assert ds.num_rows > 0
    for column in ("prompt", "chosen", "rejected"):
        assert ds.features[column].dtype == "string"
    assert all(c != r for c, r in zip(ds["chosen_run_id"], ds["rejected_run_id"]))


def test_rag_loads_with_text_and_provenance(home, tmp_path):
    ds = load(home / "exports/rag/playbooks.jsonl", tmp_path)
    assert ds.num_rows > 0
    assert set(ds["source_kind"]) == {"playbook", "run"}
    assert all(len(p["evidence_ids"]) > 0 for p in ds["provenance"])


def test_openai_sft_is_messages_only(home, tmp_path):
    sft = rows(home / "exports/sft/instruction_response.jsonl")
    openai = rows(home / "exports/openai/sft.jsonl")
    assert len(openai) == len(sft) > 0
    assert all(set(r) == {"messages"} for r in openai)
    assert [m["role"] for m in openai[0]["messages"]] == ["user", "assistant"]
    assert openai[0]["messages"] == sft[0]["messages"]  # the same rows, in the same order
    assert load(home / "exports/openai/sft.jsonl", tmp_path).column_names == ["messages"]


def test_openai_dpo_has_input_and_one_preferred_and_non_preferred_message(home, tmp_path):
    pairs = rows(home / "exports/preference/chosen_rejected.jsonl")
    dpo = rows(home / "exports/openai/dpo.jsonl")
    assert len(dpo) == len(pairs) > 0
    first, pair = dpo[0], pairs[0]
    assert set(first) == {"input", "preferred_output", "non_preferred_output"}
    assert first["input"] == {"messages": [{"role": "user", "content": pair["prompt"]}]}
    assert first["preferred_output"] == [{"role": "assistant", "content": pair["chosen"]}]
    assert first["non_preferred_output"] == [{"role": "assistant", "content": pair["rejected"]}]
    assert set(load(home / "exports/openai/dpo.jsonl", tmp_path).column_names) == set(first)


def test_trl_conversational_preference_is_message_lists(home, tmp_path):
    pairs = rows(home / "exports/preference/chosen_rejected.jsonl")
    trl = rows(home / "exports/trl/chosen_rejected_conversational.jsonl")
    assert trl[0] == {
        "prompt": [{"role": "user", "content": pairs[0]["prompt"]}],
        "chosen": [{"role": "assistant", "content": pairs[0]["chosen"]}],
        "rejected": [{"role": "assistant", "content": pairs[0]["rejected"]}],
    }
    assert set(load(home / "exports/trl/chosen_rejected_conversational.jsonl", tmp_path).column_names) == {
        "prompt", "chosen", "rejected"}


def test_a_format_not_asked_for_is_removed(home, tmp_path):
    copy = Path(shutil.copytree(home, tmp_path / "copy"))
    assert run_cli("run-all", "--quiet", home=copy).code == 0
    assert not (copy / "exports/openai/sft.jsonl").exists()
    assert not (copy / "exports/trl/chosen_rejected_conversational.jsonl").exists()


def test_unknown_format_is_refused(home):
    result = run_cli("export-all", "--format", "parquet", home=home)
    assert result.code != 0 and "parquet" in result.stderr


def test_the_card_counts_equal_the_files(home):
    card = (home / "exports/README.md").read_text()
    header = card.split("---")[1]
    for path in ("sft/instruction_response.jsonl", "preference/chosen_rejected.jsonl", "rag/playbooks.jsonl",
                 "openai/sft.jsonl", "openai/dpo.jsonl", "trl/chosen_rejected_conversational.jsonl"):
        assert f"path: {path}" in header
        n = len((home / "exports" / path).read_text().splitlines())
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
    assert "export_sft" in page and "stg_source_lines" in page and "#d0508a" in page


def test_exports_sorted_in_parts_are_the_same_files(home):
    """The export files are sorted in parts of export_rows_per_part rows (in_key_order); parts of
    three rows give the same bytes as the one part a home this small has."""
    from distill import dbt
    from distill.home import Home

    written = {**Home.EXPORT_FILES, **{m: f for files in Home.FORMAT_FILES.values() for m, f in files.items()}}
    dbt_vars = {"output_root": "in-parts", "formats": sorted(Home.FORMAT_FILES), "export_rows_per_part": 3}
    dbt.invoke(Home(home), ["build", "--select", *written, "--exclude-resource-type", "unit_test"], dbt_vars)
    for path in written.values():
        assert len(rows(home / path)) > 2 * 3, path  # several parts
        assert (home / "in-parts" / path).read_bytes() == (home / path).read_bytes(), path
