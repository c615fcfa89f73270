"""The provenance chain of any id (export row, scored run, evidence) down to the raw source
line, checking every link on the way (docs/design.md, "Provenance and determinism")."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from distill.canonical import sig_hash
from distill.errors import DistillError
from distill.home import Home
from distill.project import EXPORT_PREFIXES
from distill.lines import open_source
from distill.warehouse import connect

# Export id prefixes and the tables that hold them.
EXPORT_TABLES = EXPORT_PREFIXES  # an export id's prefix names its table


@dataclass(frozen=True)
class Link:
    depth: int
    what: str  # e.g. "evidence ev_...", "source line data/_kb/x.jsonl:3"
    detail: str
    ok: bool


@dataclass
class Chain:
    id: str
    links: list[Link] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(link.ok for link in self.links)

    @property
    def broken(self) -> Link | None:
        return next((link for link in self.links if not link.ok), None)


def read_source_line(home: Home, source_file: str, byte_offset: int, line_bytes: int) -> bytes | None:
    """The raw bytes of one line as the file holds them now; None if the file is gone or short."""
    try:
        with open_source(home.root / source_file) as handle:
            handle.seek(byte_offset)
            data = handle.read(line_bytes + 1)
    except (OSError, EOFError):
        return None
    if len(data) < line_bytes or (len(data) > line_bytes and data[line_bytes:] != b"\n"):
        return None
    return data[:line_bytes]


# `}` + a line break + `{`: where one concatenated JSON object ends and the next begins.
CONCATENATED = re.compile(r"\}[ \t\r]*\n\s*\{")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def read_trace_unit(conn, home: Home, source_file: str, element: str) -> str | None:
    """A trace-format unit as its file holds it now, found again by its element
    (`line N <JSON path>`, with ` #k` for the k-th match of a path with several wildcards, then
    the path of the unit within that match, if any)."""
    match = re.fullmatch(r"line (\d+) (\S+)(?: #(\d+))?(?: (\$\S*))?", element)
    try:
        with open_source(home.root / source_file) as handle:
            text = handle.read().decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, DistillError):
        return None
    if match is None:
        return None
    line_no, path, nth, sub = int(match[1]), match[2], match[3], match[4]
    if source_file.endswith((".jsonl", ".jsonl.gz")):
        lines = text.split("\n")
        text = lines[line_no] if line_no < len(lines) else ""
    elif not _is_json(text):  # concatenated objects, read as their list (macro concatenated_as_list)
        text = "[" + CONCATENATED.sub("},{", text) + "]"
    found = "json_extract(?::json, ?)" if nth is None else "json_extract(?::json, ?)[?]"
    params = [text, path] if nth is None else [text, path, int(nth) + 1]
    if sub is not None:
        found, params = f"json_extract({found}, ?)", [*params, sub]
    try:
        row = conn.execute(f"select {found}::varchar", params).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _evidence(conn, home: Home, chain: Chain, evidence_id: str, depth: int) -> None:
    row = conn.execute(
        """
        select e.stream, e.run_id, e.source_file, e.line_offset, e.sig_hash, l.byte_offset, l.line_bytes, u.element
        from evidence as e
        left join base_source_lines as l using (source_file, line_offset)
        left join base_trace_units as u using (source_file, line_offset)
        where e.evidence_id = ?
        """,
        [evidence_id],
    ).fetchone()
    if row is None:
        chain.links.append(Link(depth, f"evidence {evidence_id}", "missing from the evidence table", False))
        return
    stream, run_id, source_file, line_offset, expected, byte_offset, line_bytes, element = row
    chain.links.append(Link(depth, f"evidence {evidence_id}", f"stream {stream}, run {run_id or '-'}", True))
    if element is not None:  # a unit of a standard trace format
        where = f"source unit {source_file}:{line_offset} ({element})"
        text = read_trace_unit(conn, home, source_file, element)
    else:
        where = f"source line {source_file}:{line_offset}"
        raw = None if byte_offset is None else read_source_line(home, source_file, byte_offset, line_bytes)
        text = None if raw is None else raw.decode("utf-8", errors="replace").rstrip("\r")
    if text is None:
        chain.links.append(Link(depth + 1, where, "missing: the file or the line is gone", False))
        return
    try:
        actual = sig_hash(text)
    except ValueError:
        actual = None
    if actual != expected:
        detail = f"changed since it was read: sig_hash {actual} != recorded {expected}\n{text}"
        chain.links.append(Link(depth + 1, where, detail, False))
    else:
        chain.links.append(Link(depth + 1, where, text, True))


def _run(conn, home: Home, chain: Chain, run_id: str, depth: int) -> None:
    row = conn.execute(
        "select category, reasons[-1], evidence_ids from scored_runs where run_id = ?", [run_id]
    ).fetchone()
    if row is None:
        chain.links.append(Link(depth, f"run {run_id}", "missing from scored_runs", False))
        return
    category, rule, evidence_ids = row
    chain.links.append(Link(depth, f"run {run_id}", f"{category} by {rule}", True))
    for evidence_id in evidence_ids:
        _evidence(conn, home, chain, evidence_id, depth + 1)


def _in_part(path: Path, id: str) -> bool:
    """Whether the day part holds the row (each line of a part starts with its id)."""
    start = ('{"id":' + json.dumps(id) + ",").encode()
    try:
        with path.open("rb") as handle:
            return any(line.startswith(start) for line in handle)
    except OSError:
        return False


def trace(home: Home, id: str) -> Chain:
    chain = Chain(id)
    with connect(home) as conn:
        table = next((t for prefix, t in EXPORT_TABLES.items() if id.startswith(prefix)), None)
        if table is not None:
            row = conn.execute(f"select provenance, strftime(day, '%Y-%m-%d') from {table} where id = ?", [id]).fetchone()
            if row is None:
                raise DistillError(f"no row of {table} has id {id!r}")
            provenance, day = row
            part = f"{home.EXPORT_DIRS[table]}/{day}.jsonl"
            shipped = _in_part(home.root / part, id)
            chain.links.append(Link(0, f"{table} {id}", f"in {part}" if shipped else f"not in {part}", shipped))
            if provenance["run_ids"]:
                for run_id in provenance["run_ids"]:
                    _run(conn, home, chain, run_id, 1)
            else:
                for evidence_id in provenance["evidence_ids"]:
                    _evidence(conn, home, chain, evidence_id, 1)
                if not provenance["evidence_ids"]:
                    # a bad source line that never became evidence
                    for line in provenance["source_lines"]:
                        chain.links.append(Link(1, f"source line {line}", "skipped: see skipped_lines", True))
        elif id.startswith("ev_"):
            if conn.execute("select count(*) from evidence where evidence_id = ?", [id]).fetchone()[0] == 0:
                raise DistillError(f"no evidence, scored run or export row has id {id!r}")
            _evidence(conn, home, chain, id, 0)
        elif conn.execute("select count(*) from scored_runs where run_id = ?", [id]).fetchone()[0]:
            _run(conn, home, chain, id, 0)
        else:
            raise DistillError(f"no evidence, scored run or export row has id {id!r}")
    return chain


def source_links(home: Home, evidence_ids: list[str]) -> dict[str, Link]:
    """Each evidence row's source line (or trace unit) as its file holds it now, checked against
    its sig_hash: the last link of its chain (its text when it holds, what is wrong otherwise)."""
    links = {}
    with connect(home) as conn:
        for evidence_id in evidence_ids:
            chain = Chain(evidence_id)
            _evidence(conn, home, chain, evidence_id, 0)
            links[evidence_id] = chain.links[-1]
    return links
