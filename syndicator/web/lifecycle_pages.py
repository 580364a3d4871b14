"""The dashboard's lifecycle pages: amend a tender (the next version, as JSON, with a reason)
and withdraw it (a confirmation page saying what each destination will get, then the
withdrawal). Operators only; every post checks the session's CSRF token."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.status import HTTP_404_NOT_FOUND

from syndicator.intake.amend import amend
from syndicator.intake.lifecycle import LifecycleError
from syndicator.intake.records import loads, validate_object
from syndicator.intake.withdraw import preview_withdrawal, withdraw
from syndicator.runtime.wiring import route_check, tender_context
from syndicator.store.models import TenderRow
from syndicator.web.auth import page_role, require_csrf
from syndicator.web.context import Web, web
from syndicator.web.rendering import flash, render
from syndicator.web.sessions import BrowserSession
from syndicator.web.tokens import Role

router = APIRouter(include_in_schema=False)

Operator = Annotated[BrowserSession, Depends(page_role(Role.OPERATOR))]
App = Annotated[Web, Depends(web)]
Text = Annotated[str, Form()]
MAX_RECORD = 1024 * 1024


def _tender(app: Web, tender_id: int) -> TenderRow:
    with app.store.sessions() as session:
        found = session.get(TenderRow, tender_id)
    if found is None:
        raise HTTPException(HTTP_404_NOT_FOUND, f"no tender {tender_id}")
    return found


def _form(
    request: Request,
    app: Web,
    who: BrowserSession,
    tender: TenderRow,
    *,
    record: str,
    reason: str = "",
    kind: str = "change",
    problems: list[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        app,
        who,
        "amend.html",
        status,
        tender=tender,
        record=record,
        reason=reason,
        kind=kind,
        problems=problems or [],
    )


@router.get("/tenders/{tender_id}/amend", response_class=HTMLResponse)
def amend_page(request: Request, tender_id: int, who: Operator, app: App) -> Response:
    """The current record, ready to change, with the reason and kind of the change."""
    tender = _tender(app, tender_id)
    return _form(request, app, who, tender, record=json.dumps(tender.record, indent=2, ensure_ascii=False))


@router.post("/tenders/{tender_id}/amend", response_class=HTMLResponse)
def amend_post(
    request: Request,
    tender_id: int,
    who: Operator,
    app: App,
    csrf_token: Text,
    record: Text = "",
    reason: Text = "",
    kind: Text = "change",
) -> Response:
    """Validate the changed record and store it as the next version; problems are shown in
    the form, which keeps what was typed."""
    require_csrf(who, csrf_token)
    tender = _tender(app, tender_id)
    keep = {"record": record, "reason": reason, "kind": kind}
    if len(record) > MAX_RECORD:
        return _form(request, app, who, tender, **keep, problems=["the record is too large"], status=422)
    try:
        data = loads(record)
    except (ValueError, RecursionError) as exc:
        return _form(
            request, app, who, tender, **keep, problems=[f"the record is not JSON: {exc}"], status=422
        )
    now = app.clock()
    parsed = validate_object(
        data, tender_context(app.config, now.date()), tender.reference, route_check(app.config)
    )
    if isinstance(parsed, list):
        lines = [f"{p.field}: {p.message}" for p in parsed]
        return _form(request, app, who, tender, **keep, problems=lines, status=422)
    try:
        result = amend(
            app.store.sessions,
            parsed,
            reason=reason,
            correction=kind == "correction",
            policy=app.config.policy,
            thresholds=app.config.thresholds,
            actor=who.principal.name,
            now=now,
            expected=tender,
            enqueue=app.enqueue,
        )
    except LifecycleError as exc:
        return _form(request, app, who, tender, **keep, problems=exc.problems, status=409)
    sent = "; ".join(f"{s['destination']}: {s['text']}" for s in result.steps) or "nothing to send"
    flash(app, who, "ok", f"{tender.reference} is now version {result.version}. {sent}")
    # No #fragment: a page opened at a fragment gets no autofocus, and the outcome message must
    # take the focus so that screen readers announce it (WCAG 4.1.3).
    return RedirectResponse(f"/tenders/{tender_id}", status_code=303)


@router.post("/tenders/{tender_id}/withdraw", response_class=HTMLResponse)
def withdraw_post(
    request: Request,
    tender_id: int,
    who: Operator,
    app: App,
    csrf_token: Text,
    reason: Text = "",
    confirmed: Text = "",
) -> Response:
    """First a page saying what each destination will get; confirmed, the withdrawal itself."""
    require_csrf(who, csrf_token)
    tender = _tender(app, tender_id)
    if confirmed != "yes":
        plan = preview_withdrawal(app.store.sessions, tender_id)
        return render(request, app, who, "confirm_withdraw.html", tender=tender, plan=plan, reason=reason)
    try:
        withdraw(
            app.store.sessions,
            buyer=tender.buyer,
            reference=tender.reference,
            reason=reason,
            actor=who.principal.name,
            now=app.clock(),
            tender=tender,
            enqueue=app.enqueue,
        )
        flash(app, who, "ok", f"{tender.reference} withdrawn: cancellation notices are on their way")
    except LifecycleError as exc:
        flash(app, who, "error", "; ".join(exc.problems))
    return RedirectResponse(f"/tenders/{tender_id}", status_code=303)
