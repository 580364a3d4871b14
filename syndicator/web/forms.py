"""The dashboard's form posts: sign in and out, and the manual actions (through `syndicator.ops.actions`,
with the signed-in token's name as the actor). Every post checks the session's CSRF token, then
answers with a redirect (post/redirect/get) carrying a one-time message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from syndicator.domain.states import State
from syndicator.ops import actions as ops
from syndicator.store.models import DeliveryRow
from syndicator.web import sessions
from syndicator.web.auth import client_address, page_role, require_csrf, secure_cookies, set_session_cookie
from syndicator.web.context import Web, web
from syndicator.web.params import RowId
from syndicator.web.rendering import flash, local_path, render
from syndicator.web.sessions import COOKIE, SIGNIN_COOKIE, BrowserSession
from syndicator.web.tokens import Role, authenticate
from syndicator.web.views import filters_from

router = APIRouter(include_in_schema=False)

Operator = Annotated[BrowserSession, Depends(page_role(Role.OPERATOR))]
App = Annotated[Web, Depends(web)]
Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]
ATTENTION_STATES = [State.FAILED.value, State.NEEDS_RECONCILE.value]


def _back(target: str | None, default: str = "/failed") -> RedirectResponse:
    return RedirectResponse(local_path(target, default), status_code=303)


def _act(app: Web, who: BrowserSession, action: Callable[[], ops.ActionResult]) -> None:
    """Run a manual action; its outcome, or why it was refused, becomes the one-time message."""
    try:
        flash(app, who, "ok", action().message)
    except ops.OpsError as exc:
        flash(app, who, "error", str(exc))


def _signin_form(
    request: Request, app: Web, next_path: str | None, error: str | None = None, status: int = 200
) -> Response:
    value = sessions.new_secret()
    response = render(
        request,
        app,
        None,
        "signin.html",
        status,
        signin_token=value,
        next=local_path(next_path),
        error=error,
    )
    # Login CSRF: the form must echo this cookie, which only this site can set.
    response.set_cookie(
        SIGNIN_COOKIE,
        value,
        max_age=3600,
        path="/signin",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, app),
    )
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, app: App) -> Response:
    """Paste an API token to sign in."""
    return _signin_form(request, app, request.query_params.get("next"))


@router.post("/signin")
def signin(
    request: Request, app: App, token: Text = "", signin_token: Text = "", next: Text = "/"
) -> Response:
    """Start a session for a valid token; the cookie is HttpOnly and SameSite=Lax."""
    if not sessions.same(signin_token, request.cookies.get(SIGNIN_COOKIE)):
        return _signin_form(
            request, app, next, "The sign-in form expired; please paste your token again.", 403
        )
    client = client_address(request)
    if (wait := app.throttle.wait(client)) is not None:
        refused = _signin_form(
            request, app, next, f"Too many failed sign-ins from here; try again in {wait} seconds.", 429
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    principal = authenticate(app.store.sessions, token.strip(), app.clock())
    if principal is None:
        app.throttle.failed(client)
        return _signin_form(request, app, next, "That token is not valid (or it was revoked).", 401)
    lifetime = timedelta(hours=app.options.session_hours)
    cookie = sessions.start(app.store.sessions, principal, app.clock(), lifetime)
    response = _back(next, "/")
    set_session_cookie(response, request, app, cookie)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(request: Request, app: App, csrf_token: Text = "") -> Response:
    """End the session (the row is deleted) and forget the cookie."""
    found = sessions.resolve(app.store.sessions, request.cookies.get(COOKIE), app.clock())
    if found is not None:
        require_csrf(found, csrf_token)
        sessions.end(app.store.sessions, request.cookies.get(COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/deliveries/{delivery_id}/repush")
def repush(
    delivery_id: RowId, who: Operator, app: App, csrf_token: Csrf, reason: Text = "", next: Text = ""
) -> Response:
    """Re-push one failed or needs-reconcile delivery."""
    require_csrf(who, csrf_token)
    _act(
        app,
        who,
        lambda: ops.repush(
            app.store.sessions,
            delivery_id,
            actor=who.principal.name,
            reason=reason,
            now=app.clock(),
            enqueue=app.enqueue,
        ),
    )
    return _back(next)


@router.post("/deliveries/{delivery_id}/reconcile")
def reconcile(
    delivery_id: RowId,
    who: Operator,
    app: App,
    csrf_token: Csrf,
    reason: Text = "",
    mode: Text = "",
    remote_id: Text = "",
    url: Text = "",
    next: Text = "",
) -> Response:
    """Settle an outcome-unknown delivery: published under a remote id, or resend."""
    require_csrf(who, csrf_token)
    _act(
        app,
        who,
        lambda: ops.reconcile(
            app.store.sessions,
            delivery_id,
            actor=who.principal.name,
            reason=reason,
            now=app.clock(),
            published_remote_id=remote_id.strip() if mode == "published" else None,
            url=url.strip() or None,
            resend=mode == "resend",
            enqueue=app.enqueue,
        ),
    )
    return _back(next)


@router.post("/tenders/{tender_id}/cancel")
def cancel(
    tender_id: RowId, who: Operator, app: App, csrf_token: Csrf, reason: Text = "", next: Text = ""
) -> Response:
    """Cancel a tender's deliveries that have not reached a channel."""
    require_csrf(who, csrf_token)
    _act(
        app,
        who,
        lambda: ops.cancel(
            app.store.sessions, str(tender_id), actor=who.principal.name, reason=reason, now=app.clock()
        ),
    )
    return _back(next, f"/tenders/{tender_id}")


@router.post("/failed/repush", response_class=HTMLResponse)
def repush_matching(
    request: Request,
    who: Operator,
    app: App,
    csrf_token: Csrf,
    reason: Text = "",
    destination: Text = "",
    buyer: Text = "",
    since: Text = "",
    state: Text = "",
    expected: Text = "",
) -> Response:
    """Re-push all matching: first a page saying how many, then (confirmed) the re-push itself."""
    require_csrf(who, csrf_token)
    now = app.clock()
    chosen = {"destination": destination, "buyer": buyer, "since": since, "state": state}
    filters = filters_from(now, allowed_states=ATTENTION_STATES, **chosen)
    given = {k: v for k, v in chosen.items() if v}
    back = "/failed" + (f"?{urlencode(given)}" if given else "")
    try:
        preview = ops.repush_matching(
            app.store.sessions, filters, actor=who.principal.name, reason=reason, now=now, dry_run=True
        )
    except ops.OpsError as exc:
        flash(app, who, "error", str(exc))
        return _back(back)
    count = len(preview.changed)
    if expected != str(count):  # first step, or the list changed since the person looked
        with app.store.sessions() as session:
            sample = [session.get(DeliveryRow, i) for i in preview.changed[:20]]
        return render(
            request,
            app,
            who,
            "confirm_repush.html",
            count=count,
            changed_since=expected != "",
            sample=[s for s in sample if s is not None],
            reason=reason,
            chosen=chosen,
            back=back,
        )
    _act(
        app,
        who,
        lambda: ops.repush_matching(
            app.store.sessions, filters, actor=who.principal.name, reason=reason, now=now, enqueue=app.enqueue
        ),
    )
    return _back(back)
