"""Writing a notice plan to the store, inside the caller's transaction: supersede and cancel
through the state table, create the new deliveries (the primary's first, so the others' gates
can point at it), and report which are due at once.

The caller locks the tender first (`lock_tender`), so a worker cannot claim a notice between
the moment the plan read its state and the moment the plan supersedes it: on PostgreSQL the
deliveries are read FOR UPDATE (claims skip locked rows); on SQLite the first write takes the
database's single writer lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from syndicator.domain.keys import delivery_key
from syndicator.domain.notices import NoticeKind
from syndicator.domain.states import Event, State
from syndicator.notices.plan import Existing, NewNotice, Plan
from syndicator.store import transitions
from syndicator.store.models import DeliveryRow, TenderRow
from syndicator.store.transitions import Executor

DELIVERIES = cast(Table, DeliveryRow.__table__)
TENDERS = cast(Table, TenderRow.__table__)
D = DELIVERIES.c


class PlanConflict(Exception):
    """A delivery changed state while the plan was being written; nothing was written."""


@dataclass(frozen=True)
class Scheduled:
    """What a written plan created: every new delivery id, and those due now."""

    created: list[int]
    due: list[int]


def lock_tender(session: Executor, tender_id: int) -> None:
    """Serialise lifecycle changes of one tender (and take SQLite's writer lock up front)."""
    session.execute(update(TENDERS).where(TENDERS.c.id == tender_id).values(version=TENDERS.c.version))


def existing(session: Executor, tender_id: int) -> list[Existing]:
    """The tender's deliveries, as a plan reads them (locked on PostgreSQL)."""
    query = select(D.id, D.destination, D.notice, D.version, D.state, D.gate_id).where(
        D.tender_id == tender_id
    )
    if _dialect(session) == "postgresql":
        query = query.with_for_update()
    return [
        Existing(row.id, row.destination, NoticeKind(row.notice), row.version, State(row.state), row.gate_id)
        for row in session.execute(query.order_by(D.id))
    ]


def _dialect(session: Executor) -> str:
    bind: Any = session.get_bind() if hasattr(session, "get_bind") else session
    return str(bind.dialect.name)


def write(
    session: Executor,
    plan: Plan,
    *,
    tender_id: int,
    buyer: str,
    reference: str,
    now: datetime,
) -> Scheduled:
    """Apply `plan`; raises PlanConflict (roll back) if a row moved under it."""
    _move(session, plan.supersede, Event.SUPERSEDE, now)
    _move(session, plan.cancel, Event.CANCEL, now)
    for held, previous in plan.repoint:
        session.execute(
            update(DELIVERIES)
            .where(D.id == held, D.state == State.HELD.value)
            .values(previous_id=previous, updated_at=now)
        )
    # Two statements at most: the primary's notice (its id is the others' gate), then the rest
    # in one executemany with RETURNING (one round trip: every submission pays this).
    ordered = plan.ordered()
    first = ordered[:1] if ordered and ordered[0].destination == plan.primary else []
    created: list[tuple[int, str]] = []
    primary_id: int | None = None
    for batch in (first, ordered[len(first) :]):
        rows = [_row(session, notice, plan, primary_id, tender_id, buyer, reference, now) for notice in batch]
        if rows:
            result = session.execute(
                insert(DELIVERIES).returning(D.id, D.state, sort_by_parameter_order=True), rows
            )
            created += [(row.id, row.state) for row in result]
        if first and primary_id is None:
            primary_id = created[0][0]
    return Scheduled([i for i, _ in created], [i for i, state in created if state == State.PENDING.value])


def _row(
    session: Executor,
    notice: NewNotice,
    plan: Plan,
    primary_id: int | None,
    tender_id: int,
    buyer: str,
    reference: str,
    now: datetime,
) -> dict[str, Any]:
    gate_id, gate = notice.gate_id, None
    if notice.follows_primary:
        gate_id, gate = primary_id, plan.primary
    elif gate_id is not None:
        gate = session.scalar(select(D.destination).where(D.id == gate_id))
    held = notice.waits_previous or gate_id is not None
    return {
        "tender_id": tender_id,
        "buyer": buyer,
        "destination": notice.destination,
        "notice": notice.kind.value,
        "version": notice.version,
        "state": (State.HELD if held else State.PENDING).value,
        "key": delivery_key(buyer, reference, notice.version, notice.destination, notice.kind, notice.part),
        "part": notice.part,
        "revision": 1,
        "attempts": 0,
        "round_attempts": 0,
        "polls": 0,
        "gate": gate,
        "gate_id": gate_id,
        "previous_id": notice.previous,
        "next_attempt_at": None if held else now,
        "enqueued_at": None if held else now,
        "created_at": now,
        "updated_at": now,
    }


def _move(session: Executor, ids: Sequence[int], event: Event, now: datetime) -> None:
    if not ids:
        return
    moved = transitions.transition_many(
        session, list(ids), event, now, next_attempt_at=None, enqueued_at=None
    )
    if len(moved) != len(set(ids)):
        raise PlanConflict(f"{len(set(ids)) - len(moved)} notice(s) changed state meanwhile; try again")
