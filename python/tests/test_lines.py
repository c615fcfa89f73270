from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import distill.lines as lines
from distill.lines import SourceFile, read_file


def naive_split(data: bytes, max_line_bytes: int) -> list[tuple]:
    """(byte_offset, line_bytes, raw, status) per physical line, the obvious way."""
    out, offset = [], 0
    parts = data.split(b"\n")
    for i, part in enumerate(parts):
        is_last = i == len(parts) - 1
        if is_last and part == b"":
            break
        if is_last:
            out.append((offset, len(part), None, "pending"))
        elif len(part) > max_line_bytes:
            out.append((offset, len(part), None, "oversize"))
        else:
            out.append((offset, len(part), part, "ok"))
        offset += len(part) + 1
    return out


def read_all(path: Path, stream: str | None = "s", max_line_bytes: int = 100) -> list[tuple]:
    rows = []
    for batch in read_file(SourceFile(path, "f.jsonl", stream), max_line_bytes):
        d = batch.to_pydict()
        assert d["line_offset"] == list(range(len(rows), len(rows) + batch.num_rows))
        rows += list(zip(d["byte_offset"], d["line_bytes"], d["raw"], d["read_status"]))
    return rows


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=80).map(lambda b: b.replace(b"\x00", b"\n")),
    block=st.sampled_from([1, 2, 3, 7, 64]),
    max_line_bytes=st.sampled_from([1, 4, 100]),
)
def test_reader_agrees_with_naive_split_for_any_bytes_and_block_size(tmp_path_factory, data, block, max_line_bytes):
    path = tmp_path_factory.mktemp("lines") / "f.jsonl"
    path.write_bytes(data)
    old = lines.BLOCK_BYTES
    lines.BLOCK_BYTES = block
    try:
        assert read_all(path, max_line_bytes=max_line_bytes) == naive_split(data, max_line_bytes)
    finally:
        lines.BLOCK_BYTES = old


def test_unknown_stream_lines_are_marked(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":2}\n')
    assert [r[3] for r in read_all(path, stream=None)] == ["unknown_stream", "unknown_stream"]


def test_crlf_keeps_the_carriage_return_for_sql_to_trim(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a":1}\r\n\r\n')
    assert read_all(path) == [(0, 8, b'{"a":1}\r', "ok"), (9, 1, b"\r", "ok")]


@pytest.mark.parametrize("data", [b"", b"\n", b"x"])
def test_tiny_files(tmp_path, data):
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    assert read_all(path) == naive_split(data, 100)
