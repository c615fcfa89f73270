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


def _summary(home: Home, counts: pipeline.RunCounts) -> None:
    out.print(
        f"read {counts.source_lines:,} lines from {counts.source_files} files: "
        f"{counts.evidence:,} evidence, {counts.skipped_total:,} skipped"
    )
    if counts.skipped:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in counts.skipped.items())
        out.print(f"skipped by reason: {reasons}")
    if counts.pending:
        out.print(f"{counts.pending} incomplete last line(s) will be read again by the next run")
    out.print(f"evidence:  {home.evidence_dir}/day=YYYY-MM-DD/*.parquet")
    out.print(f"warehouse: {home.warehouse}  (try: distill --home {home.root} sql \"select * from skipped_lines\")")


@app.command("build-evidence")
def build_evidence(ctx: typer.Context) -> None:
    """Read every source line into evidence (or skipped_lines, with a reason)."""
    home: Home = ctx.obj
    pipeline.build(home, "build-evidence")
    _summary(home, pipeline.counts(home))


@app.command("run-all")
def run_all(ctx: typer.Context) -> None:
    """Run the whole pipeline on the home."""
    home: Home = ctx.obj
    pipeline.build(home, "build-evidence")
    _summary(home, pipeline.counts(home))


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
