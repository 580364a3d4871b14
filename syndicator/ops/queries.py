"""Read-only views of the store for people: delivery lists with filters and pages, counts by
state, one tender with its whole history, per-channel health, the audit log. Shared by the
CLI, the dashboard and the JSON API (through `syndicator.ops.actions`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from syndicator.domain.limits import MAX_ID
from syndicator.domain.states import State
from syndicator.store import counts
from syndicator.store.models import AttemptRow, AuditRow, ChannelStateRow, DeliveryRow, TenderRow

D, T = DeliveryRow, TenderRow
BACKLOG = (State.HELD, State.PENDING, State.RETRY_WAIT, State.SENDING, State.SUBMITTED)


def _matches(search: str) -> Any:
    """Part of a tender's reference or title, ignoring case; % and _ are matched literally."""
    term = search.lower()
    return or_(
        func.lower(T.reference).contains(term, autoescape=True),
        func.lower(T.title).contains(term, autoescape=True),
    )


@dataclass(frozen=True)
class Filters:
    """What a person narrows a delivery list by."""

    state: str | None = None
    destination: str | None = None  # a family ("trade-press") matches all its publications
    buyer: str | None = None
    since: datetime | None = None
    search: str | None = None  # part of a tender reference or title
    tender_id: int | None = None

    def apply(self, query: Any, present: list[str] | None = None) -> Any:
        """Add the filters' conditions to a query over deliveries (joined to tenders).
        `present`: the destinations the destination filter matches (`matching_destinations`),
        which the indexes walk better than the family pattern."""
        if self.state:
            query = query.where(D.state == self.state)
        if self.destination and present is not None:
            query = query.where(D.destination.in_(present))
        elif self.destination:
            # autoescape: a % or _ typed by a person is that character, not a wildcard
            family = D.destination.startswith(f"{self.destination}:", autoescape=True)
            query = query.where(or_(D.destination == self.destination, family))
        if self.buyer:
            query = query.where(D.buyer == self.buyer)
        if self.since:
            query = query.where(D.created_at >= self.since)
        if self.tender_id:
            query = query.where(D.tender_id == self.tender_id)
        if self.search:
            query = query.where(_matches(self.search))
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
    notice: str  # contract | change | cancellation | award | contract-details
    version: int  # the tender version the notice carries
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
    D.notice,
    D.version,
    D.state,
    D.attempts,
    D.last_error,
    D.remote_id,
    D.remote_url.label("url"),
    D.created_at,
    D.updated_at,
    D.next_attempt_at,
)


def matching_destinations(session: Session, filters: Filters) -> list[str] | None:
    """The destinations with deliveries that the destination filter matches (itself, or a
    family's publications), from the small counts table; None without a destination filter.
    `destination IN (...)` lets an index hand over a state's rows of a destination newest
    first, which `destination = x OR destination LIKE 'x:%'` does not (a million-row list
    would walk from the newest row down until it found a page)."""
    if not filters.destination:
        return None
    wanted = filters.destination
    return [name for name in counts.destinations(session) if name == wanted or name.startswith(f"{wanted}:")]


def deliveries(session: Session, filters: Filters, page: int = 1, size: int = 50) -> Page:
    """A page of deliveries, newest first, and counts by state of everything that matched."""
    base = select(*_COLUMNS).join(T, T.id == D.tender_id)
    present = matching_destinations(session, filters)
    rows = session.execute(
        filters.apply(base, present).order_by(D.id.desc()).limit(size).offset((max(page, 1) - 1) * size)
    )
    found = count_by_state(session, filters, present)
    return Page([DeliveryView(**row._mapping) for row in rows], sum(found.values()), found, page, size)


