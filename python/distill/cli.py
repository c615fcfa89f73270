"""The `distill` command line: parse arguments, call one function, print, exit.

Problems a user can fix are DistillError: one line on stderr and exit code 1.
"""

import json
import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Column, Table

from distill import pipeline, progress
from distill.errors import DistillError, os_problem
from distill.home import Home, env_number
from distill.terminal import cell, printable

app = typer.Typer(
    help="Turn LLM execution traces into clean, gated, traceable training data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(str, Enum):
    openai = "openai"
    trl_conversational = "trl-conversational"


Formats = Annotated[
    Optional[list[Format]],
    typer.Option("--format", help="Also write a consumer format (repeatable): openai, trl-conversational."),
]


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[
        Optional[Path],
        typer.Option("--home", help="The home folder (default: $DISTILL_HOME, else the current directory)."),
    ] = None,
) -> None:
    ctx.obj = Home.resolve(home)
    if ctx.invoked_subcommand not in HOMELESS and "--help" not in sys.argv:
        ctx.obj.require_home()


# Commands that make a home (or a temporary one) rather than need one.
HOMELESS = ("init", "generate", "bench", "acceptance")


def _summary(home: Home, stage: str, counts: pipeline.RunCounts) -> None:
    """One screen: lines in, evidence and skips, then (when built) categories, exports, quarantine."""
    out.print(
        f"read {counts.source_lines:,} lines from {counts.source_files} files: "
        f"{counts.evidence:,} evidence, {counts.skipped_total:,} skipped"
    )
    if counts.skipped:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in counts.skipped.items())
        out.print(f"skipped by reason: {reasons}")
    if counts.pending:
        out.print(f"{counts.pending} pending last line(s) will be read again by the next run")
    if stage != "build-evidence" and counts.scored is not None:
        categories = ", ".join(f"{c} {n:,}" for c, n in counts.categories.items())
        out.print(f"scored {counts.scored:,} runs: {categories}")
    built = pipeline.STAGE_EXPORTS.get(stage, [])
    if built:
        table = Table("export", "rows", f"file (under {home.root})", box=None, pad_edge=False)
        for model in built:
            rows = counts.exports.get(model, sum(counts.quarantined.values()))
            table.add_row(model, f"{rows:,}", f"{home.EXPORT_DIRS[model]}/<day>.jsonl")
        out.print(table)
    if "quarantine" in built and counts.quarantined:
        reasons = ", ".join(f"{r} {n:,}" for r, n in counts.quarantined.items())
        out.print(f"quarantined by reason: {reasons}")
    out.print(f"evidence:  {home.evidence_dir}/day=YYYY-MM-DD/*.parquet")
    if stage != "build-evidence":
        out.print(f"scored:    {home.scored_dir}/day=YYYY-MM-DD/*.parquet")
    out.print(f"warehouse: {home.warehouse}  (try: distill --home {home.root} sql \"select * from skipped_lines\")")


def _locked(ctx: typer.Context, command: str):
    """The home's lock, for commands that write to it (run-all, stages, audit, release)."""
    import os

    from distill import lock

    return lock.hold(ctx.obj, command, env_number(os.environ, "DISTILL_LOCK_WAIT_S", 10.0))


def _run_stage(
    ctx: typer.Context,
    stage: str,
    include_partial: bool = False,
    recorded_at: datetime | None = None,
    quiet: bool = False,
    formats: list[Format] | None = None,
    force: bool = False,
) -> pipeline.RunResult:
    home: Home = ctx.obj
    home.require_sources()
    showing = progress.NodeProgress(enabled=not quiet and out.is_terminal, console=out)
    with _locked(ctx, f"distill {stage}"), showing as show:
        result = pipeline.build(
            home, stage, include_partial=include_partial, recorded_at=recorded_at, on_node=show,
            formats=[f.value for f in formats or []], force=force,
        )
    if not quiet:
        _summary(home, stage, result.counts)
    return result


