"""Token management for admins in the browser: list, create (the token is shown once, on the
page that answers the form, never stored or redirected through), revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from syndicator.web.auth import page_role, require_csrf
from syndicator.web.context import Web, web
from syndicator.web.rendering import flash, render
from syndicator.web.sessions import BrowserSession
from syndicator.web.tokens import Role, TokenError, create_token, list_tokens, revoke_token

router = APIRouter(include_in_schema=False)

Admin = Annotated[BrowserSession, Depends(page_role(Role.ADMIN))]
App = Annotated[Web, Depends(web)]
Text = Annotated[str, Form()]


def _page(request: Request, app: Web, who: BrowserSession, **context: Any) -> HTMLResponse:
    with app.store.sessions() as session:
        rows = list_tokens(session)
    return render(request, app, who, "tokens.html", tokens=rows, roles=[r.value for r in Role], **context)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, who: Admin, app: App) -> HTMLResponse:
    """Every token: name, role, created, last used, revoked."""
    return _page(request, app, who)


@router.post("/tokens", response_class=HTMLResponse)
def create(
    request: Request, who: Admin, app: App, csrf_token: Text, name: Text = "", role: Text = "viewer"
) -> HTMLResponse:
    """Create a token and show it this once."""
    require_csrf(who, csrf_token)
    try:
        row, token = create_token(app.store.sessions, name, role, app.clock())
    except TokenError as exc:
        return _page(request, app, who, error=str(exc), name=name, role=role)
    return _page(request, app, who, created=row, token=token)


@router.post("/tokens/{name}/revoke")
def revoke(name: str, who: Admin, app: App, csrf_token: Text) -> Response:
    """Stop a token working; its browser sessions end with it."""
    require_csrf(who, csrf_token)
    try:
        revoke_token(app.store.sessions, name, app.clock())
        flash(app, who, "ok", f"token {name!r} revoked")
    except TokenError as exc:
        flash(app, who, "error", str(exc))
    return RedirectResponse("/tokens", status_code=303)
