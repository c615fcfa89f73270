"""The physical-line reader: every byte of every source file becomes exactly one line row.

DuckDB's JSON and CSV readers drop blank lines and lose line numbers on bad ones, so the split
on newlines happens here (numpy, a block at a time) and all parsing happens in SQL.
"""

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from distill.home import open_no_follow

MAX_ARCHIVE_BYTES = 4 * 1024**3  # decompressed bytes read from one .jsonl.gz (a gzip bomb stops here)
BLOCK_BYTES = 16 * 1024 * 1024  # read a block at a time: at 64 MB the reader peaked at 0.6 GB, at 16 MB 0.3 GB
SPOOL_ROW_GROUP = 100_000  # lines per Parquet row group in spool_lines

LINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("stream", pa.string()),
        ("line_offset", pa.int64()),
        ("byte_offset", pa.int64()),
        ("line_bytes", pa.int64()),
        ("raw", pa.binary()),
        ("read_status", pa.string()),
        ("read_seq", pa.int64()),
    ]
)


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relative: str  # as recorded in provenance: relative to the home
    stream: str | None  # None: the file belongs to no known stream
    limit: int | None = None  # bytes to read: the file's size when the run started (a snapshot)
    start_byte: int = 0  # where to start: the end of the lines an earlier run read
    first_line: int = 0  # the line number of the line that starts there
    read_seq: int = 0  # the run that reads it (distill.incremental)


def _batch(
    source: SourceFile,
    first_line: int,
    starts: np.ndarray,
    lengths: np.ndarray,
    statuses: list[str],
    raws: pa.Array,
) -> pa.RecordBatch:
    n = len(starts)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([source.relative] * n, pa.string()),
            pa.array([source.stream] * n, pa.string()),
            pa.array(np.arange(first_line, first_line + n, dtype=np.int64)),
            pa.array(starts.astype(np.int64)),
            pa.array(lengths.astype(np.int64)),
            raws,
            pa.array(statuses, pa.string()),
            pa.array(np.full(n, source.read_seq, dtype=np.int64)),
        ],
        schema=LINE_SCHEMA,
    )


