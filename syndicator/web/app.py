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
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.status import HTTP_401_UNAUTHORIZED

from syndicator.config.settings import Config, Settings, load_config
from syndicator.domain.clock import Clock, utcnow
from syndicator.runtime.enqueue import broker_enqueuer
from syndicator.runtime.wiring import Store, open_store
from syndicator.web import metrics, sessions
from syndicator.web.admin import router as admin_router
from syndicator.web.api import router as api_router
from syndicator.web.apidocs import ASSETS, ASSETS_URL, redoc_page, swagger_page
from syndicator.web.auth import bearer, identify
from syndicator.web.bodylimit import BodyLimit
from syndicator.web.context import Enqueue, Web, web
from syndicator.web.contracts_pages import router as contracts_pages_router
from syndicator.web.errors import ErrorBoundary, install_handlers
from syndicator.web.forms import router as forms_router
from syndicator.web.gate import TokenFirst
from syndicator.web.lifecycle_pages import router as lifecycle_pages_router
from syndicator.web.openapi import describe
from syndicator.web.options import WebOptions
from syndicator.web.pages import router as pages_router
from syndicator.web.rendering import HERE, templates
from syndicator.web.sessions import COOKIE
from syndicator.web.throttle import Throttle

log = structlog.get_logger(__name__)

App = Annotated[Web, Depends(web)]

# Pages load only this site's CSS and JS; Swagger UI and ReDoc are served from here too.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
# ReDoc styles itself with styled-components, which inserts <style> elements and has no way to
# take a nonce in the bundled build: on /redoc alone, inline styles are allowed (never scripts).
REDOC_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


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


def _install_security_headers(api: FastAPI) -> None:
    @api.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Every page, the API reference included: nothing here may be framed (clickjacking).
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
    def metrics_text(request: Request, app: App) -> Response:
        if not app.options.metrics_public:
            identify(request, app)
        accept = request.headers.get("accept", "")
        body, media_type = metrics.exposition(app.store, app.destinations, app.clock, accept)
        return Response(body, media_type=media_type)

    def reader(request: Request, app: App) -> None:
        """The API description is for signed-in people and token holders only."""
        if bearer(request):
            identify(request, app)
        elif sessions.resolve(app.store.sessions, request.cookies.get(COOKIE), app.clock()) is None:
            raise HTTPException(HTTP_401_UNAUTHORIZED, "sign in, or send a Bearer token, to read the API")

    @api.get("/openapi.json", include_in_schema=False, dependencies=[Depends(reader)])
    def openapi() -> JSONResponse:
        return JSONResponse(api.openapi())

    @api.get("/docs", include_in_schema=False, dependencies=[Depends(reader)])
    def docs() -> HTMLResponse:
        return HTMLResponse(swagger_page(api.title))

    @api.get("/redoc", include_in_schema=False, dependencies=[Depends(reader)])
    def redoc() -> HTMLResponse:
        return HTMLResponse(redoc_page(api.title), headers={"Content-Security-Policy": REDOC_CSP})


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
    options = options or WebOptions()
    state = Web(
        settings=settings,
        config=config,
        store=store,
        enqueue=never_raises(enqueue or broker or (lambda ids: None)),
        clock=clock,
        options=options,
        templates=templates(),
        throttle=Throttle(options.auth_failures, options.throttle_storage),
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
    api.openapi = lambda: describe(api, state.buyers())  # type: ignore[method-assign]
    api.state.web = state
    api.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    api.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS)), name="docs-assets")
    install_handlers(api)
    # Outermost last: headers on every answer; the boundary turns a crash into a logged 500;
    # an over-size body is refused while it streams in; the gate refuses unauthenticated
    # bodies before anything reads them.
    api.add_middleware(TokenFirst)
    api.add_middleware(BodyLimit)
    api.add_middleware(ErrorBoundary)
    _install_security_headers(api)
    _install_service_routes(api)
    api.include_router(api_router)
    api.include_router(lifecycle_pages_router)  # before pages: /tenders/{reference:path} is greedy
    api.include_router(contracts_pages_router)
    api.include_router(pages_router)
    api.include_router(forms_router)
    api.include_router(admin_router)
    return api
