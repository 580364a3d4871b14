"""What the pages and the API both show, in one place: query filters read from a request, a
tender with its route, deliveries and attempts, the notice as sent, and time formatting."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import HTTPException
from lxml import etree
from starlette.status import HTTP_422_UNPROCESSABLE_CONTENT

from syndicator.channel.xmlsafe import UnsafeXml, parse
from syndicator.cli.format import age, parse_since
from syndicator.domain.states import State
from syndicator.ops.detail import iso as iso
from syndicator.ops.detail import tender_detail as tender_detail
from syndicator.ops.queries import Filters

MAX_SIZE = 200
NOTICE_LIMIT = 256 * 1024  # show at most this much of a notice; the rest is in the database
STATES = [s.value for s in State]


def bad_request(message: str) -> HTTPException:
    """A 422 naming the parameter that is wrong."""
    return HTTPException(HTTP_422_UNPROCESSABLE_CONTENT, message)


def since_from(text: str | None, now: datetime) -> datetime | None:
    """`since=2h` / `3d` / an ISO date, or 422."""
    if not text or not text.strip():
        return None
    try:
        return parse_since(text.strip(), now)
    except ValueError as exc:
        raise bad_request(f"since: {exc}") from None


def state_from(text: str | None, allowed: list[str] | None = None) -> str | None:
    """A state name, or 422 listing the states."""
    if not text:
        return None
    choices = allowed or STATES
    if text not in choices:
        raise bad_request(f"state {text!r} is not one of: {', '.join(choices)}")
    return text


def filters_from(
    now: datetime,
    *,
    state: str | None = None,
    destination: str | None = None,
    buyer: str | None = None,
    since: str | None = None,
    search: str | None = None,
    allowed_states: list[str] | None = None,
) -> Filters:
    """Query parameters to `Filters`; empty strings (blank form fields) mean no filter."""
    return Filters(
        state=state_from(state or None, allowed_states),
        destination=(destination or "").strip() or None,
        buyer=(buyer or "").strip() or None,
        since=since_from(since, now),
        search=(search or "").strip() or None,
    )


def paging(page: int, size: int) -> tuple[int, int]:
    """A page number from 1 and a page size from 1 to MAX_SIZE, or 422."""
    if page < 1:
        raise bad_request("page starts at 1")
    if not 1 <= size <= MAX_SIZE:
        raise bad_request(f"size must be between 1 and {MAX_SIZE}")
    return page, size


def stamp(when: datetime | None) -> str:
    """'2026-11-26 09:00:00 UTC'."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""


def ago(when: datetime | None, now: datetime) -> str:
    """'3m ago' / 'in 5m'."""
    if when is None:
        return ""
    return f"{age(when, now)} ago" if when <= now else f"in {age(now, when)}"


def safe_link(url: str | None) -> str | None:
    """Only http(s) URLs become links: a channel's answer must not inject `javascript:`."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def notice_text(body: bytes | None, media_type: str | None) -> str:
    """The notice as sent, made readable: JSON and XML indented, anything else as text."""
    if not body:
        return ""
    shown = body[:NOTICE_LIMIT]
    kind = (media_type or "").lower()
    try:
        if "json" in kind:
            return json.dumps(json.loads(shown), indent=2, ensure_ascii=False)
        if "xml" in kind:
            root = parse(shown)
            etree.indent(root, space="  ")
            return etree.tostring(root, encoding="unicode")
    except (ValueError, UnsafeXml):
        pass  # truncated or not what it claims: show the bytes as they are
    text = shown.decode("utf-8", errors="replace")
    cut = len(body) - len(shown)
    return text + (f"\n… {cut} more bytes not shown" if cut else "")
