"""The dbt-duckdb plugin: registers distill's vectorised SQL functions on the connection.

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
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from distill.canonical import sig_hash_arrow
from distill.dbt import RUN_VARS_ENV
from distill.errors import DistillError
from distill.home import Home, open_no_follow
from distill.lines import MAX_ARCHIVE_BYTES, open_source

TRACE_TEXT = pa.struct([("text", pa.string()), ("problem", pa.string())])


def register_functions(conn: duckdb.DuckDBPyConnection, home: str | Path | None = None) -> None:
    """`distill_sig_hash(line)`: the RFC 8785 sha256 of a JSON line (docs/design.md), NULL if not
    I-JSON; `distill_trace_text(filename, content)`: a trace-format file's text, or why it has
    none; with a home, `distill_source_line(file, byte_offset, line_bytes)`: the line read again
    from the file itself (invariant 4 proves a hash against the file, not a copy)."""
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


def source_line_reader(home: str | Path):
    """A vectorised reader of (file relative to the home, byte offset, length) -> the line, or
    NULL where the file is gone or shorter or the bytes are not UTF-8 (such a line has no
    sig_hash). It never raises: an error inside `try()` would make DuckDB call it once per row. A plain file is opened once per batch (never through
    a symlink) and read with pread; a gzip archive is decompressed once and kept for the batches
    that follow (its offsets count decompressed bytes)."""
    archive: dict[str, bytes | None] = {}  # the last archive read, by name
    # resolved at each call: dbt runs inside the home, and one process may build several homes
    root = lambda: Path(home).resolve()  # noqa: E731

    def piece_of(name: str, offset: int, length: int, handles: dict) -> bytes | None:
        if name.endswith(".gz"):
            if name not in archive:
                archive.clear()
                try:
                    with open_source(root() / name) as handle:
                        archive[name] = handle.read()
                except (OSError, EOFError, DistillError):
                    archive[name] = None
            data = archive[name]
            return None if data is None or offset + length > len(data) else data[offset : offset + length]
        if name not in handles:
            try:
                handles[name] = open_no_follow(root() / name, os.O_RDONLY)
            except (OSError, DistillError):
                handles[name] = None
        fd = handles[name]
        if fd is None:
            return None
        data = os.pread(fd, length, offset)
        return data if len(data) == length else None

    def text_of(data: bytes | None) -> str | None:
        try:
            return None if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def read(files: pa.Array, offsets: pa.Array, lengths: pa.Array) -> pa.Array:
        handles: dict[str, int | None] = {}
        try:
            out = [
                None if None in (name, offset, length) else text_of(piece_of(name, offset, length, handles))
                for name, offset, length in zip(files.to_pylist(), offsets.to_pylist(), lengths.to_pylist())
            ]
        finally:
            for fd in handles.values():
                if fd is not None:
                    os.close(fd)
        return pa.array(out, pa.string())

    return read


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

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_functions(conn, self.home)
