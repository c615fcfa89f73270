"""The project explains itself: every citation of a document names a file and a section that
exist, the README stays a map, and no model grows past one idea (docs/design.md, "Stages")."""

import re
import subprocess
from pathlib import Path

from distill.home import PROJECT_DIR

CITATION = re.compile(r'((?:docs/)?[\w-]+\.md), "([^"\n]+)"')  # docs/design.md, "Incremental runs"
LINK = re.compile(r"\]\(((?:docs/)?[\w./-]*\.md)(?:#([\w-]+))?\)")  # [text](docs/concepts.md#scoring)


def tracked() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True).stdout.split()
    if not names:  # not a git checkout (an unpacked sdist): every file the project ships
        names = [str(p.relative_to(PROJECT_DIR)) for p in PROJECT_DIR.rglob("*") if p.is_file()]
    return [PROJECT_DIR / n for n in names if n.endswith((".md", ".py", ".sql", ".yml", ".yaml", ".toml", ".cfg"))
            or n in ("Makefile", ".sqlfluff")]


def headings(doc: Path) -> set[str]:
    return {line.lstrip("#").strip() for line in doc.read_text().splitlines() if line.startswith("#")}


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def resolve(source: Path, target: str) -> Path:
    """A citation names a file from the project root; a link is relative to the file it is in."""
    local = (source.parent / target)
    return local if local.exists() else PROJECT_DIR / target


def test_no_file_cites_a_document_outside_the_repository():
    cited = [f"{p.relative_to(PROJECT_DIR)}: {line.strip()}" for p in tracked() if p.name != "test_docs_map.py"
             for line in p.read_text(errors="replace").splitlines() if re.search(r"\bSPEC\b.*§|§\s?\d", line)]
    assert cited == []


def test_every_citation_names_a_section_that_exists():
    broken, seen = [], 0
    for path in tracked():
        if path.name == "test_docs_map.py":
            continue
        text = path.read_text(errors="replace")
        for doc, section in CITATION.findall(text):
            target = resolve(path, doc)
            if not target.exists() or (path.suffix != ".md" or doc.startswith("docs/")) and section not in headings(target):
                broken.append(f"{path.relative_to(PROJECT_DIR)}: {doc}, {section!r}")
            seen += 1
        for doc, fragment in LINK.findall(text):
            target = resolve(path, doc)
            if not target.exists() or fragment and fragment not in {anchor(h) for h in headings(target)}:
                broken.append(f"{path.relative_to(PROJECT_DIR)}: {doc}#{fragment}")
            seen += 1
    assert seen > 60  # the check reads the citations, it does not pass on none
    assert broken == []


def test_the_readme_is_a_map_and_the_models_are_one_idea_each():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for doc in ("concepts", "design", "trace-formats", "operations", "performance", "review",
                "operator-handoff", "recovery-runbook"):
        assert f"(docs/{doc}.md" in readme, doc
    long = {str(p.relative_to(PROJECT_DIR)): n for p in (PROJECT_DIR / "models").rglob("*.sql")
            if (n := len(p.read_text().splitlines())) > 250}
    assert long == {}
