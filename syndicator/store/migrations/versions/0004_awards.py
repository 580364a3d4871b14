"""awards: the award decision and its lots and contracts; deliveries gain a part

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:00:00
"""

import sqlalchemy as sa
from alembic import op

import syndicator.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = syndicator.store.models.Json
When = syndicator.store.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "awards",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tender_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record", Json, nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("award_notice_published_on", sa.Date(), nullable=True),
        sa.Column("standstill_ends", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["tender_id"], ["tenders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tender_id"),
    )
    op.create_table(
        "award_lots",
        sa.Column("id", BigId, nullable=False),
        sa.Column("award_id", BigId, nullable=False),
        sa.Column("tender_id", BigId, nullable=False),
        sa.Column("buyer", sa.String(length=64), nullable=False),
        sa.Column("lot", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("suppliers", Json, nullable=False),
        sa.Column("value_net", sa.Numeric(16, 2), nullable=True),
        sa.Column("value_gross", sa.Numeric(16, 2), nullable=True),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("details_alerted_at", When(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["award_id"], ["awards.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_award_lots_buyer_end", "award_lots", ["buyer", "contract_end"])
    op.create_index("ix_award_lots_start", "award_lots", ["contract_start"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("part", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("part")
    op.drop_index("ix_award_lots_start", "award_lots")
    op.drop_index("ix_award_lots_buyer_end", "award_lots")
    op.drop_table("award_lots")
    op.drop_table("awards")
