"""Real services for integration tests: PostgreSQL and Redis from the environment
(SYNDICATOR_TEST_DATABASE_URL, SYNDICATOR_TEST_REDIS_URL, exported by `.ci/run`).

Outside CI a missing service skips the tests that need it, with the reason; in CI
(CI=true) it fails them, so a broken service can never hide behind a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from syndicator.runtime.wiring import Store
from syndicator.store.db import make_engine, upgrade
from syndicator.store.models import Base

IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    """Skip, or fail in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it; see .ci/run)")
    pytest.skip(reason)


def postgres_url() -> str:
    """The PostgreSQL server URL for tests, or skip/fail."""
    url = os.environ.get("SYNDICATOR_TEST_DATABASE_URL")
    if not url:
        unavailable("SYNDICATOR_TEST_DATABASE_URL is not set: no PostgreSQL for integration tests")
    assert url is not None
    try:
        probe = make_engine(url, pool_size=1, max_overflow=0)
        with probe.connect() as connection:
            connection.execute(text("select 1"))
        probe.dispose()
    except Exception as exc:
        unavailable(f"PostgreSQL at {make_url(url).render_as_string()} does not answer: {exc}")
    return url


def redis_url() -> str:
    """The Redis URL for tests, or skip/fail."""
    import redis

    url = os.environ.get("SYNDICATOR_TEST_REDIS_URL")
    if not url:
        unavailable("SYNDICATOR_TEST_REDIS_URL is not set: no Redis for integration tests")
    assert url is not None
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        unavailable(f"Redis at {url} does not answer: {exc}")
    return url


def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test session, dropped afterwards."""
    server = make_url(postgres_url())
    name = f"syndicator_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_tables(store: Store) -> None:
    """Delete every row, children first."""
    with store.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        # Deleting deliveries appended their negative counts: start from none at all.
        connection.execute(Base.metadata.tables["delivery_counts"].delete())


def migrated_store(url: str) -> Store:
    """A store on `url` with the schema at head."""
    from syndicator.store.db import session_factory

    engine = make_engine(url)
    upgrade(engine)
    return Store(engine, session_factory(engine))
