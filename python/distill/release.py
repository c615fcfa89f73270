"""The release freeze (docs/design.md, "Audit"): six gates, a release report and manifest, and the `git tag`
command for the operator. It never tags by itself."""

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from distill import __version__, acceptance, audit, dbt
from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home

GATES = (
    "clean git tree",
    "full test suite",
    "dbt project documented and contracted",
    "acceptance",
    "audit-full",
    "release tag not yet taken",
)


@dataclass(frozen=True)
class Gate:
    name: str
    status: str  # pass, fail, skipped
    detail: str

    @property
    def held(self) -> bool:
        return self.status == "pass"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(PROJECT_DIR), *args], capture_output=True, text=True, timeout=60)


def release_tag() -> str:
    return f"v{__version__}"


def tolerated_reports(home: Home, dirty_paths: list[str]) -> list[str]:
    """The dirty paths that are not the home's own regenerated reports: a path counts as a
    report only when it lies under exactly <home>/reports/ (not any folder named reports)."""
    reports = home.reports.resolve()
    left = []
    for path in dirty_paths:
        absolute = (PROJECT_DIR / path.strip('"')).resolve()
        if not absolute.is_relative_to(reports):
            left.append(path)
    return left


def gate_clean_tree(home: Home) -> Gate:
    status = _git("status", "--porcelain", "--untracked-files=all")
    if status.returncode != 0:
        return Gate(GATES[0], "fail", f"not a git checkout: {status.stderr.strip()[:100]}")
    # the home's regenerated reports are tolerated, nothing else
    dirty = tolerated_reports(home, [line[3:] for line in status.stdout.splitlines()])
    if dirty:
        return Gate(GATES[0], "fail", f"{len(dirty)} uncommitted change(s): {', '.join(dirty[:4])}")
    return Gate(GATES[0], "pass", f"HEAD {_git('rev-parse', '--short', 'HEAD').stdout.strip()} is clean")


def gate_tests() -> Gate:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider", str(PROJECT_DIR / "python" / "tests")],
        capture_output=True, text=True, cwd=PROJECT_DIR, timeout=3600,
    )
    last = (proc.stdout.strip().splitlines() or ["no output"])[-1]
    return Gate(GATES[1], "pass" if proc.returncode == 0 else "fail", last)


def gate_documented(home: Home) -> Gate:
    """dbt parses, and every model and column is described and every SQL model that makes a relation
    contracted."""
    with tempfile.TemporaryDirectory(prefix="distill-parse-") as scratch:
        scratch_home = Home(Path(scratch))
        try:
            dbt.invoke(scratch_home, ["parse"])
        except DistillError as exc:
            return Gate(GATES[2], "fail", str(exc))
        manifest = json.loads((dbt.target_dir(scratch_home) / "target" / "manifest.json").read_text())
    problems = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed"):
            continue
        name = node["name"]
        if not node.get("description", "").strip():
            problems.append(f"{name} has no description")
        problems += [f"{name}.{c} has no description" for c, col in node["columns"].items() if not col.get("description")]
        # an ephemeral model is a query inside the model that refs it, whose contract holds its
        # columns (dbt enforces no contract on an ephemeral model)
        if node["resource_type"] == "model" and node.get("language") == "sql" \
                and node["config"].get("materialized") != "ephemeral":
            if not node["config"].get("contract", {}).get("enforced"):
                problems.append(f"{name} has no enforced contract")
    if problems:
        return Gate(GATES[2], "fail", f"{len(problems)} problem(s): {'; '.join(problems[:4])}")
    models = sum(1 for n in manifest["nodes"].values() if n["resource_type"] == "model")
    return Gate(GATES[2], "pass", f"{models} models parse, all documented; every SQL model contracted")


def gate_acceptance() -> Gate:
    passed, detail = acceptance.verdict_on_this_project()
    return Gate(GATES[3], "pass" if passed else "fail", detail)


