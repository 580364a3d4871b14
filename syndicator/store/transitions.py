"""The only code that changes a delivery's state: compare-and-set updates built from the
transition table in `syndicator.domain.states`, each checked by its row count.

    UPDATE deliveries SET state = :target, ... WHERE id = :id AND state IN (:allowed)

Bulk claims (`claim`, `claim_polls`, `mark_enqueued`) select with FOR UPDATE SKIP LOCKED on
PostgreSQL, so several sweepers and workers never take the same row; SQLite serialises
writers, and the same guarded UPDATE makes the claim atomic there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from syndicator.domain.states import Event, State, allowed_from, target
from syndicator.store.models import AlertRow, AttemptRow, DeliveryRow

# What runs the statements: an ORM session (ops, sweeper) or a bare connection (the dispatcher's
# hot path, which needs none of the ORM's unit of work).
Executor = Session | Connection

# Core table and columns, not the ORM class: these statements are the hot path, and Core skips
# the ORM's bulk-update bookkeeping (a third of a delivery's CPU time when measured).
TABLE = cast(Table, DeliveryRow.__table__)
D = TABLE.c
ATTEMPTS = cast(Table, AttemptRow.__table__)
ALERTS = cast(Table, AlertRow.__table__)
_INSERT_ATTEMPT = insert(ATTEMPTS)
_INSERT_ALERT = insert(ALERTS)


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker now holds a lease on."""

    id: int
    tender_id: int
    destination: str
    notice: str
    version: int
    key: str
    revision: int
    attempts: int
    round_attempts: int
    polls: int
    gate: str | None
    remote_id: str | None
    remote_url: str | None
    submitted_at: datetime | None
    repushed_by: str | None


_CLAIMED_COLUMNS = (
    D.id,
    D.tender_id,
    D.destination,
    D.notice,
    D.version,
    D.key,
    D.revision,
    D.attempts,
    D.round_attempts,
    D.polls,
    D.gate,
    D.remote_id,
    D.remote_url,
    D.submitted_at,
    D.repushed_by,
)


def _dialect(bind: Any) -> str:
    """The database's name, from an ORM session or a Core connection."""
    return str((bind.get_bind() if hasattr(bind, "get_bind") else bind).dialect.name)


def _rowcount(result: Any) -> int:
    """Rows an UPDATE matched (every DBAPI used here reports it for single statements)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _states(states: Iterable[State]) -> list[str]:
    return [state.value for state in states]


def transition(
    session: Executor,
    delivery_id: int,
    event: Event,
    now: datetime,
    *,
    owner: str | None = None,
    **values: Any,
) -> bool:
    """Apply `event` to one delivery if its state allows; True when it moved."""
    statement = _transition_statement(event, tuple(sorted(values)), owner is not None)
    parameters = {f"p_{name}": value for name, value in values.items()}
    parameters.update(p_id_=delivery_id, p_owner_=owner, p_now_=now)
    result = session.execute(statement, parameters)
    return _rowcount(result) > 0


# The hot statements are built once per shape and executed with parameters: building and
# hashing a statement anew for every outcome was a fifth of a worker's CPU.
_TRANSITIONS: dict[tuple[Event, tuple[str, ...], bool], Update] = {}


def _transition_statement(event: Event, names: tuple[str, ...], guarded: bool) -> Update:
    key = (event, names, guarded)
    statement = _TRANSITIONS.get(key)
    if statement is None:
        conditions = [D.id == bindparam("p_id_"), D.state.in_(_states(allowed_from(event)))]
        if guarded:
            conditions.append(D.lease_owner == bindparam("p_owner_"))
        statement = (
            update(TABLE)
            .where(*conditions)
            .values(
                state=target(event).value,
                updated_at=bindparam("p_now_", type_=D.updated_at.type),
                **{name: bindparam(f"p_{name}", type_=D[name].type) for name in names},
            )
        )
        _TRANSITIONS[key] = statement
    return statement


def transition_many(
    session: Executor, ids: Sequence[int], event: Event, now: datetime, **values: Any
) -> list[int]:
    """Apply `event` to every listed delivery whose state allows; returns those moved."""
    if not ids:
        return []
    statement = (
        update(TABLE)
        .where(D.id.in_(ids), D.state.in_(_states(allowed_from(event))))
        .values(state=target(event).value, updated_at=now, **values)
        .returning(D.id)
    )
    return list(session.scalars(statement))


def transition_selected(
    session: Executor, selected: Any, event: Event, now: datetime, **values: Any
) -> list[tuple[int, int]]:
    """Apply `event` to every delivery whose id `selected` (a query of ids) yields and whose
    state allows, in one statement however many there are; returns (id, tender id) of those
    moved."""
    statement = (
        update(TABLE)
        .where(D.id.in_(selected), D.state.in_(_states(allowed_from(event))))
        .values(state=target(event).value, updated_at=now, **values)
        .returning(D.id, D.tender_id)
    )
    return [(delivery_id, tender_id) for delivery_id, tender_id in session.execute(statement)]


def _lockable(session: Executor, query: Any) -> Any:
    if _dialect(session) == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def claim(
    session: Executor,
    ids: Sequence[int],
    owner: str,
    now: datetime,
    lease: timedelta,
    paused: Iterable[str],
) -> list[Claimed]:
    """Take the due ones among `ids` for sending: the CLAIM transition, with a lease."""
    if not ids:
        return []
    parameters = {
        "p_ids": list(ids),
        "p_now_": now,
        "p_paused": list(paused),
        "p_owner_": owner,
        "p_lease_expires_at": now + lease,
    }
    statement = _claim_statement(_dialect(session))
    return [Claimed(**row._mapping) for row in session.execute(statement, parameters)]


_CLAIMS: dict[str, Update] = {}


def _claim_statement(dialect: str) -> Update:
    statement = _CLAIMS.get(dialect)
    if statement is None:
        when = D.updated_at.type
        now = bindparam("p_now_", type_=when)
        candidates = select(D.id).where(
            D.id.in_(bindparam("p_ids", expanding=True)),
            D.state.in_(_states(allowed_from(Event.CLAIM))),
            D.next_attempt_at <= now,
            D.destination.not_in(bindparam("p_paused", expanding=True)),
        )
        if dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        # One statement: the guarded UPDATE over the rows a locking sub-select could take.
        statement = (
            update(TABLE)
            .where(D.id.in_(candidates), D.state.in_(_states(allowed_from(Event.CLAIM))))
            .values(
                state=target(Event.CLAIM).value,
                lease_owner=bindparam("p_owner_", type_=D.lease_owner.type),
                lease_expires_at=bindparam("p_lease_expires_at", type_=when),
                attempts=D.attempts + 1,
                round_attempts=D.round_attempts + 1,
                updated_at=now,
            )
            .returning(*_CLAIMED_COLUMNS)
        )
        _CLAIMS[dialect] = statement
    return statement


def claim_polls(
    session: Executor, ids: Sequence[int], owner: str, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Take the submitted ones among `ids` whose status check is due (state stays submitted)."""
    if not ids:
        return []
    free = or_(D.lease_expires_at.is_(None), D.lease_expires_at <= now)
    allowed = _states(allowed_from(Event.CLAIM_POLL))
    candidates = select(D.id).where(D.id.in_(ids), D.state.in_(allowed), D.next_attempt_at <= now, free)
    statement = (
        update(TABLE)
        .where(D.id.in_(_lockable(session, candidates)), D.state.in_(allowed), free)
        .values(
            state=target(Event.CLAIM_POLL).value,
            lease_owner=owner,
            lease_expires_at=now + lease,
            polls=D.polls + 1,
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS)
    )
    return [Claimed(**row._mapping) for row in session.execute(statement)]


