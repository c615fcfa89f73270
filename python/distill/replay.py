"""Replay (docs/concepts.md, "Replay"): retrieve RAG rows for a task (BM25, DuckDB FTS), ask a model through the
OpenAI-compatible chat API (or answer extractively when none is configured), validate the
answer, escalate when allowed, and log every replay back into data/_kb/replay_runs.jsonl.
"""

import csv
import gzip
import hashlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import duckdb_extension_fts
import httpx

from distill.errors import DistillError
from distill.home import PROJECT_DIR, Home, append_line, env_number, free_path, open_no_follow
from distill.schemas import ReplayRun, ReplayValidation

FTS_EXTENSION = Path(duckdb_extension_fts.__file__).parent / "extensions" / f"v{duckdb.__version__}" / "fts.duckdb_extension"
HEDGE_PHRASES_CSV = PROJECT_DIR / "seeds" / "hedge_phrases.csv"
EXTRACTIVE_MODEL = "distill-extractive"
MAX_ANSWER_CHARS = 4000
CITATION = re.compile(r"\[(rag_[0-9a-f]+)\]")


# -- retrieval -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retrieved:
    id: str
    title: str
    text: str
    score: float


def _load_fts(conn: duckdb.DuckDBPyConnection) -> None:
    if not FTS_EXTENSION.exists():
        raise DistillError(f"the FTS extension is missing at {FTS_EXTENSION}: reinstall duckdb-extension-fts=={duckdb.__version__}")
    conn.execute(f"load '{FTS_EXTENSION}'")


def open_index(home: Home) -> duckdb.DuckDBPyConnection:
    """The BM25 index over the RAG export, rebuilt whenever the export file changes."""
    rag = home.export_dir("export_rag")
    if not rag.is_dir():
        raise DistillError(f"{home.relative(rag)} does not exist: run `distill --home {home.root} run-all` first")
    parts = home.export_parts("export_rag")
    digest = hashlib.sha256()
    for part in parts:  # the index follows the parts: their names and bytes
        digest.update(part.name.encode() + b"\0" + part.read_bytes())
    digest = digest.hexdigest()
    path = home.root / "data" / "retrieval.duckdb"
    try:
        conn = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise DistillError(f"cannot open {path} (another replay running?): {str(exc).splitlines()[0]}") from None
    _load_fts(conn)
    conn.execute("create table if not exists index_meta (rag_sha256 varchar)")
    current = conn.execute("select rag_sha256 from index_meta").fetchone()
    if current is None or current[0] != digest:
        conn.execute("create or replace table rag (id varchar, title varchar, text varchar)")
        if parts:
            conn.execute(
                """
                insert into rag
                select id, coalesce(title, '') as title, text
                from read_json(?, format = 'newline_delimited', columns = {id: 'VARCHAR', title: 'VARCHAR', text: 'VARCHAR'})
                """,
                [[str(p) for p in parts]],
            )
        if conn.execute("select count(*) from rag").fetchone()[0]:
            conn.execute("pragma create_fts_index('rag', 'id', 'title', 'text', overwrite = 1)")
        conn.execute("delete from index_meta")
        conn.execute("insert into index_meta values (?)", [digest])
    return conn


def retrieve(home: Home, task: str, k: int) -> list[Retrieved]:
    conn = open_index(home)
    try:
        if conn.execute("select count(*) from rag").fetchone()[0] == 0:
            return []
        rows = conn.execute(
            """
            select id, title, text, score from (
                select *, fts_main_rag.match_bm25(id, ?) as score from rag
            )
            where score is not null
            order by score desc, id
            limit ?
            """,
            [task, k],
        ).fetchall()
    finally:
        conn.close()
    return [Retrieved(id, title, text, round(score, 6)) for id, title, text, score in rows]


# -- backends ------------------------------------------------------------------------------------


class BackendError(Exception):
    """A model that is down, slow or answers garbage: one line saying which and how."""


