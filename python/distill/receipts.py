"""Run receipts, summaries and drift (docs/concepts.md, "Receipts and drift"): what each stage did, the run_hash of the data
outputs, and how the run's counts moved against the previous run.

dbt's node results (target/nodes.json, distill.dbt) are the raw material; counts come from one
query over the warehouse; files are hashed as they lie on disk.
"""

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home, free_path
from distill.project import PART_STAGES
from distill.schemas import DriftMetric, DriftReport, OutputFile, RunSummary, StageReceipt

STAGES = ("materialize", "score", "export-rag", "export-sft", "export-preference", "quarantine")

# Models by the stage that builds them: the scoring folder scores, each model that writes parts
# is its export's stage, the gates quarantine; everything under staging/ and evidence/ materializes.
MODEL_STAGES = {
    **{path.stem: "score" for path in sorted((PROJECT_DIR / "models" / "scoring").glob("*.sql"))},
    "scoring_rules": "score",
    **PART_STAGES,
    "int_export_gates": "quarantine",
    "secret_patterns": "quarantine",
}

# The metrics drift follows, and where each comes from in RunSummary.counts / categories.
DRIFT_METRICS = (
    "evidence", "skipped", "scored", "accepted", "partially_accepted", "rejected",
    "needs_human_review", "rag", "sft", "preference", "quarantined",
)
WARN_PCT = 20.0
ALERT_PCT = 50.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage_files(home: Home) -> dict[str, list[Path]]:
    """The data parts of each stage, as they lie on disk now."""
    files = {
        "materialize": sorted(home.evidence_dir.glob("*/*.parquet")),
        "score": sorted(home.scored_dir.glob("*/*.parquet")),
        **{stage: home.export_parts(model) for model, stage in MODEL_STAGES.items() if model in home.EXPORT_DIRS},
    }
    # a consumer format belongs to the stage of the model that writes it
    for formats in home.FORMAT_DIRS.values():
        for model, relative in formats.items():
            files[MODEL_STAGES[model]] += sorted(home.output_file(relative).glob("*.jsonl"))
    return files


def output_files(home: Home, paths: list[Path], known: dict[str, str] | None = None) -> list[OutputFile]:
    """Each part with its sha256 (from `known`, path -> sha256, where the run measured it)."""
    known = known or {}
    out = []
    for path in paths:
        relative = home.relative(path)
        sha = known.get(relative) or (file_sha256(path) if path.exists() else None)
        if sha is not None:
            out.append(OutputFile(path=relative, sha256=sha))
    return out


def run_hash(outputs: list[OutputFile]) -> str:
    """sha256 over the sorted (path, sha256) pairs of every data part (= manifest.run_hash)."""
    digest = hashlib.sha256()
    for out in sorted(outputs, key=lambda o: o.path):
        digest.update(f"{out.path}\t{out.sha256}\n".encode())
    return digest.hexdigest()


