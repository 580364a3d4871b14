"""The `syndicator` command: every subcommand registered explicitly, and one place that turns
configuration, database and unexpected errors into a clear line instead of a traceback."""

from __future__ import annotations

import os
import sys

import typer
from sqlalchemy.exc import OperationalError

from syndicator.cli import (
    actions,
    awards,
    demo,
    intake,
    lifecycle,
    monitor,
    preview,
    services,
    transparency,
    web,
)
from syndicator.cli.common import EXIT_ENVIRONMENT, err
from syndicator.config.files import ConfigError
from syndicator.runtime.wiring import SchemaOutOfDate

app = typer.Typer(
    name="syndicator",
    help="Advertise EMSCU invitations to tender on every channel they must reach.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The status store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

intake.register(app)
lifecycle.register(app)
awards.register(app)
transparency.register(app)
monitor.register(app)
actions.register(app)
services.register(app)
preview.register(app)
web.register(app)
demo.register(app)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to this version of the code."""
    from syndicator.cli.common import out
    from syndicator.config.settings import Settings
    from syndicator.runtime.wiring import redacted_url
    from syndicator.store.db import make_engine, upgrade

    settings = Settings()
    engine = make_engine(settings.database_url)
    before, after = upgrade(engine)
    where = redacted_url(settings.database_url)
    if before == after:
        out.print(f"{where}: schema already at {after}")
    else:
        out.print(f"{where}: schema upgraded from {before or 'empty'} to {after}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ConfigError as exc:
        err.print(f"configuration error: {exc}")
        sys.exit(EXIT_ENVIRONMENT)
    except SchemaOutOfDate as exc:
        err.print(f"database: {exc}")
        sys.exit(EXIT_ENVIRONMENT)
    except OperationalError as exc:
        err.print(f"database unavailable: {str(exc.orig).strip().splitlines()[0]}")
        sys.exit(EXIT_ENVIRONMENT)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SYNDICATOR_DEBUG"):
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc} (set SYNDICATOR_DEBUG=1 to see the traceback)"
        )
        sys.exit(70)
