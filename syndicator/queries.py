"""Read-only views of the store for people: delivery lists with filters and pages, counts by
state, one tender with its whole history, per-channel health, the audit log. Shared by the
CLI, the dashboard and the JSON API (through `syndicator.ops`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from syndicator.models import AttemptRow, AuditRow, ChannelStateRow, DeliveryRow, TenderRow
from syndicator.states import State

D, T = DeliveryRow, TenderRow
BACKLOG = (State.HELD, State.PENDING, State.RETRY_WAIT, State.SENDING, State.SUBMITTED)


@dataclass(frozen=True)
class Filters:
    """What a person narrows a delivery list by."""

    state: str | None = None
    destination: str | None = None  # a family ("trade-press") matches all its publications
    buyer: str | None = None
    since: datetime | None = None
    search: str | None = None  # part of a tender reference or title
    tender_id: int | None = None

    def apply(self, query: Any) -> Any:
        """Add the filters' conditions to a query over deliveries (joined to tenders)."""
        if self.state:
            query = query.where(D.state == self.state)
        if self.destination:
            query = query.where(
                or_(D.destination == self.destination, D.destination.like(f"{self.destination}:%"))
            )
        if self.buyer:
            query = query.where(D.buyer == self.buyer)
        if self.since:
            query = query.where(D.created_at >= self.since)
        if self.tender_id:
            query = query.where(D.tender_id == self.tender_id)
        if self.search:
            pattern = f"%{self.search.lower()}%"
            query = query.where(or_(func.lower(T.reference).like(pattern), func.lower(T.title).like(pattern)))
        return query


@dataclass(frozen=True)
class DeliveryView:
    """One tender on one destination, as listed."""

    id: int
    tender_id: int
    tender_reference: str
    title: str
    buyer: str
    destination: str
    state: str
    attempts: int
    last_error: str | None
    remote_id: str | None
    url: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (`syndicator status --json`, `GET /api/deliveries`)."""
        data = asdict(self)
        for name in ("created_at", "updated_at", "next_attempt_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


@dataclass
class Page:
    """One page of a delivery list, with the counts by state of the whole filtered list."""

    items: list[DeliveryView]
    total: int
    counts: dict[str, int]
    page: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages there are."""
        return max(1, -(-self.total // self.size))


_COLUMNS = (
    D.id,
    D.tender_id,
    T.reference.label("tender_reference"),
    T.title,
    D.buyer,
    D.destination,
    D.state,
    D.attempts,
    D.last_error,
    D.remote_id,
    D.remote_url.label("url"),
    D.created_at,
    D.updated_at,
    D.next_attempt_at,
)


def deliveries(session: Session, filters: Filters, page: int = 1, size: int = 50) -> Page:
    """A page of deliveries, newest first, and counts by state of everything that matched."""
    base = select(*_COLUMNS).join(T, T.id == D.tender_id)
    rows = session.execute(
        filters.apply(base).order_by(D.id.desc()).limit(size).offset((max(page, 1) - 1) * size)
    )
    counts = count_by_state(session, filters)
    return Page([DeliveryView(**row._mapping) for row in rows], sum(counts.values()), counts, page, size)


def count_by_state(session: Session, filters: Filters) -> dict[str, int]:
    """How many matching deliveries are in each state."""
    query = select(D.state, func.count()).group_by(D.state)
    if filters.search:
        query = query.join(T, T.id == D.tender_id)
    return {state: n for state, n in session.execute(filters.apply(query))}


@dataclass
class ChannelHealth:
    """One destination, for the overview and `syndicator channels`."""

    destination: str
    counts: dict[str, int] = field(default_factory=dict)
    backlog: int = 0
    oldest_due: datetime | None = None
    breaker: str = "closed"
    open_until: datetime | None = None
    consecutive_failures: int = 0
    last_success: datetime | None = None
    last_failure: datetime | None = None
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        data = asdict(self)
        for name in ("oldest_due", "open_until", "last_success", "last_failure"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


def channel_health(session: Session, destinations: list[str], now: datetime) -> list[ChannelHealth]:
    """Per destination: counts by state, backlog, oldest due, breaker, last success and failure."""
    found = {name: ChannelHealth(name) for name in destinations}
    for destination, state, n in session.execute(
        select(D.destination, D.state, func.count()).group_by(D.destination, D.state)
    ):
        health = found.setdefault(destination, ChannelHealth(destination))
        health.counts[state] = n
        if state in BACKLOG:
            health.backlog += n
    due = (
        select(D.destination, func.min(D.next_attempt_at))
        .where(D.state.in_([State.PENDING.value, State.RETRY_WAIT.value]), D.next_attempt_at <= now)
        .group_by(D.destination)
    )
    for destination, oldest in session.execute(due):
        found[destination].oldest_due = oldest
    for destination in found:
        found[destination].last_success = session.scalar(
            select(func.max(D.published_at)).where(D.destination == destination)
        )
    for row in session.scalars(select(ChannelStateRow)):
        health = found.setdefault(row.destination, ChannelHealth(row.destination))
        health.consecutive_failures = row.consecutive_failures
        health.last_failure, health.last_error = row.last_failure_at, row.last_error
        if row.open_until and row.open_until > now:
            health.breaker, health.open_until = "open", row.open_until
    return sorted(found.values(), key=lambda h: h.destination)


def find_tender(session: Session, reference: str) -> TenderRow | None:
    """A tender by id, by reference (the newest if two buyers share it), or by buyer/reference."""
    if reference.isdigit() and (by_id := session.get(TenderRow, int(reference))) is not None:
        return by_id
    newest = T.id.desc()
    found = session.scalars(select(T).where(T.reference == reference).order_by(newest)).first()
    if found is None and "/" in reference:
        buyer, _, rest = reference.partition("/")
        found = session.scalars(
            select(T).where(T.buyer == buyer, T.reference == rest).order_by(newest)
        ).first()
    return found


def attempts_of(session: Session, delivery_ids: list[int]) -> dict[int, list[AttemptRow]]:
    """Every attempt of the given deliveries, oldest first."""
    found: dict[int, list[AttemptRow]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        query = select(AttemptRow).where(AttemptRow.delivery_id.in_(delivery_ids)).order_by(AttemptRow.id)
        for row in session.scalars(query):
            found[row.delivery_id].append(row)
    return found


def audit(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRow]:
    """Manual actions, newest first."""
    query = select(AuditRow)
    if actor:
        query = query.where(AuditRow.actor == actor)
    if action:
        query = query.where(AuditRow.action == action)
    if since:
        query = query.where(AuditRow.at >= since)
    return list(session.scalars(query.order_by(AuditRow.id.desc()).limit(limit).offset(offset)))
