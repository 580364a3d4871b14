"""Withdrawing a tender: the procurement ends. Unsent notices are cancelled, and every
destination that has the advert (or is about to) gets a cancellation notice; a withdrawn
tender cannot be amended. `syndicator cancel` (stop unsent deliveries, nothing more) stays
for what it does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from syndicator.channel.registry import declared
from syndicator.intake.lifecycle import (
    Carriers,
    Enqueue,
    StepResult,
    audit,
    refuse_if_withdrawn,
    require,
    tender_for,
    wake,
)
from syndicator.notices import schedule
from syndicator.notices.plan import Plan, plan_withdrawal
from syndicator.store.models import TenderRow


def withdraw(
    sessions: sessionmaker[Session],
    *,
    buyer: str | None,
    reference: str,
    reason: str | None,
    actor: str,
    now: datetime,
    tender: TenderRow | None = None,
    carriers: Carriers = declared,
    enqueue: Enqueue | None = None,
) -> StepResult:
    """Withdraw the tender `buyer`/`reference` (or `tender`, already looked up)."""
    why = require(actor, reason)
    with sessions.begin() as session:
        stored = tender if tender is not None else tender_for(session, buyer or "", reference)
        schedule.lock_tender(session, stored.id)
        stored = session.get(TenderRow, stored.id, populate_existing=True) or stored
        refuse_if_withdrawn(stored)
        plan = plan_withdrawal(schedule.existing(session, stored.id), stored.version, carriers)
        session.execute(
            update(TenderRow)
            .where(TenderRow.id == stored.id)
            .values(withdrawn_at=now, withdrawn_by=actor, withdrawal_reason=why)
        )
        scheduled = schedule.write(
            session, plan, tender_id=stored.id, buyer=stored.buyer, reference=stored.reference, now=now
        )
        audit(
            session,
            now,
            actor,
            "withdraw",
            stored.id,
            why,
            {"version": stored.version, "cancelled": plan.cancel, "cancellations": scheduled.created},
        )
        result = StepResult(
            "withdraw",
            stored.id,
            stored.buyer,
            stored.reference,
            stored.version,
            [step.as_dict() for step in plan.steps],
            plan.warnings,
            [],
            scheduled.created,
        )
    wake(enqueue, scheduled.due)
    return result


def preview_withdrawal(
    sessions: sessionmaker[Session], tender_id: int, carriers: Carriers = declared
) -> Plan:
    """What withdrawing would do, per destination, without doing it (for a confirmation page)."""
    with sessions() as session:
        stored = session.get(TenderRow, tender_id)
        version = stored.version if stored is not None else 1
        return plan_withdrawal(schedule.existing(session, tender_id), version, carriers)
