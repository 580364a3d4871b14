"""Gates: held notices released when what they wait for is published (ARCHITECTURE.md section
9, GATE_OPEN), held notices whose predecessor never will be, and a withdrawal's take-down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.sql.dml import Update

from syndicator.domain.states import Event, State, allowed_from, target
from syndicator.store.transitions import TABLE, D, Executor, _states

# Built once: an alias builds a proxy of every column, a third of a worker's CPU when it was
# built anew for every published notice.
GATE = TABLE.alias("gate").c
PREVIOUS = TABLE.alias("previous").c


def open_gates(
    session: Executor,
    now: datetime,
    fallback: timedelta | None,
    tender_ids: Sequence[int] | None = None,
    *,
    caller_enqueues: bool = True,
    published_id: int | None = None,
) -> list[int]:
    """Held deliveries whose gates opened (ARCHITECTURE.md section 9, GATE_OPEN): the previous
    notice on the same destination is published, and the primary's notice it follows is
    published or was accepted longer than `fallback` ago (if given). When the caller does not
    enqueue them itself they are left for the sweeper's next enqueue step. `published_id`: only
    the deliveries waiting for that one (it was just published; the fallback is the sweeper's)."""
    statement = _open_gates_statement(fallback is not None, tender_ids is not None, published_id is not None)
    parameters = {
        "p_now_": now,
        "p_enqueued_at": now if caller_enqueues else None,
        "p_accepted_before": now - fallback if fallback is not None else None,
        "p_tenders": list(tender_ids or []),
        "p_published": published_id,
    }
    return list(session.scalars(statement, parameters))


_GATES: dict[tuple[bool, bool, bool], Update] = {}


def _open_gates_statement(fallback: bool, tenders: bool, published: bool) -> Update:
    key = (fallback, tenders, published)
    statement = _GATES.get(key)
    if statement is None:
        gate, previous = GATE, PREVIOUS
        when = D.updated_at.type
        followed = gate.state == State.PUBLISHED.value
        if fallback:
            before = bindparam("p_accepted_before", type_=when)
            followed = or_(followed, and_(gate.submitted_at.is_not(None), gate.submitted_at <= before))
        conditions = [
            D.state.in_(_states(allowed_from(Event.GATE_OPEN))),
            or_(D.gate_id.is_(None), exists().where(gate.id == D.gate_id, followed)),
            or_(
                D.previous_id.is_(None),
                exists().where(previous.id == D.previous_id, previous.state == State.PUBLISHED.value),
            ),
        ]
        if tenders:
            conditions.append(D.tender_id.in_(bindparam("p_tenders", expanding=True)))
        if published:
            one = bindparam("p_published", type_=D.id.type)
            conditions.append(or_(D.gate_id == one, D.previous_id == one))
        statement = (
            update(TABLE)
            .where(*conditions)
            .values(
                state=target(Event.GATE_OPEN).value,
                next_attempt_at=bindparam("p_now_", type_=when),
                enqueued_at=bindparam("p_enqueued_at", type_=when),
                updated_at=bindparam("p_now_", type_=when),
            )
            .returning(D.id)
        )
        _GATES[key] = statement
    return statement


def blocked(session: Executor, limit: int = 500) -> list[int]:
    """Held deliveries whose previous notice on the same destination will never be published
    (it failed, or it was superseded or cancelled): they need a new plan, not a wait."""
    previous = PREVIOUS
    dead = [State.FAILED.value, State.SUPERSEDED.value, State.CANCELLED.value]
    query = (
        select(D.id)
        .where(
            D.state == State.HELD.value,
            exists().where(previous.id == D.previous_id, previous.state.in_(dead)),
        )
        .order_by(D.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def take_down(
    session: Executor, tender_id: int, destination: str, cancellation_id: int, now: datetime
) -> list[int]:
    """The destination published the tender's cancellation: what it still held unpublished
    (accepted, never published) is stopped there (the TAKEN_DOWN transition)."""
    statement = (
        update(TABLE)
        .where(
            D.tender_id == tender_id,
            D.destination == destination,
            D.id < cancellation_id,
            D.state.in_(_states(allowed_from(Event.TAKEN_DOWN))),
        )
        .values(
            state=target(Event.TAKEN_DOWN).value,
            next_attempt_at=None,
            enqueued_at=None,
            lease_owner=None,
            lease_expires_at=None,
            last_error="the tender was withdrawn: its cancellation stopped this notice before publication",
            updated_at=now,
        )
        .returning(D.id)
    )
    return list(session.scalars(statement))
