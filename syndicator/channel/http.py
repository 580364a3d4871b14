"""The base of every HTTP adapter: one `requests` session per adapter, connect and read
time-outs, a short tenacity retry of connect errors only (the first retry tier; the engine's
schedule is the second), bounded response bodies, `Retry-After` parsing, and the one place
where `requests` failures become channel errors.

    connect refused / connect time-out ----------> TransientError (after a few quick retries)
    read time-out, connection dropped mid-request -> OutcomeUnknown
    401, 403 -------------------------------------> AuthError
    429 (Retry-After) ----------------------------> RateLimited
    5xx ------------------------------------------> TransientError
    other 4xx ------------------------------------> RejectedError (adapter parses the reasons)

Tests pass a session whose transport is a plain function (`FunctionTransport`) instead of
patching `requests`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import structlog
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from syndicator.channel.base import (
    AuthError,
    Channel,
    ChannelSettings,
    OutcomeUnknown,
    RateLimited,
    RejectedError,
    TransientError,
    scrub,
)

log = structlog.get_logger(__name__)

MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "tender-syndicator/0.1 (+https://emscu.example.police.uk)"


class HttpSettings(ChannelSettings):
    """Settings every HTTP channel has."""

    base_url: str
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    connect_retries: int = 3
    max_response_bytes: int = MAX_RESPONSE_BYTES


class Response:
    """A bounded, already-read HTTP response."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = CaseInsensitiveDict(headers)
        self.body = body

    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _connect_failure(exc: BaseException) -> bool:
    """True when the request certainly never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    text = repr(exc)
    return any(mark in text for mark in ("NewConnectionError", "ConnectionRefused", "NameResolution"))


class FunctionTransport(BaseAdapter):
    """A requests transport that answers with a function: the seam tests use."""

    def __init__(self, handler: Callable[[requests.PreparedRequest], Response]) -> None:
        super().__init__()
        self.handler = handler

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        answer = self.handler(request)
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body
        response.raw = None
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        """Nothing to close."""


def function_session(handler: Callable[[requests.PreparedRequest], Response]) -> requests.Session:
    """A session whose every request is answered by `handler`."""
    session = requests.Session()
    transport = FunctionTransport(handler)
    session.mount("http://", transport)
    session.mount("https://", transport)
    return session


def default_session(pool_size: int = 16) -> requests.Session:
    """A pooled session (keep-alive) sized for the worker's I/O threads."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class HttpChannel(Channel):
    """An adapter that speaks HTTP."""

    settings: HttpSettings

    def __init__(self, settings: ChannelSettings, session: requests.Session | None = None) -> None:
        super().__init__(settings)
        self.session = session or default_session()

    def url(self, path: str) -> str:
        """`path` under the configured base URL."""
        return self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        """Send one request; connect errors are retried briefly, everything else is mapped."""
        settings = self.settings

        @retry(
            retry=retry_if_exception(_connect_failure),
            stop=stop_after_attempt(max(1, settings.connect_retries)),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        )
        def attempt() -> Response:
            with self.session.request(
                method,
                self.url(path),
                timeout=(settings.connect_timeout, settings.read_timeout),
                stream=True,
                allow_redirects=False,
                **kwargs,
            ) as raw:
                return Response(raw.status_code, dict(raw.headers), self._bounded(raw))

        try:
            return attempt()
        except requests.RequestException as exc:
            raise self._map_exception(exc) from exc

    def _bounded(self, raw: requests.Response) -> bytes:
        limit = self.settings.max_response_bytes
        if raw.raw is None:  # a FunctionTransport response is already in memory
            return (raw.content or b"")[:limit]
        chunks, size = [], 0
        for chunk in raw.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        return b"".join(chunks)[:limit]

    def _map_exception(self, exc: requests.RequestException) -> Exception:
        if _connect_failure(exc):
            return TransientError(f"cannot connect to {self.name}: {type(exc).__name__}")
        if isinstance(exc, requests.ReadTimeout):
            return OutcomeUnknown(
                f"{self.name} did not answer within {self.settings.read_timeout:g}s after the notice was sent"
            )
        if isinstance(exc, requests.ConnectionError):
            return OutcomeUnknown(f"{self.name} dropped the connection before answering")
        return TransientError(f"{self.name} request failed: {type(exc).__name__}")

    def excerpt(self, response: Response) -> str | None:
        """The response body, secrets scrubbed, bounded for the attempts ledger."""
        return scrub(response.text(), self.secret_values())

    def raise_for_status(self, response: Response, reasons: list[str] | None = None) -> None:
        """Map an unsuccessful status to the channel error vocabulary."""
        status = response.status
        if status < 400:
            return
        excerpt = self.excerpt(response)
        common: dict[str, Any] = {"status_code": status, "excerpt": excerpt}
        if status in (401, 403):
            raise AuthError(f"{self.name} refused our credentials (HTTP {status})", **common)
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(f"{self.name} is rate limiting us (HTTP 429)", retry_after=wait, **common)
        if status >= 500:
            raise TransientError(f"{self.name} is unavailable (HTTP {status})", **common)
        found = reasons or []
        summary = "; ".join(found[:5]) if found else f"HTTP {status}"
        raise RejectedError(f"{self.name} rejected the notice: {summary}", reasons=found, **common)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()
