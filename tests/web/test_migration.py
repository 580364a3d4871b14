"""Schema migrations upgrade cleanly, existing rows included, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, inspect, text

from syndicator.store.db import _alembic_config, current_revision, head_revision, make_engine, upgrade
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
        command.upgrade(config, "0002")
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


def test_0003_makes_existing_tenders_version_1_and_their_deliveries_contract_notices(empty_url: str) -> None:
    engine = make_engine(empty_url)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    try:
        config = _alembic_config(engine)
        command.upgrade(config, "0002")
        tenders, deliveries = Table("tenders", MetaData(), autoload_with=engine), None
        deliveries = Table("deliveries", MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            tender_id = connection.execute(
                tenders.insert()
                .values(
                    buyer="emscu",
                    reference="OLD-1",
                    version=1,
                    title="Old",
                    record={"reference": "OLD-1"},
                    content_hash="h",
                    route={"destinations": []},
                    submitted_by="alice",
                    created_at=now,
                )
                .returning(tenders.c.id)
            ).scalar_one()
            common = {
                "tender_id": tender_id,
                "buyer": "emscu",
                "revision": 1,
                "attempts": 0,
                "round_attempts": 0,
                "polls": 0,
                "created_at": now,
                "updated_at": now,
            }
            ted = connection.execute(
                deliveries.insert()
                .values(destination="ted", state="submitted", key="k-ted", **common)
                .returning(deliveries.c.id)
            ).scalar_one()
            connection.execute(
                deliveries.insert().values(
                    destination="crystal", state="held", key="k-cry", gate="ted", **common
                )
            )
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            versions = connection.execute(
                text("SELECT tender_id, version, submitted_by FROM tender_versions")
            ).all()
            assert [tuple(v) for v in versions] == [(tender_id, 1, "alice")]
            rows = connection.execute(
                text("SELECT destination, notice, version, gate_id FROM deliveries ORDER BY id")
            ).all()
            assert [tuple(r) for r in rows] == [("ted", "contract", 1, None), ("crystal", "contract", 1, ted)]
        uniques = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("tenders")}
        assert ("buyer", "reference") in uniques
        command.downgrade(config, "0002")
        assert "tender_versions" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
