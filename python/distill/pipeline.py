"""The pipeline's stages as dbt selections, the firewall after each export, the counts a run
reports, and for run-all the receipts, summary and drift of docs/concepts.md, "Receipts and drift"."""

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime

from distill import card, carry, dbt, drift, fingerprints, firewall, incidents, incremental, manifest, outputs
from distill import receipts, runs
from distill import report as report_page
from distill.errors import DistillError
from distill.home import Home
from distill.project import EXPORTS, FORMATS, PART_STAGES
from distill.schemas import RunSummary
from distill.warehouse import connect, make_private, read_counts

# Each stage is a dbt selection; `+` pulls in what the stage needs. dbt builds seeds, models
# and their data tests in dependency order; every stage builds the counts it reports (run_counts).
STAGES = {
    "build-evidence": ["+evidence", "+skipped_lines", "run_counts"],
    "score": ["+scored_runs", "run_counts"],
    **{stage: [f"+{model}", "run_counts"] for model, stage in PART_STAGES.items()
       if model in EXPORTS and stage != "quarantine"},
    "export-all": [*(f"+{model}" for model in EXPORTS), *(m for models in FORMATS.values() for m in models),
                   "run_counts"],
    "run-all": ["*"],
}

# The exports each command writes, validated again after dbt has written them.
STAGE_EXPORTS = {
    **{stage: [model] for model, stage in PART_STAGES.items() if model in EXPORTS and stage != "quarantine"},
    "export-all": list(EXPORTS),
    "run-all": list(EXPORTS),
}

# The receipt stage of each export model.
EXPORT_STAGE = {model: PART_STAGES[model] for model in EXPORTS}


@dataclass(frozen=True)
class RunCounts:
    source_files: int
    source_lines: int
    evidence: int
    skipped: dict[str, int]
    pending: int  # incomplete last lines, read again next run
    scored: int | None = None
    categories: dict[str, int] = field(default_factory=dict)
    exports: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def summary_counts(self) -> dict[str, int]:
        return {
            "source_lines": self.source_lines,
            "evidence": self.evidence,
            "skipped": self.skipped_total,
            "pending": self.pending,
            "scored": self.scored or 0,
            "rag": self.exports.get("export_rag", 0),
            "sft": self.exports.get("export_sft", 0),
            "preference": self.exports.get("export_preference", 0),
            "quarantined": sum(self.quarantined.values()),
        }


@dataclass(frozen=True)
class RunResult:
    stage: str
    counts: RunCounts
    run_id: str | None = None  # run-all only
    summary: RunSummary | None = None
    unchanged_since: str | None = None  # the run whose outputs still stand, when nothing changed


