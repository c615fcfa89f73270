"""The pipeline's stages as dbt selections, and the counts a run reports when it ends."""

from dataclasses import dataclass

from distill import dbt
from distill.home import Home
from distill.warehouse import connect

# Each stage is a dbt selection; `+` pulls in what the stage needs.
STAGES = {
    "build-evidence": "+evidence +skipped_lines",
}


@dataclass(frozen=True)
class RunCounts:
    source_files: int
    source_lines: int
    evidence: int
    skipped: dict[str, int]
    pending: int  # incomplete last lines, read again next run

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def build(home: Home, stage: str) -> list[dbt.NodeResult]:
    home.require_sources()
    return dbt.invoke(home, ["build", "--select", STAGES[stage]])


def counts(home: Home) -> RunCounts:
    with connect(home) as conn:
        files, lines = conn.execute(
            "select count(distinct source_file), count(*) from stg_source_lines"
        ).fetchone()
        (evidence,) = conn.execute("select count(*) from evidence").fetchone()
        skipped = dict(
            conn.execute(
                "select reason, count(*) from skipped_lines group by reason order by reason"
            ).fetchall()
        )
    return RunCounts(
        source_files=files,
        source_lines=lines,
        evidence=evidence,
        skipped=skipped,
        pending=skipped.get("incomplete_last_line", 0),
    )
