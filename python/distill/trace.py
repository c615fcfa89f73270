"""The provenance chain of an id, down to the raw source line, checking every link (SPEC §4)."""

from dataclasses import dataclass

from distill.canonical import sig_hash
from distill.errors import DistillError
from distill.home import Home
from distill.warehouse import connect


@dataclass(frozen=True)
class Link:
    what: str  # e.g. "evidence ev_...", "source line data/_kb/x.jsonl:3"
    detail: str
    ok: bool


@dataclass(frozen=True)
class Chain:
    id: str
    links: list[Link]

    @property
    def ok(self) -> bool:
        return all(link.ok for link in self.links)

    @property
    def broken(self) -> Link | None:
        return next((link for link in self.links if not link.ok), None)


def read_source_line(home: Home, source_file: str, byte_offset: int, line_bytes: int) -> bytes | None:
    """The raw bytes of one line as the file holds them now; None if the file is gone or short."""
    path = home.root / source_file
    try:
        with path.open("rb") as handle:
            handle.seek(byte_offset)
            data = handle.read(line_bytes + 1)
    except OSError:
        return None
    if len(data) < line_bytes:
        return None
    return data[:line_bytes]


def trace_evidence(home: Home, evidence_id: str) -> Chain:
    with connect(home) as conn:
        row = conn.execute(
            """
            select e.evidence_id, e.stream, e.run_id, e.source_file, e.line_offset, e.sig_hash,
                   l.byte_offset, l.line_bytes
            from evidence as e
            left join stg_source_lines as l using (source_file, line_offset)
            where e.evidence_id = ?
            """,
            [evidence_id],
        ).fetchone()
    if row is None:
        raise DistillError(f"no evidence, scored run or export row has id {evidence_id!r}")
    _, stream, run_id, source_file, line_offset, expected_hash, byte_offset, line_bytes = row
    links = [Link(f"evidence {evidence_id}", f"stream {stream}, run {run_id or '-'}", True)]
    where = f"{source_file}:{line_offset}"
    raw = None if byte_offset is None else read_source_line(home, source_file, byte_offset, line_bytes)
    if raw is None:
        links.append(Link(f"source line {where}", "missing: the file or the line is gone", False))
        return Chain(evidence_id, links)
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    try:
        actual_hash = sig_hash(text)
    except ValueError:
        actual_hash = None
    if actual_hash != expected_hash:
        links.append(
            Link(
                f"source line {where}",
                f"changed since it was read: sig_hash {actual_hash} != recorded {expected_hash}\n{text}",
                False,
            )
        )
    else:
        links.append(Link(f"source line {where}", text, True))
    return Chain(evidence_id, links)
