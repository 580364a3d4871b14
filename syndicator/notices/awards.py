"""What the engine records when an award notice goes live: the day it was published on the
procurement's primary destination (the official journal), and under the Procurement Act 2023
the standstill that day starts (s.51); and the contract details alert (s.53: a contract details
notice within 30 days of the contract being entered into).

Dates are in the United Kingdom's own calendar (Europe/London): a notice published at 00:30 BST
is published that day, not the previous UTC day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, case, cast, exists, literal, select, update

from syndicator.domain.standstill import standstill_ends
from syndicator.domain.states import State
from syndicator.notices.context import route_primary
from syndicator.store.models import AwardLotRow, AwardRow, DeliveryRow, TenderRow
from syndicator.store.transitions import Executor, add_alert

LONDON = ZoneInfo("Europe/London")
PA2023 = "pa2023"
DETAILS_WITHIN = timedelta(days=30)


def local_day(moment: datetime) -> date:
    """The UK calendar day of an aware instant."""
    return moment.astimezone(LONDON).date()


def award_published(session: Executor, tender_id: int, destination: str, when: datetime) -> None:
    """An award notice is live on `destination`: if that is the procurement's primary, record
    the day, and under the Procurement Act the standstill's last day."""
    found = session.execute(select(TenderRow.route).where(TenderRow.id == tender_id)).first()
    if found is None or route_primary(found.route) != destination:
        return
    day = local_day(when)
    values: dict[str, object] = {"award_notice_published_on": day}
    if found.route.get("regime") == PA2023:
        values["standstill_ends"] = standstill_ends(day)
    session.execute(
        update(AwardRow)
        .where(AwardRow.tender_id == tender_id, AwardRow.award_notice_published_on.is_(None))
        .values(**values)
    )


def overdue_contract_details(session: Executor, now: datetime) -> int:
    """Raise one alert per signed contract whose contract details notice has not been sent to
    the primary 30 days after signing (Procurement Act 2023 s.53). Returns how many."""
    cutoff = local_day(now) - DETAILS_WITHIN
    lot = AwardLotRow
    sent = exists().where(
        DeliveryRow.tender_id == lot.tender_id,
        DeliveryRow.notice == "contract-details",
        DeliveryRow.part == _part(lot.lot),
        DeliveryRow.state.in_([State.SUBMITTED.value, State.PUBLISHED.value]),
    )
    rows = session.execute(
        select(lot.id, lot.tender_id, lot.lot, lot.signed_on, TenderRow.reference, TenderRow.route)
        .join(TenderRow, TenderRow.id == lot.tender_id)
        .where(
            and_(lot.signed_on.is_not(None), lot.signed_on < cutoff, lot.details_alerted_at.is_(None), ~sent)
        )
    ).all()
    raised = 0
    for row in rows:
        if row.route.get("regime") != PA2023:
            continue
        label = f"lot {row.lot}" if row.lot is not None else "the contract"
        add_alert(
            session,
            at=now,
            kind="contract_details_overdue",
            destination=route_primary(row.route) or "find-a-tender",
            delivery_id=None,
            message=(
                f"{row.reference}: {label} was signed on {row.signed_on} and its contract details notice "
                f"(UK7) has not been sent: it is due within 30 days of signing (Procurement Act 2023 s.53)"
            ),
        )
        session.execute(update(AwardLotRow).where(AwardLotRow.id == row.id).values(details_alerted_at=now))
        raised += 1
    return raised


def _part(lot: Any) -> ColumnElement[str]:
    """The contract details part of a lot column: 'lot-N', or 'whole' for an undivided tender
    (`syndicator.intake.award.part_of`, in SQL)."""
    return case((lot.is_(None), literal("whole")), else_=literal("lot-") + cast(lot, String))
