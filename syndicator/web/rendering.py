"""Jinja2 templates and what every page shares: who is signed in, the CSRF token for its forms,
a one-time message, the attention count in the navigation, and time formatting in UTC."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from syndicator.domain.states import State
from syndicator.ops.queries import Filters, count_by_state
from syndicator.web import sessions
from syndicator.web.context import Web
from syndicator.web.sessions import BrowserSession
from syndicator.web.views import ago, iso, notice_text, safe_link, stamp

HERE = Path(__file__).resolve().parent
STATE_LABELS = {s.value: s.value.replace("_", " ") for s in State}


def templates() -> Jinja2Templates:
    """The page templates with the product's filters."""
    found = Jinja2Templates(directory=str(HERE / "templates"))
    env = found.env
    env.filters.update(
        stamp=stamp,
        short=lambda when: when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else "",
        iso=iso,
        ago=ago,
        link=safe_link,
        notice=notice_text,
        state_label=lambda s: STATE_LABELS.get(s, s),
        money=money,
        options=options,
        compact_json=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True, default=str),
    )
    env.globals.update(states=[s.value for s in State], state_labels=STATE_LABELS, with_query=with_query)
    return found


def options(
    values: Iterable[str], blank: str | None = None, labels: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(value, text) pairs for the `select` macro, after an optional "any" choice worth ''."""
    first = [("", blank)] if blank is not None else []
    return first + [(value, (labels or {}).get(value, value)) for value in values]


def money(value: dict[str, Any] | None) -> str:
    """A record's money object as '£60,000.00' (other currencies keep their code)."""
    if not value:
        return ""
    try:
        amount = f"{Decimal(str(value.get('amount'))):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value.get("amount"))
    currency = value.get("currency") or "GBP"
    return f"£{amount}" if currency == "GBP" else f"{currency} {amount}"


def with_query(request: Request, **changes: Any) -> str:
    """This page's path and query with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = str(value)
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def local_path(target: str | None, default: str = "/") -> str:
    """A redirect target on this site only (never `//elsewhere` or `https://elsewhere`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def attention(app: Web) -> int:
    """Failed plus needs-reconcile deliveries, for the navigation badge (two indexed counts)."""
    with app.store.sessions() as session:
        return sum(
            sum(count_by_state(session, Filters(state=s.value)).values())
            for s in (State.FAILED, State.NEEDS_RECONCILE)
        )


def render(
    request: Request,
    app: Web,
    who: BrowserSession | None,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page with the shared context; shows (and clears) the session's one-time message."""
    flash_kind, flash_text = None, None
    if who is not None and who.flash:
        flash_kind, _, flash_text = who.flash.partition(":")
        sessions.clear_flash(app.store.sessions, who.id)
    response = app.templates.TemplateResponse(
        request,
        template,
        {
            "who": who,
            "csrf_token": who.csrf_token if who else None,
            "flash_kind": flash_kind,
            "flash": flash_text,
            "now": app.clock(),
            "attention_count": attention(app) if who else 0,
            "destinations": app.destinations(),
            "buyers": app.buyers(),
            **context,
        },
        status_code=status_code,
    )
    # Pages show delivery data and carry CSRF tokens: never keep them in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def flash(app: Web, who: BrowserSession, kind: str, message: str) -> None:
    """A message ('ok' or 'error') for the next page."""
    sessions.set_flash(app.store.sessions, who.id, f"{kind}:{message}")