def _parse_recorded_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DistillError(f"--recorded-at {value!r} is not an ISO-8601 timestamp (e.g. 2026-04-01T00:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


IncludePartial = Annotated[
    bool, typer.Option("--include-partial", help="Admit partially_accepted runs into SFT too (default: accepted only).")
]


@app.command("run-all")
def run_all(
    ctx: typer.Context,
    include_partial: IncludePartial = False,
    recorded_at: Annotated[
        Optional[str],
        typer.Option("--recorded-at", help="The run's logical time (ISO-8601); the same input and value give the same run_hash."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress and no summary; errors still print.")] = False,
    formats: Formats = None,
    force: Annotated[
        bool, typer.Option("--force", help="Do the data work even when nothing changed since the last run.")
    ] = False,
) -> None:
    """The whole pipeline: evidence, scoring, every export and quarantine, with their tests; then
    receipts, summary and drift in reports/<run_id>/."""
    result = _run_stage(ctx, "run-all", include_partial, _parse_recorded_at(recorded_at), quiet, formats, force)
    if not quiet and result.summary is not None:
        home: Home = ctx.obj
        if result.unchanged_since:
            out.print(f"nothing changed since run {result.unchanged_since}: no data work, its outputs stand")
        out.print(f"run {result.run_id}: run_hash {result.summary.run_hash}")
        out.print(f"reports:   {home.reports / result.run_id}/{{summary,receipts,drift}}.json  (distill receipts --latest)")


@app.command("receipts")
def receipts_command(
    ctx: typer.Context,
    run_id: Annotated[Optional[str], typer.Option("--run-id", help="The run to show.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Show the latest run.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary, receipts and drift as JSON.")] = False,
    html: Annotated[bool, typer.Option("--html", help="Print the path of the run's HTML report.")] = False,
) -> None:
    """A run's summary, stage receipts and drift against the previous run."""
    from distill import incidents, runs
    from distill.report import print_run

    if (run_id is None) == (not latest):
        raise DistillError("give exactly one of --run-id ID or --latest")
    report = runs.load_run(ctx.obj, run_id)
    if html:
        page = ctx.obj.reports / report.run_id / "report.html"
        if not page.exists():
            raise DistillError(f"{page} does not exist: the run failed or predates HTML reports")
        out.print(str(page), markup=False)
        return
    open_incidents = incidents.listed(ctx.obj)
    if as_json:
        payload = {
            "run_id": report.run_id,
            "summary": report.summary.model_dump(mode="json") if report.summary else None,
            "receipts": [r.model_dump(mode="json") for r in report.receipts],
            "drift": report.drift.model_dump(mode="json") if report.drift else None,
            "open_incidents": open_incidents,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        print_run(out, report)
        for line in open_incidents:
            out.print(f"open incident: {printable(line)}", markup=False)


@app.command("build-evidence")
def build_evidence(ctx: typer.Context) -> None:
    """Read every source line into evidence (or skipped_lines, with a reason)."""
    _run_stage(ctx, "build-evidence")


@app.command("score")
def score(ctx: typer.Context) -> None:
    """Score every run into one of four categories (and build the evidence it needs)."""
    _run_stage(ctx, "score")


@app.command("export-rag")
def export_rag(ctx: typer.Context) -> None:
    """Write exports/rag/<day>.jsonl: approved playbooks and accepted or partial runs."""
    _run_stage(ctx, "export-rag")


@app.command("export-sft")
def export_sft(ctx: typer.Context, include_partial: IncludePartial = False) -> None:
    """Write exports/sft/<day>.jsonl: accepted runs only, each once."""
    _run_stage(ctx, "export-sft", include_partial)


@app.command("export-preference")
def export_preference(ctx: typer.Context) -> None:
    """Write exports/preference/<day>.jsonl: accepted-over-rejected pairs per prompt."""
    _run_stage(ctx, "export-preference")


@app.command("export-all")
def export_all(ctx: typer.Context, include_partial: IncludePartial = False, formats: Formats = None) -> None:
    """Write every export and the quarantine file (and, with --format, the consumer formats)."""
    _run_stage(ctx, "export-all", include_partial, formats=formats)


@app.command("sql")
def sql(ctx: typer.Context, query: Annotated[str, typer.Argument(help="A SQL query over the warehouse.")]) -> None:
    """Run ad-hoc SQL over the warehouse and print the result as a table."""
    from distill.warehouse import query as run_query

    columns, rows = run_query(ctx.obj, query)
    table = Table(*(Column(header=cell(c)) for c in columns), show_lines=False)
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    out.print(table)
    out.print(f"{len(rows):,} row{'s' if len(rows) != 1 else ''}")


@app.command("trace")
def trace(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="An export id (rag_, sft_, pref_, q_), a run id or an evidence id (ev_).")],
) -> None:
    """Print the provenance chain of an id down to the raw source line; exit 1 if a link is broken."""
    from distill.trace import trace as trace_chain

    chain = trace_chain(ctx.obj, id)
    for link in chain.links:
        indent = "  " * link.depth
        mark = "ok    " if link.ok else "BROKEN"
        out.print(f"{indent}{mark} {printable(link.what)}", markup=False)
        for line in link.detail.splitlines():
            out.print(f"{indent}       {printable(line)}", markup=False)
    if not chain.ok:
        raise DistillError(f"broken link in the chain of {id}: {chain.broken.what}: {chain.broken.detail.splitlines()[0]}")


@app.command("acceptance")
def acceptance_command(ctx: typer.Context) -> None:
    """The acceptance gate: build the fixture in a temporary home and check the 22 invariants;
    write reports/acceptance.md. The temporary home is kept on failure, removed on pass."""
    import shutil
    import time

    from distill import acceptance

    home: Home = ctx.obj
    started = time.monotonic()
    workdir = acceptance.new_workdir()
    with progress.NodeProgress(enabled=out.is_terminal, console=out):
        result = acceptance.run_acceptance(workdir)
    wall = time.monotonic() - started
    for number, text in acceptance.INVARIANTS.items():
        verdict = result.verdicts[number]
        mark = "[green]pass[/green]" if verdict.passed else "[bold red]FAIL[/bold red]"
        out.print(f"{mark} {number:>2}. {text}")
        if verdict.detail:
            out.print(f"         {verdict.detail}", markup=False)
    report = home.reports / "acceptance.md"
    with _locked(ctx, "distill acceptance"):  # the gate builds a temporary home; only the report lands here
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(acceptance.report_markdown(result, wall))
    passed = sum(v.passed for v in result.verdicts.values())
    out.print(f"{passed}/{len(acceptance.INVARIANTS)} invariants hold ({wall:.1f} s); report: {report}")
    if not result.passed:
        raise DistillError(
            f"acceptance failed on invariant(s) {', '.join(map(str, result.failed))}; "
            f"the fixture home is kept at {workdir}"
        )
    shutil.rmtree(workdir, ignore_errors=True)


@app.command("replay")
def replay_command(
    ctx: typer.Context,
    task: Annotated[str, typer.Option("--task", help="What the model should do.")],
    no_retrieval: Annotated[bool, typer.Option("--no-retrieval", help="Ask without RAG context.")] = False,
    allow_escalation: Annotated[
        bool, typer.Option("--allow-escalation", help="Retry a failed local answer on the escalation model.")
    ] = False,
    local_only: Annotated[bool, typer.Option("--local-only", help="Never call the escalation model.")] = False,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="How many RAG rows to retrieve.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the replay as JSON.")] = False,
) -> None:
    """Answer a task with retrieval from the RAG corpus, validate the answer, log the replay.

    Models: DISTILL_LOCAL_MODEL_URL + DISTILL_LOCAL_MODEL (+ DISTILL_LOCAL_MODEL_API_KEY), and
    DISTILL_ESCALATION_MODEL_URL + DISTILL_ESCALATION_MODEL; with none, an extractive answer."""
    import os

    from distill import replay

    home: Home = ctx.obj
    local = replay.model_from_env("LOCAL", os.environ)
    escalation = replay.model_from_env("ESCALATION", os.environ)
    max_bytes = int(env_number(os.environ, "DISTILL_REPLAY_LOG_MAX_MB", 100.0, minimum=0.0001) * 1024 * 1024)
    home.require_sources()
    off = replay.escalation_off(allow_escalation, local_only, escalation)
    if off:
        err.print(f"distill: {off}", markup=False)
    with _locked(ctx, "distill replay"):  # it writes the retrieval index and appends to the log
        result = replay.replay(
            home, task, k=k, retrieval=not no_retrieval, local=local, escalation=escalation,
            allow_escalation=allow_escalation, local_only=local_only,
        )
        log = replay.append_log(home, result.run, max_bytes)
    run = result.run
    if as_json:
        payload = run.model_dump(mode="json") | {
            "retrieved": [{"id": r.id, "title": r.title, "score": r.score} for r in result.retrieved],
            "attempts": [{"model": a.model, "passed": a.validation.passed, "error": a.error} for a in result.attempts],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        if run.retrieval:
            out.print("retrieved:" if result.retrieved else "retrieved: nothing (is the RAG export empty?)")
            for r in result.retrieved:
                out.print(f"  {r.id}  {r.score:7.3f}  {printable(r.title[:80])}", markup=False)
        for attempt in result.attempts[:-1]:
            reasons = printable(", ".join(attempt.validation.reasons))
            out.print(f"{printable(attempt.model)} failed validation ({reasons}); escalating", markup=False)
        out.print(f"model: {printable(run.model)}{' (escalated)' if run.escalated else ''}", markup=False)
        out.print("answer:", markup=False)
        out.print(printable(run.output, keep_newlines=True) or "(none)", markup=False)
        verdict = "passed" if run.validation.passed else "failed: " + "; ".join(run.validation.reasons)
        out.print(f"validation: {printable(verdict)}", markup=False)
        out.print(f"logged as {run.replay_id} in {home.relative(log)}", markup=False)
    if not run.validation.passed:
        raise DistillError(f"replay {run.replay_id} failed validation: {'; '.join(run.validation.reasons)}")


@app.command("audit-full")
def audit_full(
    ctx: typer.Context,
    skip: Annotated[
        Optional[list[str]],
        typer.Option("--skip", help="Skip a check by name (e.g. 'acceptance passes'); a skipped check fails the audit."),
    ] = None,
    rebaseline: Annotated[
        bool, typer.Option("--rebaseline", help="Make this audit the baseline later audits measure drift against (needs --note).")
    ] = False,
    note: Annotated[Optional[str], typer.Option("--note", help="Why you re-baseline; kept in the baseline row.")] = None,
) -> None:
    """Every required check over the corpus as the last run built it, drift against the last
    baseline; appends a baseline row to data/_kb/audit_baselines.jsonl and writes reports/audit.md.
    Exit 0 only if every required check held."""
    from distill import audit, runs
    from distill.report import drift_table, status_printer

    if rebaseline and not (note or "").strip():
        raise DistillError('--rebaseline needs --note "why" (what changed upstream): the note is kept in the baseline row')
    if note is not None and not rebaseline:
        raise DistillError("--note goes with --rebaseline: a plain audit keeps no note")
    home: Home = ctx.obj
    show = status_printer(out)
    home.require_sources()
    with _locked(ctx, "distill audit-full"):
        result, report = audit.run_and_record(
            home, runs.now_utc(), set(skip or []), on_check=lambda c: show(c.status, c.name, c.detail),
            rebaseline=note.strip() if rebaseline and note else None,
        )
    out.print(drift_table(result.drift, "drift against the last baseline"))
    out.print(f"{result.tally}; report: {report}; baseline appended to {home.relative(audit.baselines_path(home))}")
    if not result.passed:
        failed = [c.name for c in result.checks if not c.held]
        raise DistillError(f"audit failed: {', '.join(failed)} (details in {report})")


@app.command("verify-determinism")
def verify_determinism(ctx: typer.Context) -> None:
    """Rebuild the last run's input from scratch in a temporary home and compare every part and
    the run_hash with the outputs in place. Exit 0 only if all are byte-identical."""
    import shutil

    from distill import verify

    home: Home = ctx.obj
    home.require_sources()
    with _locked(ctx, "distill verify-determinism"):
        verdict = verify.verify(home)
    if not verdict.identical:
        for path in verdict.differing[:10]:
            out.print(f"differs: {path}", markup=False)
        raise DistillError(
            f"not deterministic: {len(verdict.differing)} of {verdict.parts} part(s) differ, run_hash "
            f"{verdict.rebuilt_hash[:16]}... rebuilt vs {verdict.run_hash[:16]}... in run {verdict.run_id}; "
            f"the rebuilt home is kept at {verdict.workdir / 'home'}"
        )
    shutil.rmtree(verdict.workdir, ignore_errors=True)
    out.print(f"deterministic: a rebuild from scratch gives the same {verdict.parts} parts and run_hash "
              f"{verdict.run_hash} as run {verdict.run_id}", markup=False)


@app.command("release-freeze")
def release_freeze(
    ctx: typer.Context,
    skip: Annotated[
        Optional[list[str]],
        typer.Option("--skip", help="Skip a gate by name (e.g. 'full test suite'); a skipped gate is not release-ready."),
    ] = None,
) -> None:
    """Six gates (clean tree, tests, documented and contracted models, acceptance, audit, free tag),
    reports/release.md and release-manifest.json, and the `git tag` command. It never tags."""
    from distill import release, runs
    from distill.report import status_printer

    home: Home = ctx.obj
    show = status_printer(out)
    home.require_sources()
    with _locked(ctx, "distill release-freeze"):
        gates, manifest = release.freeze(
            home, runs.now_utc(), set(skip or []), on_gate=lambda g: show(g.status, g.name, g.detail)
        )
    release_md, manifest_path = release.write_reports(home, gates, manifest)
    out.print(f"reports: {release_md}, {manifest_path}")
    if not manifest["ready"]:
        failed = [g.name for g in gates if not g.held]
        raise DistillError(f"not release-ready: {', '.join(failed)}")
    out.print("release-ready. Tag it yourself:")
    out.print(release.tag_command(manifest), markup=False)


@app.command("docs")
def docs_command(
    ctx: typer.Context,
    output: Annotated[Optional[Path], typer.Option("--output", help="Write the site here (default: reports/docs).")] = None,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the site on localhost after writing it.")] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --serve.")] = 8080,
) -> None:
    """The dbt docs site of the home: lineage from sources to exports, every model and column
    described, one colour per layer. Written as one self-contained index.html."""
    import shutil

    from distill import dbt

    home: Home = ctx.obj
    home.require_sources()
    site = (output or home.reports / "docs").resolve()
    with _locked(ctx, "distill docs"):
        dbt.invoke(home, ["docs", "generate", "--static"])
        target = dbt.target_dir(home) / "target"
        site.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target / "static_index.html", site / "index.html")
        for name in ("manifest.json", "catalog.json"):
            shutil.copyfile(target / name, site / name)
    out.print(f"docs site: {site / 'index.html'}", markup=False)
    if serve:
        import functools
        import http.server

        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
        with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
            out.print(f"serving on http://127.0.0.1:{port}/ (Ctrl-C to stop)", markup=False)
            try:
                httpd.serve_forever()
            except KeyboardInterrupt:
                pass


