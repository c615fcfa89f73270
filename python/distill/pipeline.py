"""The pipeline's stages as dbt selections, the firewall after each export, and the counts a
run reports when it ends."""

from dataclasses import dataclass, field

from distill import dbt, firewall
from distill.home import Home
from distill.warehouse import connect

# Each stage is a dbt selection; `+` pulls in what the stage needs. dbt builds seeds, models
# and their data tests in dependency order.
STAGES = {
    "build-evidence": ["+evidence", "+skipped_lines"],
    "score": ["+scored_runs"],
    "export-rag": ["+export_rag"],
    "export-sft": ["+export_sft"],
    "export-preference": ["+export_preference"],
    "export-all": ["+export_rag", "+export_sft", "+export_preference", "+quarantine"],
    "run-all": ["*"],
}

# The exports each stage writes, validated again after dbt has written them.
STAGE_EXPORTS = {
    "export-rag": ["export_rag"],
    "export-sft": ["export_sft"],
    "export-preference": ["export_preference"],
    "export-all": ["export_rag", "export_sft", "export_preference", "quarantine"],
    "run-all": ["export_rag", "export_sft", "export_preference", "quarantine"],
}


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


def build(home: Home, stage: str, include_partial: bool = False) -> list[dbt.NodeResult]:
    """Run one stage (and what it needs), then re-read and validate what it exported."""
    home.require_sources()
    home.make_output_dirs()
    selection = [] if STAGES[stage] == ["*"] else ["--select", *STAGES[stage]]
    nodes = dbt.invoke(home, ["build", *selection], {"include_partial": include_partial})
    for model in STAGE_EXPORTS.get(stage, []):
        firewall.validate_export(home, model, include_partial)
    return nodes


def _table_exists(conn, name: str) -> bool:
    return conn.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]
    ).fetchone()[0] > 0


def counts(home: Home) -> RunCounts:
    with connect(home) as conn:
        files, lines = conn.execute(
            "select count(distinct source_file), count(*) from stg_source_lines"
        ).fetchone()
        (evidence,) = conn.execute("select count(*) from evidence").fetchone()
        skipped = dict(
            conn.execute("select reason, count(*) from skipped_lines group by reason order by reason").fetchall()
        )
        scored, categories, exports, quarantined = None, {}, {}, {}
        if _table_exists(conn, "scored_runs"):
            (scored,) = conn.execute("select count(*) from scored_runs").fetchone()
            categories = dict(
                conn.execute("select category, count(*) from scored_runs group by 1 order by 1").fetchall()
            )
        for model in ("export_rag", "export_sft", "export_preference"):
            if _table_exists(conn, model):
                exports[model] = conn.execute(f"select count(*) from {model}").fetchone()[0]
        if _table_exists(conn, "quarantine"):
            quarantined = dict(
                conn.execute("select reason, count(*) from quarantine group by 1 order by 1").fetchall()
            )
    return RunCounts(
        source_files=files,
        source_lines=lines,
        evidence=evidence,
        skipped=skipped,
        pending=skipped.get("incomplete_last_line", 0),
        scored=scored,
        categories=categories,
        exports=exports,
        quarantined=quarantined,
    )
