"""Composition root: builds the pieces a command or process needs from settings.

Each entry point (CLI command, worker, web application, demo) asks for exactly what it uses;
nothing here is a global or a singleton.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from syndicator.config.settings import Config, Settings, load_config
from syndicator.domain.tender import Tender, TenderContext
from syndicator.intake.records import Check
from syndicator.routing.destinations import requirements, route
from syndicator.store.db import current_revision, head_revision, make_engine, session_factory, upgrade


class SchemaOutOfDate(Exception):
    """The database is behind this code and automatic upgrade was not asked for."""


@dataclass(frozen=True)
class Store:
    """An engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def redacted_url(url: str) -> str:
    """A database or broker URL safe to print (password hidden)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown without its credentials part
        return url.split("@")[-1]


def open_store(settings: Settings, *, auto_upgrade: bool | str = True, **options: object) -> Store:
    """Connect to the status store. `auto_upgrade`: True upgrades any schema; "empty" creates
    the schema of an empty database but refuses to touch an older one (production workers)."""
    engine = make_engine(settings.database_url, **options)
    current = current_revision(engine)
    if auto_upgrade is True or (auto_upgrade == "empty" and current is None):
        upgrade(engine)
    elif current != head_revision():
        raise SchemaOutOfDate(
            f"the database at {redacted_url(settings.database_url)} is at schema "
            f"{current or 'none'}, this code needs {head_revision()}: "
            "run `syndicator db upgrade`"
        )
    return Store(engine, session_factory(engine))


def tender_context(config: Config, today: date) -> TenderContext:
    """What record validation needs from configuration."""
    return TenderContext(
        buyers=config.buyers.ids,
        earliest_publication=config.thresholds.earliest,
        today=today,
        vat_rate=config.policy.vat_rate,
    )


def route_check(config: Config) -> Check:
    """The validation step that needs the routing policy (e.g. TED needs a documents URL)."""

    def check(tender: Tender) -> list[tuple[str, str]]:
        return requirements(tender, route(tender, config.policy, config.thresholds), config.policy)

    return check


def load(settings: Settings | None = None) -> tuple[Settings, Config]:
    """Settings from the environment and the checked configuration files."""
    settings = settings or Settings()
    return settings, load_config(settings)
