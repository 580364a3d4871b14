"""Who is asking, decided before any request body is read.

FastAPI reads (and buffers) a body before it resolves dependencies, so without this gate an
anonymous client could make the server hold a body as large as the streaming limit before
being told its token is wrong. Here a request that may carry a body is refused at once when:

    /api/...            the Bearer token is missing or wrong (401; 429 after repeated failures)
    any other POST      there is no signed-in session (303 to the sign-in page), except the
                        sign-in form itself, whose body is capped at MAX_FORM_BYTES

The principal found is kept in the request state, so the route's own check reuses it.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from syndicator.web import sessions
from syndicator.web.auth import identify
from syndicator.web.context import Web
from syndicator.web.errors import error_page
from syndicator.web.sessions import COOKIE

WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS"})
ANONYMOUS_FORMS = frozenset({"/signin"})


class TokenFirst:
    """ASGI middleware: authenticate requests that may carry a body before reading it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in WITHOUT_BODY:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        app: Web = request.app.state.web
        path = request.url.path
        if path == "/api" or path.startswith("/api/"):
            try:
                principal = await run_in_threadpool(identify, request, app)
            except HTTPException as exc:
                await error_page(request, exc.status_code, str(exc.detail), exc.headers)(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
        elif path not in ANONYMOUS_FORMS:
            cookie = request.cookies.get(COOKIE)
            found = await run_in_threadpool(sessions.resolve, app.store.sessions, cookie, app.clock())
            if found is None:
                await RedirectResponse("/signin", status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)
