"""Run receipts (docs/concepts.md, "Receipts and drift"): what each stage of a run did, from
dbt's node results (target/nodes.json, distill.dbt) placed in their stages, the counts the
warehouse reports, and the parts each stage wrote, hashed as they lie on disk.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from distill.dbt import failed_nodes
from distill.fingerprints import output_files
from distill.home import PROJECT_DIR, Home
from distill.project import PART_STAGES
from distill.schemas import StageReceipt

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


def stage_counts(counts: dict[tuple[str, str | None], int]) -> dict[str, StageCounts]:
    """Rows in, out and skipped per stage, from the counts the build reports (run_counts' rows,
    {(metric, item): n}, distill.warehouse.read_counts)."""

    def n(metric: str, key: str | None = None) -> int:
        return counts.get((metric, key), 0)

    skipped = sum(v for (metric, _), v in counts.items() if metric == "skipped")
    secret_hits = {key: v for (metric, key), v in sorted(counts.items()) if metric == "secret_hits"}
    lines, evidence = n("source_lines"), n("evidence")
    per_export = {
        model: StageCounts(n("admitted", model), n("rows", model), max(n("admitted", model) - n("rows", model), 0))
        for model in ("export_rag", "export_sft")
    }
    return {
        "materialize": StageCounts(lines, evidence, skipped, n("pending")),
        "score": StageCounts(n("run_rows"), n("scored"), 0),
        "export-rag": per_export["export_rag"],
        "export-sft": per_export["export_sft"],
        # pairs are built from candidates: more can come out than went in
        "export-preference": StageCounts(n("admitted", "export_preference"), n("rows", "export_preference"), 0),
        "quarantine": StageCounts(n("admitted", "quarantine"), n("rows", "quarantine"), 0, secret_hits=secret_hits),
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
    failed = failed_nodes(nodes)
    if run_error and not failures and not failed:
        done = {n.stage for n in nodes if n.status == "success"}
        failures = {next((s for s in STAGES if s not in done), STAGES[-1]): run_error}
    receipts = []
    for stage in STAGES:
        mine = [n for n in nodes if n.stage == stage]
        errors = [n for n in mine if n in failed]
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
