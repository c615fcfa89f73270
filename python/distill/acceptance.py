"""The acceptance gate (docs/concepts.md, "The acceptance gate"): build the hand-written fixture
in a temporary home, check the 22 invariants (21 dbt tests tagged `acceptance`, and one run_hash
for two runs), report.
"""

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from distill import dbt, fingerprints, pipeline
from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "acceptance"

# The fixture is small: a 5 KB line is oversize there, a 2,500-character answer too long to export.
FIXTURE_VARS = {"max_line_bytes": 4096, "max_export_chars": 2000, "acceptance_fixture": True}
RECORDED_AT = datetime(2026, 4, 30, tzinfo=timezone.utc)

INVARIANTS = {
    1: "Every physical line of every source file is accounted for exactly once",
    2: "Evidence ids are unique",
    3: "Every evidence row has source_file, line_offset, sig_hash, recorded_at",
    4: "sig_hash recomputes from the source line",
    5: "Evidence partitions match recorded_at's day",
    6: "Every run has exactly one scored row",
    7: "Every category is one of the four",
    8: "Every fixture run gets its expected category (and every export its expected count)",
    9: "Every scored run lists at least one fired rule",
    10: "SFT holds no rejected or needs_human_review row",
    11: "SFT instructions and responses are non-empty",
    12: "SFT has no exact duplicates",
    13: "Every RAG row is grounded in existing evidence",
    14: "RAG holds no rejected or needs_human_review run",
    15: "Preference has no self-pairs",
    16: "Preference has no identical chosen/rejected texts",
    17: "Every preference pair is accepted-over-rejected on the same prompt fingerprint",
    18: "Every export row's provenance resolves to a source line",
    19: "No quarantined row appears in any export",
    20: "Every quarantine row has a reason from the fixed set",
    21: "No exported text matches a secret pattern",
    22: "Two runs with the same recorded_at produce the same run_hash",
}


@dataclass(frozen=True)
class Verdict:
    number: int
    passed: bool
    detail: str = ""  # failing row ids, or why it could not be checked


@dataclass
class Acceptance:
    home: Path
    verdicts: dict[int, Verdict] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return len(self.verdicts) == len(INVARIANTS) and all(v.passed for v in self.verdicts.values())

    @property
    def failed(self) -> list[int]:
        return sorted(n for n, v in self.verdicts.items() if not v.passed)


def prepare(target: Path) -> Home:
    """A fresh copy of the fixture at `target`."""
    shutil.copytree(FIXTURE, target, dirs_exist_ok=True)
    return Home(target.resolve())


def build(home: Home, tested: bool = True) -> pipeline.RunResult:
    """run-all on the fixture, with dbt's unit tests, its invariants left for `check_invariants`;
    always the full data work (a second build must really rebuild for the run_hash check to mean
    anything). The second build only makes the outputs again (`tested=False`): its tests, which
    read and write no output, ran on the first."""
    return pipeline.build(
        home, "run-all", recorded_at=RECORDED_AT, dbt_vars=FIXTURE_VARS, force=True, unit_tests=tested,
        exclude=["tag:acceptance", *([] if tested else ["resource_type:test"])],
    )


def _failing_ids(home: Home, test_name: str, limit: int = 5) -> str:
    """The first column of the rows a failing test stored, as a short list."""
    try:
        with duckdb.connect(str(home.warehouse), read_only=True) as conn:
            rows = conn.execute(
                f'select * from main_acceptance_failures."{test_name}" limit {limit + 1}'
            ).fetchall()
    except duckdb.Error:
        return ""
    shown = ", ".join(str(row[0]) for row in rows[:limit])
    return shown + (", ..." if len(rows) > limit else "")


def check_invariants(home: Home) -> dict[int, Verdict]:
    """Invariants 1-21: the dbt tests tagged acceptance, run against what the home holds now."""
    nodes = dbt.invoke(home, ["test", "--select", "tag:acceptance", "--no-write-json"], FIXTURE_VARS, check=False)
    verdicts = {}
    for number in range(1, 22):
        prefix = f"inv{number:02d}_"
        node = next((n for n in nodes if n.name.startswith(prefix)), None)
        if node is None:
            verdicts[number] = Verdict(number, False, "the test did not run")
        elif node.status == "pass":
            verdicts[number] = Verdict(number, True)
        else:
            failing = node.failures or 0
            ids = _failing_ids(home, node.name)
            detail = f"{failing} failing row(s): {ids}" if ids else " ".join((node.message or node.status).split())
            verdicts[number] = Verdict(number, False, detail)
    return verdicts


