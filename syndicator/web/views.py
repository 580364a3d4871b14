"""What the pages and the API both show, in one place: query filters read from a request, a
tender with its route, deliveries and attempts, the notice as sent, and time formatting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException
from lxml import etree
from sqlalchemy.orm import Session
from starlette.status import HTTP_422_UNPROCESSABLE_CONTENT

from syndicator.channel.xmlsafe import UnsafeXml, parse
from syndicator.cli.format import age
from syndicator.domain import limits
from syndicator.domain.states import State
from syndicator.ops.periods import parse_since
from syndicator.ops.queries import Filters, attempts_of
from syndicator.store.models import AttemptRow, DeliveryRow, TenderRow

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


def iso(when: datetime | None) -> str | None:
    """ISO 8601 in UTC, or None."""
    return when.astimezone(UTC).isoformat() if when else None


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


@dataclass
class TenderDetail:
    """One tender with its route, deliveries and every attempt."""

    tender: TenderRow
    deliveries: list[DeliveryRow]
    attempts: dict[int, list[AttemptRow]]

    def reasons(self) -> dict[str, dict[str, Any]]:
        """Route entry per destination: reasons and the gate it waits for."""
        return {e["destination"]: e for e in self.tender.route.get("destinations", [])}

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of `GET /api/tenders/{id}` (the shape of `syndicator show --json`)."""
        t = self.tender
        return {
            "tender": {
                "id": t.id,
                "reference": t.reference,
                "buyer": t.buyer,
                "title": t.title,
                "version": t.version,
                "submitted_by": t.submitted_by,
                "created_at": iso(t.created_at),
                "cancelled_at": iso(t.cancelled_at),
                "record": t.record,
            },
            "route": t.route,
            "deliveries": [self._delivery(d) for d in self.deliveries],
        }

    def _delivery(self, d: DeliveryRow) -> dict[str, Any]:
        return {
            "id": d.id,
            "destination": d.destination,
            "state": d.state,
            "key": d.key,
            "revision": d.revision,
            "attempts": d.attempts,
            "remote_id": d.remote_id,
            "url": d.remote_url,
            "last_error": d.last_error,
            "next_attempt_at": iso(d.next_attempt_at),
            "published_at": iso(d.published_at),
            "media_type": d.media_type,
            "timeline": [
                {
                    "at": iso(a.started_at),
                    "finished_at": iso(a.finished_at),
                    "kind": a.kind,
                    "trigger": a.trigger,
                    "actor": a.actor,
                    "outcome": a.outcome,
                    "error_class": a.error_class,
                    "status_code": a.status_code,
                    "message": a.message,
                    "excerpt": a.excerpt,
                    "remote_id": a.remote_id,
                }
                for a in self.attempts.get(d.id, [])
            ],
        }


def tender_detail(session: Session, tender: TenderRow) -> TenderDetail:
    """Load everything the tender page and `GET /api/tenders/{id}` show."""
    rows = list(tender.deliveries)
    return TenderDetail(tender, rows, attempts_of(session, [r.id for r in rows]))
