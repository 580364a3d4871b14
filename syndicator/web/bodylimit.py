"""A streaming limit on request bodies for the whole application, answered like every other error.

    Content-Length over the limit        413 at once, nothing read
    chunked, or a lying Content-Length   counted while read; 413 as soon as it passes the limit

The limit is MAX_BODY_BYTES (the tender intake's largest document) for JSON and anything else,
and MAX_FORM_BYTES for form posts, which hold a handful of short fields. (Starlette's own body
limit answers in plain text, and replaces any answer to a request that declared a larger body,
so the JSON API's 413 could not say what it says everywhere else.)
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndicator.domain import limits
from syndicator.web.errors import error_page

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the body passes the limit (FastAPI re-raises HTTP errors)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


def limit_for(headers: Headers) -> int:
    """The most a request with these headers may send."""
    kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return limits.MAX_FORM_BYTES if kind in FORMS else limits.MAX_BODY_BYTES


def _declared(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


class BodyLimit:
    """ASGI middleware: refuse an over-size body before or while reading it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = limit_for(headers)
        declared = _declared(headers)
        if declared is not None and declared > limit:
            await error_page(Request(scope), 413, BodyTooLarge(limit).detail)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as exc:  # read outside a route (a middleware): answer here
            if started:
                raise
            await error_page(Request(scope), 413, exc.detail)(scope, receive, send)
