"""The dashboard's pages (GET): overview, tenders, one tender, failed deliveries, audit log.
Every list is paged in the database through the indexed filters of `syndicator.ops.queries`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.status import HTTP_404_NOT_FOUND

from syndicator.domain.states import ATTENTION, State
from syndicator.ops.queries import audit, channel_health, deliveries_in, find_tender, tenders
from syndicator.web.auth import page_role
from syndicator.web.context import Web, web
from syndicator.web.params import FormFilter, Page, TenderRef
from syndicator.web.rendering import render
from syndicator.web.sessions import BrowserSession
from syndicator.web.tokens import Role
from syndicator.web.views import filters_from, since_from, state_from, tender_detail

router = APIRouter(include_in_schema=False)

Viewer = Annotated[BrowserSession, Depends(page_role(Role.VIEWER))]
App = Annotated[Web, Depends(web)]
ATTENTION_STATES = [State.FAILED.value, State.NEEDS_RECONCILE.value]
COLUMNS = [
    State.HELD,
    State.PENDING,
    State.SENDING,
    State.RETRY_WAIT,
    State.SUBMITTED,
    State.PUBLISHED,
    State.FAILED,
    State.NEEDS_RECONCILE,
    State.CANCELLED,
]


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, who: Viewer, app: App) -> HTMLResponse:
    """Per destination: counts by state, backlog, oldest due, breaker, last success."""
    now = app.clock()
    with app.store.sessions() as session:
        health = channel_health(session, app.destinations(), now)
        recent = audit(session, limit=8)
    totals = {s.value: sum(h.counts.get(s.value, 0) for h in health) for s in State}
    return render(
        request,
        app,
        who,
        "overview.html",
        health=health,
        totals=totals,
        backlog=sum(h.backlog for h in health),
        columns=[s.value for s in COLUMNS],
        recent=recent,
        open_breakers=[h for h in health if h.breaker == "open"],
    )


@router.get("/tenders", response_class=HTMLResponse)
def tender_list(
    request: Request,
    who: Viewer,
    app: App,
    search: FormFilter = "",
    buyer: FormFilter = "",
    state: FormFilter = "",
    page: Page = 1,
) -> HTMLResponse:
    """Searchable, paged tenders with one badge per destination."""
    size = 25
    with app.store.sessions() as session:
        found = tenders(
            session,
            search=search.strip() or None,
            buyer=buyer.strip() or None,
            state=state_from(state),
            page=page,
            size=size,
        )
    return render(request, app, who, "tenders.html", result=found, search=search, buyer=buyer, state=state)


@router.get("/tenders/{reference:path}", response_class=HTMLResponse)
def tender_page(request: Request, reference: TenderRef, who: Viewer, app: App) -> HTMLResponse:
    """A tender: record, route with reasons, and per delivery its timeline and notice."""
    with app.store.sessions() as session:
        tender = find_tender(session, reference)
        if tender is None:
            raise HTTPException(HTTP_404_NOT_FOUND, f"no tender {reference!r}")
        detail = tender_detail(session, tender)
    open_states = {State.HELD, State.PENDING, State.RETRY_WAIT, State.FAILED, State.NEEDS_RECONCILE}
    return render(
        request,
        app,
        who,
        "tender.html",
        detail=detail,
        tender=detail.tender,
        reasons=detail.reasons(),
        cancellable=any(d.state in open_states for d in detail.deliveries),
        attention=[s.value for s in ATTENTION],
    )


@router.get("/failed", response_class=HTMLResponse)
def failed(
    request: Request,
    who: Viewer,
    app: App,
    destination: FormFilter = "",
    buyer: FormFilter = "",
    since: FormFilter = "",
    state: FormFilter = "",
    page: Page = 1,
) -> HTMLResponse:
    """Failed and needs-reconcile deliveries, filtered, with the actions that recover them."""
    size = 50
    filters = filters_from(
        app.clock(),
        state=state,
        destination=destination,
        buyer=buyer,
        since=since,
        allowed_states=ATTENTION_STATES,
    )
    states = [filters.state] if filters.state else ATTENTION_STATES
    with app.store.sessions() as session:
        found = deliveries_in(session, filters, states, page, size)
    return render(
        request,
        app,
        who,
        "failed.html",
        result=found,
        filters={"destination": destination, "buyer": buyer, "since": since, "state": state},
        attention_states=ATTENTION_STATES,
        can_act=who.principal.allows(Role.OPERATOR),
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    who: Viewer,
    app: App,
    actor: FormFilter = "",
    action: FormFilter = "",
    since: FormFilter = "",
    page: Page = 1,
) -> HTMLResponse:
    """Manual actions, newest first."""
    size = 50
    with app.store.sessions() as session:
        rows = audit(
            session,
            actor=actor.strip() or None,
            action=action.strip() or None,
            since=since_from(since, app.clock()),
            limit=size + 1,
            offset=(page - 1) * size,
        )
    return render(
        request,
        app,
        who,
        "audit.html",
        rows=rows[:size],
        has_more=len(rows) > size,
        page=page,
        filters={"actor": actor, "action": action, "since": since},
        actions=["repush", "cancel", "reconcile-published", "reconcile-resend"],
    )