def build(
    home: Home,
    stage: str,
    include_partial: bool = False,
    recorded_at: datetime | None = None,
    on_node: dbt.NodeListener | None = None,
    dbt_vars: dict | None = None,
    exclude: list[str] | None = None,
    formats: list[str] | None = None,
    force: bool = False,
    unit_tests: bool = False,
) -> RunResult:
    """Run one stage (and what it needs), re-read and validate what it exported; for run-all,
    write reports/<run_id>/ (receipts even when a stage fails) and return the summary. A run-all
    whose inputs did not change since the last run does no data work, unless forced."""
    home.require_sources()
    started_at = runs.now_utc()
    # a file in the outputs distill did not write is kept as incident evidence, never pruned
    incidents.sweep_foreign(home)
    # a stage runs the tests of what it builds, not the tests that also read later stages
    selection = [] if STAGES[stage] == ["*"] else ["--select", *STAGES[stage], "--indirect-selection", "cautious"]
    # invariant 21 is firewall layer 3's secret scan of the same parts, which a stage that
    # exports runs below (and which moves a breached part aside): scanning twice proves nothing
    # more (docs/design.md, "Performance")
    skipped = [*(exclude or []), *(["inv21_no_secret_in_exports"] if STAGE_EXPORTS.get(stage) else [])]
    if skipped:
        selection += ["--exclude", *skipped]
    if not unit_tests:
        # dbt's unit tests check the SQL of a model against fixed rows, not the data: the
        # acceptance gate (and `make test`) runs them, a production run need not
        selection += ["--exclude-resource-type", "unit_test"]
    error: DistillError | None = None
    failures: dict[str, str] = {}
    breaches = 0
    all_vars = {"include_partial": include_partial, "formats": sorted(set(formats or [])), **(dbt_vars or {})}
    fingerprint = fingerprints.input_fingerprint(home, {"vars": all_vars, "exclude": exclude or []})
    if stage == "run-all" and not force:
        previous = _unchanged(home, fingerprint)
        if previous is not None:
            # nothing the outputs depend on changed: no data work, only receipts
            return _report(home, started_at, recorded_at, None, {}, 0, all_vars, fingerprint, previous)
    stopped_half_way = (home.root / outputs.IN_PROGRESS).exists()
    make_private(home)
    # every output goes to a new generation, moved into place only when complete
    staged = outputs.begin(home, carry=stage != "run-all")
    plan = None
    retried: list[str] = []  # the nodes built again on one DuckDB thread (dbt.invoke)
    try:
        dbt.forget_results(staged)
        plan = _read_plan(home, all_vars, force, stopped_half_way, stage)
        if not plan.full:
            try:
                changed = carry.verify_current(home, include_partial)
            except DistillError as exc:
                failures[carry.stage_of_breach(str(exc))] = str(exc)
                breaches += 1
                raise
            if changed is not None:
                plan = _read_plan(home, all_vars, force, stopped_half_way, stage, reason=changed)
        incremental.write_plan(home, plan)
        # invariant 4 proves each hash where it was computed (docs/design.md, "Performance")
        proof = {"hash_proof": "bytes"}
        try:
            # a delta run: the models then work on the touched set
            threads, env = _threads(plan)
            dbt.invoke(staged, ["build", *selection, *_refresh(plan), *threads],
                       {**all_vars, **proof}, on_node=on_node, delta=not plan.full, env=env,
                       on_retry=retried.extend if plan.full and "--select" not in selection else None)
        finally:
            incremental.plan_path(home).unlink(missing_ok=True)  # plain dbt reads everything
            dbt.lines_spool(staged).unlink(missing_ok=True)
        _remember_read(home, plan)
        if stage != "run-all":
            incremental.mark_partial(home, stage)  # the next run-all rebuilds in full
        if stage in ("run-all", "export-all"):
            _remove_stale_formats(staged, set(formats or []))
        _remove_empty_parts(staged)
        # firewall layer 3 and the secret scan read every part this run wrote ...
        written = {model: staged.export_parts(model) for model in STAGE_EXPORTS.get(stage, [])}
        for model, parts in written.items():
            try:
                firewall.validate_export(staged, model, include_partial, parts=parts)
            except DistillError as exc:
                failures[EXPORT_STAGE[model]] = str(exc)
                breaches += 1
                raise
        if STAGE_EXPORTS.get(stage):
            try:
                firewall.scan_secrets(staged)
            except DistillError as exc:
                failures["quarantine"] = str(exc)
                breaches += 1
                raise
        # ... and the parts of the days it did not touch are carried unchanged (hard links)
        if not plan.full:
            carry.carry_untouched(home, staged)
        parts, seen = manifest.describe(staged)
        manifest.write(staged, parts)
        manifest.remember(home, seen)
    except DistillError as exc:
        error = exc
        incremental.forget(home)  # the tables may be half-built: the next run reads everything
    if stage != "run-all":
        _settle(staged, error)
        return RunResult(stage, counts(home))
    return _report(staged, started_at, recorded_at, error, failures, breaches, all_vars, fingerprint,
                   read=_read_note(plan, retried))


# Below this much source data a run is small: its queries are milliseconds and dbt's own per-node
# work, which holds Python's lock, is the time, so a second dbt thread or DuckDB thread costs CPU
# for no shorter run; it builds one node at a time on one DuckDB thread (unless
# DISTILL_DUCKDB_THREADS says otherwise). docs/design.md, "Performance".
SMALL_SOURCES_BYTES = 8 << 20
# dbt builds one node at a time (profiles.yml), two side by side only between these sizes. Above,
# two of the scoring chain's nodes side by side need more than DuckDB's memory limit between them
# (at ten million lines), while one node alone fits and uses both cores inside DuckDB.
TWO_NODES_AT_A_TIME_BYTES = (SMALL_SOURCES_BYTES, 1 << 30)


def _refresh(plan: incremental.ReadPlan) -> list[str]:
    """A full build rebuilds every table; a delta run leaves the seeds and their tests out: the
    seeds are part of the project fingerprint, so a delta run has the very seeds the last run
    loaded and checked (docs/design.md, "Incremental runs"). The tests that read a seed and a
    model (the documented rules of the scored runs) still run. Only run-all reads incrementally:
    a single stage builds in full (_read_plan), so its own selection is never combined with this."""
    if plan.full:
        return ["--full-refresh"]
    return ["--exclude", "resource_type:seed", "--indirect-selection", "cautious"]


def _threads(plan: incremental.ReadPlan) -> tuple[list[str], dict[str, str]]:
    """dbt's arguments and DuckDB's environment for the threads a build of this size uses."""
    size = sum(f.size for f in plan.files.values())
    low, high = TWO_NODES_AT_A_TIME_BYTES
    one_duckdb_thread = size < SMALL_SOURCES_BYTES and dbt.DUCKDB_THREADS_ENV not in os.environ
    return ["--threads", "2"] if low <= size <= high else [], {dbt.DUCKDB_THREADS_ENV: "1"} if one_duckdb_thread else {}


