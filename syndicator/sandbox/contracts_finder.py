"""A local stand-in for Contracts Finder's API (docs/channels/contracts-finder.md).

    POST /contracts-finder/Token                                 Basic client id:secret, form grant_type
         200 {access_token, expires_in, token_type: "bearer"}    400 {error: invalid_client | ...}
    POST /contracts-finder/api/rest/2/create_draft_notice/json   bearer; a Notice
         200 {code: "Ok", errors: null, noticeId}                400 ServiceResponse {code, errors}
    GET  /contracts-finder/Draft/Notices/Lookup/{identifier}     bearer; [{id, identifier, title}]
    POST /contracts-finder/api/rest/2/publish_draft_notice/json  bearer; {noticeId}
    GET  /contracts-finder/api/rest/2/get_published_notice/json/{id}   public; FullNotice, or 404
    POST /contracts-finder/Published/Notice/Withdraw/2           bearer; {noticeId, withdrawalReason}
    POST /contracts-finder/api/rest/2/award_notice/json          bearer; {noticeId, awardedDate,
         awardedValue, description, awardDetails} of a published notice [unconfirmed method]
    GET  /contracts-finder/Notice/{id}                           public: the notice's page (HTML)

Every request counts towards a rate limit (`rate_limit` requests per `rate_window` seconds);
past it, every request is answered 403 with a rate-limit page for `rate_block` seconds, as
Contracts Finder documents for its API. A draft is one ledger entry under its Identifier, which
is unique in the organisation: a second create with it is refused (400) and counted as another
receipt. It is `received` until published, then `published`; a withdrawal is an entry of its
own (`notice: "cancellation"`), and so is an award (`notice: "award"`, key
`<Identifier>/award`). The version comes from the Identifier (`...-v2-...`, the
adapter's convention; Contracts Finder's model has no member for it). Members are matched
case-insensitively, as ASP.NET does; unlike the real service (which is believed to ignore them),
unknown members are refused, so a misspelt member fails here rather than vanishing there.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote

from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.contracts_finder_notice import award_problems, lower, notice_problems
from syndicator.sandbox.ledger import Entry, Ledger

API = "/api/rest/2/"
CREATE = API + "create_draft_notice/json"
PUBLISH = API + "publish_draft_notice/json"
READ = API + "get_published_notice/json/"
LOOKUP = "/draft/notices/lookup/"
WITHDRAW = "/published/notice/withdraw/2"
AWARD = API + "award_notice/json"
PAGE = "/notice/"
DENIED = "Authorization has been denied for this request."  # ASP.NET Web API's own 401 text
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OUR_IDENTIFIER = re.compile(r"(?P<reference>.+)-v(?P<version>[0-9]+)-[0-9a-f]{12}(?:-r[0-9]+)?")


def _service(status: int, *errors: tuple[str, str], **extra: Any) -> SandboxResponse:
    """A ServiceResponse: `{"code", "errors"}` (plus extra members such as noticeId)."""
    found = [{"location": where, "message": message} for where, message in errors]
    return SandboxResponse.json(
        status, {"code": "ValidationError" if found else "Ok", "errors": found or None, **extra}
    )


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Notice:
    """One notice of the organisation: its ledger entry, the members as received, its states."""

    entry: Entry
    received: dict[str, Any]
    created_at: float
    published_at: float | None = None
    withdrawn_at: float | None = None
    withdrawn_reason: str | None = None
    withdrawal: Entry | None = None
    award: Entry | None = None
    awarded_date: str | None = None


class ContractsFinderSimulator(Simulator):
    """Contracts Finder's token, draft, publish, read-back, lookup and withdraw methods."""

    channel = "contracts-finder"
    prefix = "/contracts-finder"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        super().__init__(config, ledger)
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> wall-clock expiry
        self._notices: dict[str, _Notice] = {}  # by GUID
        self.token_ttl = 3600  # seconds, as the documentation's sample token
        self.rate_limit = 1000  # requests per window (0: no limit)
        self.rate_window = 60.0
        self.rate_block = 300.0  # the documented wait after the rate-limit answer (5 minutes)
        self._hits: deque[float] = deque()
        self._blocked_until = float("-inf")

    # -- controls for tests and training ---------------------------------------------------

    def revoke_tokens(self) -> None:
        """Forget every issued token (the next API call with one answers 401)."""
        with self._lock:
            self._tokens.clear()

    def lift_rate_limit(self) -> None:
        """End a rate-limit block and forget the requests counted so far."""
        with self._lock:
            self._hits.clear()
            self._blocked_until = float("-inf")

    # -- the API ---------------------------------------------------------------------------

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Route one request (paths are case-insensitive, as on IIS)."""
        if self._over_rate_limit():
            return self._rate_limit_page()
        path, method = request.path.lower().rstrip("/") or "/", request.method
        if path == "/token":
            return self._token(request) if method == "POST" else self._not_allowed("POST")
        if path.startswith(READ) and method == "GET":
            return self._read(request.path[len(READ) :])
        if path.startswith(PAGE) and method == "GET":
            return self._page(request.path[len(PAGE) :])
        routes = {
            CREATE: ("POST", self._create),
            PUBLISH: ("POST", self._publish),
            WITHDRAW: ("POST", self._withdraw),
            AWARD: ("POST", self._award),
        }
        if path in routes or path.startswith(LOOKUP):
            if not self._authorised(request):
                return SandboxResponse.json(401, {"message": DENIED}, **{"WWW-Authenticate": "Bearer"})
            if path.startswith(LOOKUP):
                return (
                    self._lookup(unquote(request.path[len(LOOKUP) :]))
                    if method == "GET"
                    else self._not_allowed("GET")
                )
            allowed, action = routes[path]
            return action(request) if method == allowed else self._not_allowed(allowed)
        return SandboxResponse.json(404, {"message": f"No HTTP resource was found at {request.path}"})

    def reject(self, request: SandboxRequest, reason: str) -> SandboxResponse:
        """Contracts Finder's refusal: HTTP 400 with a ServiceResponse (the `reject-422` fault)."""
        return _service(400, ("Notice", reason))

    def refuse_credentials(self, request: SandboxRequest, status: int) -> SandboxResponse:
        """401 (the token is not accepted) or 403 (not allowed), for the auth-401/403 faults."""
        if status == 401:
            return SandboxResponse.json(
                401, {"message": f"{DENIED} (injected fault)"}, **{"WWW-Authenticate": "Bearer"}
            )
        return SandboxResponse.json(403, {"message": "This account may not publish notices (injected fault)"})

    def _not_allowed(self, allowed: str) -> SandboxResponse:
        return SandboxResponse.json(
            405, {"message": "The requested resource does not support this method"}, Allow=allowed
        )

    def _over_rate_limit(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._blocked_until:
                return True
            while self._hits and self._hits[0] <= now - self.rate_window:
                self._hits.popleft()
            self._hits.append(now)
            if self.rate_limit and len(self._hits) > self.rate_limit:
                self._blocked_until = now + self.rate_block
                return True
        return False

    def _rate_limit_page(self) -> SandboxResponse:
        page = (
            "<html><head><title>Forbidden - Contracts Finder (sandbox)</title></head><body>"
            "<h1>Request forbidden</h1><p>You may have gone over the request rate limit. Make no "
            "further requests for 5 minutes.</p></body></html>"
        )
        return SandboxResponse(403, page.encode("utf-8"), "text/html; charset=utf-8")

    def _token(self, request: SandboxRequest) -> SandboxResponse:
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            given = b""
        expected = f"{self.config.cf_client_id}:{self.config.cf_client_secret}".encode()
        if scheme.lower() != "basic" or not hmac.compare_digest(given, expected):
            return SandboxResponse.json(400, {"error": "invalid_client"})
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        if "application/x-www-form-urlencoded" not in (request.header("Content-Type") or ""):
            return SandboxResponse.json(400, {"error": "invalid_request"})
        if form.get("grant_type") != "client_credentials":
            return SandboxResponse.json(400, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
        return SandboxResponse.json(
            200, {"access_token": token, "expires_in": self.token_ttl, "token_type": "bearer"}
        )

    def _authorised(self, request: SandboxRequest) -> bool:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        with self._lock:
            expiry = self._tokens.get(token.strip())
        return scheme.lower() == "bearer" and expiry is not None and time.time() < expiry

    def _body(self, request: SandboxRequest) -> dict[str, Any] | SandboxResponse:
        if "json" not in (request.header("Content-Type") or ""):
            return SandboxResponse.json(415, {"message": "The request's media type is not supported"})
        try:
            document = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError) as exc:
            return _service(400, ("(body)", f"is not UTF-8 JSON: {exc}"))
        if not isinstance(document, dict):
            return _service(400, ("(body)", "must be a JSON object"))
        return lower(document)

    def _create(self, request: SandboxRequest) -> SandboxResponse:
        document = self._body(request)
        if isinstance(document, SandboxResponse):
            return document
        identifier = document.get("identifier")
        with self._lock:
            existing = self.ledger.find(self.channel, identifier) if isinstance(identifier, str) else None
            if existing is not None:
                self.ledger.repeat(existing)
                return _service(
                    400, ("Identifier", "a notice with this identifier already exists in your organisation")
                )
            problems = notice_problems(document)
            if problems:
                return _service(400, *problems)
            identifier = str(identifier)  # notice_problems checked it is a string
            notice_id = str(uuid.uuid4())
            ours = OUR_IDENTIFIER.fullmatch(identifier)
            now = time.time()
            entry = Entry(
                channel=self.channel,
                key=identifier,
                remote_id=notice_id,
                tender_reference=ours["reference"] if ours else None,
                body=request.body,
                extension="json",
                first_received_at=now,
                publish_at=math.inf,  # a draft until published
                url=f"{self.config.base_url()}{self.prefix}/Notice/{notice_id}",
                meta={"identifier": identifier},
                notice="contract",
                version=int(ours["version"]) if ours else None,
            )
            self.ledger.add(entry)
            self._notices[notice_id] = _Notice(entry, json.loads(request.body), now)
        return _service(200, noticeId=notice_id)

    def _notice_id(self, request: SandboxRequest) -> tuple[dict[str, Any], _Notice | None] | SandboxResponse:
        document = self._body(request)
        if isinstance(document, SandboxResponse):
            return document
        given = document.get("noticeid")
        found = self._notices.get(given.lower()) if isinstance(given, str) else None
        return document, found

    def _publish(self, request: SandboxRequest) -> SandboxResponse:
        parsed = self._notice_id(request)
        if isinstance(parsed, SandboxResponse):
            return parsed
        _, notice = parsed
        with self._lock:
            if notice is None:
                return _service(400, ("NoticeId", "no draft notice with this id in your organisation"))
            if notice.published_at is not None:
                return _service(400, ("NoticeId", "the notice is already published"))
            notice.published_at = time.time()
            self.ledger.update(notice.entry, publish_at=notice.published_at)
        return _service(200)

    def _withdraw(self, request: SandboxRequest) -> SandboxResponse:
        parsed = self._notice_id(request)
        if isinstance(parsed, SandboxResponse):
            return parsed
        document, notice = parsed
        reason = document.get("withdrawalreason")
        with self._lock:
            if notice is None or notice.published_at is None:
                return _service(400, ("NoticeId", "no published notice with this id in your organisation"))
            if notice.withdrawal is not None:
                self.ledger.repeat(notice.withdrawal)
                return _service(400, ("NoticeId", "the notice has already been withdrawn"))
            if not isinstance(reason, str) or not reason.strip():
                return _service(400, ("WithdrawalReason", "is required"))
            now = time.time()
            contract = notice.entry
            withdrawal = Entry(
                channel=self.channel,
                key=f"{contract.key}/withdrawal",
                remote_id=f"{contract.remote_id}/withdrawal",
                tender_reference=contract.tender_reference,
                body=request.body,
                extension="json",
                first_received_at=now,
                publish_at=now,
                url=contract.url,
                meta={"withdrawn": contract.remote_id, "reason": reason},
                notice="cancellation",
                version=contract.version,  # of the notice withdrawn: the request names no version
            )
            self.ledger.add(withdrawal)
            notice.withdrawn_at, notice.withdrawn_reason, notice.withdrawal = now, reason, withdrawal
        return _service(200, noticeId=contract.remote_id)

    def _award(self, request: SandboxRequest) -> SandboxResponse:
        """The award of a published notice that is not withdrawn; a second award of it is
        refused (400) and counted as another receipt of the first."""
        parsed = self._notice_id(request)
        if isinstance(parsed, SandboxResponse):
            return parsed
        document, notice = parsed
        with self._lock:
            if notice is None or notice.published_at is None or notice.withdrawn_at is not None:
                return _service(
                    400, ("NoticeId", "no published notice with this id in your organisation to award")
                )
            if notice.award is not None:
                self.ledger.repeat(notice.award)
                return _service(400, ("NoticeId", "the notice has already been awarded"))
            problems = award_problems(document)
            if problems:
                return _service(400, *problems)
            now = time.time()
            contract = notice.entry
            award = Entry(
                channel=self.channel,
                key=f"{contract.key}/award",
                remote_id=f"{contract.remote_id}/award",
                tender_reference=contract.tender_reference,
                body=request.body,
                extension="json",
                first_received_at=now,
                publish_at=now,
                url=contract.url,
                meta={"awarded": contract.remote_id},
                notice="award",
                version=contract.version,  # of the notice awarded: the request names no version
            )
            self.ledger.add(award)
            notice.award, notice.awarded_date = award, str(document["awardeddate"])
        return _service(200, noticeId=contract.remote_id)

    def _lookup(self, prefix: str) -> SandboxResponse:
        with self._lock:
            found = [
                {"id": notice_id, "identifier": n.entry.key, "title": lower(n.received).get("title")}
                for notice_id, n in self._notices.items()
                if n.entry.key.startswith(prefix)
            ]
        return SandboxResponse.json(200, found)

    def _published(self, notice_id: str) -> _Notice | None:
        with self._lock:
            notice = self._notices.get(notice_id.lower()) if GUID.fullmatch(notice_id.lower()) else None
            return notice if notice is not None and notice.published_at is not None else None

    def _read(self, notice_id: str) -> SandboxResponse:
        notice = self._published(notice_id)
        if notice is None or notice.published_at is None:
            return SandboxResponse.json(404, {"message": f"No published notice {notice_id}"})
        published = _iso(notice.published_at)
        return SandboxResponse.json(
            200,
            {
                "id": notice.entry.remote_id,
                "notice": {**notice.received, "publishedDate": published},
                "createdDate": _iso(notice.created_at),
                "isPublished": True,
                "isPreAwarded": False,
                "withdrawnDate": _iso(notice.withdrawn_at) if notice.withdrawn_at else None,
                "withdrawnReason": notice.withdrawn_reason,
                "awardedDate": notice.awarded_date,
                "publishedVersion": [{"version": 1, "publishedDate": published}],
            },
        )

    def _page(self, notice_id: str) -> SandboxResponse:
        notice = self._published(notice_id)
        if notice is None:
            return SandboxResponse(
                404, b"<!doctype html><title>Not found</title>", "text/html; charset=utf-8"
            )
        received = lower(notice.received)
        withdrawn = (
            f"<p><strong>Withdrawn:</strong> {html.escape(notice.withdrawn_reason or '')}</p>"
            if notice.withdrawn_at
            else ""
        )
        page = (
            f"<!doctype html><meta charset=utf-8><title>{html.escape(str(received.get('title')))}</title>"
            f"<h1>{html.escape(str(received.get('title')))}</h1>{withdrawn}"
            f"<p>Procurement reference: {html.escape(notice.entry.key)}</p>"
            f"<pre>{html.escape(str(received.get('description')))}</pre>"
        )
        return SandboxResponse(200, page.encode("utf-8"), "text/html; charset=utf-8")
