"""The review queue's web app (docs/design.md, "Review"): server-side pages, a JSON API, and a
token for every request. Every text from a trace is hostile: the templates escape it, the
Content-Security-Policy runs only the app's own script, and secrets are masked before rendering.
"""

import hashlib
import hmac
import os
import secrets
import socket
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from distill.errors import DistillError
from distill.home import Home, open_no_follow
from distill.terminal import printable
from distill.review import CATEGORIES, DECISIONS, Decision, Filters, Reviews, field_error

HERE = Path(__file__).parent
COOKIE = "distill_review"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
PAGE_SIZE = 100


def write_token(home: Home) -> str:
    """A new token for this server, in data/review.token, readable by the owner only."""
    token = secrets.token_urlsafe(24)
    path = home.root / "data" / "review.token"
    path.unlink(missing_ok=True)
    fd = open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w") as handle:
        handle.write(token + "\n")
    return token


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status, self.detail = status, detail


def create_app(reviews: Reviews, token: str) -> FastAPI:
    app = FastAPI(title="distill review", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=HERE / "templates")
    # every text is escaped by autoescape; control characters and bidi overrides (which would
    # reorder what a reviewer reads) are shown as escapes
    templates.env.finalize = lambda value: printable(value, keep_newlines=True) if isinstance(value, str) else value
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    form_token = hmac.new(token.encode(), b"review form", hashlib.sha256).hexdigest()

    def check(given: str | None) -> None:
        if not given:
            raise Refused(401, "a token is needed: open the address `distill review` printed, or send Authorization: Bearer TOKEN")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Refused(403, "wrong token: use the one in data/review.token of this server's home")

    def page_auth(request: Request) -> None:
        check(request.cookies.get(COOKIE) or _bearer(request))

    def api_auth(request: Request) -> None:
        check(_bearer(request) or request.cookies.get(COOKIE))

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status)
        return HTMLResponse(templates.get_template("error.html").render(status=exc.status, detail=exc.detail), exc.status)

    @app.exception_handler(DistillError)
    async def distill_error(request: Request, exc: DistillError):
        return await refused(request, Refused(409, str(exc)))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "form"))
        return await refused(request, Refused(422, f"{where}: {first['msg']}" if where else first["msg"]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return await refused(request, Refused(exc.status_code, str(exc.detail)))

    def filters_of(category: str | None, reason: str | None, stream: str | None, model: str | None, day: str | None) -> Filters:
        category = category or "needs_human_review"
        if category not in CATEGORIES:
            raise Refused(422, f"category: must be one of {', '.join(CATEGORIES)}")
        return Filters(category, reason or None, stream or None, model or None, day or None)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    # -- pages --------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def queue_page(
        request: Request,
        token_param: Annotated[str | None, Query(alias="token")] = None,
        category: str | None = None,
        reason: str | None = None,
        stream: str | None = None,
        model: str | None = None,
        day: str | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
    ):
        if token_param is not None:  # the printed address: keep the token in a cookie, drop it from the URL
            check(token_param)
            query = {k: v for k, v in request.query_params.items() if k != "token"}
            response = RedirectResponse("/" + ("?" + urlencode(query) if query else ""), status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
            return response
        page_auth(request)
        filters = filters_of(category, reason, stream, model, day)
        queue = reviews.queue(filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return templates.TemplateResponse(
            request,
            "queue.html",
            {
                "queue": queue,
                "filters": filters,
                "page": page,
                "pages": max(1, -(-queue["total"] // PAGE_SIZE)),
                "categories": CATEGORIES,
                "form_token": form_token,
                "query": _query(filters),
                "reviewer": reviews.reviewer,
            },
        )

    @app.get("/runs/{run_id:path}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str, category: str | None = None, reason: str | None = None,
                 stream: str | None = None, model: str | None = None, day: str | None = None):
        page_auth(request)
        filters = filters_of(category, reason, stream, model, day)
        run = reviews.run(run_id)
        if run is None:
            raise Refused(404, f"no scored run has id {run_id!r} in the last run's outputs")
        return templates.TemplateResponse(
            request,
            "run.html",
            {"run": run, "form_token": form_token, "query": _query(filters), "decisions": DECISIONS,
             "reviewer": reviews.reviewer},
        )

    @app.post("/decide/{run_id:path}")
    def decide_form(
        request: Request,
        run_id: str,
        decision: Annotated[str, Form()],
        csrf: Annotated[str, Form()],
        edited_response: Annotated[str | None, Form()] = None,
        notes: Annotated[str | None, Form()] = None,
        back: Annotated[str, Form()] = "",
    ):
        page_auth(request)
        if not hmac.compare_digest(csrf.encode(), form_token.encode()):
            raise Refused(403, "the form token is wrong: reload the page and decide again")
        # the editor's text travels with every button of the form; only an edit keeps it
        edited = edited_response if decision == "edit" else None
        review_id = _decide(run_id, {"decision": decision, "edited_response": edited, "notes": notes})
        if request.headers.get("accept") == "application/json":
            return JSONResponse({"review_id": review_id, "run_id": run_id}, status_code=201)
        filters = Filters(**dict(_parse_query(back)))
        following = reviews.next_run(filters, after=run_id)
        where = f"/runs/{following}" if following else "/"
        return RedirectResponse(where + ("?" + back if back else ""), status_code=303)

    # -- the JSON API ------------------------------------------------------------------------

    @app.get("/api/queue")
    def api_queue(
        request: Request,
        category: str | None = None,
        reason: str | None = None,
        stream: str | None = None,
        model: str | None = None,
        day: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ):
        api_auth(request)
        return reviews.queue(filters_of(category, reason, stream, model, day), limit=limit, offset=offset)

    @app.get("/api/runs/{run_id:path}")
    def api_run(request: Request, run_id: str):
        api_auth(request)
        run = reviews.run(run_id)
        if run is None:
            raise Refused(404, f"no scored run has id {run_id!r} in the last run's outputs")
        return run

    @app.post("/api/runs/{run_id:path}/decision", status_code=201)
    async def api_decide(request: Request, run_id: str):
        # the bearer header only: a cookie would let another site's form post here
        check(_bearer(request))
        try:
            body = await request.json()
        except ValueError:
            raise Refused(400, "the body is not JSON: send {\"decision\": ...} with Content-Type application/json") from None
        if not isinstance(body, dict):
            raise Refused(422, "the body must be a JSON object")
        reviewer = body.get("reviewer")
        review_id = _decide(run_id, body, reviewer)
        return {"review_id": review_id, "run_id": run_id}

    def _decide(run_id: str, body: dict[str, Any], reviewer: str | None = None) -> str:
        try:
            decision = Decision.model_validate({**body, "reviewer": reviewer} if reviewer else body)
        except ValidationError as exc:
            raise Refused(422, field_error(exc)) from None
        try:
            return reviews.decide(run_id, decision)
        except KeyError:
            raise Refused(404, f"no scored run has id {run_id!r} in the last run's outputs") from None

    return app


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _query(filters: Filters) -> str:
    return urlencode({k: v for k, v in vars(filters).items() if v and not (k == "category" and v == "needs_human_review")})


def _parse_query(query: str) -> list[tuple[str, str]]:
    allowed = {"category", "reason", "stream", "model", "day"}
    return [(k, v) for k, v in parse_qsl(query) if k in allowed]


def serve(home: Home, host: str, port: int, reviewer: str | None, announce) -> None:
    """Run the app until interrupted; `announce` gets the address with the token (port 0: any
    free port, the address names the one taken)."""
    import uvicorn

    reviews = Reviews(home, reviewer)
    reviews.generation()  # a home with no completed run: one line, before binding the port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections wait from now on, before the address is announced
    except OSError as exc:
        sock.close()
        raise DistillError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another with --port or --host") from None
    port = sock.getsockname()[1]
    token = write_token(home)
    server = uvicorn.Server(uvicorn.Config(create_app(reviews, token), log_level="warning", access_log=False))
    shown = f"[{host}]" if ":" in host else host
    announce(f"review queue: http://{shown}:{port}/?token={token}")
    server.run(sockets=[sock])
