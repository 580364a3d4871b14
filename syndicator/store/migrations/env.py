"""Alembic environment: runs migrations on the engine the product hands over."""

from alembic import context

from syndicator.store.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration copies a table and drops the old one; with foreign keys on, SQLite
        # would cascade that drop to every child row (deliveries of a tender). pysqlite has not
        # begun a transaction yet here, so the pragma takes effect.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