@dataclass(frozen=True)
class ModelConfig:
    url: str
    model: str
    api_key: str | None = field(default=None, repr=False)  # never in a repr, a log or an error
    connect_timeout: float = 5.0
    timeout: float = 60.0  # the most one call may take, from connecting to its last byte
    retries: int = 2

    @property
    def name(self) -> str:
        return self.model

    @property
    def where(self) -> str:
        """The model and its URL as errors and logs show them: credentials in it redacted."""
        return f"{self.model} at {redact_url(self.url)}"


MAX_RESPONSE_BYTES = 1024 * 1024  # a chat answer is capped at MAX_ANSWER_CHARS; this bounds the read


def redact_url(url: str) -> str:
    """The URL with any user:password and the values of its query string replaced by ***."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<an invalid URL>"
    if parsed.userinfo:
        parsed = parsed.copy_with(username="***", password=None)
    if parsed.query:
        parsed = parsed.copy_with(query="&".join(f"{key}=***" for key in parsed.params).encode())
    return str(parsed)


def _post(url: str, payload: dict, headers: dict, config: ModelConfig) -> tuple[int, bytes]:
    """One POST, read to at most MAX_RESPONSE_BYTES, within config.timeout from start to end:
    a server that trickles its answer cannot hold the call past its deadline."""
    outcome: dict = {}
    deadline = time.monotonic() + config.timeout

    def call() -> None:
        try:
            timeout = httpx.Timeout(config.timeout, connect=min(config.connect_timeout, config.timeout))
            with httpx.stream("POST", url, json=payload, headers=headers, timeout=timeout) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        outcome["error"] = f"answered more than {MAX_RESPONSE_BYTES:,} bytes"
                        return
                    if time.monotonic() > deadline:
                        return
                outcome["response"] = (response.status_code, bytes(body))
        except httpx.TimeoutException:
            pass
        except httpx.HTTPError as exc:
            outcome["unreachable"] = type(exc).__name__

    # a daemon thread: a call past its deadline is abandoned, never waited for
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(config.timeout + 0.5)
    if "response" in outcome:
        return outcome["response"]
    if "error" in outcome:
        raise BackendError(f"{config.where} {outcome['error']}")
    if "unreachable" in outcome:
        raise ConnectionError(f"{config.where} is unreachable ({outcome['unreachable']})")
    raise TimeoutError(f"{config.where} did not answer within {config.timeout:g}s")


def chat(config: ModelConfig, messages: list[dict]) -> str:
    """One chat completion; retries connection failures, timeouts, 429 and 5xx a bounded number
    of times."""
    url = config.url.rstrip("/")
    url = url if url.endswith("/chat/completions") else url + "/chat/completions"
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    payload = {"model": config.model, "messages": messages, "temperature": 0}
    last_error = "no attempt"
    for attempt in range(config.retries + 1):
        if attempt:
            time.sleep(min(0.5 * 2 ** (attempt - 1), 4.0))
        try:
            status, body = _post(url, payload, headers, config)
        except (TimeoutError, ConnectionError) as exc:
            last_error = str(exc)
            continue
        if status == 429 or status >= 500:
            last_error = f"{config.where} answered HTTP {status}"
            continue
        text = body.decode("utf-8", errors="replace")
        if status != 200:
            raise BackendError(f"{config.where} answered HTTP {status}: {text[:120]}")
        try:
            answer = json.loads(text)
        except ValueError:
            raise BackendError(f"{config.where} answered something that is not JSON: {text[:80]!r}") from None
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(
                f"{config.where} answered JSON without choices[0].message.content: {json.dumps(answer)[:120]}"
            ) from None
        if not isinstance(content, str):
            raise BackendError(f"{config.where} answered a non-text message content")
        return content
    raise BackendError(f"{last_error} (after {config.retries + 1} attempts)")


# A sentence ends at . ! or ? before whitespace, but not after a step number ("2."), a one-letter
# initial ("J.") or a common abbreviation; a decimal ("3.5") has no whitespace after its point.
SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<![0-9]\.)(?<!\b[A-Z]\.)"
    r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<!\bcf\.)(?<!\bDr\.)(?<!\bMr\.)"
    r"(?<!\bMs\.)(?<!\bNo\.)(?<!\bFig\.)(?<!\bapprox\.)(?<!\bincl\.)(?<!\bMon\.)(?<!\bTue\.)"
    r"(?<!\bWed\.)(?<!\bThu\.)(?<!\bFri\.)(?<!\bSat\.)(?<!\bSun\.)(?<!\bJan\.)(?<!\bFeb\.)"
    r"(?<!\bMar\.)(?<!\bApr\.)(?<!\bJun\.)(?<!\bJul\.)(?<!\bAug\.)(?<!\bSep\.)(?<!\bSept\.)"
    r"(?<!\bOct\.)(?<!\bNov\.)(?<!\bDec\.)\s+"
)
# The most of a retrieved row an extractive answer quotes (whole sentences; a playbook fits whole).
EXTRACT_CHARS = 2000


def sentences(text: str) -> list[str]:
    """The text's sentences, each with its own line breaks (a numbered step stays one line)."""
    return [part for part in SENTENCE_END.split(text.strip()) if part]