def gate_audit(home: Home, now: datetime, acceptance_gate: Gate | None) -> tuple[Gate, audit.Audit | None]:
    # the acceptance gate already ran the fixture: the audit takes its verdict instead of a rerun
    known = None
    if acceptance_gate is not None and acceptance_gate.status != "skipped":
        known = audit.Check("acceptance passes", acceptance_gate.status, f"{acceptance_gate.detail} (release gate)")
    try:
        result, _ = audit.run_and_record(home, now, acceptance_check=known)
    except DistillError as exc:
        return Gate(GATES[4], "fail", str(exc)), None
    if result.passed:
        return Gate(GATES[4], "pass", f"{len(result.checks)} checks held"), result
    failed = [c.name for c in result.checks if not c.held]
    return Gate(GATES[4], "fail", "failed: " + ", ".join(failed)), result


def gate_tag() -> Gate:
    tag = release_tag()
    taken = _git("tag", "--list", tag).stdout.strip()
    if taken:
        return Gate(GATES[5], "fail", f"{tag} already exists: bump the version in pyproject.toml and python/distill/__init__.py")
    return Gate(GATES[5], "pass", f"{tag} is free")


def freeze(home: Home, now: datetime, skip: set[str] = frozenset(),
           on_gate: Callable[[Gate], None] | None = None) -> tuple[list[Gate], dict]:
    home.require_sources()
    gates: list[Gate] = []
    audit_result = None

    def run(name: str, check: Callable[[], Gate]) -> None:
        gate = Gate(name, "skipped", "skipped on request: not release-ready") if name in skip else check()
        gates.append(gate)
        if on_gate:
            on_gate(gate)

    run(GATES[0], lambda: gate_clean_tree(home))
    run(GATES[1], gate_tests)
    run(GATES[2], lambda: gate_documented(home))
    run(GATES[3], gate_acceptance)

    def audit_gate() -> Gate:
        nonlocal audit_result
        acceptance_gate = next((g for g in gates if g.name == GATES[3]), None)
        gate, audit_result = gate_audit(home, now, acceptance_gate)
        return gate

    run(GATES[4], audit_gate)
    run(GATES[5], gate_tag)
    rows = audit.baseline_rows(home)
    manifest = {
        "release_tag": release_tag(),
        "released_at": now.isoformat(),
        "ready": all(g.held for g in gates),
        "git_head": _git("rev-parse", "HEAD").stdout.strip() or None,
        "git_branch": _git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip() or None,
        "dataset_counts": audit_result.baseline.metrics if audit_result else (rows[-1]["metrics"] if rows else {}),
        "run_id": audit_result.baseline.run_id if audit_result else None,
        "run_hash": audit_result.baseline.run_hash if audit_result else None,
        "gates": [{"gate": g.name, "status": g.status, "detail": g.detail} for g in gates],
        "latest_baseline": rows[-1] if rows else None,
    }
    return gates, manifest


def write_reports(home: Home, gates: list[Gate], manifest: dict) -> tuple[Path, Path]:
    home.reports.mkdir(parents=True, exist_ok=True)
    manifest_path = home.reports / "release-manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    lines = [
        f"# Release {manifest['release_tag']}",
        "",
        f"{'READY' if manifest['ready'] else 'NOT READY'} at {manifest['released_at']} "
        f"(git {manifest['git_head'] or '-'} on {manifest['git_branch'] or '-'}, run {manifest['run_id'] or '-'})",
        "",
        "| gate | result | detail |",
        "|---|---|---|",
        *[f"| {g.name} | {g.status} | {g.detail.replace('|', '/')} |" for g in gates],
        "",
        "## Dataset",
        "",
        "| count | rows |",
        "|---|---|",
        *[f"| {k} | {v:,} |" for k, v in manifest["dataset_counts"].items()],
        "",
    ]
    if manifest["ready"]:
        lines += ["Tag it yourself:", "", "```sh", tag_command(manifest), "```", ""]
    release_md = home.reports / "release.md"
    release_md.write_text("\n".join(lines))
    return release_md, manifest_path


def tag_command(manifest: dict) -> str:
    return f"git tag -a {manifest['release_tag']} -m \"distill {manifest['release_tag']}, run_hash {manifest['run_hash']}\""
