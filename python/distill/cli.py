"""The `distill` command line: parse arguments, call one function, print, exit.

Problems a user can fix are DistillError: one line on stderr and exit code 1.
"""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from distill import pipeline
from distill.errors import DistillError
from distill.home import Home

app = typer.Typer(
    help="Turn LLM execution traces into clean, gated, traceable training data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[
        Optional[Path],
        typer.Option("--home", help="The home folder (default: $DISTILL_HOME, else the current directory)."),
    ] = None,
) -> None:
    ctx.obj = Home.resolve(home)


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
        out.print(f"{counts.pending} incomplete last line(s) will be read again by the next run")
    if stage != "build-evidence" and counts.scored is not None:
        categories = ", ".join(f"{c} {n:,}" for c, n in counts.categories.items())
        out.print(f"scored {counts.scored:,} runs: {categories}")
    built = pipeline.STAGE_EXPORTS.get(stage, [])
    if built:
        table = Table("export", "rows", f"file (under {home.root})", box=None, pad_edge=False)
        for model in built:
            rows = counts.exports.get(model, sum(counts.quarantined.values()))
            table.add_row(model, f"{rows:,}", home.EXPORT_FILES[model])
        out.print(table)
    if "quarantine" in built and counts.quarantined:
        reasons = ", ".join(f"{r} {n:,}" for r, n in counts.quarantined.items())
        out.print(f"quarantined by reason: {reasons}")
    out.print(f"evidence:  {home.evidence_dir}/day=YYYY-MM-DD/*.parquet")
    if stage != "build-evidence":
        out.print(f"scored:    {home.root / 'data' / 'scored-runs'}/day=YYYY-MM-DD/*.parquet")
    out.print(f"warehouse: {home.warehouse}  (try: distill --home {home.root} sql \"select * from skipped_lines\")")


def _run_stage(ctx: typer.Context, stage: str, include_partial: bool = False) -> None:
    home: Home = ctx.obj
    pipeline.build(home, stage, include_partial=include_partial)
    _summary(home, stage, pipeline.counts(home))


IncludePartial = Annotated[
    bool, typer.Option("--include-partial", help="Admit partially_accepted runs into SFT too (default: accepted only).")
]


@app.command("run-all")
def run_all(ctx: typer.Context, include_partial: IncludePartial = False) -> None:
    """The whole pipeline: evidence, scoring, every export and quarantine, with their tests."""
    _run_stage(ctx, "run-all", include_partial)


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
    """Write exports/rag/playbooks.jsonl: approved playbooks and accepted or partial runs."""
    _run_stage(ctx, "export-rag")


@app.command("export-sft")
def export_sft(ctx: typer.Context, include_partial: IncludePartial = False) -> None:
    """Write exports/sft/instruction_response.jsonl: accepted runs only, each once."""
    _run_stage(ctx, "export-sft", include_partial)


@app.command("export-preference")
def export_preference(ctx: typer.Context) -> None:
    """Write exports/preference/chosen_rejected.jsonl: accepted-over-rejected pairs per prompt."""
    _run_stage(ctx, "export-preference")


@app.command("export-all")
def export_all(ctx: typer.Context, include_partial: IncludePartial = False) -> None:
    """Write every export and the quarantine file."""
    _run_stage(ctx, "export-all", include_partial)


@app.command("sql")
def sql(ctx: typer.Context, query: Annotated[str, typer.Argument(help="A SQL query over the warehouse.")]) -> None:
    """Run ad-hoc SQL over the warehouse and print the result as a table."""
    from distill.warehouse import query as run_query

    columns, rows = run_query(ctx.obj, query)
    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    out.print(table)
    out.print(f"{len(rows):,} row{'s' if len(rows) != 1 else ''}")


@app.command("trace")
def trace(ctx: typer.Context, id: Annotated[str, typer.Argument(help="An evidence id (ev_...).")]) -> None:
    """Print the provenance chain of an id down to the raw source line; exit 1 if a link is broken."""
    from distill.trace import trace_evidence

    chain = trace_evidence(ctx.obj, id)
    for depth, link in enumerate(chain.links):
        mark = "ok " if link.ok else "BROKEN"
        out.print(f"{'  ' * depth}{mark} {link.what}")
        for line in link.detail.splitlines():
            out.print(f"{'  ' * depth}      {line}")
    if not chain.ok:
        raise DistillError(f"broken link in the chain of {id}: {chain.broken.what}")


@app.command("generate")
def generate(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option("--lines", min=1, help="About how many source lines to write.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")] = 7,
) -> None:
    """Write realistic synthetic streams into the home's data/_kb."""
    from distill.generate import generate_home

    home: Home = ctx.obj
    written = generate_home(home, lines, seed)
    total = sum(written.values())
    out.print(f"wrote {total:,} lines into {home.kb} ({len(written)} files, seed {seed})")


def main() -> None:
    try:
        app()
    except DistillError as exc:
        err.print(f"distill: {exc}", markup=False)
        sys.exit(1)
