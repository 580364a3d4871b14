"""The web server and its access: `serve`, `tokens create|list|revoke`."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer
from rich.table import Table

from syndicator.cli.common import EXIT_FAILED, EXIT_INVALID, err, fail, out
from syndicator.cli.format import stamp
from syndicator.cli.terminal import styled
from syndicator.domain.clock import utcnow
from syndicator.runtime.wiring import load, open_store, redacted_url

tokens_app = typer.Typer(help="API tokens for the JSON API and the dashboard.", no_args_is_help=True)


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bind now, so a taken port is a clear error before anything else starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is already in use; stop what uses it or pick --port", EXIT_FAILED)
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_FAILED)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the dashboard and JSON API (uvicorn) until Ctrl-C."""
    import uvicorn

    from syndicator.runtime.logs import configure_logging
    from syndicator.web.app import create_app

    settings, config = load()
    sock = _listening_socket(host, port)
    configure_logging(settings)
    app = create_app(settings, config=config)
    shown = f"[{host}]" if ":" in host else host
    err.print(
        f"dashboard on http://{shown}:{port}/ (API /api, docs /docs, metrics /metrics); "
        f"database {redacted_url(settings.database_url)}; Ctrl-C stops"
    )
    # log_config=None: uvicorn's records go through our handler, in SYNDICATOR_LOG_FORMAT.
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="info", log_config=None, proxy_headers=True, server_header=False)
    )
    server.run(sockets=[sock])


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses it (the audit log's actor).")],
    role: Annotated[str, typer.Option("--role", help="viewer, operator or admin.")] = "viewer",
) -> None:
    """Create a token; it is printed once, alone on the last line."""
    from syndicator.web.tokens import TokenError, create_token

    settings, _ = load()
    store = open_store(settings, auto_upgrade="empty")
    try:
        row, token = create_token(store.sessions, name, role, utcnow())
    except TokenError as exc:
        fail(str(exc), EXIT_INVALID)
    finally:
        store.dispose()
    out.print(f"token {row.name!r} ({row.role}) created; copy it now, it is not shown again:")
    print(token)


@tokens_app.command("list")
def list_command() -> None:
    """Every token: name, role, created, last used, revoked (never the token itself)."""
    from syndicator.web.tokens import list_tokens

    settings, _ = load()
    store = open_store(settings, auto_upgrade="empty")
    with store.sessions() as session:
        rows = list_tokens(session)
    store.dispose()
    if not rows:
        out.print("no tokens yet: `syndicator tokens create --name NAME --role viewer|operator|admin`")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("name", "role", "created (UTC)", "last used (UTC)", "revoked (UTC)"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.name,
            row.role,
            stamp(row.created_at),
            stamp(row.last_used_at) or "never",
            styled(stamp(row.revoked_at), "red") if row.revoked_at else "",
        )
    out.print(table)


@tokens_app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Stop a token working at once (its browser sessions end too)."""
    from syndicator.web.tokens import TokenError, revoke_token

    settings, _ = load()
    store = open_store(settings, auto_upgrade="empty")
    try:
        row = revoke_token(store.sessions, name, utcnow())
    except TokenError as exc:
        fail(str(exc), EXIT_FAILED)
    finally:
        store.dispose()
    out.print(f"token {row.name!r} revoked at {stamp(row.revoked_at)} UTC")


def register(app: typer.Typer) -> None:
    """Add `serve` and `tokens`."""
    app.command("serve")(serve)
    app.add_typer(tokens_app, name="tokens")
