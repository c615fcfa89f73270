"""A run's summary, receipts and drift as readable tables (`distill receipts`)."""

from collections.abc import Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from distill.runs import RunReport
from distill.schemas import DriftMetric
from distill.terminal import printable

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
            console.print(Text(f"{r.stage} failed: ", style="bold red") + Text(printable(r.error)))

    drift = report.drift
    if drift is None:
        return
    console.print(drift_table(drift.metrics, f"drift against {drift.previous_run_id or 'nothing (first run)'}"))
    style = SEVERITY_STYLE[drift.severity]
    console.print(f"drift: [{style}]{drift.severity}[/{style}]")


def drift_table(metrics: list[DriftMetric], title: str) -> Table:
    table = Table("metric", "old", "new", "change %", "severity", box=None, pad_edge=False,
                  title=title, title_justify="left")
    for m in metrics:
        style = SEVERITY_STYLE[m.severity]
        change = "-" if m.change_pct is None else f"{m.change_pct:+.1f}"
        table.add_row(m.metric, _fmt(m.old), _fmt(m.new), change, f"[{style}]{m.severity}[/{style}]")
    return table


def status_printer(console: Console) -> Callable[[str, str, str], None]:
    """Prints one check or gate a line: its status, coloured, then its name and detail."""
    styles = {"pass": "green", "fail": "bold red", "skipped": "yellow", "info": "cyan"}

    def show(status: str, name: str, detail: str) -> None:
        console.print(f"[{styles[status]}]{status:>7}[/{styles[status]}]  {name}: ", end="")
        console.print(printable(detail), markup=False)

    return show


# -- the HTML page -------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#1d2330;background:#fff}
h1{font-size:1.4rem;margin:0 0 .2rem} h2{font-size:1.05rem;margin:1.8rem 0 .6rem;border-bottom:1px solid #e3e6ec}
.meta{color:#5b6475;font-family:ui-monospace,monospace;font-size:12px}
table{border-collapse:collapse;width:100%} td,th{padding:.25rem .6rem;text-align:left;border-bottom:1px solid #eef0f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1f7a4d}.warn{color:#a86b00;font-weight:600}.alert{color:#c0262d;font-weight:700}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}
"""
_COLORS = {"accepted": "#2fa37a", "partially_accepted": "#8fc96f", "rejected": "#d0505a", "needs_human_review": "#e0a030"}


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _bars(values: dict[str, int], colors: dict[str, str] | None = None) -> str:
    """A horizontal bar chart as inline SVG; each bar carries its number as data-value."""
    if not values:
        return "<p>none</p>"
    width, row, label_w = 640, 26, 190
    top = max(values.values()) or 1
    height = row * len(values) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, (name, value) in enumerate(values.items()):
        y = i * row + 2
        bar = int((width - label_w - 70) * value / top)
        color = (colors or {}).get(name, "#5b8def")
        parts.append(f'<text x="0" y="{y + 16}" font-size="13">{_escape(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(bar, 1)}" height="{row - 8}" fill="{color}" '
                     f'data-name="{_escape(name)}" data-value="{value}"/>')
        parts.append(f'<text x="{label_w + bar + 6}" y="{y + 16}" font-size="12">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _lines(history: list[RunReport], metrics: list[str]) -> str:
    """A line chart of each metric over the runs, as inline SVG (one polyline per metric)."""
    runs = [r for r in history if r.summary is not None]
    if len(runs) < 2:
        return "<p>one run so far: the chart starts with the second.</p>"
    width, height, left, bottom = 900, 260, 40, 30
    series = {}
    for metric in metrics:
        values = []
        for r in runs:
            s = r.summary
            values.append(s.counts.get(metric, s.categories.get(metric, 0)))
        series[metric] = values
    top = max(max(v) for v in series.values()) or 1
    step = (width - left - 150) / (len(runs) - 1)
    palette = ["#5b8def", "#2fa37a", "#e0a030", "#d0505a", "#8a6fd0", "#d0508a", "#30a0c0", "#8fc96f", "#a0a0a0", "#c07030", "#404860"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 150}" y2="{height - bottom}" stroke="#ccc"/>']
    for i, (metric, values) in enumerate(series.items()):
        color = palette[i % len(palette)]
        points = " ".join(
            f"{left + j * step:.1f},{height - bottom - (height - bottom - 10) * v / top:.1f}" for j, v in enumerate(values)
        )
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}" data-metric="{metric}"/>')
        parts.append(f'<text x="{width - 140}" y="{16 + i * 18}" font-size="12" fill="{color}">{_escape(metric)}</text>')
    for j, r in enumerate(runs):
        parts.append(f'<text x="{left + j * step:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{j + 1}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: RunReport, history: list[RunReport]) -> str:
    """One self-contained page (inline CSS and SVG, no network) from summary.json and drift.json."""
    s = report.summary
    if s is None:
        raise ValueError("a run without a summary has no report page")
    exports = {k: s.counts.get(k, 0) for k in ("rag", "sft", "preference", "quarantined")}
    rows = "".join(
        f'<tr><td>{_escape(m.metric)}</td><td class="n">{_fmt(m.old)}</td><td class="n">{_fmt(m.new)}</td>'
        f'<td class="n">{"-" if m.change_pct is None else f"{m.change_pct:+.1f}"}</td>'
        f'<td class="{m.severity}">{m.severity}</td></tr>'
        for m in (report.drift.metrics if report.drift else [])
    )
    counts = "".join(f'<tr><td>{_escape(k)}</td><td class="n" data-count="{_escape(k)}">{v:,}</td></tr>'
                     for k, v in s.counts.items())
    against = (report.drift.previous_run_id or "nothing (first run)") if report.drift else "-"
    severity = report.drift.severity if report.drift else "ok"
    from distill.drift import DRIFT_METRICS

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>distill run {_escape(s.run_id)}</title>
<style>{_CSS}</style></head><body>
<h1>distill run {_escape(s.run_id)}</h1>
<div class="meta">recorded_at {_escape(s.recorded_at.isoformat())} · git {_escape(s.git_head or '-')}<br>
run_hash <span id="run-hash">{_escape(s.run_hash)}</span></div>
<h2>Scored runs by category</h2>
{_bars({k: s.categories.get(k, 0) for k in _COLORS}, _COLORS)}
<div class="grid"><div><h2>Exports</h2>{_bars(exports)}</div>
<div><h2>Quarantine by reason</h2>{_bars(dict(sorted(s.quarantined.items())))}</div></div>
<h2>Counts</h2><table>{counts}</table>
<h2>Drift against {_escape(against)}: <span class="{severity}">{severity}</span></h2>
<table><tr><th>metric</th><th>old</th><th>new</th><th>change %</th><th>severity</th></tr>{rows}</table>
<h2>The last {len([r for r in history if r.summary])} runs</h2>
{_lines(history, list(DRIFT_METRICS))}
</body></html>
"""