def check_determinism(home: Home, first_hash: str, between: Callable[[Home], None] | None = None) -> Verdict:
    """Invariant 22: a second run with the same recorded_at gives the same run_hash."""
    if between is not None:
        between(home)
    second = build(home, tested=False)
    if second.summary.run_hash == first_hash:
        return Verdict(22, True)
    return Verdict(22, False, f"run_hash {first_hash[:12]}... then {second.summary.run_hash[:12]}...")


def run_acceptance(workdir: Path, between: Callable[[Home], None] | None = None) -> Acceptance:
    """Build the fixture and check the invariants; a pass is recorded for this very project
    (audit-full reuses it, see passed_before)."""
    key = project_key()  # the project as the gate found it, before it builds
    home = prepare(workdir)
    result = Acceptance(home.root)
    try:
        first = build(home)
    except DistillError as exc:
        for number in INVARIANTS:
            result.verdicts[number] = Verdict(number, False, f"the fixture did not build: {exc}")
        return result
    result.verdicts.update(check_invariants(home))
    try:
        result.verdicts[22] = check_determinism(home, first.summary.run_hash, between)
    except DistillError as exc:
        result.verdicts[22] = Verdict(22, False, f"the second run failed: {exc}")
    if result.passed:
        remember_pass(key, datetime.now(timezone.utc))
    return result


def project_key() -> str:
    """What the gate's verdict depends on: every file of the project (models, macros, seeds,
    tests and their fixture, the package, the dbt settings) and the versions of dbt and DuckDB.
    The gate is deterministic: the same key, the same verdict."""
    import hashlib

    from dbt.version import __version__ as dbt_version

    digest = hashlib.sha256(f"duckdb {duckdb.__version__} dbt {dbt_version}\n".encode())
    fingerprints.add_project_files(digest, dbt.PROJECT_DIR, ("models", "macros", "seeds", "tests", "python/distill"),
                                   lambda path: "__pycache__" not in path.parts, ("dbt_project.yml", "profiles.yml"))
    return digest.hexdigest()


def _verdict_path() -> Path:
    return dbt.PROJECT_DIR / "target" / "acceptance-pass.json"


def remember_pass(key: str, when: datetime) -> None:
    """Record that the gate passed for this project (written whole, then renamed into place)."""
    import json
    import os

    path = _verdict_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"key": key, "passed_at": when.isoformat()}))
    temporary.replace(path)


def passed_before(key: str) -> str | None:
    """When the gate last passed for exactly this project, or None."""
    import json

    try:
        raw = json.loads(_verdict_path().read_text())
    except (OSError, ValueError):
        return None
    return raw.get("passed_at") if raw.get("key") == key else None


def verdict_on_this_project() -> tuple[bool, str]:
    """Whether the gate holds on this very project, and how that is known: a pass recorded for
    exactly this project is reused (the gate is deterministic, docs/design.md, "Audit"), else the
    gate runs in a temporary folder."""
    when = passed_before(project_key())
    if when is not None:
        return True, f"22/22 invariants hold on the fixture (passed at {when} on this very project)"
    with tempfile.TemporaryDirectory(prefix="distill-acceptance-") as workdir:
        result = run_acceptance(Path(workdir))
    if result.passed:
        return True, "22/22 invariants hold on the fixture"
    return False, f"invariant(s) {', '.join(map(str, result.failed))} fail: run `distill acceptance`"


def report_markdown(result: Acceptance, wall_seconds: float) -> str:
    passed = sum(v.passed for v in result.verdicts.values())
    lines = [
        "# Acceptance",
        "",
        f"{passed}/{len(INVARIANTS)} invariants hold on the fixture tests/fixtures/acceptance "
        f"({wall_seconds:.1f} s).",
        "",
        "| # | invariant | result | detail |",
        "|---|---|---|---|",
    ]
    for number, text in INVARIANTS.items():
        verdict = result.verdicts.get(number, Verdict(number, False, "not checked"))
        detail = verdict.detail.replace("|", "\\|")
        lines.append(f"| {number} | {text} | {'pass' if verdict.passed else 'FAIL'} | {detail} |")
    return "\n".join(lines) + "\n"


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="distill-acceptance-"))