def extractive_answer(retrieved: list[Retrieved]) -> str:
    """The embedded default: the best row quoted whole (a playbook's title, problem and every
    step), or its first whole sentences when it is long; cited, and saying what it is."""
    if not retrieved:
        return ""
    best = retrieved[0]
    text = best.text.strip()
    if len(text) > EXTRACT_CHARS:
        kept: list[str] = []
        length = -1  # of the kept sentences joined by spaces
        for sentence in sentences(text):
            if kept and length + 1 + len(sentence) > EXTRACT_CHARS:
                break
            kept.append(sentence)
            length += 1 + len(sentence)
        text = " ".join(kept)[:EXTRACT_CHARS] + " …"
    return f"(extractive answer: no model configured) {best.title}\n{text}\n[{best.id}]"


def prompt(task: str, retrieved: list[Retrieved]) -> list[dict]:
    if not retrieved:
        return [
            {"role": "system", "content": "You are a careful engineer. Answer the task directly and concretely."},
            {"role": "user", "content": task},
        ]
    context = "\n\n".join(f"[{r.id}] {r.title}\n{r.text[:2000]}" for r in retrieved)
    return [
        {
            "role": "system",
            "content": "You are a careful engineer. Answer the task using the context rows below. "
            "Cite the id of every row you use in square brackets, e.g. [rag_0123abcd].",
        },
        {"role": "user", "content": f"Context:\n{context}\n\nTask: {task}"},
    ]


# -- validation ----------------------------------------------------------------------------------


def hedge_phrases() -> list[str]:
    with HEDGE_PHRASES_CSV.open(newline="") as handle:
        return [row["phrase"].lower() for row in csv.DictReader(handle)]


def validate(answer: str, retrieved: list[Retrieved], retrieval: bool, phrases: list[str]) -> ReplayValidation:
    reasons = []
    if not answer.strip():
        reasons.append("empty")
    lowered = answer.lower()
    reasons += [f"hedge:{phrase}" for phrase in phrases if phrase in lowered]
    if retrieval and retrieved and not set(CITATION.findall(answer)) & {r.id for r in retrieved}:
        reasons.append("no_citation")
    if retrieval and not retrieved:
        reasons.append("nothing_retrieved")
    if len(answer) > MAX_ANSWER_CHARS:
        reasons.append(f"too_long:{len(answer)}>{MAX_ANSWER_CHARS}")
    return ReplayValidation(passed=not reasons, reasons=reasons)


# -- the replay ----------------------------------------------------------------------------------


@dataclass
class Attempt:
    model: str
    output: str
    validation: ReplayValidation
    error: str | None = None


@dataclass
class Replay:
    run: ReplayRun
    retrieved: list[Retrieved]
    attempts: list[Attempt] = field(default_factory=list)


def _attempt(model: ModelConfig | None, messages: list[dict], retrieved, retrieval, phrases) -> Attempt:
    if model is None:
        output = extractive_answer(retrieved)
        validation = validate(output, retrieved, retrieval, phrases)
        if not retrieved:
            reasons = [*validation.reasons, "no_model: set DISTILL_LOCAL_MODEL_URL, or keep retrieval on"]
            validation = ReplayValidation(passed=False, reasons=reasons)
        return Attempt(EXTRACTIVE_MODEL, output, validation)
    try:
        output = chat(model, messages)
    except BackendError as exc:
        return Attempt(model.name, "", ReplayValidation(passed=False, reasons=[f"backend_error: {exc}"]), str(exc))
    return Attempt(model.name, output, validate(output, retrieved, retrieval, phrases))


