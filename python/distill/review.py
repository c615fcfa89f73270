"""The review queue (docs/design.md, "Review"): the runs the rules left to a person, read from the
current generation's parts, and each decision appended as one human_reviews source line.

Nothing here writes an output: a decision is input, read by the next run like any other line.
"""

import csv
import getpass
import hashlib
import io
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from distill import firewall, incremental, lock, trace
from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home, append_line

CATEGORIES = ("needs_human_review", "accepted", "partially_accepted", "rejected")
DECISIONS = ("accept", "reject", "edit", "unsure")
# The review app's own human_reviews file: one writer, so its lines never meet another's.
DECISIONS_FILE = "human_reviews.review.jsonl"
MASK = "[secret masked]"
# A text longer than this is cut on screen (the whole text stays in the parts and in `distill trace`).
SHOWN_CHARS = 20_000
RULES_CSV = PROJECT_DIR / "seeds" / "scoring_rules.csv"

# Why a run comes early in the queue, by priority.
PRIORITIES = {
    0: "conflict",
    1: "completes a preference pair",
    2: "unlocks an SFT row",
    3: "",
}


# What a queue export adds to each run besides the decision columns (an import ignores them).
QUEUE_COLUMNS = ("category", "reason", "priority", "model", "run_day", "instruction", "response")


class Decision(BaseModel):
    """A person's decision on one run, as the pages, the API and an import give it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["accept", "reject", "edit", "unsure"]
    edited_response: str | None = Field(default=None, description="the corrected response (edit only)")
    notes: str | None = None
    reviewer: str | None = Field(default=None, max_length=200)

    @field_validator("edited_response", "notes", "reviewer")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _edit_carries_response(self) -> "Decision":
        if self.decision == "edit" and not self.edited_response:
            raise ValueError("edited_response: an edit needs the corrected response")
        if self.decision != "edit" and self.edited_response:
            raise ValueError("edited_response: only an edit carries a corrected response")
        return self


class ImportedDecision(Decision):
    """A line of a decisions file from another labelling tool."""

    run_id: str = Field(min_length=1)
    ts: datetime | None = None


def field_error(exc: ValidationError) -> str:
    """One line naming the first field that is wrong and why."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if where and not message.startswith(where + ":"):
        return f"{where}: {message}"
    return message


def review_line(run_id: str, decision: Decision, reviewer: str, ts: datetime) -> tuple[str, str]:
    """(review_id, the JSON line): the id is a hash of everything else the line says."""
    ts = ts.astimezone(timezone.utc)
    record = {
        "run_id": run_id,
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
        "reviewer": decision.reviewer or reviewer,
        "decision": decision.decision,
        "edited_response": decision.edited_response,
        "notes": decision.notes,
    }
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    review_id = "rv-" + digest[:24]
    return review_id, json.dumps({"review_id": review_id, **record}, ensure_ascii=False) + "\n"


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


def _rules() -> dict[str, str]:
    with RULES_CSV.open(newline="", encoding="utf-8") as handle:
        return {row["rule_id"]: row["description"] for row in csv.DictReader(handle)}


@dataclass(frozen=True)
class Filters:
    category: str = "needs_human_review"
    reason: str | None = None
    stream: str | None = None
    model: str | None = None
    day: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        """The SQL condition and its named parameters."""
        clauses, params = ["category = $category"], {"category": self.category}
        for column, name in (("reason", "reason"), ("model", "model"), ("run_day::varchar", "day")):
            if getattr(self, name):
                clauses.append(f"{column} = ${name}")
                params[name] = getattr(self, name)
        if self.stream:
            clauses.append("list_contains(streams, $stream)")
            params["stream"] = self.stream
        return " and ".join(clauses), params