def count_by_state(session: Session, filters: Filters, present: list[str] | None = None) -> dict[str, int]:
    """How many matching deliveries are in each state."""
    if present is None:
        present = matching_destinations(session, filters)
    if not (filters.buyer or filters.since or filters.search or filters.tender_id):
        # Only state and destination: the trigger-kept counts answer without counting rows.
        found: dict[str, int] = {}
        for destination, states in counts.by_destination(session).items():
            if present is None or destination in present:
                for state, n in states.items():
                    if not filters.state or state == filters.state:
                        found[state] = found.get(state, 0) + n
        return found
    query = select(D.state, func.count()).group_by(D.state)
    if filters.search:
        query = query.join(T, T.id == D.tender_id)
    return {state: n for state, n in session.execute(filters.apply(query, present))}


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
    # Nothing here reads the deliveries table beyond index probes: the counts come from the
    # trigger-kept `delivery_counts`, the oldest due and the last success from the
    # (destination, state, next_attempt_at) and (destination, published_at) indexes.
    found = {name: ChannelHealth(name) for name in destinations}
    for destination, states in counts.by_destination(session).items():
        health = found.setdefault(destination, ChannelHealth(destination))
        health.counts = states
        health.backlog = sum(n for state, n in states.items() if state in BACKLOG)
    for destination, health in found.items():
        for state in (State.PENDING.value, State.RETRY_WAIT.value):
            oldest = session.scalar(
                select(func.min(D.next_attempt_at)).where(
                    D.destination == destination, D.state == state, D.next_attempt_at <= now
                )
            )
            if oldest is not None and (health.oldest_due is None or oldest < health.oldest_due):
                health.oldest_due = oldest
        health.last_success = session.scalar(
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
    # isascii: "²" passes isdigit() but not int(); MAX_ID: a larger number cannot be a row id.
    is_id = reference.isascii() and reference.isdigit() and int(reference) <= MAX_ID
    if is_id and (by_id := session.get(TenderRow, int(reference))) is not None:
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


# -- views added for the web application ------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """One destination's state on a tender row."""

    delivery_id: int
    destination: str
    state: str


@dataclass
class TenderSummary:
    """One tender in the tenders list, with one badge per destination."""

    id: int
    reference: str
    buyer: str
    title: str
    created_at: datetime
    cancelled_at: datetime | None
    badges: list[Badge] = field(default_factory=list)


@dataclass
class TenderPage:
    """One page of the tenders list."""

    items: list[TenderSummary]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages there are."""
        return max(1, -(-self.total // self.size))


def tenders(
    session: Session,
    *,
    search: str | None = None,
    buyer: str | None = None,
    state: str | None = None,
    page: int = 1,
    size: int = 25,
) -> TenderPage:
    """A page of tenders, newest first; `state` keeps those with a delivery in that state."""
    query = select(T)
    if search:
        query = query.where(_matches(search))
    if buyer:
        query = query.where(T.buyer == buyer)
    if state:
        query = query.where(select(D.id).where(D.tender_id == T.id, D.state == state).exists())
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.order_by(T.id.desc()).limit(size).offset((max(page, 1) - 1) * size))
    items = {
        r.id: TenderSummary(r.id, r.reference, r.buyer, r.title, r.created_at, r.cancelled_at) for r in rows
    }
    if items:
        badges = select(D.id, D.tender_id, D.destination, D.state).where(D.tender_id.in_(list(items)))
        for delivery_id, tender_id, destination, delivery_state in session.execute(badges.order_by(D.id)):
            items[tender_id].badges.append(Badge(delivery_id, destination, delivery_state))
    return TenderPage(list(items.values()), total, page, size)


def deliveries_in(
    session: Session, filters: Filters, states: list[str], page: int = 1, size: int = 50
) -> Page:
    """Like `deliveries`, restricted to `states` (the failed list: failed and needs_reconcile)."""
    base = select(*_COLUMNS).join(T, T.id == D.tender_id).where(D.state.in_(states))
    present = matching_destinations(session, filters)
    rows = session.execute(
        filters.apply(base, present).order_by(D.id.desc()).limit(size).offset((max(page, 1) - 1) * size)
    )
    found = {s: n for s, n in count_by_state(session, filters, present).items() if s in states}
    return Page([DeliveryView(**row._mapping) for row in rows], sum(found.values()), found, page, size)


def attempts_by_outcome(session: Session) -> list[tuple[str, str, int]]:
    """(destination, outcome, how many attempts) over the whole history."""
    query = (
        select(D.destination, AttemptRow.outcome, func.count())
        .join(D, D.id == AttemptRow.delivery_id)
        .group_by(D.destination, AttemptRow.outcome)
    )
    return [(destination, outcome, n) for destination, outcome, n in session.execute(query)]


def _seconds_between(session: Session, start: Any, end: Any) -> Any:
    """`end - start` in seconds, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


@dataclass
class Histogram:
    """Cumulative bucket counts (upper bound in seconds -> count), sum and count."""

    buckets: dict[float, int]
    total: float
    count: int


def publish_latency(session: Session, bounds: list[float]) -> dict[str, Histogram]:
    """Per destination, the time from submission to publication of published deliveries."""
    seconds = _seconds_between(session, D.created_at, D.published_at)
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in bounds]
    query = (
        select(D.destination, func.count(), func.sum(seconds), *columns)
        .where(D.state == State.PUBLISHED.value, D.published_at.is_not(None))
        .group_by(D.destination)
    )
    found = {}
    for destination, count, total, *cumulative in session.execute(query):
        found[destination] = Histogram(
            {bound: int(n or 0) for bound, n in zip(bounds, cumulative, strict=True)},
            float(total or 0),
            int(count),
        )
    return found