def replay(
    home: Home,
    task: str,
    *,
    k: int = 3,
    retrieval: bool = True,
    local: ModelConfig | None = None,
    escalation: ModelConfig | None = None,
    allow_escalation: bool = False,
    local_only: bool = False,
    now: datetime | None = None,
) -> Replay:
    if not task.strip():
        raise DistillError("--task is empty: say what the model should do")
    if not retrieval and local is None:
        raise DistillError(
            "--no-retrieval needs a model, and none is configured: set DISTILL_LOCAL_MODEL_URL and "
            "DISTILL_LOCAL_MODEL (an OpenAI-compatible server), or drop --no-retrieval for the offline "
            "answer from the RAG corpus"
        )
    retrieved = retrieve(home, task, k) if retrieval else []
    messages = prompt(task, retrieved)
    phrases = hedge_phrases()
    attempts = [_attempt(local, messages, retrieved, retrieval, phrases)]
    if not attempts[0].validation.passed and allow_escalation and not local_only and escalation is not None:
        attempts.append(_attempt(escalation, messages, retrieved, retrieval, phrases))
    final = attempts[-1]
    ts = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    replay_id = "replay_" + hashlib.sha256(
        json.dumps([ts.isoformat(), task, final.model, final.output]).encode()
    ).hexdigest()[:20]
    run = ReplayRun(
        replay_id=replay_id,
        ts=ts,
        task=task,
        retrieval=retrieval,
        retrieved_ids=[r.id for r in retrieved],
        model=final.model,
        output=final.output,
        validation=final.validation,
        escalated=len(attempts) > 1,
    )
    return Replay(run, retrieved, attempts)


def append_log(home: Home, run: ReplayRun, max_bytes: int) -> Path:
    """Append to data/_kb/replay_runs.jsonl, first rotating it to a gzip archive past max_bytes."""
    home.kb.mkdir(parents=True, exist_ok=True)
    log = home.kb / "replay_runs.jsonl"
    line = run.model_dump_json() + "\n"
    if log.is_symlink():
        open_no_follow(log, os.O_RDONLY)  # raises, naming it
    if log.exists() and log.stat().st_size + len(line) > max_bytes:
        archive = free_path(home.kb, f"replay_runs.{run.ts.strftime('%Y%m%dT%H%M%S')}", ".jsonl.gz")
        with log.open("rb") as source, gzip.open(archive, "wb") as target:
            shutil.copyfileobj(source, target)
        log.unlink()
    append_line(log, line)
    return log


def escalation_off(allow_escalation: bool, local_only: bool, escalation: ModelConfig | None) -> str | None:
    """Why --allow-escalation will not escalate (one line), or None when it can."""
    if not allow_escalation:
        return None
    if local_only:
        return "escalation is off: --local-only forbids the escalation model that --allow-escalation allows"
    if escalation is None:
        return ("escalation is off: --allow-escalation needs DISTILL_ESCALATION_MODEL_URL and "
                "DISTILL_ESCALATION_MODEL, and neither URL is set")
    return None


def model_from_env(prefix: str, environ: dict[str, str]) -> ModelConfig | None:
    """DISTILL_<prefix>_MODEL_URL, DISTILL_<prefix>_MODEL and DISTILL_<prefix>_MODEL_API_KEY."""
    url = environ.get(f"DISTILL_{prefix}_MODEL_URL")
    if not url:
        return None
    model = environ.get(f"DISTILL_{prefix}_MODEL")
    if not model:
        raise DistillError(f"DISTILL_{prefix}_MODEL_URL is set but DISTILL_{prefix}_MODEL (the model name) is not")
    return ModelConfig(url=url, model=model, api_key=environ.get(f"DISTILL_{prefix}_MODEL_API_KEY") or None,
                       timeout=env_number(environ, "DISTILL_MODEL_TIMEOUT_S", 60.0, minimum=0.1))
