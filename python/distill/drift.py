"""Drift (docs/concepts.md, "Receipts and drift"): how a run's counts moved against the
previous run's, each metric's change and its severity."""

from distill.schemas import DriftMetric, DriftReport, RunSummary

# The metrics drift follows, and where each comes from in RunSummary.counts / categories.
DRIFT_METRICS = (
    "evidence", "skipped", "scored", "accepted", "partially_accepted", "rejected",
    "needs_human_review", "rag", "sft", "preference", "quarantined",
)
WARN_PCT = 20.0
ALERT_PCT = 50.0


def drift(summary: RunSummary, previous: RunSummary | None, firewall_breaches: int) -> DriftReport:
    def value(s: RunSummary, metric: str) -> float | None:
        if metric in s.counts:
            return float(s.counts[metric])
        if metric in ("accepted", "partially_accepted", "rejected", "needs_human_review"):
            return float(s.categories.get(metric, 0))
        return None

    metrics = []
    for metric in DRIFT_METRICS:
        new = value(summary, metric)
        old = value(previous, metric) if previous else None
        if new is None:
            continue
        change, severity = change_severity(old, new)
        metrics.append(DriftMetric(metric=metric, old=old, new=new, change_pct=change, severity=severity))
    metrics.append(
        DriftMetric(
            metric="firewall_breaches",
            old=None,
            new=float(firewall_breaches),
            change_pct=None,
            severity="alert" if firewall_breaches else "ok",
        )
    )
    order = ("ok", "warn", "alert")
    overall = max((m.severity for m in metrics), key=order.index, default="ok")
    return DriftReport(
        run_id=summary.run_id,
        previous_run_id=previous.run_id if previous else None,
        metrics=metrics,
        severity=overall,
    )


def change_severity(old: float | None, new: float) -> tuple[float | None, str]:
    """Change in % and its severity: warn beyond ±20 %, alert beyond ±50 % (docs/concepts.md,
    "Receipts and drift")."""
    if old is None:
        return None, "ok"  # nothing to compare with: the first run
    if old == 0:
        return (0.0, "ok") if new == 0 else (None, "alert")
    change = round((new - old) / old * 100, 2)
    if abs(change) > ALERT_PCT:
        return change, "alert"
    if abs(change) > WARN_PCT:
        return change, "warn"
    return change, "ok"
