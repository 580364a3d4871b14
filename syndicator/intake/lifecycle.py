"""What amending and withdrawing a tender share: finding the stored tender the request is
about, the refusals every lifecycle step checks, one audit row per step, and writing a notice
plan in one locked transaction (enqueued after the commit)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from syndicator.domain.notices import Carrier
from syndicator.notices.plan import Plan
from syndicator.store.models import AuditRow, TenderRow

Enqueue = Callable[[list[int]], None]
Carriers = Callable[[str], Carrier]
BATCH = 50


class LifecycleError(Exception):
    """A lifecycle step that cannot be done: one line per problem, for a person to read."""

    def __init__(self, problems: list[str], *, not_found: bool = False) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.not_found = not_found


@dataclass
class StepResult:
    """What a lifecycle step did: the tender, its version, and what each destination gets."""

    action: str
    tender_id: int
    buyer: str
    reference: str
    version: int
    steps: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    created: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (CLI --json and the API)."""
        return {
            "action": self.action,
            "tender_id": self.tender_id,
            "buyer": self.buyer,
            "reference": self.reference,
            "version": self.version,
            "changes": self.changes,
            "destinations": self.steps,
            "warnings": self.warnings,
            "deliveries": self.created,
        }


def tender_for(session: Session, buyer: str, reference: str) -> TenderRow:
    """The stored tender of `buyer` with `reference`, or LifecycleError."""
    found = session.scalars(
        select(TenderRow).where(TenderRow.buyer == buyer, TenderRow.reference == reference)
    ).first()
    if found is None:
        raise LifecycleError(
            [f"{buyer} has no tender {reference!r}: submit it first (syndicator submit FILE)"],
            not_found=True,
        )
    return found


def refuse_if_withdrawn(tender: TenderRow) -> None:
    """A withdrawn procurement is over: nothing more may be published about it as an advert."""
    if tender.withdrawn_at is not None:
        raise LifecycleError(
            [
                f"tender {tender.reference} was withdrawn on {tender.withdrawn_at:%Y-%m-%d %H:%M} UTC "
                f"by {tender.withdrawn_by}: it can no longer be changed"
            ]
        )


def deadline_passed(record: dict[str, Any], now: datetime) -> datetime | None:
    """The record's submission deadline, if it is not after `now`."""
    text = record.get("submission_deadline")
    if not text:
        return None
    deadline = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return deadline if deadline.astimezone(UTC) <= now else None


def audit(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    tender_id: int,
    reason: str,
    details: dict[str, Any],
) -> None:
    """One audit row for a lifecycle step of a tender."""
    session.execute(
        insert(AuditRow).values(
            at=now,
            actor=actor,
            action=action,
            tender_id=tender_id,
            delivery_id=None,
            reason=reason,
            details=details,
        )
    )


def wake(enqueue: Enqueue | None, ids: list[int]) -> None:
    """Enqueue after the commit; a broker failure is left to the sweeper."""
    if enqueue is None:
        return
    for start in range(0, len(ids), BATCH):
        try:
            enqueue(ids[start : start + BATCH])
        except Exception:  # the rows are due in the database: the sweeper sends them
            return


def refuse_problems(plan: Plan) -> None:
    """A notice a destination cannot carry is refused before anything is stored."""
    if plan.problems:
        raise LifecycleError(plan.problems)


def require(actor: str, reason: str | None) -> str:
    """Every lifecycle step is done by someone, for a reason that goes on record."""
    if not actor or not actor.strip():
        raise LifecycleError(["every change to a tender needs an actor (who is doing this)"])
    if not reason or not reason.strip():
        raise LifecycleError(["a reason is required: say why, for the record and the notices"])
    text = reason.strip()
    if len(text) > 2000:
        raise LifecycleError([f"the reason is {len(text)} characters; at most 2000"])
    if any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text):
        raise LifecycleError(["the reason contains a control character"])
    return text