def _read_plan(home: Home, all_vars: dict, force: bool, stopped_half_way: bool, stage: str,
               reason: str | None = None) -> incremental.ReadPlan:
    """What this run reads: what the sources gained since the last complete run, or everything."""
    for why, holds in (
        (f"distill {stage} builds its part of the pipeline in full", stage != "run-all"),
        ("--force: everything is read again", force),
        ("the last run stopped before it finished", stopped_half_way),
        ("no warehouse yet", not home.warehouse.exists()),
    ):
        if reason is None and holds:
            reason = why
    return incremental.make_plan(home, fingerprints.project_fingerprint({"vars": all_vars}), reason)


def _remember_read(home: Home, plan: incremental.ReadPlan) -> None:
    """What each source file was read up to, for the next run's plan."""
    with connect(home) as conn:
        done = conn.execute(
            """
            select
                source_file,
                coalesce(max(byte_offset + line_bytes + 1) filter (where read_status != 'pending'), 0),
                count(*) filter (where read_status != 'pending')
            from base_source_lines
            group by source_file
            """
        ).fetchall()
    incremental.record_state(home, plan, {name: (end, lines) for name, end, lines in done})


def _read_note(plan: incremental.ReadPlan | None, retried: list[str]) -> str | None:
    if plan is None:
        return None
    if plan.full:
        again = (
            f"; {', '.join(retried)} ran out of DuckDB's memory limit and, with what follows, was built again on one thread"
            if retried else ""
        )
        return f"full rebuild: {plan.reason}{again}"
    return f"incremental: {plan.new_bytes:,} new bytes read in {len(plan.files)} files; older lines were read before"


def _settle(staged: Home, error: DistillError | None) -> None:
    """Commit a complete generation; set a failed one aside and raise, the previous outputs intact."""
    if error is None:
        outputs.commit(staged)
        return
    failed = outputs.discard(staged)
    if failed is None:
        raise DistillError(f"{error} (the previous outputs stand)")
    # the paths the error names are in the folder now kept as the failed one
    writing, kept = (os.path.relpath(p, staged.root) for p in (staged.staged, failed))
    message = str(error).replace(writing + "/", kept + "/")
    raise DistillError(f"{message} (the previous outputs stand; its partial outputs are in {kept})")


def _unchanged(home: Home, fingerprint: str) -> RunSummary | None:
    """The last run, if its inputs fingerprint matches and its outputs are on disk as it wrote them."""
    previous = runs.latest_summary(home)
    if previous is None or previous.input_fingerprint != fingerprint or not home.warehouse.exists():
        return None
    if (home.root / outputs.IN_PROGRESS).exists():
        return None  # a run stopped half-way: the warehouse may hold a mix
    # the parts as measured before, where each is still the same file (size, mtime, inode)
    parts, _ = manifest.describe(home)
    return previous if fingerprints.run_hash(parts) == previous.run_hash else None


def _remove_stale_formats(home: Home, wanted: set[str]) -> None:
    """A format not asked for this run must not linger from an older corpus."""
    for name, folders in home.FORMAT_DIRS.items():
        if name not in wanted:
            for relative in folders.values():
                for part in home.output_file(relative).glob("*.jsonl"):
                    part.unlink()


def _remove_empty_parts(home: Home) -> None:
    """A day whose rows all left is written empty; a full build writes no part for it."""
    for folder in home.part_folders():
        for part in folder.glob("*.jsonl"):
            if part.stat().st_size == 0:
                part.unlink()


# The runs before this one that the report page charts (report.py): only these are read.
HISTORY_RUNS = 9


