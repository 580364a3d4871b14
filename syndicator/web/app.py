"""The web application: dashboard pages, the JSON API, /metrics and /healthz.

    create_app(settings, store=, config=, enqueue=, clock=)   (everything injectable for tests)
      /            pages.py, forms.py, admin.py   signed-in browsers (session cookie + CSRF)
      /api/...     api.py, intake_api.py          API clients (Authorization: Bearer <token>)
      /metrics     metrics.py                     anonymous unless SYNDICATOR_METRICS_PUBLIC=false
      /healthz                                    anonymous: does the database answer?

Enqueueing never fails a request: a delivery whose wake-up message is lost is still due in the
database, and the sweeper sends it (ARCHITECTURE.md section 1).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.status import HTTP_401_UNAUTHORIZED

from syndicator.config.settings import Config, Settings, load_config
from syndicator.domain.clock import Clock, utcnow
from syndicator.runtime.enqueue import broker_enqueuer
from syndicator.runtime.wiring import Store, open_store
from syndicator.web import metrics, sessions
from syndicator.web.admin import router as admin_router
from syndicator.web.api import router as api_router
from syndicator.web.apidocs import api_reference
from syndicator.web.auth import SignInRequired, api_principal, api_role, bearer
from syndicator.web.context import Enqueue, Web, web
from syndicator.web.contracts_pages import router as contracts_pages_router
from syndicator.web.forms import router as forms_router
from syndicator.web.lifecycle_pages import router as lifecycle_pages_router
from syndicator.web.options import WebOptions
from syndicator.web.pages import router as pages_router
from syndicator.web.rendering import HERE, render, templates
from syndicator.web.sessions import COOKIE
from syndicator.web.tokens import Role

log = structlog.get_logger(__name__)

App = Annotated[Web, Depends(web)]

JSON_PREFIXES = ("/api", "/metrics", "/healthz", "/openapi.json")
# Pages load only this site's CSS and JS; /docs is exempt (Swagger UI comes from its CDN).
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class BrokerWake:
    """Sends `deliver` messages through one long-lived Celery app, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self.stack: ExitStack | None = None
        self.send: Enqueue | None = None

    def __call__(self, ids: list[int]) -> None:
        with self.lock:
            if self.send is None:
                self.stack = ExitStack()
                self.send = self.stack.enter_context(broker_enqueuer(self.settings))
        self.send(ids)

    def close(self) -> None:
        """Release the broker connection."""
        with self.lock:
            if self.stack is not None:
                self.stack.close()
            self.stack, self.send = None, None


def never_raises(enqueue: Enqueue) -> Enqueue:
    """`enqueue` with every failure logged and swallowed (the sweeper re-sends)."""

    def wake(ids: list[int]) -> None:
        try:
            enqueue(ids)
        except Exception as exc:
            log.warning("could not enqueue; the sweeper will send these", ids=ids[:20], error=str(exc))

    return wake


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


def _who(request: Request, app: Web) -> sessions.BrowserSession | None:
    try:
        return sessions.resolve(app.store.sessions, request.cookies.get(COOKIE), app.clock())
    except Exception:  # the error page must render even when the database is the problem
        return None


def _error_page(request: Request, status: int, message: str, headers: Any = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status, headers=headers)
    app: Web = request.app.state.web
    who = _who(request, app) if status != 500 else None
    return render(request, app, who, "error.html", status, status=status, message=message)


def _install_handlers(api: FastAPI) -> None:
    @api.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        query = f"?{urlencode({'next': exc.next_path})}" if exc.next_path not in ("", "/") else ""
        return RedirectResponse(f"/signin{query}", status_code=303)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_page(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or "(body)", "message": e["msg"]}
            for e in exc.errors()
        ]
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        if _wants_json(request):
            return JSONResponse({"error": f"invalid request: {message}", "problems": problems}, 422)
        return _error_page(request, 422, f"invalid request: {message}")

    @api.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("request failed", method=request.method, path=request.url.path)
        return _error_page(request, 500, "internal error: it has been logged; please try again")


def _install_security_headers(api: FastAPI) -> None:
    @api.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path != "/docs":
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


def _install_service_routes(api: FastAPI) -> None:
    @api.get("/healthz", include_in_schema=False)
    def healthz(app: App) -> JSONResponse:
        try:
            with app.store.engine.connect() as connection:
                connection.execute(text("select 1"))
        except Exception as exc:
            log.warning("health check: database does not answer", error=str(exc))
            return JSONResponse({"status": "unavailable", "database": "does not answer"}, 503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @api.get("/metrics", include_in_schema=False)
    def metrics_text(request: Request, app: App) -> PlainTextResponse:
        if not app.options.metrics_public:
            api_role(Role.VIEWER)(api_principal(request, app))
        with app.store.sessions() as session:
            body = metrics.render(session, app.destinations(), app.clock())
        return PlainTextResponse(body, media_type=metrics.CONTENT_TYPE)

    def reader(request: Request, app: App) -> None:
        """The API description is for signed-in people and token holders only."""
        if bearer(request):
            api_principal(request, app)
        elif sessions.resolve(app.store.sessions, request.cookies.get(COOKIE), app.clock()) is None:
            raise HTTPException(HTTP_401_UNAUTHORIZED, "sign in, or send a Bearer token, to read the API")

    @api.get("/openapi.json", include_in_schema=False, dependencies=[Depends(reader)])
    def openapi() -> JSONResponse:
        return JSONResponse(api.openapi())

    @api.get("/docs", include_in_schema=False, dependencies=[Depends(reader)])
    def docs() -> HTMLResponse:
        # Rendered here from the OpenAPI description: the usual Swagger page loads its script
        # from a public CDN, which a machine without internet access cannot reach.
        return HTMLResponse(api_reference(api.openapi()))


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    config: Config | None = None,
    enqueue: Enqueue | None = None,
    clock: Clock = utcnow,
    options: WebOptions | None = None,
) -> FastAPI:
    """The web application; pass `store`, `config`, `enqueue` and `clock` to test it."""
    settings = settings or Settings()
    config = config or load_config(settings)
    owned_store = store is None
    # pre-ping: a long-lived web process must survive a database restart between requests
    store = store or open_store(settings, auto_upgrade="empty", pool_pre_ping=True)
    broker = BrokerWake(settings) if enqueue is None else None
    state = Web(
        settings=settings,
        config=config,
        store=store,
        enqueue=never_raises(enqueue or broker or (lambda ids: None)),
        clock=clock,
        options=options or WebOptions(),
        templates=templates(),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if broker is not None:
            broker.close()
        if owned_store:
            state.store.dispose()

    api = FastAPI(
        title="Tender syndicator",
        summary="Advertise EMSCU invitations to tender on every channel, and watch them get there.",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    api.state.web = state
    api.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_handlers(api)
    _install_security_headers(api)
    _install_service_routes(api)
    api.include_router(api_router)
    api.include_router(lifecycle_pages_router)  # before pages: /tenders/{reference:path} is greedy
    api.include_router(contracts_pages_router)
    api.include_router(pages_router)
    api.include_router(forms_router)
    api.include_router(admin_router)
    return api