def release_poll(session: Executor, delivery_id: int, owner: str, now: datetime, **values: Any) -> bool:
    """Finish a status check that left the delivery submitted."""
    return transition(
        session,
        delivery_id,
        Event.POLL_PENDING,
        now,
        owner=owner,
        lease_owner=None,
        lease_expires_at=None,
        **values,
    )


def add_alert(session: Executor, **values: Any) -> None:
    """Queue an alert for the ops e-mail (sent grouped by the sweeper)."""
    session.execute(_INSERT_ALERT, values)


def add_attempt(session: Executor, **values: Any) -> None:
    """Append one row to the attempts ledger."""
    session.execute(_INSERT_ATTEMPT, values)


def add_attempts(session: Executor, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows to the attempts ledger in one statement, in the order given."""
    if rows:
        session.execute(_INSERT_ATTEMPT, list(rows))


def mark_enqueued(
    session: Executor,
    states: Iterable[State],
    now: datetime,
    stale_before: datetime,
    limit: int,
    paused: Iterable[str] = (),
) -> list[tuple[int, int]]:
    """Due rows whose wake-up message may be missing: stamp and return (id, tender_id)."""
    candidates = (
        select(D.id)
        .where(
            D.state.in_(_states(states)),
            D.next_attempt_at <= now,
            or_(D.enqueued_at.is_(None), D.enqueued_at <= stale_before),
            D.destination.not_in(list(paused)),
        )
        .order_by(D.next_attempt_at)
        .limit(limit)
    )
    chosen = list(session.scalars(_lockable(session, candidates)))
    if not chosen:
        return []
    statement = update(TABLE).where(D.id.in_(chosen)).values(enqueued_at=now).returning(D.id, D.tender_id)
    return [(row[0], row[1]) for row in session.execute(statement)]


def expired_leases(session: Executor, now: datetime, limit: int = 1000) -> list[tuple[int, str]]:
    """Deliveries left in `sending` by a worker that died: (id, destination)."""
    query = (
        select(D.id, D.destination)
        .where(D.state == State.SENDING.value, D.lease_expires_at < now)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(_lockable(session, query))]


def pause(session: Executor, destination: str, until: datetime, now: datetime) -> int:
    """Push a paused channel's due deliveries to the end of its cool-down (no attempt spent)."""
    result = session.execute(
        update(TABLE)
        .where(
            D.destination == destination,
            D.state.in_(_states(allowed_from(Event.PAUSE))),
            D.next_attempt_at < until,
        )
        .values(state=target(Event.PAUSE).value, next_attempt_at=until, enqueued_at=None, updated_at=now)
    )
    return _rowcount(result)
