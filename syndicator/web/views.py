"""What the pages and the API both show, in one place: query filters read from a request, a
tender with its route, deliveries and attempts, the notice as sent, and time formatting."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import HTTPException
from lxml import etree
from starlette.status import HTTP_422_UNPROCESSABLE_CONTENT

from syndicator.channel.xmlsafe import UnsafeXml, parse
from syndicator.cli.format import age
from syndicator.domain import limits
from syndicator.domain.states import State
from syndicator.ops.detail import iso as iso
from syndicator.ops.detail import tender_detail as tender_detail
from syndicator.ops.periods import parse_since
from syndicator.ops.queries import Filters

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
        destination=filter_text("destination", destination),
        buyer=filter_text("buyer", buyer),
        since=since_from(since, now),
        search=filter_text("search", search),
    )


def filter_text(field: str, value: str | None) -> str | None:
    """A text filter within the shared limits, or 422 naming it; blank means no filter."""
    text = (value or "").strip()
    if problem := limits.text_problem(text, limit=limits.FILTER_TEXT):
        raise bad_request(f"{field}: {problem}")
    return text or None


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