@app.command("bench")
def bench_command(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option("--lines", min=100, help="Source lines to generate (if the home has none).")] = 100000,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 1,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Measured runs of each (after a warm-up).")] = 3,
    warm_up: Annotated[bool, typer.Option("--warm-up/--no-warm-up", help="One unmeasured run-all first.")] = True,
) -> None:
    """Measure run-all against the raw-scan floor (one DuckDB pass that parses and hashes every
    line) on the same files, then +1 % next day, a no-op rerun and +1 % scattered late signals;
    print and write reports/bench.json. Only on a home bench generated itself."""
    from distill import bench

    home: Home = ctx.obj
    home.root.mkdir(parents=True, exist_ok=True)
    # the lock is held around bench's own writes; its run-all children take it in turn
    result = bench.run_bench(home, lines, seed, runs, warm_up, locked=lambda: _locked(ctx, "distill bench"))
    table = Table("measure", "value", box=None)
    for measure, value in (
        ("lines", f"{result.lines:,} ({result.megabytes:,} MB)"),
        ("floor s (raw scan)", f"{result.floor_s}"),
        ("run-all s", f"{result.run_all_s}"),
        ("ratio to the floor", f"{result.ratio}x"),
        ("lines/s", f"{result.lines_per_s:,}"),
        ("MB/s", f"{result.mb_per_s}"),
        ("peak RSS MB", f"{result.peak_rss_mb:,}"),
        ("+1 % next day s", f"{result.next_day_s} ({result.next_day_pct} % of run-all)"),
        ("+1 % scattered s", f"{result.scattered_s} ({result.scattered_pct} % of run-all)"),
        ("no-op s", f"{result.noop_s}"),
        ("full run: dbt s", f"{result.dbt_s} (outside dbt {result.outside_dbt_s})"),
        *((f"  {node}", f"{seconds}") for node, seconds in list(result.node_s.items())[:8]),
        ("+1 % next day: dbt s", f"{result.next_day_dbt_s}"),
        *((f"  {node}", f"{seconds}") for node, seconds in list(result.next_day_node_s.items())[:8]),
    ):
        table.add_row(measure, value)
    out.print(table)
    out.print(f"medians of {runs} runs; written to {bench.write(home, result)}", markup=False)


