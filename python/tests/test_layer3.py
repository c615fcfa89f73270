"""Firewall layer 3 (distill.firewall): every row of every written part is validated by its
record type, the parts side by side on every core; a bad row anywhere is named by line and field."""

import json

import pytest

from conftest import incident_files

PROVENANCE = {"run_ids": ["r1"], "evidence_ids": ["e1"], "source_lines": ["data/_kb/a.jsonl:1"]}
SFT = {"id": "s1", "instruction": "do x", "response": "ok",
       "messages": [{"role": "user", "content": "do x"}, {"role": "assistant", "content": "ok"}],
       "quality_score": "accepted", "model": None, "provenance": PROVENANCE}


def _write_part(home, rows: list[str], day: str = "2026-04-01"):
    folder = home / "exports" / "sft"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day}.jsonl"
    path.write_text("".join(row + "\n" for row in rows))
    return path


def _sft(i: int, **changes) -> str:
    return json.dumps({**SFT, "id": f"s{i}", **changes})


@pytest.mark.parametrize(("bad_line", "expected"), [
    (_sft(0, quality_score="partially_accepted"), "quality_score 'partially_accepted' is not allowed in SFT"),
    (_sft(0, quality_score="rejected"), "quality_score: Input should be 'accepted' or 'partially_accepted'"),
    (_sft(0, response=""), "response: String should have at least 1 character"),
    ("", "line_offset 700 is not a valid SftSample"),  # a blank line the JSON reader would skip
    ('{"id": "s0", "instruction": ', "line_offset 700 is not a valid SftSample"),
])
@pytest.mark.parametrize("parallel", [False, True])
def test_layer_3_names_the_line_and_field_of_a_bad_row_deep_in_a_part(tmp_path, monkeypatch, bad_line, expected,
                                                                       parallel):
    from distill import firewall

    monkeypatch.setattr(firewall, "PARALLEL_BYTES", 0 if parallel else 1 << 40)
    from distill.errors import DistillError
    from distill.firewall import validate_export
    from distill.home import Home

    rows = [_sft(i) for i in range(1, 1001)]
    _write_part(tmp_path, rows[:10], "2026-03-31")
    path = _write_part(tmp_path, rows[:700] + [bad_line] + rows[700:])
    with pytest.raises(DistillError, match="2026-04-01.jsonl line_offset 700") as raised:
        validate_export(Home(tmp_path), "export_sft")
    assert expected in str(raised.value)
    assert not path.exists() and [p.name for p in incident_files(tmp_path)] == ["2026-04-01.jsonl"]


@pytest.mark.parametrize("parallel", [False, True])
def test_layer_3_counts_every_row_of_good_parts(tmp_path, monkeypatch, parallel):
    from distill import firewall

    monkeypatch.setattr(firewall, "PARALLEL_BYTES", 0 if parallel else 1 << 40)
    from distill.firewall import validate_export
    from distill.home import Home

    _write_part(tmp_path, [_sft(i) for i in range(300)], "2026-03-31")
    _write_part(tmp_path, [_sft(i, quality_score="partially_accepted") for i in range(5)])
    assert validate_export(Home(tmp_path), "export_sft", include_partial=True) == 305
