"""Manual actions as use-cases, shared by the CLI, the dashboard and the JSON API: re-push
(one delivery, or every failed / needs-reconcile one matching a filter), cancel a tender's
outstanding deliveries, reconcile an outcome-unknown delivery. Each writes an audit row with
the actor and the reason in the same transaction as the change, and enqueues after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, insert, select
from sqlalchemy.orm import Session, sessionmaker

from syndicator.domain import limits
from syndicator.domain.controls import code_point, first_control
from syndicator.domain.states import ATTENTION, Event, State, can
from syndicator.ops.queries import Filters, find_tender
from syndicator.store import gates
from syndicator.store import transitions as store
from syndicator.store.models import AuditRow, DeliveryRow, TenderRow

Enqueue = Callable[[list[int]], None]
REJECTIONS = ("rejected", "render")  # the channel refused this version: send a new revision
BATCH = 50
# The columns' and the API's limits: longer input is refused here, not by the database.
MAX_REASON, MAX_ACTOR, MAX_REMOTE_ID, MAX_URL = limits.REASON, 200, limits.REMOTE_ID, limits.URL


class OpsError(Exception):
    """A manual action that cannot be done, with the reason a person should read."""


class InvalidInput(OpsError):
    """A manual action's input is malformed; `field` names which input."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass
class ActionResult:
    """What a manual action changed."""

    action: str
    changed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "action": self.action,
            "changed": self.changed,
            "skipped": {str(k): v for k, v in self.skipped.items()},
            "message": self.message,
        }


def _one_line(field: str, value: str, limit: int) -> str:
    """`value` stripped, if it is one line of plain text within `limit` characters.

    Every audit field is printed later, in terminals and pages: a control character would let
    the text rewrite or hide other lines (an ESC sequence, a CR, a bidi override), so it is
    refused here, where CLI, API and forms all pass.
    """
    control = first_control(value)
    if control is not None:
        raise InvalidInput(
            field, f"contains the control character {code_point(control)}; write one line of plain text"
        )
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(field, f"is {len(value)} characters long; at most {limit} are kept")
    return value


def _require(reason: str | None, actor: str) -> str:
    if not actor or not actor.strip():
        raise InvalidInput("actor", "every manual action needs an actor (who is doing this)")
    _one_line("actor", actor, MAX_ACTOR)
    if not reason or not reason.strip():
        raise InvalidInput("reason", "a reason is required: say why, for the audit log")
    return _one_line("reason", reason, MAX_REASON)


def _exists(delivery_id: int) -> None:
    """An id no row can have is refused before it reaches the database (bigint overflows there)."""
    if not 1 <= delivery_id <= limits.MAX_ID:
        raise OpsError(f"no delivery {delivery_id}")


def _audit(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    reason: str,
    rows: list[tuple[int, int]],
    details: dict[str, Any] | None = None,
) -> None:
    """One audit row per affected delivery: (delivery id, tender id)."""
    if rows:
        session.execute(
            insert(AuditRow),
            [
                {
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "tender_id": tender_id,
                    "delivery_id": delivery_id,
                    "reason": reason,
                    "details": details or {},
                }
                for delivery_id, tender_id in rows
            ],
        )


def _wake(enqueue: Enqueue | None, ids: list[int]) -> None:
    if enqueue is None:
        return
    for start in range(0, len(ids), BATCH):
        try:
            enqueue(ids[start : start + BATCH])
        except Exception:  # the sweeper picks up whatever this could not enqueue
            return


