"""An in-memory Contracts Finder for the adapter's unit tests, answering through
`function_session` (no sockets): tokens, drafts unique per Identifier, publish, read-back, lookup,
withdraw and award, plus scripted answers to make one step fail."""

from __future__ import annotations

import base64
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from syndicator.channel.http import Response

Answer = Response | Exception | Callable[[requests.PreparedRequest], Response]
JSON = {"Content-Type": "application/json; charset=utf-8"}
RATE_LIMIT_PAGE = (
    b"<html><head><title>Forbidden - Contracts Finder</title></head><body><h1>Request forbidden</h1>"
    b"<p>The request rate limit may have been exceeded.</p></body></html>"
)


def answer(status: int, document: Any = None, **headers: str) -> Response:
    """A JSON answer."""
    body = b"" if document is None else json.dumps(document).encode()
    return Response(status, {**JSON, **headers}, body)


def rate_limit_page() -> Response:
    """Contracts Finder's documented "too many requests" answer: 403 and an HTML page."""
    return Response(403, {"Content-Type": "text/html"}, RATE_LIMIT_PAGE)


@dataclass
class Draft:
    """One notice the fake holds."""

    notice_id: str
    document: dict[str, Any]
    published: bool = False
    withdrawn_reason: str | None = None
    award: dict[str, Any] | None = None  # the award request, once awarded


@dataclass
class FakeContractsFinder:
    """Behaves like the documented API; `script` overrides the next answers to one step."""

    client_id: str
    client_secret: str
    token_lifetime: int = 3600
    created_as: str = "object"  # or "string": create answers a bare JSON GUID
    drafts: dict[str, Draft] = field(default_factory=dict)  # by Identifier
    tokens: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)
    requests: list[requests.PreparedRequest] = field(default_factory=list)
    script: dict[str, deque[Answer]] = field(default_factory=dict)

    def then(self, step: str, *answers: Answer) -> None:
        """Answer the next requests to `step` (token, create, lookup, publish, read, withdraw, award)."""
        self.script.setdefault(step, deque()).extend(answers)

    def count(self, step: str) -> int:
        """How many requests reached `step`."""
        return sum(1 for _, s in self.calls if s == step)

    def __call__(self, request: requests.PreparedRequest) -> Response:
        self.requests.append(request)
        path = urlsplit(request.url or "").path
        step = _step(path)
        self.calls.append((request.method or "", step))
        queued = self.script.get(step)
        if queued:
            scripted = queued.popleft()
            if isinstance(scripted, Exception):
                raise scripted
            return scripted(request) if callable(scripted) else scripted
        if step == "token":
            return self._token(request)
        if step in ("create", "lookup", "publish", "withdraw", "award") and not self._bearer(request):
            return answer(401, {"message": "Authorization has been denied for this request."})
        handler = getattr(self, f"_{step}", None)
        return handler(request, path) if handler else answer(404, {"message": f"no {path}"})

    def _bearer(self, request: requests.PreparedRequest) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "bearer" and token in self.valid

    def _token(self, request: requests.PreparedRequest) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return answer(400, {"error": "invalid_client"})
        token = f"fake-access-token-{len(self.tokens) + 1:04d}"
        self.tokens.append(token)
        self.valid.add(token)
        return answer(200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "bearer"})

    def _create(self, request: requests.PreparedRequest, path: str) -> Response:
        document = json.loads(request.body or b"{}")
        identifier = document["identifier"]
        if identifier in self.drafts:
            return answer(
                400, {"code": "ValidationError", "errors": [{"location": "Identifier", "message": "in use"}]}
            )
        notice_id = f"00000000-0000-4000-8000-{len(self.drafts) + 1:012d}"
        self.drafts[identifier] = Draft(notice_id, document)
        if self.created_as == "string":
            return answer(200, notice_id)
        return answer(200, {"code": "Ok", "errors": None, "noticeId": notice_id})

    def _lookup(self, request: requests.PreparedRequest, path: str) -> Response:
        prefix = unquote(path.rsplit("/", 1)[1])
        found = [
            {"id": d.notice_id, "identifier": i, "title": d.document.get("title")}
            for i, d in self.drafts.items()
            if i.startswith(prefix)
        ]
        return answer(200, found)

    def by_id(self, notice_id: str) -> Draft | None:
        """The draft with this GUID."""
        return next((d for d in self.drafts.values() if d.notice_id == notice_id), None)

    def _publish(self, request: requests.PreparedRequest, path: str) -> Response:
        draft = self.by_id(json.loads(request.body or b"{}").get("noticeId", ""))
        if draft is None or draft.published:
            return answer(400, {"code": "ValidationError", "errors": ["no such draft"]})
        draft.published = True
        return answer(200, {"code": "Ok", "errors": None})

    def _read(self, request: requests.PreparedRequest, path: str) -> Response:
        draft = self.by_id(path.rsplit("/", 1)[1])
        if draft is None or not draft.published:
            return answer(404, {"message": "not found"})
        return answer(200, full_notice(draft))

    def _withdraw(self, request: requests.PreparedRequest, path: str) -> Response:
        body = json.loads(request.body or b"{}")
        draft = self.by_id(body.get("noticeId") or "")
        if draft is None or not draft.published or draft.withdrawn_reason:
            return answer(400, {"code": "ValidationError", "errors": ["cannot withdraw"]})
        draft.withdrawn_reason = body["withdrawalReason"]
        return answer(200, {"code": "Ok", "errors": None, "noticeId": draft.notice_id})

    def _award(self, request: requests.PreparedRequest, path: str) -> Response:
        body = json.loads(request.body or b"{}")
        draft = self.by_id(body.get("noticeId") or "")
        if draft is None or not draft.published or draft.withdrawn_reason or draft.award:
            return answer(400, {"code": "ValidationError", "errors": ["cannot award"]})
        draft.award = body
        return answer(200, {"code": "Ok", "errors": None, "noticeId": draft.notice_id})


def full_notice(draft: Draft) -> dict[str, Any]:
    """A FullNotice as get_published_notice answers it."""
    withdrawn = draft.withdrawn_reason is not None
    return {
        "id": draft.notice_id,
        "notice": {**draft.document, "publishedDate": "2026-12-01T09:00:05Z"},
        "isPublished": draft.published,
        "withdrawnDate": "2026-12-02T10:00:00Z" if withdrawn else None,
        "withdrawnReason": draft.withdrawn_reason,
        "awardedDate": draft.award["awardedDate"] if draft.award else None,
    }


def _step(path: str) -> str:
    lowered = path.lower()
    for marker, step in (
        ("/token", "token"),
        ("/create_draft_notice/", "create"),
        ("/publish_draft_notice/", "publish"),
        ("/get_published_notice/", "read"),
        ("/draft/notices/lookup/", "lookup"),
        ("/published/notice/withdraw/", "withdraw"),
        ("/award_notice/", "award"),
    ):
        if marker in lowered:
            return step
    return "unknown"


def form(request: requests.PreparedRequest) -> dict[str, str]:
    """A form-encoded request body."""
    body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
    return dict(parse_qsl(body))
