"""Schema 0002 (web access) upgrades cleanly from 0001, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect

from syndicator.store.db import _alembic_config, current_revision, make_engine, upgrade
from tests.services import fresh_postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
    else:
        yield from fresh_postgres_database()


def test_0002_upgrades_from_0001_and_downgrades(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        config = _alembic_config(engine)
        command.upgrade(config, "0001")
        assert "api_tokens" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert current_revision(engine) == "0002"
        tables = set(inspect(engine).get_table_names())
        assert {"api_tokens", "web_sessions", "api_idempotency", "tenders", "deliveries"} <= tables
        uniques = {
            tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("api_idempotency")
        }
        assert ("token_id", "key") in uniques
        command.downgrade(config, "0001")
        assert "api_tokens" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