def _complete_lines(block: np.ndarray, newlines: np.ndarray) -> pa.Array:
    """The lines of a block that ends on a newline, as one zero-copy-ish binary array."""
    # Drop the newline bytes; line i then starts at (its old start - i).
    data = block[block != 10]
    ends = newlines - np.arange(len(newlines))
    offsets = np.concatenate(([0], ends)).astype(np.int32)
    return pa.BinaryArray.from_buffers(
        pa.binary(), len(newlines), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


class SourceReadError(Exception):
    """A source file could not be read as the run found it: the message names it and what to do."""


def snapshot(path: Path, relative: str, stream: str | None, size: int | None = None) -> SourceFile:
    """A source file as the run starts to read it: a plain file is read up to the size it has
    now (or the size the run's plan measured), so lines appended while the run reads are left
    for the next run (archives are whole)."""
    if path.name.endswith(".gz"):
        return SourceFile(path=path, relative=relative, stream=stream)
    try:
        limit = path.stat().st_size if size is None else size
    except OSError as exc:
        raise SourceReadError(f"{relative}: {exc.strerror}; it went away while the run listed it, rerun") from None
    return SourceFile(path=path, relative=relative, stream=stream, limit=limit)


def read_file(
    source: SourceFile, max_line_bytes: int, max_archive_bytes: int = MAX_ARCHIVE_BYTES
) -> Iterator[pa.RecordBatch]:
    """Yield the lines of one file, in order, a block at a time."""
    try:
        yield from _read_file(source, max_line_bytes, max_archive_bytes)
    except OSError as exc:
        raise SourceReadError(
            f"{source.relative}: cannot read it ({exc.strerror or exc}); fix its permissions or remove it"
        ) from None


def _read_file(source: SourceFile, max_line_bytes: int, max_archive_bytes: int) -> Iterator[pa.RecordBatch]:
    status_default = "ok" if source.stream else "unknown_stream"
    line_no = source.first_line
    file_offset = source.start_byte  # byte offset of the first byte not yet emitted
    carry = b""  # an unfinished line from the previous block
    carry_len = 0  # its true length (the bytes are dropped once it is known to be oversize)
    corrupt = None  # why an archive could not be read to its end: corrupt_archive, archive_too_large
    remaining = None if source.limit is None else source.limit - source.start_byte
    with open_source(source.path) as handle:
        if source.start_byte:
            handle.seek(source.start_byte)
        while True:
            try:
                # lines appended after the snapshot are left for the next run
                chunk = handle.read(BLOCK_BYTES if remaining is None else min(BLOCK_BYTES, remaining))
                if remaining is not None:
                    remaining -= len(chunk)
            except (OSError, EOFError):
                if remaining is not None:
                    raise  # a plain file that cannot be read: an error, not a skip
                # a truncated or corrupt archive: what was read stands, the rest is one skip row
                corrupt = "corrupt_archive"
                break
            if remaining is None and file_offset + carry_len + len(chunk) > max_archive_bytes:
                # past the cap of decompressed bytes: what was read stands, the rest is one skip
                corrupt = "archive_too_large"
                break
            if not chunk:
                if remaining:
                    raise SourceReadError(
                        f"{source.relative} shrank from {source.limit:,} to {file_offset + carry_len:,} bytes "
                        "while the run read it (truncated or replaced mid-run): rerun once its writer is done"
                    )
                break
            arr = np.frombuffer(chunk, dtype=np.uint8)
            newlines = np.flatnonzero(arr == 10)
            if len(newlines) == 0:
                carry_len += len(chunk)
                carry = carry + chunk if carry_len <= max_line_bytes else b""
                continue
            # The first line finishes the carried one.
            first_len = carry_len + int(newlines[0])
            first_raw = (carry + chunk[: newlines[0]]) if first_len <= max_line_bytes else None
            head = [first_raw]
            head_status = [status_default if first_raw is not None else "oversize"]
            body = arr[newlines[0] + 1 : newlines[-1] + 1]
            body_nl = newlines[1:] - (newlines[0] + 1)
            raws = _complete_lines(body, body_nl)
            starts_in_body = np.concatenate(([0], body_nl[:-1] + 1))[: len(body_nl)]
            lengths = body_nl - starts_in_body
            oversize = lengths > max_line_bytes
            statuses = head_status + [("oversize" if o else status_default) for o in oversize]
            if oversize.any():
                raws = pa.array(
                    [None if o else v for o, v in zip(oversize, raws.to_pylist())], pa.binary()
                )
            body_base = file_offset + first_len + 1
            starts = np.concatenate(([file_offset], body_base + starts_in_body))
            all_lengths = np.concatenate(([first_len], lengths))
            yield _batch(
                source,
                line_no,
                starts,
                all_lengths,
                statuses,
                pa.concat_arrays([pa.array(head, pa.binary()), raws]),
            )
            line_no += len(starts)
            file_offset = body_base + (int(body_nl[-1]) + 1 if len(body_nl) else 0)
            tail = chunk[newlines[-1] + 1 :]
            carry, carry_len = tail, len(tail)
    if carry_len or corrupt:
        # No newline after the last line: it may still be being written, so it is pending and
        # read again next run; or the rest of an archive could not be decompressed.
        yield _batch(
            source,
            line_no,
            np.array([file_offset]),
            np.array([carry_len]),
            [corrupt or "pending"],
            pa.array([None], pa.binary()),
        )


def open_source(path: Path):
    """A source file's bytes: gzip archives are read decompressed (offsets count decompressed bytes)."""
    handle = os.fdopen(open_no_follow(path, os.O_RDONLY), "rb")
    return gzip.open(handle, "rb") if path.name.endswith(".gz") else handle


def read_lines(
    sources: list[SourceFile], max_line_bytes: int, max_archive_bytes: int = MAX_ARCHIVE_BYTES
) -> pa.RecordBatchReader:
    """All lines of all files as one stream of Arrow batches, in (file, line) order."""

    def batches() -> Iterator[pa.RecordBatch]:
        for source in sources:
            yield from read_file(source, max_line_bytes, max_archive_bytes)

    return pa.RecordBatchReader.from_batches(LINE_SCHEMA, batches())


def spool_lines(
    sources: list[SourceFile], max_line_bytes: int, path: Path, max_archive_bytes: int = MAX_ARCHIVE_BYTES
) -> Path:
    """Write all lines of all files to a Parquet file, a block at a time, and return its path.

    DuckDB holds an Arrow stream it reads for as long as the statement that reads it runs, so
    reading the lines straight from `read_lines` grew with the input (1.6 GB for 1.1 GB of
    lines, whatever the memory limit); a Parquet file it reads within its memory limit, and
    writing it holds one block at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, LINE_SCHEMA, compression="lz4") as writer:
        for batch in read_lines(sources, max_line_bytes, max_archive_bytes):
            writer.write_batch(batch, row_group_size=SPOOL_ROW_GROUP)
    return path
