"""notices: tender versions, and deliveries that carry one notice (kind, version) each

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:00:00

Existing tenders become version 1 of themselves; existing deliveries become their contract
notice of version 1, and a held delivery's gate (a destination name) is resolved to the
delivery it waits for.
"""

import sqlalchemy as sa
from alembic import op

import syndicator.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = syndicator.store.models.Json


def upgrade() -> None:
    op.create_table(
        "tender_versions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tender_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record", Json, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("route", Json, nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", syndicator.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("change_kind", sa.String(length=20), nullable=True),
        sa.Column("changes", Json, nullable=False),
        sa.ForeignKeyConstraint(["tender_id"], ["tenders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tender_id", "version", name="uq_tender_versions_tender_version"),
    )
    with op.batch_alter_table("tenders") as batch:
        batch.drop_constraint("uq_tenders_buyer_reference_version", type_="unique")
        batch.create_unique_constraint("uq_tenders_buyer_reference", ["buyer", "reference"])
        batch.add_column(
            sa.Column("withdrawn_at", syndicator.store.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("withdrawal_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("notice", sa.String(length=20), nullable=False, server_default="contract"))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("gate_id", BigId, nullable=True))
        batch.add_column(sa.Column("previous_id", BigId, nullable=True))
        batch.add_column(sa.Column("identity", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("publication_id", sa.String(length=100), nullable=True))
        batch.create_index("ix_deliveries_tender_destination", ["tender_id", "destination"])
        batch.create_index("ix_deliveries_gate", ["gate_id"])
        batch.create_index("ix_deliveries_previous", ["previous_id"])
    empty = "'[]'"
    op.execute(
        "INSERT INTO tender_versions (tender_id, version, record, content_hash, route, submitted_by, "
        f"created_at, changes) SELECT id, version, record, content_hash, route, submitted_by, created_at, "
        f"{empty if op.get_bind().dialect.name == 'sqlite' else empty + '::jsonb'} FROM tenders"
    )
    op.execute(
        "UPDATE deliveries SET gate_id = (SELECT g.id FROM deliveries g WHERE g.tender_id = "
        "deliveries.tender_id AND g.destination = deliveries.gate) WHERE gate IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_previous")
        batch.drop_index("ix_deliveries_gate")
        batch.drop_index("ix_deliveries_tender_destination")
        for name in ("publication_id", "identity", "previous_id", "gate_id", "version", "notice"):
            batch.drop_column(name)
    with op.batch_alter_table("tenders") as batch:
        for name in ("withdrawal_reason", "withdrawn_by", "withdrawn_at"):
            batch.drop_column(name)
        batch.drop_constraint("uq_tenders_buyer_reference", type_="unique")
        batch.create_unique_constraint(
            "uq_tenders_buyer_reference_version", ["buyer", "reference", "version"]
        )
    op.drop_table("tender_versions")
