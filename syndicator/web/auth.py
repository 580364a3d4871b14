"""Who may do what: FastAPI dependencies for API clients (`Authorization: Bearer <token>`) and
for signed-in browsers (session cookie, CSRF token on every state-changing form).

    API:     Bearer token --tokens.authenticate--> Principal --role check--> route
    browser: cookie --sessions.resolve--> BrowserSession --role check (+ CSRF on POST)--> route

The API never accepts the cookie, so a page elsewhere cannot make a browser call it; the pages
never accept a Bearer token. Nothing is anonymous except /healthz and (configurably) /metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.status import HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN, HTTP_429_TOO_MANY_REQUESTS

from syndicator.web import sessions
from syndicator.web.context import Web, web
from syndicator.web.sessions import COOKIE, BrowserSession
from syndicator.web.tokens import Principal, Role, authenticate


class SignInRequired(Exception):
    """A page was asked for without a live session: the handler redirects to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Declares the scheme in /openapi.json; the token itself is read and checked by `identify`.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token: `syndicator tokens create --name NAME --role viewer|operator|admin`.",
)


def client_address(request: Request) -> str:
    """Who to throttle: the client's address (the proxy's, unless uvicorn trusts proxy headers)."""
    return request.client.host if request.client else "unknown"


def too_many(wait: int) -> HTTPException:
    """429: this address failed to authenticate too often."""
    return HTTPException(
        HTTP_429_TOO_MANY_REQUESTS,
        f"too many failed attempts from this address; try again in {wait} seconds",
        headers={"Retry-After": str(wait)},
    )


def identify(request: Request, app: Web) -> Principal:
    """The API client a request's Bearer token stands for; 401, or 429 after repeated failures."""
    client = client_address(request)
    if (wait := app.throttle.wait(client)) is not None:
        raise too_many(wait)
    token = bearer(request)
    principal = authenticate(app.store.sessions, token, app.clock()) if token else None
    if principal is None:
        if token:  # a wrong token is a guess; a missing one is not, and costs no look-up
            app.throttle.failed(client)
        raise HTTPException(
            HTTP_401_UNAUTHORIZED,
            "a valid API token is required: send 'Authorization: Bearer <token>' "
            "(create one with `syndicator tokens create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def api_principal(
    request: Request,
    app: Annotated[Web, Depends(web)],
    _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Principal:
    """The calling API client (already known when `TokenFirst` checked it before the body), or 401."""
    found = getattr(request.state, "principal", None)
    principal = found if isinstance(found, Principal) else identify(request, app)
    request.state.actor = principal.name
    return principal


class RoleCheck:
    """Dependency: an API client whose role allows `needed`, or 403 (the description says so)."""

    def __init__(self, needed: Role) -> None:
        self.needed = needed

    def __call__(self, principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        if not principal.allows(self.needed):
            raise HTTPException(
                HTTP_403_FORBIDDEN,
                f"token {principal.name!r} has role {principal.role.value}; this needs {self.needed.value}",
            )
        return principal


def api_role(needed: Role) -> RoleCheck:
    """Dependency: an API client whose role allows `needed`, or 403."""
    return RoleCheck(needed)


def browser_session(request: Request, app: Annotated[Web, Depends(web)]) -> BrowserSession:
    """The signed-in browser, or a redirect to the sign-in page."""
    found = sessions.resolve(app.store.sessions, request.cookies.get(COOKIE), app.clock())
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target if request.method == "GET" else "/")
    request.state.actor = found.principal.name
    return found


def page_role(needed: Role) -> Callable[..., BrowserSession]:
    """Dependency: a signed-in browser whose role allows `needed`, or 403."""

    def check(found: Annotated[BrowserSession, Depends(browser_session)]) -> BrowserSession:
        if not found.principal.allows(needed):
            raise HTTPException(
                HTTP_403_FORBIDDEN,
                f"you are signed in as {found.principal.name} ({found.principal.role.value}); "
                f"this needs the {needed.value} role",
            )
        return found

    return check


def require_csrf(found: BrowserSession, given: str | None) -> None:
    """Refuse a form post whose CSRF token is missing or not this session's."""
    if not sessions.same(given, found.csrf_token):
        raise HTTPException(
            HTTP_403_FORBIDDEN,
            "this form has expired or did not come from this site (CSRF check failed); "
            "reload the page and try again",
        )


def secure_cookies(request: Request, app: Web) -> bool:
    """Whether cookies get the Secure flag: configured, or the request came over https."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    return app.options.cookie_secure or request.url.scheme == "https" or forwarded == "https"


def set_session_cookie(response: Response, request: Request, app: Web, value: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when on https or configured."""
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(timedelta(hours=app.options.session_hours).total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, app),
    )
