"""The dataset card (exports/README.md) in the Hugging Face shape: a YAML header with one config
per export (its day parts), then what the corpus is, its counts, where it came from and how to trace it.

Everything in it comes from the run's summary and the warehouse, so it is as deterministic as
the run (same input and --recorded-at, same card)."""

from distill.home import Home
from distill.schemas import RunSummary
from distill.warehouse import connect

# One config per export: its day parts, as a glob (datasets sorts the paths: day order).
CONFIGS = (
    ("sft", "sft/*.jsonl", "instruction/response pairs with chat `messages` (TRL SFTTrainer)"),
    ("preference", "preference/*.jsonl", "string prompt/chosen/rejected (TRL DPOTrainer)"),
    ("rag", "rag/*.jsonl", "grounded texts for retrieval"),
    ("openai_sft", "openai/sft/*.jsonl", "OpenAI supervised fine-tuning chat format"),
    ("openai_dpo", "openai/dpo/*.jsonl", "OpenAI preference fine-tuning format"),
    ("trl_preference_conversational", "trl/chosen_rejected_conversational/*.jsonl", "TRL conversational preference"),
)


def render(home: Home, summary: RunSummary) -> str:
    with connect(home) as conn:
        streams = conn.execute(
            "select stream, count(*), min(recorded_at)::date, max(recorded_at)::date from evidence group by 1 order by 1"
        ).fetchall()
        first, last = conn.execute("select min(recorded_at)::date, max(recorded_at)::date from evidence").fetchone()
        (rule_version,) = conn.execute("select coalesce(max(rule_version), '-') from scored_runs").fetchone()
    present = [(name, path, what) for name, path, what in CONFIGS if any(home.exports.glob(path))]
    counts = summary.counts
    lines = ["---", "pretty_name: distill training corpus", "task_categories:", "- text-generation", "configs:"]
    for name, path, _ in present:
        lines += [f"- config_name: {name}", "  data_files:", "  - split: train", f"    path: {path}"]
    lines += [
        "---",
        "",
        "# distill training corpus",
        "",
        "Training data refined by distill from the execution traces of an LLM system: every row was",
        "scored by deterministic rules (no model in the loop), passed the export gates (no secrets,",
        "no orphan or empty runs, no duplicates) and carries a `provenance` object that leads back to",
        "the exact source lines it came from. SFT holds accepted runs only.",
        "",
        "## Files",
        "",
        "One JSON Lines part per day (the day of the row's run); `manifest.json` lists every part",
        "with its rows, bytes and sha256.",
        "",
        "| config | files | rows | what |",
        "|---|---|---|---|",
    ]
    rows_by_config = {"sft": counts.get("sft", 0), "preference": counts.get("preference", 0), "rag": counts.get("rag", 0),
                      "openai_sft": counts.get("sft", 0), "openai_dpo": counts.get("preference", 0),
                      "trl_preference_conversational": counts.get("preference", 0)}
    for name, path, what in present:
        lines.append(f"| {name} | `{path}` | {rows_by_config[name]:,} | {what} |")
    lines += [
        "",
        "## This build",
        "",
        f"- run_id: `{summary.run_id}`",
        f"- recorded_at: {summary.recorded_at.isoformat()}",
        f"- run_hash: `{summary.run_hash}` (sha256 over the sorted path and sha256 of every data output)",
        f"- rule_version: `{rule_version}`",
        f"- source lines: {counts.get('source_lines', 0):,}; evidence {counts.get('evidence', 0):,}; "
        f"skipped {counts.get('skipped', 0):,}",
        "",
        "## Scored runs by category",
        "",
        "| category | runs |",
        "|---|---|",
        *[f"| {category} | {n:,} |" for category, n in sorted(summary.categories.items())],
        "",
        "## Sources",
        "",
        f"Evidence from {first} to {last}, by stream:",
        "",
        "| stream | rows | from | to |",
        "|---|---|---|---|",
        *[f"| {stream} | {n:,} | {start} | {end} |" for stream, n, start, end in streams],
        "",
        "## Quarantine",
        "",
        f"{counts.get('quarantined', 0):,} rows were held back (`quarantine/*.jsonl`):",
        "",
        "| reason | rows |",
        "|---|---|",
        *[f"| {reason} | {n:,} |" for reason, n in sorted(summary.quarantined.items())],
        "",
        "## Tracing a row back",
        "",
        "Every row's `provenance` lists its runs, evidence ids and `source_file:line_offset` lines.",
        "With the distill home at hand, `distill trace <id>` prints the chain from any export id",
        "down to the raw source lines and checks each link:",
        "",
        "```sh",
        "distill --home <home> trace <id>",
        "```",
        "",
    ]
    return "\n".join(lines)


def write(home: Home, summary: RunSummary) -> None:
    path = home.exports / "README.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render(home, summary))
    tmp.replace(path)
