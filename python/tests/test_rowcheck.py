"""Firewall layer 3's vectorised pass (distill.rowcheck) must judge every row as pydantic does."""

import copy
import json

import duckdb
import pytest
from pydantic import ValidationError

from distill.firewall import EXPORT_TYPES
from distill.rowcheck import valid_row_sql

PROVENANCE = {"run_ids": ["r1"], "evidence_ids": ["e1"], "source_lines": ["data/_kb/a.jsonl:1"]}
VALID = {
    "export_sft": {"id": "s1", "instruction": "do x", "response": "ok",
                   "messages": [{"role": "user", "content": "do x"}, {"role": "assistant", "content": "ok"}],
                   "quality_score": "accepted", "model": None, "provenance": PROVENANCE},
    "export_rag": {"id": "r", "title": "t", "text": "x", "source_kind": "run", "category": None, "tags": ["a"],
                   "provenance": PROVENANCE},
    "export_preference": {"id": "p", "prompt": "p", "chosen": "c", "rejected": "r", "chosen_run_id": "a",
                          "rejected_run_id": "b", "provenance": PROVENANCE},
    "quarantine": {"id": "q", "stage": "s", "reason": "duplicate", "detail": "d",
                   "provenance": {"run_ids": [], "evidence_ids": [], "source_lines": ["x:1"]}},
}
VALUES = (None, "", "é", "🦆", 1, -1, 1.5, True, [], {}, ["x"], [1], [None], "system", "rejected", "zz")


def mutations(row: dict):
    """The row, then the row with each member (and each nested member) removed, retyped or
    emptied, a list item added, and an unexpected member."""
    yield row
    for key in list(row):
        removed = copy.deepcopy(row)
        del removed[key]
        yield removed
        for value in VALUES:
            yield {**copy.deepcopy(row), key: value}
        if isinstance(row[key], dict):
            for sub in row[key]:
                for value in VALUES:
                    changed = copy.deepcopy(row)
                    changed[key][sub] = value
                    yield changed
            extra = copy.deepcopy(row)
            extra[key]["unexpected"] = 1
            yield extra
        if isinstance(row[key], list) and row[key] and isinstance(row[key][0], dict):
            for sub in row[key][0]:
                for value in VALUES:
                    changed = copy.deepcopy(row)
                    changed[key][0][sub] = value
                    yield changed
            longer = copy.deepcopy(row)
            longer[key].append(longer[key][0])
            yield longer
    yield {**copy.deepcopy(row), "unexpected": "x"}


@pytest.mark.parametrize("model", sorted(VALID))
def test_the_vectorised_check_agrees_with_pydantic_on_every_mutation(model):
    record_type = EXPORT_TYPES[model]
    expression = valid_row_sql(record_type, "j")
    lines = [json.dumps(row, ensure_ascii=False) for row in mutations(VALID[model])]
    with duckdb.connect() as conn:
        judged = conn.execute(
            f"select {expression} from unnest(?::varchar[]) with ordinality as t(j, n) order by n", [lines]
        ).fetchall()
    disagree = []
    for line, (sql_says,) in zip(lines, judged):
        try:
            record_type.model_validate_json(line)
            pydantic_says = True
        except ValidationError:
            pydantic_says = False
        if sql_says != pydantic_says:
            disagree.append((pydantic_says, line))
    assert len(lines) > 100
    assert disagree == []
    assert sum(1 for (ok,) in judged if ok) >= 1 and sum(1 for (ok,) in judged if not ok) >= 50


def test_a_schema_keyword_it_does_not_translate_is_refused():
    from pydantic import BaseModel, Field

    class Scored(BaseModel):
        score: float = Field(le=1.0)

    with pytest.raises(ValueError, match="not translated"):
        valid_row_sql(Scored)


def _write_part(home, rows: list[str], day: str = "2026-04-01"):
    folder = home / "exports" / "sft"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{day}.jsonl"
    path.write_text("".join(row + "\n" for row in rows))
    return path


def _sft(i: int, **changes) -> str:
    return json.dumps({**VALID["export_sft"], "id": f"s{i}", **changes})


@pytest.mark.parametrize(("bad_line", "expected"), [
    (_sft(0, quality_score="partially_accepted"), "quality_score 'partially_accepted' is not allowed in SFT"),
    (_sft(0, quality_score="rejected"), "quality_score: Input should be 'accepted' or 'partially_accepted'"),
    (_sft(0, response=""), "response: String should have at least 1 character"),
    ("", "line_offset 700 is not a valid SftSample"),  # a blank line the JSON reader would skip
    ('{"id": "s0", "instruction": ', "line_offset 700 is not a valid SftSample"),
])
def test_layer_3_names_the_line_and_field_of_a_bad_row_deep_in_a_part(tmp_path, bad_line, expected):
    from distill.errors import DistillError
    from distill.firewall import validate_export
    from distill.home import Home

    rows = [_sft(i) for i in range(1, 1001)]
    _write_part(tmp_path, rows[:10], "2026-03-31")
    path = _write_part(tmp_path, rows[:700] + [bad_line] + rows[700:])
    with pytest.raises(DistillError, match="2026-04-01.jsonl line_offset 700") as raised:
        validate_export(Home(tmp_path), "export_sft")
    assert expected in str(raised.value)
    assert not path.exists() and path.with_name("2026-04-01.firewall-breach.jsonl").exists()


def test_layer_3_counts_every_row_of_good_parts(tmp_path):
    from distill.firewall import validate_export
    from distill.home import Home

    _write_part(tmp_path, [_sft(i) for i in range(300)], "2026-03-31")
    _write_part(tmp_path, [_sft(i, quality_score="partially_accepted") for i in range(5)])
    assert validate_export(Home(tmp_path), "export_sft", include_partial=True) == 305