class PackExport(str, Enum):
    rag = "rag"
    sft = "sft"
    preference = "preference"
    quarantine = "quarantine"


class PackFormat(str, Enum):
    trl = "trl"
    openai = "openai"


@app.command("pack")
def pack_command(
    ctx: typer.Context,
    export: Annotated[PackExport, typer.Argument(help="The export to pack: rag, sft, preference or quarantine.")],
    out_file: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[
        Optional[PackFormat],
        typer.Option("--format", help="trl (conversational preference) or openai (chat fine-tuning files)."),
    ] = None,
) -> None:
    """Write an export's day parts as one JSON Lines file, in day order, each part checked
    against exports/manifest.json (the same bytes for the same input)."""
    from distill import manifest

    parts, rows = manifest.pack(ctx.obj, export.value, fmt.value if fmt else None, out_file)
    out.print(f"packed {parts} part(s), {rows:,} rows into {printable(out_file.resolve())}", markup=False)


class QueueCategory(str, Enum):
    needs_human_review = "needs_human_review"
    accepted = "accepted"
    partially_accepted = "partially_accepted"
    rejected = "rejected"


@app.command("review")
def review_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="The address to listen on (only this machine by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The port (0: any free port).")] = 8765,
    reviewer: Annotated[Optional[str], typer.Option("--reviewer", help="Who decides (default: your user name).")] = None,
    export_queue: Annotated[
        Optional[Path], typer.Option("--export-queue", help="Write the queue to FILE (.jsonl or .csv) and stop.")
    ] = None,
    import_decisions: Annotated[
        Optional[Path], typer.Option("--import-decisions", help="Append the decisions in FILE (.jsonl or .csv) and stop.")
    ] = None,
    category: Annotated[
        QueueCategory, typer.Option("--category", help="With --export-queue: the category to export.")
    ] = QueueCategory.needs_human_review,
) -> None:
    """Decide the runs the rules could not, in the browser (or export the queue and import the
    decisions made elsewhere). Each decision is one human_reviews line, applied by the next run."""
    from distill import review

    reviews = review.Reviews(ctx.obj, reviewer)
    if export_queue is not None:
        rows = reviews.export_queue(export_queue, review.Filters(category.value))
        out.print(f"wrote {rows:,} run(s) of {category.value} to {printable(export_queue)}; fill in decision "
                  f"(accept, reject, edit, unsure) and import it with --import-decisions", markup=False)
        return
    if import_decisions is not None:
        added, undecided = reviews.import_decisions(import_decisions)
        left = f"; {undecided:,} row(s) with no decision left out" if undecided else ""
        out.print(f"appended {added:,} decision(s) to {printable(reviews.decisions_file)}{left}; "
                  f"the next `distill run-all` applies them", markup=False)
        return
    from distill.review_app import serve

    def announce(line: str) -> None:
        out.print(line, markup=False)
        out.print("press Ctrl+C to stop; decisions reach the outputs with the next `distill run-all`", markup=False)

    serve(ctx.obj, host, port, reviewer, announce)


