"""The dbt-duckdb plugin: sets DuckDB's memory limit and threads (distill.dbt.memory_limit) and
registers distill's vectorised SQL functions on the connection.

Named in profiles.yml, so plain `dbt build` gets the same functions as `distill run-all`; the
cursors dbt opens per thread share the connection's catalog, functions included.
"""

import gzip
import io
import json
import os
import zlib
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dbt.adapters.duckdb.plugins import BasePlugin

from distill.canonical import sig_hash_arrow
from distill.dbt import RUN_VARS_ENV, duckdb_threads, memory_limit
from distill.errors import DistillError
from distill.home import Home, open_no_follow
from distill.lines import MAX_ARCHIVE_BYTES, open_source

TRACE_TEXT = pa.struct([("text", pa.string()), ("problem", pa.string())])


def register_functions(conn: duckdb.DuckDBPyConnection, home: str | Path | None = None) -> None:
    """`distill_sig_hash(line)`: the RFC 8785 sha256 of a JSON line (docs/design.md), NULL if not
    I-JSON; `distill_trace_text(filename, content)`: a trace-format file's text, or why it has
    none; with a home, `distill_source_line(file, byte_offset, line_bytes)`: the line read again
    from the file itself (invariant 4 proves a hash against the file, not a copy), and
    `distill_source_bytes(...)`: the same line's bytes, as a BLOB."""
    conn.create_function(
        "distill_sig_hash",
        sig_hash_arrow,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
    conn.create_function(
        "distill_trace_text",
        trace_texts,
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("BLOB")],
        duckdb.struct_type({"text": duckdb.sqltype("VARCHAR"), "problem": duckdb.sqltype("VARCHAR")}),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
    if home is not None:
        conn.create_function(
            "distill_source_line",
            source_line_reader(home),
            [duckdb.sqltype("VARCHAR"), duckdb.sqltype("BIGINT"), duckdb.sqltype("BIGINT")],
            duckdb.sqltype("VARCHAR"),
            type="arrow",
            null_handling="special",
            side_effects=False,  # reads files, but the same arguments read the same bytes within a run
        )
        conn.create_function(
            "distill_source_bytes",
            source_line_reader(home, text=False),
            [duckdb.sqltype("VARCHAR"), duckdb.sqltype("BIGINT"), duckdb.sqltype("BIGINT")],
            duckdb.sqltype("BLOB"),
            type="arrow",
            null_handling="special",
            side_effects=False,
        )


def trace_text(name: str | None, data: bytes | None) -> dict:
    """A trace-format file's text: a `.gz` decompressed (up to the archive limit), then UTF-8;
    or, instead of the text, why it has none (corrupt_archive, archive_too_large, invalid_utf8)."""
    if name is None or data is None:
        return {"text": None, "problem": None}
    if name.endswith(".gz"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as archive:
                data = archive.read(MAX_ARCHIVE_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            return {"text": None, "problem": "corrupt_archive"}
        if len(data) > MAX_ARCHIVE_BYTES:
            return {"text": None, "problem": "archive_too_large"}
    try:
        return {"text": data.decode("utf-8"), "problem": None}
    except UnicodeDecodeError:
        return {"text": None, "problem": "invalid_utf8"}


def trace_texts(names: pa.Array, blobs: pa.Array) -> pa.Array:
    """`distill_trace_text(filename, content)` over a batch of files from read_blob."""
    return pa.array([trace_text(n, b) for n, b in zip(names.to_pylist(), blobs.to_pylist())], TRACE_TEXT)


def source_line_reader(home: str | Path, text: bool = True):
    """A vectorised reader of (file relative to the home, byte offset, length) -> the line's bytes
    (`text`: the line, or NULL where they are not UTF-8), or NULL where the file is gone or
    shorter. It never raises: an error inside `try()` would make DuckDB call it once per row.
    A batch reads each file's rows with one pread of the range they span (the lines of a batch
    lie close together) and joins the lines' slices of it into one Arrow buffer; rows that
    overlap, or lie scattered over a range much larger than themselves, are read one by one. A
    plain file is opened once per batch (never through a symlink); a gzip archive is
    decompressed once and kept for the batches that follow (its offsets count decompressed
    bytes)."""
    archive: dict[str, bytes | None] = {}  # the last archive read, by name
    # resolved at each call: dbt runs inside the home, and one process may build several homes
    root = lambda: Path(home).resolve()  # noqa: E731

    def range_of(name: str, offset: int, length: int, handles: dict) -> bytes | None:
        """Up to `length` bytes of the file from `offset` (fewer at its end); None if unreadable."""
        if name.endswith(".gz"):
            if name not in archive:
                archive.clear()
                try:
                    with open_source(root() / name) as handle:
                        archive[name] = handle.read()
                except (OSError, EOFError, DistillError):
                    archive[name] = None
            data = archive[name]
            return None if data is None else data[offset : offset + length]
        if name not in handles:
            try:
                handles[name] = open_no_follow(root() / name, os.O_RDONLY)
            except (OSError, DistillError):
                handles[name] = None
        fd = handles[name]
        try:
            return None if fd is None else os.pread(fd, length, offset)
        except OSError:
            return None

    def read_bytes(files: pa.Array, offsets: pa.Array, lengths: pa.Array) -> pa.Array:
        files, offsets, lengths = (a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in (files, offsets, lengths))
        encoded = pc.dictionary_encode(files)
        which = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        starts = pc.fill_null(offsets, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        sizes = pc.fill_null(lengths, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        wanted = (which >= 0) & (starts >= 0) & (sizes >= 0)
        order, pieces, handles = [], [], {}  # the rows read, in the order their bytes are in `pieces`
        try:
            for index, name in enumerate(encoded.dictionary.to_pylist()):
                rows = np.flatnonzero(wanted & (which == index))
                rows = rows[np.argsort(starts[rows], kind="stable")]
                if not rows.size:
                    continue
                begin, end = starts[rows], starts[rows] + sizes[rows]
                low, high = int(begin[0]), int(end.max())
                if (begin[1:] >= end[:-1]).all() and high - low <= 4 * int(sizes[rows].sum()) + (1 << 20):
                    data = range_of(name, low, high - low, handles)
                    if data is None:
                        continue
                    whole = end - low <= len(data)
                    rows, begin, end = rows[whole], begin[whole] - low, end[whole] - low
                    view = memoryview(data)
                    pieces.append(b"".join([view[a:b] for a, b in zip(begin.tolist(), end.tolist())]))
                    order.append(rows)
                else:  # overlapping or scattered: row by row
                    for row in rows:
                        data = range_of(name, int(starts[row]), int(sizes[row]), handles)
                        if data is not None and len(data) == sizes[row]:
                            pieces.append(data)
                            order.append(np.array([row]))
        finally:
            for fd in handles.values():
                if fd is not None:
                    os.close(fd)
        read = np.concatenate(order) if order else np.empty(0, np.int64)
        ends = np.zeros(len(read) + 1, np.int64)
        np.cumsum(sizes[read], out=ends[1:])
        lines = pa.Array.from_buffers(pa.large_binary(), len(read), [None, pa.py_buffer(ends), pa.py_buffer(b"".join(pieces))])
        if len(read) == len(which) and (read[1:] > read[:-1]).all():
            return lines  # every row read, in their order (the common batch)
        # back to the rows' order; a row not read points past the lines, at a NULL
        place = np.full(len(which), len(read), np.int64)
        place[read] = np.arange(len(read))
        return pc.take(pa.concat_arrays([lines, pa.nulls(1, pa.large_binary())]), pa.array(place))

    def read(files: pa.Array, offsets: pa.Array, lengths: pa.Array) -> pa.Array:
        lines = read_bytes(files, offsets, lengths)
        try:
            return lines.cast(pa.large_string())
        except pa.ArrowInvalid:  # some line is not UTF-8: that one is NULL
            decoded = []
            for line in lines.to_pylist():
                try:
                    decoded.append(None if line is None else line.decode("utf-8"))
                except UnicodeDecodeError:
                    decoded.append(None)
            return pa.array(decoded, pa.large_string())

    return read if text else read_bytes


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        # The folders the models write into must exist before DuckDB opens or COPYs anything.
        # output_root is a run setting (distill.dbt.RUN_VARS), given in the environment.
        run_vars = json.loads(os.environ.get(RUN_VARS_ENV) or "{}")
        home, output_root = plugin_config.get("home"), run_vars.get("output_root", plugin_config.get("output_root"))
        self.home = home or None  # as configured ("." while dbt runs inside the home)
        if home:
            root = Home.resolve(home)
            staged = Path(output_root).resolve() if output_root else None
            replace(root, staged=staged if staged != root.root else None).make_output_dirs()

    def update_connection_config(self, creds, config: dict) -> None:
        # DuckDB's global settings, given when the database opens (distill.dbt.memory_limit)
        config.update(memory_limit=memory_limit(), threads=duckdb_threads())

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_functions(conn, self.home)