class Reviews:
    """The queue over one home: the current generation's runs, loaded once per generation into an
    in-memory DuckDB (keys and small facts; texts are read per run), and the decisions file."""

    def __init__(self, home: Home, reviewer: str | None = None) -> None:
        self.home = home
        self.reviewer = reviewer or default_reviewer()
        self.rules = _rules()
        self.secrets = firewall.any_secret(firewall.secret_patterns())
        self._conn = duckdb.connect()
        self._conn.execute("set TimeZone = 'UTC'")
        self._lock = threading.Lock()
        self._sources_lock = threading.Lock()
        self._generation: Path | None = None

    @property
    def decisions_file(self) -> Path:
        return self.home.kb / DECISIONS_FILE

    # -- the current generation -------------------------------------------------------------

    def generation(self) -> Path:
        current = self.home.root / "data" / "current"
        if not current.is_symlink():
            raise DistillError(
                f"{self.home.root} has no completed run yet: run `distill --home {self.home.root} run-all` first"
            )
        return Path(os.path.realpath(current))

    def _parts(self, folder: str) -> str:
        """The Parquet parts of one output folder of the loaded generation, as a glob."""
        assert self._generation is not None
        return (self._generation / "data" / folder).as_posix() + "/**/*.parquet"

    def _mask(self, column: str) -> str:
        return f"regexp_replace({column}, $secrets, '{MASK}', 'g')"

    def _refresh(self) -> None:
        """Load the runs of the generation `current` names, if it is not the one loaded."""
        generation = self.generation()
        if generation == self._generation:
            return
        self._generation = generation
        sql = f"""
        create or replace table runs as
        with scored as (
            select
                run_id, {self._mask("run_id")} as shown_id, category, reasons[-1] as reason,
                {self._mask("model")} as model, run_day, recorded_at,
                {self._mask("left(instruction, 160)")} as preview,
                coalesce(trim(instruction) != '', false) and coalesce(trim(response) != '', false) as has_texts,
                -- the prompt as preference pairs compare it (macro prompt_fingerprint)
                trim(regexp_replace(lower(instruction), '\\s+', ' ', 'g')) as prompt
            from read_parquet($scored)
        ),
        streams as (
            select run_id, list(distinct stream order by stream) as streams
            from read_parquet($evidence)
            where run_id is not null
            group by run_id
        ),
        sides as (
            select prompt, bool_or(category in ('accepted', 'rejected')) as has_side
            from scored
            where prompt is not null and prompt != ''
            group by prompt
        )
        select
            scored.* exclude (prompt),
            coalesce(streams.streams, []) as streams,
            case
                when category != 'needs_human_review' then 3
                when reason = 'rule_2_conflict' then 0
                when sides.has_side then 1
                when has_texts then 2
                else 3
            end as priority
        from scored
        left join streams using (run_id)
        left join sides using (prompt)
        """
        self._conn.execute(sql, self._filled(sql, {}))

    def _query(self, sql: str, params: list | dict | None = None) -> list[dict[str, Any]]:
        """Rows as dicts. Named parameters $scored and $evidence (the loaded generation's parts)
        and $secrets are filled in here, under the lock, after the generation is loaded."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._refresh()
                    cursor = self._conn.execute(sql, self._filled(sql, params))
                    break
                except duckdb.Error as exc:
                    # a run switched generations and is removing (or removed) the one being read:
                    # read the new one
                    read, self._generation = self._generation, None  # loaded again by the next query
                    if attempt == 2 or not self._replaced(read):
                        raise DistillError(f"cannot read the last run's outputs: {str(exc).splitlines()[0]}") from None
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def _replaced(self, generation: Path | None) -> bool:
        """Whether a run has moved `current` off this generation, or removed it (a run removes
        the old generation after the switch, a file at a time: the folder may still be there)."""
        if generation is None:
            return False
        try:
            return not generation.exists() or self.generation() != generation
        except DistillError:
            return False

    def _filled(self, sql: str, params: list | dict | None) -> list | dict:
        if not isinstance(params, dict):
            return params or []
        known = {"scored": lambda: self._parts("scored-runs"), "evidence": lambda: self._parts("evidence"),
                 "secrets": lambda: self.secrets}
        return {**params, **{name: value() for name, value in known.items() if f"${name}" in sql}}

    # -- decisions waiting for the next run -------------------------------------------------

    def pending(self) -> dict[str, str]:
        """run_id -> decision of the decisions appended since the last complete run read the file."""
        path = self.decisions_file
        state = (incremental.read_state(self.home) or {}).get(self.home.relative(path))
        start = state.bytes_done if state else 0
        try:
            with path.open("rb") as handle:
                handle.seek(start)
                tail = handle.read()
        except FileNotFoundError:
            return {}
        pending = {}
        for line in tail.split(b"\n"):
            try:
                record = json.loads(line)
                pending[record["run_id"]] = record["decision"]
            except (ValueError, KeyError, TypeError):
                continue
        return pending

    # -- the queue --------------------------------------------------------------------------

    def queue(self, filters: Filters, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """A page of the queue, its total, the decisions pending and the filters' values."""
        pending = self.pending()
        rows, total = self._page(filters, sorted(pending), limit, offset)
        return {
            "category": filters.category,
            "total": total,
            "pending": len(pending),
            "runs": rows,
            "facets": self.facets(filters.category),
        }

    def _page(self, filters: Filters, skip: list[str], limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """The runs of the queue in its order, but those in skip (decided, waiting for a run),
        and how many there are in all."""
        if filters.category not in CATEGORIES:
            raise DistillError(f"category: must be one of {', '.join(CATEGORIES)}")
        where, params = filters.where()
        rows = self._query(
            f"""
            select run_id, shown_id, category, reason, model, run_day::varchar as run_day, streams, priority,
                   strftime(recorded_at, '%Y-%m-%dT%H:%M:%SZ') as recorded_at, preview,
                   count(*) over () as total
            from runs
            where {where} and not list_contains($skip, run_id)
            order by priority, recorded_at, run_id
            limit $limit offset $offset
            """,
            {**params, "skip": skip, "limit": limit, "offset": offset},
        )
        if rows:
            total = rows[0]["total"]
        else:  # a page past the end still says how many there are
            sql = f"select count(*) as n from runs where {where} and not list_contains($skip, run_id)"
            total = self._query(sql, {**params, "skip": skip})[0]["n"]
        for row in rows:
            del row["total"]
            row["why"] = PRIORITIES[row["priority"]]
        return rows, total

    def facets(self, category: str) -> dict[str, Any]:
        """The values each filter can take within a category, with counts (and the categories')."""
        out: dict[str, Any] = {
            "category": {r["v"]: r["n"] for r in self._query("select category as v, count(*) as n from runs group by 1 order by 1")}
        }
        for name, expr in (("reason", "reason"), ("model", "model"), ("day", "run_day::varchar"), ("stream", "unnest(streams)")):
            rows = self._query(
                f"select v, count(*) as n from (select {expr} as v from runs where category = ?) where v is not null group by v order by v",
                [category],
            )
            out[name] = {r["v"]: r["n"] for r in rows}
        return out

    def next_run(self, filters: Filters, after: str) -> str | None:
        """The first run of the queue that is not `after` and has no pending decision."""
        rows, _ = self._page(filters, sorted({*self.pending(), after}), 1, 0)
        return rows[0]["run_id"] if rows else None

    # -- one run ----------------------------------------------------------------------------

    def exists(self, run_id: str) -> bool:
        return bool(self._query("select 1 from runs where run_id = ?", [run_id]))

    def run(self, run_id: str) -> dict[str, Any] | None:
        """Everything a reviewer needs of one run; texts masked and cut to SHOWN_CHARS."""
        if not self.exists(run_id):
            return None
        run = self._query(
            f"""
            select run_id, {self._mask("run_id")} as shown_id, category, reasons, signals::varchar as signals,
                   {self._mask("model")} as model, evidence_ids,
                   run_day::varchar as run_day, strftime(recorded_at, '%Y-%m-%dT%H:%M:%SZ') as recorded_at,
                   {self._mask("instruction")} as instruction, {self._mask("response")} as response,
                   rule_version
            from read_parquet($scored) where run_id = $run_id
            """,
            {"run_id": run_id},
        )[0]
        rows = self._query(
            f"""
            select evidence_id, stream, kind, source_file, line_offset, model,
                   strftime(recorded_at, '%Y-%m-%dT%H:%M:%SZ') as recorded_at,
                   {self._mask("instruction")} as instruction, {self._mask("response")} as response,
                   {self._mask("signals::varchar")} as signals
            from read_parquet($evidence)
            where list_contains($ids, evidence_id)
            order by recorded_at, source_file, line_offset
            """,
            {"ids": run["evidence_ids"]},
        )
        run["signals"] = json.loads(run["signals"] or "{}")
        run["rules"] = [(rule, self.rules.get(rule, "")) for rule in run["reasons"]]
        for row in rows:
            row["signals"] = json.loads(row["signals"] or "{}")
        run["evidence"] = rows
        for holder in (run, *rows):
            for key in ("instruction", "response"):
                holder[key], holder[key + "_cut"] = _cut(holder[key])
        run["pending"] = self.pending().get(run_id)
        run["sources_note"] = self._add_sources(run)
        return run

    def _add_sources(self, run: dict[str, Any]) -> str | None:
        """Each evidence row's source line as `distill trace` shows it, and the conversation of
        the run's model calls; None, or why the source lines are not shown."""
        try:
            # the warehouse is only read while no run holds the home (a read would block its
            # writes); one page at a time, so two pages never take each other for a run
            with self._sources_lock, lock.hold(self.home, "distill review (reading source lines)", 0.0):
                links = trace.source_links(self.home, run["evidence_ids"])
        except DistillError:
            return "a run is in progress: the source lines show once it ends (reload the page)"
        rows = [row for row in run["evidence"] if row["evidence_id"] in links]
        masked = self.mask([links[row["evidence_id"]].detail for row in rows])
        run["conversation"] = []
        for row, shown in zip(rows, masked):
            link = links[row["evidence_id"]]
            row["source_ok"] = link.ok
            row["source"], row["source_cut"] = _cut(shown)
            if link.ok and row["stream"] == "gateway_calls":
                run["conversation"] = _conversation(link.detail, self.mask) or run["conversation"]
        return None

    def mask(self, texts: Iterable[str | None]) -> list[str | None]:
        """Texts with every secret-pattern match masked (RE2, as the export gate matches them)."""
        rows = self._query(
            f"select {self._mask('t')} as t from unnest($texts) with ordinality as u(t, i) order by i",
            {"texts": list(texts)},
        )
        return [r["t"] for r in rows]

    # -- decisions ---------------------------------------------------------------------------

    def decide(self, run_id: str, decision: Decision, ts: datetime | None = None) -> str:
        """Append one human_reviews line (one O_APPEND write); the review_id."""
        if not self.exists(run_id):
            raise KeyError(run_id)
        review_id, line = review_line(run_id, decision, self.reviewer, ts or datetime.now(timezone.utc))
        append_line(self.decisions_file, line)
        return review_id

    def import_decisions(self, path: Path) -> tuple[int, int]:
        """Validate every line of a JSONL or CSV decisions file, then append them all in one
        write; a wrong line is one error naming the file and line, and nothing is written.
        (decisions imported, rows with no decision yet: a queue export's rows left blank)."""
        records = _read_table(path)
        named = sorted({r["run_id"] for _, r in records if isinstance(r, dict) and isinstance(r.get("run_id"), str)})
        known = {r["run_id"] for r in self._query("select run_id from runs where list_contains($ids, run_id)", {"ids": named})}
        now = datetime.now(timezone.utc)
        out, undecided = [], 0
        for number, record in records:
            where = f"{path}:{number}"
            if not isinstance(record, dict):
                raise DistillError(f"{where}: not a JSON object; each line is one decision object")
            record = {k: v for k, v in record.items() if k not in QUEUE_COLUMNS}
            if record.get("decision") in (None, ""):
                undecided += 1
                continue
            try:
                item = ImportedDecision.model_validate(record)
            except ValidationError as exc:
                raise DistillError(f"{where}: {field_error(exc)}; fix the line and import again (nothing was written)") from None
            if item.run_id not in known:
                raise DistillError(
                    f"{where}: run_id {item.run_id!r} is not a scored run of the last run; "
                    "fix the line and import again (nothing was written)"
                )
            ts = item.ts.replace(tzinfo=item.ts.tzinfo or timezone.utc) if item.ts else now
            out.append(review_line(item.run_id, item, self.reviewer, ts)[1])
        if out:
            append_line(self.decisions_file, "".join(out))
        return len(out), undecided

    def export_queue(self, path: Path, filters: Filters) -> int:
        """The queue with each run's texts (secrets masked), as JSONL or CSV by the file's suffix,
        with empty decision columns to fill in and import."""
        if path.suffix not in (".jsonl", ".csv"):
            raise DistillError(f"{path}: the queue is written as .jsonl or .csv; name the file so")
        where, params = filters.where()
        rows = self._query(
            f"""
            select q.run_id, q.category, q.reason, q.priority, q.model, q.run_day::varchar as run_day,
                   {self._mask("s.instruction")} as instruction, {self._mask("s.response")} as response
            from (select * from runs where {where} and not list_contains($skip, run_id)) as q
            inner join read_parquet($scored) as s using (run_id)
            order by q.priority, q.recorded_at, q.run_id
            """,
            {**params, "skip": sorted(self.pending())},
        )
        for row in rows:
            row.update(decision="", edited_response="", notes="")
        with path.open("w", encoding="utf-8", newline="") as handle:
            if path.suffix == ".csv":
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["run_id", "decision"])
                writer.writeheader()
                writer.writerows(rows)
            else:
                handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        return len(rows)