def project_fingerprint(options: dict) -> str:
    """What the tables are built with: every file of the dbt project and the package, and the
    run's options. A change rebuilds every table (an incremental run would mix two versions)."""
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode())
    for folder in ("models", "macros", "seeds", "tests/acceptance", "python/distill"):
        for path in sorted((PROJECT_DIR / folder).rglob("*")):
            if path.is_file() and path.suffix in (".sql", ".yml", ".csv", ".py"):
                digest.update(path.relative_to(PROJECT_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update((PROJECT_DIR / "dbt_project.yml").read_bytes())
    return digest.hexdigest()


def input_fingerprint(home: Home, options: dict) -> str:
    """What a run's outputs depend on: every source file's path, size and mtime, every file of
    the dbt project and the package, and the run's options. Equal fingerprints, equal outputs.
    Only what the readers read counts: distill's own files in data/_kb (the audit baselines)
    and files that are not streams are not input, so appending to them gives a run no work."""
    digest = hashlib.sha256(project_fingerprint(options).encode())
    if home.kb.is_dir():
        # the stream files and the files of the standard trace formats
        for path in sorted(home.kb.rglob("*")):
            if path.is_file() and (home.is_stream_file(path) or home.is_trace_file(path)):
                stat = path.stat()
                name = path.relative_to(home.kb).as_posix()
                digest.update(f"{name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def git_head() -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except OSError:
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class NodeRun:
    unique_id: str
    stage: str
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    message: str | None


def node_runs(target: Path) -> list[NodeRun]:
    """The nodes of dbt's last command (target/nodes.json, distill.dbt), each placed in its stage."""
    results_path = target / "nodes.json"
    if not results_path.exists():
        return []
    results = json.loads(results_path.read_text())["results"]
    nodes = {r["unique_id"]: r for r in results}

    def stage_of(unique_id: str) -> str:
        node = nodes.get(unique_id, {})
        kind, name = unique_id.split(".")[0], unique_id.split(".")[-1]
        if kind in ("model", "seed"):
            return MODEL_STAGES.get(name, "materialize")
        # a test belongs to the latest stage it reads from
        parents = [p for p in node.get("depends_on", []) if p.split(".")[0] in ("model", "seed")]
        if kind == "unit_test" and node.get("model"):
            parents = [f"model.distill.{node['model']}"]
        return max((stage_of(p) for p in parents), key=STAGES.index, default="materialize")

    out = []
    for result in results:
        execute = next((t for t in result.get("timing", []) if t["name"] == "execute"), None)
        timing = execute or (result["timing"][0] if result.get("timing") else None)
        out.append(
            NodeRun(
                unique_id=result["unique_id"],
                stage=stage_of(result["unique_id"]),
                status=result["status"],
                started_at=_parse_ts(timing["started_at"]) if timing and timing.get("started_at") else None,
                ended_at=_parse_ts(timing["completed_at"]) if timing and timing.get("completed_at") else None,
                message=result.get("message"),
            )
        )
    return out


@dataclass(frozen=True)
class StageCounts:
    rows_in: int
    rows_out: int
    rows_skipped: int
    rows_pending: int = 0
    secret_hits: dict[str, int] | None = None  # quarantine: rows held back per secret pattern


def stage_counts(conn, include_partial: bool = False) -> dict[str, StageCounts]:
    """rows in, out and skipped per stage, in one pass over the warehouse."""
    sft_categories = "('accepted', 'partially_accepted')" if include_partial else "('accepted')"
    row = conn.execute(
        """
        select
            (select count(*) from base_source_records),
            (select count(*) from evidence),
            (select count(*) from skipped_lines),
            (select count(*) from pending_lines),
            (select count(*) from int_evidence_joined_to_runs),
            (select count(*) from scored_runs),
            (select count(*) from int_export_gates where candidate_kind = 'playbook' or category in ('accepted', 'partially_accepted')),
            (select count(*) from export_rag),
            (select count(*) from int_export_gates where category in {sft}),
            (select count(*) from export_sft),
            (select count(*) from int_export_gates where category in ('accepted', 'rejected')),
            (select count(*) from export_preference),
            (select count(*) from int_export_gates),
            (select count(*) from quarantine)
        """.replace("{sft}", sft_categories)
    ).fetchone()
    lines, evidence, skipped, pending, run_rows, scored, rag_in, rag, sft_in, sft, pref_in, pref, gates, held = row
    secret_hits = dict(conn.execute(
        """
        select regexp_extract(detail, 'matches secret pattern (\\w+)', 1) as pattern_id, count(*)
        from quarantine where reason = 'secret_detected' group by 1 order by 1
        """
    ).fetchall())
    return {
        "materialize": StageCounts(lines, evidence, skipped, pending),
        "score": StageCounts(run_rows, scored, 0),
        "export-rag": StageCounts(rag_in, rag, max(rag_in - rag, 0)),
        "export-sft": StageCounts(sft_in, sft, max(sft_in - sft, 0)),
        # pairs are built from candidates: more can come out than went in
        "export-preference": StageCounts(pref_in, pref, 0),
        "quarantine": StageCounts(gates, held, 0, secret_hits=secret_hits),
    }


def build_receipts(
    home: Home,
    nodes: list[NodeRun],
    counts: dict[str, StageCounts] | None,
    started_at: datetime,
    ended_at: datetime,
    failures: dict[str, str],
    selected: set[str],
    run_error: str | None = None,
    read: str | None = None,
    known: dict[str, str] | None = None,
) -> list[StageReceipt]:
    """One receipt per stage. `failures` names stages that failed outside dbt (the firewall);
    a run that failed with no node to blame (dbt itself, the disk) fails its first unfinished stage."""
    files = stage_files(home)
    failed_nodes = [n for n in nodes if n.status in ("error", "fail", "runtime error")]
    if run_error and not failures and not failed_nodes:
        done = {n.stage for n in nodes if n.status == "success"}
        failures = {next((s for s in STAGES if s not in done), STAGES[-1]): run_error}
    receipts = []
    for stage in STAGES:
        mine = [n for n in nodes if n.stage == stage]
        errors = [n for n in mine if n in failed_nodes]
        error = failures.get(stage) or next((" ".join((n.message or n.status).split()) for n in errors), None)
        if error:
            status = "failed"
        elif stage not in selected or not mine or all(n.status == "skipped" for n in mine):
            status = "skipped"
        else:
            status = "success"
        begins = [n.started_at for n in mine if n.started_at]
        ends = [n.ended_at for n in mine if n.ended_at]
        stage_start = min(begins, default=started_at)
        stage_end = max(ends, default=stage_start if mine else started_at)
        c = (counts or {}).get(stage) if status == "success" else None
        receipts.append(
            StageReceipt(
                stage=stage,
                status=status,
                started_at=stage_start,
                ended_at=stage_end,
                duration_ms=max(int((stage_end - stage_start).total_seconds() * 1000), 0),
                rows_in=c.rows_in if c else 0,
                rows_out=c.rows_out if c else 0,
                rows_skipped=c.rows_skipped if c else 0,
                rows_pending=c.rows_pending if c else 0,
                outputs=output_files(home, files[stage], known) if status == "success" else [],
                error=error,
                read=read if stage == "materialize" else None,
                secret_hits=c.secret_hits if c else None,
            )
        )
    return receipts


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
    """Change in % and its severity: warn beyond ±20 %, alert beyond ±50 % (docs/concepts.md, "Receipts and drift")."""
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


# -- the reports folder ------------------------------------------------------------------------


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
