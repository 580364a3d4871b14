"""How every failure is answered: JSON `{"error": ...}` under the JSON prefixes, the error page
elsewhere, and never a traceback.

    HTTPException            its status and message (405 with the methods the path really has)
    RequestValidationError   422, one problem per parameter: {"field", "message"} in plain words
    anything else            ErrorBoundary: logged once off the event loop, answered 500

The boundary sits inside Starlette's ServerErrorMiddleware, which would re-raise the exception
to the server (a second, plain-text traceback in the logs).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndicator.domain import limits
from syndicator.web import sessions
from syndicator.web.auth import SignInRequired
from syndicator.web.context import Web
from syndicator.web.params import REFERENCE_PATTERN, REMOTE_URL_PATTERN
from syndicator.web.rendering import render
from syndicator.web.sessions import COOKIE

log = structlog.get_logger(__name__)

JSON_PREFIXES = ("/api", "/metrics", "/healthz", "/openapi.json")
INTERNAL = "internal error: it has been logged; please try again"
_PATTERNS = {
    limits.NO_CONTROL_PATTERN: "must not contain control characters",
    limits.NO_CONTROL_EXCEPT_LAYOUT_PATTERN: "must not contain control characters but tabs and newlines",
    REMOTE_URL_PATTERN: "must be an http or https address",
    REFERENCE_PATTERN: "must be an id, a reference, or buyer/reference (letters, digits and / _ . -)",
}
_PLAIN = {
    "missing": "is required",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_too_long": "must be at most {max_length} characters",
    "string_too_short": "must not be empty",
    "enum": "is not one of: {expected}",
    "literal_error": "is not one of: {expected}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "extra_forbidden": "is not a field of this request",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "json_invalid": "malformed JSON: {error}",
    "value_error": "{error}",
}


def wants_json(path: str) -> bool:
    """Whether answers on this path are JSON (API clients) rather than pages (people)."""
    return path.startswith(JSON_PREFIXES)


def plain_message(error: dict[str, Any]) -> str:
    """A pydantic error in the words a person reads; the field is named separately."""
    context = error.get("ctx") or {}
    if error["type"] == "string_pattern_mismatch" and context.get("pattern") in _PATTERNS:
        return _PATTERNS[context["pattern"]]
    template = _PLAIN.get(error["type"])
    if template is None:
        return str(error["msg"])
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return str(error["msg"])


def problems_of(exc: RequestValidationError) -> list[dict[str, str]]:
    """One {"field", "message"} per problem; the field is the parameter or body path."""
    return [
        {"field": ".".join(str(p) for p in e["loc"][1:]) or "(body)", "message": plain_message(e)}
        for e in exc.errors()
    ]


def _who(request: Request, app: Web) -> sessions.BrowserSession | None:
    try:
        return sessions.resolve(app.store.sessions, request.cookies.get(COOKIE), app.clock())
    except Exception:  # the error page must render even when the database is the problem
        return None


def error_page(request: Request, status: int, message: str, headers: Any = None) -> Response:
    """The answer to a failure: JSON for API clients, the error page for people."""
    if wants_json(request.url.path):
        return JSONResponse({"error": message}, status, headers=headers)
    app: Web = request.app.state.web
    who = _who(request, app) if status != 500 else None
    response = render(request, app, who, "error.html", status, status=status, message=message)
    if headers:
        response.headers.update(headers)
    return response


def allowed_methods(request: Request) -> list[str]:
    """The methods of the resource this path names (Starlette names only the first route's).

    A path can match several templates (`/api/tenders/X/cancel` is also a tender reference
    `X/cancel`); the resource is the most specific template, the one with the most literal text.
    """
    by_template: dict[str, set[str]] = {}
    path = request.scope["path"]
    for route in iter_route_contexts(request.app.router.routes):  # included routers' routes too
        if route.path and route.methods and compile_path(route.path)[0].match(path):
            by_template.setdefault(route.path, set()).update(route.methods)
    if not by_template:
        return []
    resource = max(by_template, key=lambda template: len(re.sub(r"\{[^}]*\}", "", template)))
    return sorted(by_template[resource])


def _message(exc: StarletteHTTPException, request: Request) -> str:
    if exc.status_code == 405:
        return f"{request.method} is not allowed here"
    return str(exc.detail)


def install_handlers(api: FastAPI) -> None:
    """The answers to sign-in redirects, HTTP errors and invalid requests."""

    @api.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        query = f"?{urlencode({'next': exc.next_path})}" if exc.next_path not in ("", "/") else ""
        return RedirectResponse(f"/signin{query}", status_code=303)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_page(request, exc.status_code, _message(exc, request), headers or None)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = problems_of(exc)
        message = "invalid request: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        if wants_json(request.url.path):
            return JSONResponse({"error": message, "problems": problems}, 422)
        return error_page(request, 422, message)


class ErrorBoundary:
    """ASGI middleware: an exception becomes one log line (rendered on a worker thread, so a long
    traceback never stalls the event loop) and a 500 without details, if nothing was sent yet."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            request = Request(scope)
            await anyio.to_thread.run_sync(_log_crash, request.method, request.url.path, exc)
            if not started:
                await error_page(request, 500, INTERNAL)(scope, receive, send)


def _log_crash(method: str, path: str, exc: Exception) -> None:
    log.error("request failed", method=method, path=path, exc_info=exc)