def _conversation(line: str, mask) -> list[tuple[str, str]]:
    """(role, text) of a model call's messages and its completion, masked and cut."""
    try:
        record = json.loads(line)
        messages = [(str(m.get("role", "?")), m.get("content")) for m in record.get("messages") or []]
    except (ValueError, AttributeError, TypeError):
        return []
    if isinstance(record.get("completion"), str):
        messages.append(("assistant", record["completion"]))
    texts = mask([c if isinstance(c, str) else json.dumps(c, ensure_ascii=False) for _, c in messages])
    return [(role, _cut(text)[0] or "") for (role, _), text in zip(messages, texts)]


def _cut(text: str | None) -> tuple[str | None, int]:
    if text is None or len(text) <= SHOWN_CHARS:
        return text, 0
    return text[:SHOWN_CHARS], len(text) - SHOWN_CHARS


def _read_table(path: Path) -> list[tuple[int, Any]]:
    """(line number, record) of a JSONL or CSV file; one error naming the line on bad JSON."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DistillError(f"{path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise DistillError(f"{path}: not UTF-8 (byte {exc.start}); save it as UTF-8 and import again") from None
    if path.suffix == ".csv":
        csv.field_size_limit(2**31 - 1)  # an exported queue carries whole responses
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = []
        try:
            for row in reader:
                if None in row:
                    raise DistillError(f"{path}:{reader.line_num}: more values than the header names; fix the line and import again")
                rows.append((reader.line_num, {k: v for k, v in row.items() if v not in ("", None)}))
        except csv.Error as exc:
            raise DistillError(f"{path}:{reader.line_num}: not CSV ({exc}); fix the line and import again") from None
        return rows
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except ValueError as exc:
            raise DistillError(f"{path}:{number}: not JSON ({exc}); fix the line and import again (nothing was written)") from None
    return records
