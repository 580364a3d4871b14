"""The status store's tables (SQLAlchemy 2.0 typed models). The database is the source of
truth: a Celery message only wakes a worker up; everything a delivery needs lives here.

    tenders 1--* tender_versions     (the record as submitted, then each amendment)
    tenders 1--1 awards 1--* award_lots   (the award decision; one row per lot and its contract)
    tenders 1--* deliveries 1--* attempts        audit_log (manual actions)
                 (one notice, of one tender version, to one destination)
    channel_state (per-destination circuit breaker)      alerts (waiting to be e-mailed)
    delivery_counts (deliveries per destination and state, kept by triggers)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class TenderRow(Base):
    """A procurement: its identity, and its current version's record and route (a copy of the
    newest `tender_versions` row, for lists and searches)."""

    __tablename__ = "tenders"
    __table_args__ = (
        UniqueConstraint("buyer", "reference", name="uq_tenders_buyer_reference"),
        Index("ix_tenders_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    buyer: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    record: Mapped[dict[str, Any]] = mapped_column(Json)
    content_hash: Mapped[str] = mapped_column(String(64))
    route: Mapped[dict[str, Any]] = mapped_column(Json)
    submitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The procurement was withdrawn: cancellation notices went to every destination carrying it.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    deliveries: Mapped[list[DeliveryRow]] = relationship(back_populates="tender", order_by="DeliveryRow.id")
    versions: Mapped[list[TenderVersionRow]] = relationship(
        back_populates="tender", order_by="TenderVersionRow.version"
    )


class TenderVersionRow(Base):
    """One version of a tender: the record as accepted, with who, when and why."""

    __tablename__ = "tender_versions"
    __table_args__ = (UniqueConstraint("tender_id", "version", name="uq_tender_versions_tender_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict[str, Any]] = mapped_column(Json)
    content_hash: Mapped[str] = mapped_column(String(64))
    route: Mapped[dict[str, Any]] = mapped_column(Json)
    submitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why (versions after the first)
    change_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)  # update | correction
    changes: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)  # against the previous version

    tender: Mapped[TenderRow] = relationship(back_populates="versions")


class DeliveryRow(Base):
    """One notice (kind, tender version) to one destination: its state, key, schedule, what it
    waits for, and the channel's references."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_next", "state", "next_attempt_at"),
        # destination, state: counts of a filtered list; + next_attempt_at: a destination's
        # oldest due delivery in an index probe (the overview).
        Index("ix_deliveries_destination_state_next", "destination", "state", "next_attempt_at"),
        # A status list filtered by state and destination, newest first: walks those rows in id
        # order instead of every row from the newest down (migration 0005).
        Index("ix_deliveries_state_destination_id", "state", "destination", "id"),
        Index("ix_deliveries_buyer", "buyer"),
        Index("ix_deliveries_created_at", "created_at"),
        Index("ix_deliveries_tender", "tender_id"),
        Index("ix_deliveries_published", "destination", "published_at"),
        Index("ix_deliveries_tender_destination", "tender_id", "destination"),
        Index("ix_deliveries_gate", "gate_id"),
        Index("ix_deliveries_previous", "previous_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    buyer: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20))
    notice: Mapped[str] = mapped_column(
        String(20), default="contract", server_default="contract"
    )  # syndicator.domain.notices.NoticeKind
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # tender version carried
    # Which part of the procurement, where one kind and version has several notices: a contract
    # details notice per signed contract ("lot-2", "whole").
    part: Mapped[str | None] = mapped_column(String(40), nullable=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    # Sent again by a person: 1 for the first send; channels that refuse a repeat of a refused
    # notice's identity (TED's businessId) number the re-send with it.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts since the delivery was created or last re-pushed: what the retry schedule counts.
    round_attempts: Mapped[int] = mapped_column(Integer, default=0)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    # While held: the primary destination's notice it follows (`gate` is that destination's
    # name, `gate_id` the delivery), and the previous notice on the same destination, which
    # must be published first.
    gate: Mapped[str | None] = mapped_column(String(80), nullable=True)
    gate_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    previous_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Who re-pushed it by hand: the next attempt is recorded as manual, by them.
    repushed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    identity: Mapped[str | None] = mapped_column(String(200), nullable=True)  # what we called it on the wire
    remote_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    remote_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    publication_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rendered: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    tender: Mapped[TenderRow] = relationship(back_populates="deliveries")


class AwardRow(Base):
    """A tender's award decision: the record as given, and the standstill once the award notice
    is published (Procurement Act 2023 s.51)."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), unique=True)
    version: Mapped[int] = mapped_column(Integer)  # the tender version awarded
    record: Mapped[dict[str, Any]] = mapped_column(Json)
    decision_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    award_notice_published_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    standstill_ends: Mapped[date | None] = mapped_column(Date, nullable=True)  # its last day

    lots: Mapped[list[AwardLotRow]] = relationship(back_populates="award", order_by="AwardLotRow.id")


class AwardLotRow(Base):
    """One lot's outcome, and for an awarded lot its contract (what the transparency lists read)."""

    __tablename__ = "award_lots"
    __table_args__ = (
        Index("ix_award_lots_buyer_end", "buyer", "contract_end"),
        Index("ix_award_lots_start", "contract_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"))
    tender_id: Mapped[int] = mapped_column(BigId)
    buyer: Mapped[str] = mapped_column(String(64))
    lot: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: an undivided tender
    outcome: Mapped[str] = mapped_column(String(20))  # awarded | not-awarded
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    suppliers: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    value_net: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    value_gross: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    contract_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    contract_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    signed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The 30-day contract details alert was raised (once).
    details_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    award: Mapped[AwardRow] = relationship(back_populates="lots")


class AttemptRow(Base):
    """One attempt (send or status check) of a delivery: append-only history."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # send | poll
    trigger: Mapped[str] = mapped_column(String(10))  # auto | manual
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(30))
    error_class: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)
    remote_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class AuditRow(Base):
    """A manual action: who did what to which tender or delivery, and why."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    tender_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    delivery_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class ChannelStateRow(Base):
    """A destination's circuit breaker."""

    __tablename__ = "channel_state"

    destination: Mapped[str] = mapped_column(String(80), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class DeliveryCountRow(Base):
    """How many deliveries each destination has in each state, as deltas kept by triggers on
    `deliveries` (migration 0005) and folded together by the sweeper: the overview sums this
    small table instead of counting a table of millions of rows."""

    __tablename__ = "delivery_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    destination: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20))
    n: Mapped[int] = mapped_column(BigInteger)


class AlertRow(Base):
    """Something ops must hear about, waiting to be e-mailed (grouped) by the sweeper."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))  # failed | needs_reconcile | breaker_open | auth
    destination: Mapped[str] = mapped_column(String(80))
    delivery_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    message: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiTokenRow(Base):
    """An API token: a name (the actor in the audit log), a role, and only the token's hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # viewer | operator | admin
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebSessionRow(Base):
    """A browser signed in with a token: the cookie's hash, its CSRF token and its expiry."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie value
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    flash: Mapped[str | None] = mapped_column(Text, nullable=True)  # shown once on the next page
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyRow(Base):
    """The stored answer to an API request sent with an `Idempotency-Key`, for replays."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_api_idempotency_token_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