def _repush_values(row: DeliveryRow, actor: str, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "next_attempt_at": now,
        "enqueued_at": now,
        "round_attempts": 0,
        "repushed_by": actor,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if row.last_error_class in REJECTIONS or row.state == State.PUBLISHED:
        values["revision"] = row.revision + 1
    return values


def repush(
    sessions: sessionmaker[Session],
    delivery_id: int,
    *,
    actor: str,
    reason: str | None,
    now: datetime,
    force: bool = False,
    enqueue: Enqueue | None = None,
) -> ActionResult:
    """Send one delivery again. A published one is refused unless forced (it may publish twice)."""
    why = _require(reason, actor)
    _exists(delivery_id)
    with sessions.begin() as session:
        row = session.get(DeliveryRow, delivery_id)
        if row is None:
            raise OpsError(f"no delivery {delivery_id}")
        state = State(row.state)
        event = Event.FORCED_REPUSH if force else Event.REPUSH
        if state == State.PUBLISHED and not force:
            raise OpsError(
                f"delivery {delivery_id} is already published on {row.destination}"
                f"{' at ' + row.remote_url if row.remote_url else ''}; re-pushing may publish it "
                "twice (use --force if that is really wanted)"
            )
        if not can(event, state):
            raise OpsError(
                f"delivery {delivery_id} is {state.value}: only failed or needs_reconcile "
                "deliveries can be re-pushed"
            )
        if not store.transition(session, delivery_id, event, now, **_repush_values(row, actor, now)):
            raise OpsError(f"delivery {delivery_id} changed while re-pushing; look again")
        _audit(
            session,
            now,
            actor,
            "repush",
            why,
            [(delivery_id, row.tender_id)],
            {"from_state": state.value, "destination": row.destination, "forced": force},
        )
    _wake(enqueue, [delivery_id])
    return ActionResult("repush", [delivery_id], message=f"delivery {delivery_id} queued again")


def _matching_ids(filters: Filters) -> Any:
    """The ids of the failed and needs-reconcile deliveries matching `filters`, as a query."""
    states = [s.value for s in ATTENTION if not filters.state or s.value == filters.state]
    query = filters.apply(select(DeliveryRow.id).join(TenderRow, TenderRow.id == DeliveryRow.tender_id))
    return query.where(DeliveryRow.state.in_(states))


def matching_for_repush(session: Session, filters: Filters, limit: int | None = None) -> list[DeliveryRow]:
    """Failed and needs-reconcile deliveries matching `filters` (a state filter narrows further)."""
    states = [s.value for s in ATTENTION if not filters.state or s.value == filters.state]
    query = filters.apply(select(DeliveryRow).join(TenderRow, TenderRow.id == DeliveryRow.tender_id))
    query = query.where(DeliveryRow.state.in_(states)).order_by(DeliveryRow.id)
    return list(session.scalars(query.limit(limit) if limit else query))


def repush_matching(
    sessions: sessionmaker[Session],
    filters: Filters,
    *,
    actor: str,
    reason: str | None,
    now: datetime,
    dry_run: bool = False,
    enqueue: Enqueue | None = None,
) -> ActionResult:
    """Re-push every failed / needs-reconcile delivery matching the filters."""
    why = _require(reason, actor)
    with sessions.begin() as session:
        selected = _matching_ids(filters)
        if dry_run:
            ids = list(session.scalars(selected.order_by(DeliveryRow.id)))
            return ActionResult("repush", ids, message=f"{len(ids)} would be re-pushed")
        # One guarded UPDATE over the matching rows, however many: a delivery the channel
        # refused goes out as a new revision, the others as the same one.
        revision = case(
            (DeliveryRow.last_error_class.in_(REJECTIONS), DeliveryRow.revision + 1),
            else_=DeliveryRow.revision,
        )
        moved = store.transition_selected(
            session,
            selected,
            Event.REPUSH,
            now,
            next_attempt_at=now,
            enqueued_at=now,
            round_attempts=0,
            repushed_by=actor,
            revision=revision,
        )
        moved.sort()
        _audit(session, now, actor, "repush", why, moved, {"bulk": True, "filters": _filter_text(filters)})
    ids = [delivery_id for delivery_id, _ in moved]
    _wake(enqueue, ids)
    return ActionResult("repush", ids, message=f"{len(ids)} re-pushed")


def cancel(
    sessions: sessionmaker[Session],
    reference: str,
    *,
    actor: str,
    reason: str | None,
    now: datetime,
) -> ActionResult:
    """Cancel every delivery of a tender that has not reached a channel yet."""
    why = _require(reason, actor)
    with sessions.begin() as session:
        tender = find_tender(session, reference)
        if tender is None:
            raise OpsError(f"no tender {reference!r}")
        rows = list(session.scalars(select(DeliveryRow).where(DeliveryRow.tender_id == tender.id)))
        moved = store.transition_many(
            session, [r.id for r in rows], Event.CANCEL, now, next_attempt_at=None, enqueued_at=None
        )
        skipped = {r.id: f"{r.destination} is {r.state}" for r in rows if r.id not in moved}
        tender.cancelled_at = now
        _audit(
            session,
            now,
            actor,
            "cancel",
            why,
            [(i, tender.id) for i in moved],
            {"reference": tender.reference},
        )
    note = f"; left alone: {', '.join(skipped.values())} (already with the channel)" if skipped else ""
    return ActionResult(
        "cancel", moved, skipped, f"{len(moved)} deliveries of {tender.reference} cancelled{note}"
    )


def reconcile(
    sessions: sessionmaker[Session],
    delivery_id: int,
    *,
    actor: str,
    reason: str | None,
    now: datetime,
    published_remote_id: str | None = None,
    url: str | None = None,
    resend: bool = False,
    enqueue: Enqueue | None = None,
) -> ActionResult:
    """Settle an outcome-unknown delivery: it is on the channel (remote id), or send it again."""
    why = _require(reason, actor)
    _exists(delivery_id)
    if url and not url.strip().lower().startswith(("https://", "http://")):
        raise InvalidInput("url", "must be an http or https address")
    if bool(published_remote_id) == resend:
        raise OpsError("say either that it was published (with its remote id) or that it must be resent")
    if published_remote_id is not None:
        published_remote_id = _one_line("remote id", published_remote_id, MAX_REMOTE_ID)
    if url is not None:
        url = _one_line("url", url, MAX_URL) or None
    if resend:
        with sessions() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None or row.state != State.NEEDS_RECONCILE:
                raise OpsError(f"delivery {delivery_id} is not waiting for reconciliation")
        result = repush(sessions, delivery_id, actor=actor, reason=why, now=now, enqueue=enqueue)
        result.action = "reconcile-resend"
        return result
    with sessions.begin() as session:
        row = session.get(DeliveryRow, delivery_id)
        if row is None:
            raise OpsError(f"no delivery {delivery_id}")
        if not store.transition(
            session,
            delivery_id,
            Event.RECONCILE_PUBLISHED,
            now,
            remote_id=published_remote_id,
            remote_url=url or row.remote_url,
            published_at=now,
            next_attempt_at=None,
            last_error=None,
            last_error_class=None,
        ):
            raise OpsError(
                f"delivery {delivery_id} is {row.state}: only needs_reconcile or failed "
                "deliveries can be reconciled"
            )
        _audit(
            session,
            now,
            actor,
            "reconcile-published",
            why,
            [(delivery_id, row.tender_id)],
            {"remote_id": published_remote_id, "url": url},
        )
        opened = gates.open_gates(session, now, None, [row.tender_id])
    _wake(enqueue, opened)
    return ActionResult(
        "reconcile-published", [delivery_id], message=f"delivery {delivery_id} marked published"
    )


def _filter_text(filters: Filters) -> dict[str, str]:
    return {
        k: (v.isoformat() if isinstance(v, datetime) else str(v))
        for k, v in filters.__dict__.items()
        if v is not None
    }
