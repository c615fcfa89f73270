"""The full audit (docs/design.md, "Audit"): every required check over a real home, each
pass/fail with detail, drift against the last reference baseline, and a new baseline row
appended (never rewritten).

The audit checks the corpus as the last run built it: in that run's mode (strict or
--include-partial, from its summary) and against the bytes each source had when the run read
them (data/.dbt/read-state.json); lines appended since wait for the next run and are reported as
information, not as a failure."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from distill import acceptance, dbt, drift, fingerprints, firewall, incidents, incremental, pipeline, receipts, runs
from distill.errors import DistillError
from distill.home import PROJECT_DIR, STREAMS, Home, append_line
from distill.lines import open_source
from distill.schemas import AuditBaseline, DriftMetric, RunSummary, json_schemas
from distill.warehouse import connect

BASELINE_METRICS = (
    "evidence", "scored", "accepted", "partially_accepted", "rejected", "needs_human_review",
    "rag", "sft", "preference", "quarantined",
)
DOCS = ("README.md", "docs/operator-handoff.md", "docs/recovery-runbook.md")

# Audit checks that are dbt tests of the acceptance invariants, run on the real home.
INVARIANT_CHECKS = {
    "SFT firewall": (10, 11),
    "preference self-pairs": (15,),
    "preference identical texts": (16,),
    "RAG grounded": (13,),
    "no secrets in exports": (21,),
}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass, fail, skipped, info
    detail: str

    @property
    def held(self) -> bool:
        return self.status in ("pass", "info")


@dataclass
class Audit:
    checks: list[Check]
    drift: list[DriftMetric]
    baseline: AuditBaseline

    @property
    def passed(self) -> bool:
        return all(c.held for c in self.checks)

    @property
    def tally(self) -> str:
        """N/M: the required checks that held (information rows are not counted)."""
        required = [c for c in self.checks if c.status != "info"]
        return f"{sum(c.held for c in required)}/{len(required)} required checks held"


def _physical_lines(path: Path, start: int = 0) -> int:
    """Lines as the reader counts them from byte `start` on: newlines, plus an unterminated last
    line (`start` > 0 only for a plain file: offsets into an archive count decompressed bytes)."""
    count, last = 0, b"\n"
    with open_source(path) as handle:
        handle.seek(start)
        for block in iter(lambda: handle.read(1 << 24), b""):
            count += int(np.count_nonzero(np.frombuffer(block, np.uint8) == 10))
            last = block[-1:]
    return count + (last != b"\n")


def check_sources(home: Home, conn) -> Check:
    per_stream = dict(conn.execute("select stream, count(*) from base_source_lines group by 1").fetchall())
    present = [s for s in STREAMS if per_stream.get(s)]
    missing = [s for s in STREAMS if s not in per_stream]
    detail = f"{len(present)}/{len(STREAMS)} streams have lines"
    return Check("sources present", "info", detail + (f"; none for {', '.join(missing)}" if missing else ""))


def check_schemas(home: Home, include_partial: bool) -> Check:
    on_disk = {p.name: p.read_text() for p in (PROJECT_DIR / "docs" / "schemas").glob("*.json")}
    stale = sorted(n for n, text in json_schemas().items() if on_disk.get(n) != text)
    if stale:
        return Check("schemas valid and docs/schemas in sync", "fail", f"out of sync: {', '.join(stale)} (run `make schemas`)")
    for model in firewall.EXPORT_TYPES:
        try:
            firewall.validate_export(home, model, include_partial=include_partial, move_aside=False)
        except DistillError as exc:
            return Check("schemas valid and docs/schemas in sync", "fail", str(exc))
    return Check("schemas valid and docs/schemas in sync", "pass", "every export row is a valid record; docs/schemas match")


def check_lines(home: Home, conn) -> list[Check]:
    """Every line the run read is exactly one of evidence, skip or pending, and every source is
    still, byte for byte, what the run read; bytes appended since are information."""
    read = dict(conn.execute("select source_file, count(*) from base_source_lines group by 1").fetchall())
    unaccounted = conn.execute(
        """
        with outcomes as (
            select source_file, line_offset from evidence
            union all
            select source_file, line_offset from skipped_lines
            union all
            select source_file, line_offset from pending_lines
        ),
        outcome_counts as (select source_file, line_offset, count(*) as n from outcomes group by all)
        select count(*)
        from base_source_units as lines
        full outer join outcome_counts using (source_file, line_offset)
        where coalesce(outcome_counts.n, 0) != 1 or lines.line_offset is null
        """
    ).fetchone()[0]
    if unaccounted:
        return [Check("every line accounted for", "fail", f"{unaccounted} lines are not exactly one of evidence, skip or pending")]
    state = incremental.read_state(home)
    if state is None:
        return [Check("every line accounted for", "fail",
                      "data/.dbt/read-state.json is missing: no complete run to audit; run `distill run-all`")]
    changed, waiting = [], []
    on_disk = {home.relative(p): p for p in incremental.source_files(home)}
    for name in sorted(set(state) | set(on_disk)):
        known, path = state.get(name), on_disk.get(name)
        if path is None:
            changed.append(f"{name} is gone")
        elif known is None:
            waiting.append((name, _physical_lines(path)))
        else:
            size, sha, unchanged = incremental.hash_file(path, known)
            # an archive is read whole: one that grew is another archive (as the run's plan says)
            if size < known.size or not unchanged or (name.endswith(".gz") and sha != known.sha256):
                changed.append(f"{name}: the {known.size:,} bytes the run read changed (edited, truncated or replaced)")
            elif size > known.size:
                # only the bytes after the run's last complete line are read again: the lines
                # there, less the pending ones the run read
                waiting.append((name, _physical_lines(path, known.bytes_done) - (read.get(name, 0) - known.lines_done)))
    if changed:
        return [Check("every line accounted for", "fail",
                      "; ".join(changed[:3]) + ": restore the file from backup, or run `distill run-all` to rebuild from it")]
    units, unit_files = conn.execute("select count(*), count(distinct source_file) from base_trace_units").fetchone()
    traces = f" and {units:,} trace units in {unit_files} files" if units else ""
    detail = f"{sum(read.values()):,} lines in {len(read)} files{traces}, each evidence, skip or pending"
    checks = [Check("every line accounted for", "pass", detail)]
    if waiting:
        lines = sum(n for _, n in waiting)
        files = ", ".join(name for name, _ in waiting[:3]) + (" ..." if len(waiting) > 3 else "")
        checks.append(Check("lines appended since the run", "info",
                            f"{lines:,} new line(s) in {files} wait for the next run (`distill run-all`)"))
    return checks


def check_scored(conn) -> Check:
    rows = dict(conn.execute("select category, count(*) from scored_runs group by 1").fetchall())
    if not rows:
        return Check("scored distribution non-empty", "fail", "no scored runs")
    return Check("scored distribution non-empty", "pass", ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items())))


def check_summary(home: Home) -> tuple[Check, RunSummary | None]:
    dirs = [d for d in runs.run_dirs(home) if (d / "summary.json").exists()]
    if not dirs:
        return Check("latest RunSummary valid", "fail", "no reports/<run_id>/summary.json: run `distill run-all`"), None
    path = dirs[-1] / "summary.json"
    try:
        summary = RunSummary.model_validate_json(path.read_text())
    except (ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        return Check("latest RunSummary valid", "fail", f"{home.relative(path)} is not a valid RunSummary: {first}"), None
    return Check("latest RunSummary valid", "pass", f"{home.relative(path)}"), summary


def check_run_hash(home: Home, summary: RunSummary | None) -> Check:
    if summary is None:
        return Check("run_hash recomputes", "fail", "no valid summary to compare with")
    outputs = [o for paths in receipts.stage_files(home).values() for o in fingerprints.output_files(home, paths)]
    recomputed = fingerprints.run_hash(outputs)
    if recomputed != summary.run_hash:
        return Check("run_hash recomputes", "fail",
                     f"files on disk hash to {recomputed[:16]}..., run {summary.run_id} recorded {summary.run_hash[:16]}...")
    return Check("run_hash recomputes", "pass", f"{recomputed[:16]}... over {len(outputs)} files")


def check_invariants(home: Home, include_partial: bool) -> list[Check]:
    # only the invariants the checks read (the others, such as invariant 4's rehash of every
    # line, belong to the run and to the acceptance gate), in the mode the run was built in
    wanted = {f"inv{n:02d}" for numbers in INVARIANT_CHECKS.values() for n in numbers}
    tests = sorted(p.stem for p in (PROJECT_DIR / "tests" / "acceptance").glob("inv*.sql") if p.stem[:5] in wanted)
    nodes = dbt.invoke(home, ["test", "--select", *tests, "--no-write-json"], {"include_partial": include_partial},
                       check=False)
    status = {n.name.split("_")[0]: n for n in nodes}
    out = []
    for name, numbers in INVARIANT_CHECKS.items():
        failed = [status.get(f"inv{n:02d}") for n in numbers]
        bad = [node for node in failed if node is None or node.status != "pass"]
        if bad:
            detail = "; ".join(f"{(node.name if node else '?')}: {node.failures if node else '?'} failing row(s)" for node in bad)
            out.append(Check(name, "fail", detail))
        else:
            held = " and ".join(f"invariant {n}" for n in numbers)
            out.append(Check(name, "pass", f"{held} {'hold' if len(numbers) > 1 else 'holds'} on the exports"))
    return out


def check_acceptance() -> Check:
    """The gate on the fixture, or the pass recorded for exactly this project."""
    passed, detail = acceptance.verdict_on_this_project()
    return Check("acceptance passes", "pass" if passed else "fail", detail)


def check_replay(home: Home, conn) -> Check:
    from distill.replay import retrieve

    row = conn.execute("select id, title from export_rag where length(title) > 10 order by id limit 1").fetchone()
    if row is None:
        return Check("replay retrieval smoke", "fail", "the RAG export is empty")
    try:
        top = [r.id for r in retrieve(home, row[1], 5)]
    except DistillError as exc:
        return Check("replay retrieval smoke", "fail", str(exc))
    if row[0] not in top:
        return Check("replay retrieval smoke", "fail", f"searching {row[1][:40]!r} does not find {row[0]} in the top 5")
    return Check("replay retrieval smoke", "pass", f"{row[0]} found by its title")


def check_docs() -> Check:
    missing = [d for d in DOCS if not (PROJECT_DIR / d).exists() or not (PROJECT_DIR / d).read_text().strip()]
    if missing:
        return Check("docs present", "fail", "missing or empty: " + ", ".join(missing))
    return Check("docs present", "pass", ", ".join(DOCS))


def metrics(home: Home) -> dict[str, int]:
    """The ten baseline metrics, from the counts a run reports."""
    counts = pipeline.counts(home)
    values = counts.summary_counts() | {c: counts.categories.get(c, 0) for c in
                                        ("accepted", "partially_accepted", "rejected", "needs_human_review")}
    return {m: values[m] for m in BASELINE_METRICS}


def baselines_path(home: Home) -> Path:
    return home.kb / "audit_baselines.jsonl"


def last_reference(home: Home) -> AuditBaseline | None:
    """The row drift is measured against: the last reference row. A row that is not a valid
    AuditBaseline (a hand-edited history) is an error naming its line, never skipped."""
    path = baselines_path(home)
    if not path.exists():
        return None
    reference = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = AuditBaseline.model_validate_json(line)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the row"
            raise DistillError(
                f"{home.relative(path)} line {number} is not an audit baseline ({where}: {first['msg']}): "
                "rows are appended by distill only; to set a new baseline run "
                "`distill audit-full --rebaseline --note \"why\"`, then move that line out of the file"
            ) from None
        if row.reference:
            reference = row
    return reference


def baseline_drift(current: dict[str, int], previous: AuditBaseline | None) -> list[DriftMetric]:
    out = []
    for metric in BASELINE_METRICS:
        old = float(previous.metrics[metric]) if previous and metric in previous.metrics else None
        change, severity = drift.change_severity(old, float(current[metric]))
        # the audit warns beyond ±20 % and does not alert: drift informs, checks decide
        out.append(DriftMetric(metric=metric, old=old, new=float(current[metric]), change_pct=change,
                               severity="warn" if severity == "alert" else severity))
    return out


def run_audit(home: Home, now: datetime, skip: set[str] = frozenset(),
              on_check: Callable[[Check], None] | None = None, acceptance_check: Check | None = None,
              rebaseline: str | None = None) -> Audit:
    """Every check; `acceptance_check` is a verdict already reached this session (the release
    runs the gate once and hands it on); `rebaseline`, the operator's note, makes this audit the
    reference later audits measure drift against."""
    home.require_sources()
    checks: list[Check] = []
    previous = last_reference(home)  # a broken history stops the audit before any work

    def add(check: Check) -> None:
        checks.append(check)
        if on_check:
            on_check(check)

    def skipped(name: str) -> bool:
        if name in skip:
            add(Check(name, "skipped", "skipped on request: not a passed audit"))
            return True
        return False

    current = metrics(home)
    summary_check, summary = check_summary(home)
    include_partial = summary.include_partial if summary else False
    mode = "--include-partial" if include_partial else "strict"
    with connect(home) as conn:
        add(check_sources(home, conn))
        add(Check("audited run", "info", f"{summary.run_id}, built {mode}" if summary else "none found"))
        if not skipped("schemas valid and docs/schemas in sync"):
            add(check_schemas(home, include_partial))
        if not skipped("every line accounted for"):
            for check in check_lines(home, conn):
                add(check)
        if not skipped("scored distribution non-empty"):
            add(check_scored(conn))
    if not skipped("invariants"):
        for check in check_invariants(home, include_partial):
            add(check)
    add(summary_check)
    if not skipped("run_hash recomputes"):
        add(check_run_hash(home, summary))
    if not skipped("acceptance passes"):
        add(acceptance_check or check_acceptance())
    if not skipped("replay retrieval smoke"):
        with connect(home) as conn:
            add(check_replay(home, conn))
    add(check_docs())
    open_incidents = incidents.listed(home)
    add(Check("open incidents", "info", "; ".join(open_incidents[:3]) + (" ..." if len(open_incidents) > 3 else "")
              if open_incidents else "none in data/incidents/"))
    moved = baseline_drift(current, previous)
    warned = [m.metric for m in moved if m.severity != "ok"]
    if previous is None:
        drift_detail = "no baseline yet: this audit sets it"
    elif warned:
        drift_detail = (f"warn: {', '.join(warned)} moved beyond ±20 % of the baseline of {previous.audited_at:%Y-%m-%d}; "
                        "ask what changed upstream, then `distill audit-full --rebaseline --note \"why\"`")
    else:
        drift_detail = f"within ±20 % of the baseline of {previous.audited_at:%Y-%m-%d}"
    if rebaseline is not None:
        drift_detail += f"; re-baselined: {rebaseline}"
    add(Check("drift against the last baseline", "info", drift_detail))
    passed = all(c.held for c in checks)
    baseline = AuditBaseline(
        audited_at=now,
        run_id=summary.run_id if summary else None,
        run_hash=summary.run_hash if summary else None,
        metrics=current,
        passed=passed,
        # a failed or drifting audit is history, not a yardstick; a re-baseline always is one
        reference=rebaseline is not None or (passed and (previous is None or not warned)),
        note=rebaseline,
    )
    return Audit(checks, moved, baseline)


def append_baseline(home: Home, baseline: AuditBaseline) -> None:
    """Append-only: earlier rows are never rewritten."""
    path = baselines_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    append_line(path, baseline.model_dump_json() + "\n")


def report_markdown(audit: Audit) -> str:
    lines = ["# Audit", "", f"{'PASSED' if audit.passed else 'FAILED'} at {audit.baseline.audited_at.isoformat()}"
             f": {audit.tally}, auditing run {audit.baseline.run_id or '-'}", "",
             "| check | result | detail |", "|---|---|---|"]
    for c in audit.checks:
        lines.append(f"| {c.name} | {c.status} | {c.detail.replace('|', '/')} |")
    lines += ["", "## Drift against the last baseline", "", "| metric | old | new | change % | severity |",
              "|---|---|---|---|---|"]
    for m in audit.drift:
        old = "-" if m.old is None else f"{int(m.old):,}"
        change = "-" if m.change_pct is None else f"{m.change_pct:+.1f}"
        lines.append(f"| {m.metric} | {old} | {int(m.new):,} | {change} | {m.severity} |")
    return "\n".join(lines) + "\n"


def baseline_rows(home: Home) -> list[dict]:
    path = baselines_path(home)
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def run_and_record(home: Home, now: datetime, skip: set[str] = frozenset(),
                   on_check: Callable[[Check], None] | None = None,
                   acceptance_check: Check | None = None, rebaseline: str | None = None) -> tuple[Audit, Path]:
    """Run the audit, append its baseline row and write reports/audit.md."""
    result = run_audit(home, now, skip, on_check, acceptance_check, rebaseline)
    append_baseline(home, result.baseline)
    report = home.reports / "audit.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(report_markdown(result))
    return result, report
