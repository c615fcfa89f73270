"""The reports folder (docs/concepts.md, "Receipts and drift"): a run's id, its folder of
receipts, summary and drift, moved into place whole, and the runs read back."""

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from distill.errors import DistillError
from distill.home import Home, free_path
from distill.schemas import DriftReport, RunSummary, StageReceipt


def new_run_id(home: Home, started_at: datetime, recorded_at: datetime | None, run_hash: str | None) -> str:
    """Sortable by time. With --recorded-at the run is a logical one: its id comes from the
    recorded time and the run_hash, so the same input and --recorded-at give the same id in any
    home; a second such run in the same home gets -2, -3, ... (its reports never replace the
    first's). Otherwise the start time, to the microsecond."""
    if recorded_at is not None and run_hash is not None:
        return free_path(home.reports, recorded_at.strftime("%Y%m%dT%H%M%S") + "-" + run_hash[:8]).name
    return started_at.strftime("%Y%m%dT%H%M%S") + "-" + hashlib.sha256(started_at.isoformat().encode()).hexdigest()[:8]


def run_dirs(home: Home) -> list[Path]:
    """Run folders, oldest first by when their receipts were written (ids from --recorded-at
    need not sort by wall-clock time)."""
    if not home.reports.is_dir():
        return []
    dirs = [
        p for p in home.reports.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / "receipts.json").exists()
    ]
    return sorted(dirs, key=lambda p: ((p / "receipts.json").stat().st_mtime_ns, p.name))


def publish_dir(partial: Path, final: Path) -> None:
    """Move a complete folder into place by rename, replacing an older one of the same name."""
    if final.exists():
        replaced = final.with_name(f".{final.name}.replaced")
        shutil.rmtree(replaced, ignore_errors=True)
        final.rename(replaced)
        partial.rename(final)
        shutil.rmtree(replaced, ignore_errors=True)
    else:
        partial.rename(final)


def write_json(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n")
    tmp.replace(path)


def latest_summary(home: Home, exclude: str | None = None) -> RunSummary | None:
    """The newest valid summary.json of any run but `exclude`."""
    for run_dir in reversed(run_dirs(home)):
        if run_dir.name == exclude:
            continue
        path = run_dir / "summary.json"
        if path.exists():
            try:
                return RunSummary.model_validate_json(path.read_text())
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class RunReport:
    run_id: str
    receipts: list[StageReceipt]
    summary: RunSummary | None
    drift: DriftReport | None


def load_run(home: Home, run_id: str | None) -> RunReport:
    """A run's receipts, summary and drift; the latest run when run_id is None."""
    dirs = run_dirs(home)
    if not dirs:
        raise DistillError(f"no runs under {home.reports}: run `distill --home {home.root} run-all` first")
    if run_id is None:
        run_dir = dirs[-1]
    else:
        run_dir = home.reports / run_id
        if run_dir not in dirs:
            known = ", ".join(d.name for d in dirs[-3:])
            raise DistillError(f"no run {run_id!r} under {home.reports} (latest: {known})")
    return load_run_dir(run_dir)


def load_run_dir(run_dir: Path) -> RunReport:
    """The receipts, summary and drift in one run folder."""
    try:
        receipts = [StageReceipt.model_validate(r) for r in json.loads((run_dir / "receipts.json").read_text())]
        summary_path, drift_path = run_dir / "summary.json", run_dir / "drift.json"
        summary = RunSummary.model_validate_json(summary_path.read_text()) if summary_path.exists() else None
        report = DriftReport.model_validate_json(drift_path.read_text()) if drift_path.exists() else None
    except ValueError as exc:
        raise DistillError(f"{run_dir} holds a corrupt report: {str(exc).splitlines()[0]}") from None
    run_id = run_dir.name.removeprefix(".").removesuffix(".partial")
    return RunReport(run_id, receipts, summary, report)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
