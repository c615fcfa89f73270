"""The exports load as the trainers read them (TRL SFTTrainer / DPOTrainer via `datasets`)."""

import os
from pathlib import Path

import pytest

from conftest import run_cli

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("consumers")
    assert run_cli("generate", "--lines", "600", "--seed", "8", home=home).code == 0
    result = run_cli("run-all", home=home)
    assert result.code == 0, result.stderr
    return home


def load(path: Path, tmp_path: Path):
    from datasets import load_dataset

    return load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))


def test_sft_loads_with_chat_messages(exported, tmp_path):
    ds = load(exported / "exports/sft/instruction_response.jsonl", tmp_path)
    assert ds.num_rows > 0
    assert {"id", "instruction", "response", "messages", "quality_score", "provenance"} <= set(ds.column_names)
    row = ds[0]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert row["messages"][0]["content"] == row["instruction"]
    assert row["messages"][1]["content"] == row["response"]
    assert set(ds["quality_score"]) == {"accepted"}


def test_preference_loads_with_string_prompt_chosen_rejected(exported, tmp_path):
    ds = load(exported / "exports/preference/chosen_rejected.jsonl", tmp_path)
    assert ds.num_rows > 0
    for column in ("prompt", "chosen", "rejected"):
        assert ds.features[column].dtype == "string"
    assert all(c != r for c, r in zip(ds["chosen_run_id"], ds["rejected_run_id"]))


def test_rag_loads_with_text_and_provenance(exported, tmp_path):
    ds = load(exported / "exports/rag/playbooks.jsonl", tmp_path)
    assert ds.num_rows > 0
    assert set(ds["source_kind"]) == {"playbook", "run"}
    assert all(len(p["evidence_ids"]) > 0 for p in ds["provenance"])
