"""delivery counts: deliveries per destination and state, kept by triggers, for the overview

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:00:00

The overview counted the deliveries table by destination and state on every page view; at a
million rows that is a scan of the whole table. Triggers on `deliveries` now append
(destination, state, +/-n) deltas to `delivery_counts` in the same transaction as the change,
so the counts are exactly as committed as the rows; the sweeper folds the deltas together
(`syndicator.store.counts.compact`). Appending instead of updating one row per
(destination, state) keeps concurrent workers from queueing on a shared counter row.

PostgreSQL: one statement-level trigger per operation over the transition tables (a batch
claim of twenty rows appends one delta per (destination, state), not twenty). SQLite: row
triggers. A later migration that rebuilds `deliveries` with a batch operation on SQLite drops
its triggers and must create them again (`create_triggers`).

The (destination, state) index grows a third column, next_attempt_at: a destination's oldest
due delivery becomes an index probe. A (state, destination, id) index serves the status list
filtered by state and destination, newest first: it walks those rows in id order instead of
every row from the newest down (900,000 of a million when the failed ones are old).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

POSTGRES_FUNCTION = """
CREATE FUNCTION delivery_counts_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO delivery_counts (destination, state, n)
        SELECT destination, state, count(*) FROM new_rows GROUP BY destination, state;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO delivery_counts (destination, state, n)
        SELECT destination, state, -count(*) FROM old_rows GROUP BY destination, state;
    ELSE
        INSERT INTO delivery_counts (destination, state, n)
        SELECT destination, state, sum(d) FROM (
            SELECT destination, state, 1 AS d FROM new_rows
            UNION ALL
            SELECT destination, state, -1 AS d FROM old_rows
        ) AS changed
        GROUP BY destination, state
        HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGERS = [
    "CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_delta()",
    "CREATE TRIGGER delivery_counts_update AFTER UPDATE ON deliveries "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_delta()",
    "CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_delta()",
]
SQLITE_TRIGGERS = [
    "CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries BEGIN "
    "INSERT INTO delivery_counts (destination, state, n) VALUES (NEW.destination, NEW.state, 1); END",
    "CREATE TRIGGER delivery_counts_update AFTER UPDATE OF state, destination ON deliveries "
    "WHEN OLD.state IS NOT NEW.state OR OLD.destination IS NOT NEW.destination BEGIN "
    "INSERT INTO delivery_counts (destination, state, n) "
    "VALUES (OLD.destination, OLD.state, -1), (NEW.destination, NEW.state, 1); END",
    "CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries BEGIN "
    "INSERT INTO delivery_counts (destination, state, n) VALUES (OLD.destination, OLD.state, -1); END",
]


def create_triggers() -> None:
    """The triggers that keep `delivery_counts` (also for later migrations that rebuild them)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def drop_triggers() -> None:
    for name in ("delivery_counts_insert", "delivery_counts_update", "delivery_counts_delete"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON deliveries")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS delivery_counts_delta()")


def upgrade() -> None:
    op.create_table(
        "delivery_counts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("destination", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_destination_state")
        batch.create_index(
            "ix_deliveries_destination_state_next", ["destination", "state", "next_attempt_at"]
        )
        batch.create_index("ix_deliveries_state_destination_id", ["state", "destination", "id"])
    # The batch above may rebuild the table on SQLite: the triggers come after it. The table
    # is locked by the migration's transaction, so no change slips between count and trigger.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE deliveries IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        "INSERT INTO delivery_counts (destination, state, n) "
        "SELECT destination, state, count(*) FROM deliveries GROUP BY destination, state"
    )
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_state_destination_id")
        batch.drop_index("ix_deliveries_destination_state_next")
        batch.create_index("ix_deliveries_destination_state", ["destination", "state"])
    op.drop_table("delivery_counts")