def _report(
    home: Home,
    started_at: datetime,
    recorded_at: datetime | None,
    error: DistillError | None,
    failures: dict[str, str],
    breaches: int,
    options: dict,
    fingerprint: str,
    unchanged_since: RunSummary | None = None,
    read: str | None = None,
) -> RunResult:
    stage_counts, run_counts = None, None
    if error is None:
        # once: the receipts and the summary report the same counts; a run with nothing to do
        # reports those of the run it repeats, kept when that run counted them (counting reads
        # every table: a second at ten million lines)
        rows = _kept_counts(home, unchanged_since.run_hash) if unchanged_since else None
        if rows is None:
            with connect(home) as conn:
                rows = read_counts(conn)
        stage_counts, run_counts = receipts.stage_counts(rows), counts_of(rows)
    # a run with nothing to do ran no dbt node: every stage is skipped, the outputs still stand
    nodes = [] if unchanged_since else receipts.node_runs(dbt.target_dir(home) / "target")
    # the parts as the run measured them (a part not measured again is the same file)
    known = {p.path: p.sha256 for p in manifest.describe(home)[0]} if run_counts else None
    stage_receipts = receipts.build_receipts(
        home, nodes, stage_counts, started_at, runs.now_utc(), failures, set(receipts.STAGES),
        run_error=str(error) if error else None,
        read=read if not unchanged_since else "nothing changed: nothing read",
        known=known,
    )
    if unchanged_since:
        run_hash = unchanged_since.run_hash
    else:
        run_hash = fingerprints.run_hash([out for r in stage_receipts for out in r.outputs]) if run_counts else None
    if run_counts is not None and not unchanged_since:
        _keep_counts(home, run_hash, rows)
    run_id = runs.new_run_id(home, started_at, recorded_at, run_hash)
    # the report folder is written aside and moved into place whole, then the outputs it describes
    run_dir = home.reports / run_id
    partial = home.reports / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    runs.write_json(partial / "receipts.json", [r.model_dump(mode="json") for r in stage_receipts])
    previous = runs.latest_summary(home, exclude=run_id)
    summary = None
    if run_counts is not None:
        summary = RunSummary(
            run_id=run_id,
            recorded_at=recorded_at or started_at,
            git_head=fingerprints.git_head(),
            counts=run_counts.summary_counts(),
            categories=run_counts.categories,
            quarantined=run_counts.quarantined,
            run_hash=run_hash,
            input_fingerprint=fingerprint,
            include_partial=options["include_partial"],
            formats=options["formats"],
        )
        runs.write_json(partial / "summary.json", summary.model_dump(mode="json"))
        report = drift.drift(summary, previous, breaches)
        runs.write_json(partial / "drift.json", report.model_dump(mode="json"))
        card.write(home, summary)
        this_run = runs.load_run_dir(partial)
        # only the runs the page charts are read: a home's history grows with every run
        before = [d for d in runs.run_dirs(home) if d.name != run_id]
        earlier = [runs.load_run_dir(d) for d in before[-HISTORY_RUNS:]]
        page = report_page.render_html(this_run, [*earlier, this_run])
        (partial / "report.html").write_text(page, encoding="utf-8")
    elif breaches and previous is not None:
        # a firewall breach is an alert in its own right, even without a summary
        failed = previous.model_copy(update={"run_id": run_id})
        runs.write_json(partial / "drift.json", drift.drift(failed, previous, breaches).model_dump(mode="json"))
    runs.publish_dir(partial, run_dir)
    if home.staged is not None:
        try:
            _settle(home, error)
        except DistillError as exc:
            raise DistillError(f"{exc} (receipts: {home.relative(run_dir / 'receipts.json')})") from None
    return RunResult("run-all", run_counts, run_id, summary, unchanged_since.run_id if unchanged_since else None)


# The counts of the last run that did data work, with its run_hash: what a run with nothing to
# do reports again (data/.dbt/run-counts.json).
KEPT_COUNTS = "run-counts.json"


def _keep_counts(home: Home, run_hash: str | None, rows: dict[tuple[str, str | None], int]) -> None:
    path = dbt.target_dir(home) / KEPT_COUNTS
    listed = [[metric, item, n] for (metric, item), n in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
    try:
        runs.write_json(path, {"run_hash": run_hash, "rows": listed})
    except OSError:
        path.unlink(missing_ok=True)  # a cache: without it the next no-op counts again


def _kept_counts(home: Home, run_hash: str | None) -> dict[tuple[str, str | None], int] | None:
    """The counts kept by the run whose outputs these are (same run_hash), or None."""
    try:
        kept = json.loads((dbt.target_dir(home) / KEPT_COUNTS).read_text())
        if run_hash is None or kept.get("run_hash") != run_hash:
            return None
        return {(metric, item): int(n) for metric, item, n in kept["rows"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def counts(home: Home) -> RunCounts:
    """The counts the last build reports (models/metrics/run_counts)."""
    with connect(home) as conn:
        return counts_of(read_counts(conn))


def counts_of(rows: dict[tuple[str, str | None], int]) -> RunCounts:
    """RunCounts from run_counts' rows ({(metric, item): n})."""

    def per_key(metric: str) -> dict[str, int]:
        return {key: n for (m, key), n in sorted(rows.items()) if m == metric}

    return RunCounts(
        source_files=rows.get(("source_files", None), 0),
        source_lines=rows.get(("source_lines", None), 0),
        evidence=rows.get(("evidence", None), 0),
        skipped=per_key("skipped"),
        pending=rows.get(("pending", None), 0),
        scored=rows.get(("scored", None)),
        categories=per_key("category"),
        exports={model: n for model, n in per_key("rows").items() if model != "quarantine"},
        quarantined=per_key("quarantined"),
    )