@app.command("init")
def init(
    ctx: typer.Context,
    folder: Annotated[Optional[Path], typer.Argument(help="The home to create (default: --home, else the current directory).")] = None,
) -> None:
    """Create a home: data/_kb/ for the traces and a README of where each kind goes."""
    from distill.home import init_home

    root = folder.expanduser().resolve() if folder is not None else ctx.obj.root
    made = init_home(root)
    if made:
        out.print(f"home {root}: created {', '.join(made)}", markup=False)
    else:
        out.print(f"home {root} exists: nothing to create", markup=False)
    out.print(f"next: put traces in {root / 'data' / '_kb'}/ and run `distill --home {root} run-all`", markup=False)


@app.command("generate")
def generate(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option("--lines", min=1, help="About how many source lines to write.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")] = 7,
) -> None:
    """Write realistic synthetic streams into the home's data/_kb."""
    from distill.generate import generate_home

    home: Home = ctx.obj
    home.root.mkdir(parents=True, exist_ok=True)
    home.refuse_symlinked_inputs()
    with _locked(ctx, "distill generate"):
        written = generate_home(home, lines, seed)
    total = sum(written.values())
    out.print(f"wrote {total:,} lines into {home.kb} ({len(written)} files, seed {seed})")


def main() -> None:
    try:
        app()
    except DistillError as exc:
        sys.stdout.flush()
        err.print(f"distill: {printable(exc)}", markup=False)
        sys.exit(1)
    except OSError as exc:  # the disk or the file system refused: one line, never a traceback
        sys.stdout.flush()
        err.print(f"distill: {printable(os_problem(exc, 'a file under the home'))}", markup=False)
        sys.exit(1)
