"""A run's summary, receipts and drift as readable tables (`distill receipts`)."""

from rich.console import Console
from rich.table import Table

from distill.receipts import RunReport

SEVERITY_STYLE = {"ok": "green", "warn": "yellow", "alert": "bold red"}
STATUS_STYLE = {"success": "green", "skipped": "dim", "failed": "bold red"}


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def print_run(console: Console, report: RunReport) -> None:
    summary = report.summary
    console.print(f"[bold]run {report.run_id}[/bold]")
    if summary is None:
        console.print("no summary: the run failed (see the receipts below)")
    else:
        console.print(f"recorded_at {summary.recorded_at.isoformat()}  git_head {summary.git_head or '-'}")
        console.print(f"run_hash    {summary.run_hash}")
        counts = Table("count", "rows", box=None, pad_edge=False, title="counts", title_justify="left")
        for name, value in summary.counts.items():
            counts.add_row(name, f"{value:,}")
        for name, value in summary.categories.items():
            counts.add_row(f"  {name}", f"{value:,}")
        console.print(counts)

    stages = Table("stage", "status", "ms", "in", "out", "skipped", "outputs", box=None, pad_edge=False,
                   title="receipts", title_justify="left")
    for r in report.receipts:
        style = STATUS_STYLE[r.status]
        stages.add_row(
            r.stage, f"[{style}]{r.status}[/{style}]", f"{r.duration_ms:,}", f"{r.rows_in:,}",
            f"{r.rows_out:,}", f"{r.rows_skipped:,}", str(len(r.outputs)),
        )
    console.print(stages)
    for r in report.receipts:
        if r.error:
            console.print(f"[bold red]{r.stage} failed:[/bold red] {r.error}", markup=True)

    drift = report.drift
    if drift is None:
        return
    against = drift.previous_run_id or "nothing (first run)"
    table = Table("metric", "old", "new", "change %", "severity", box=None, pad_edge=False,
                  title=f"drift against {against}", title_justify="left")
    for m in drift.metrics:
        style = SEVERITY_STYLE[m.severity]
        change = "-" if m.change_pct is None else f"{m.change_pct:+.1f}"
        table.add_row(m.metric, _fmt(m.old), _fmt(m.new), change, f"[{style}]{m.severity}[/{style}]")
    console.print(table)
    style = SEVERITY_STYLE[drift.severity]
    console.print(f"drift: [{style}]{drift.severity}[/{style}]")
