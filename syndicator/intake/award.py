"""Awarding a tender, and recording that a contract was signed: the award is the next notice of
the same procurement, sent through the same engine to every destination that carries the advert
and declares award notices (the primary's first), and each signed contract's details follow.

    award record --record checks (award_records)--> check against the stored tender
      (exists, not withdrawn, not awarded yet, its lots, decision after the deadline, no signature
      before a Procurement Act standstill can even start) --> awards + award_lots rows, award
      notices (plan_award), contract details for lots already signed (PCR regimes) --> enqueue

    contract signed (lot, date) --> refused on or before the standstill's last day (PA2023 s.51)
      --> award_lots.signed_on, the record's signed_on, contract details notices --> enqueue
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from syndicator.channel.registry import declared
from syndicator.domain.award import Award, LotAward, Outcome
from syndicator.domain.notices import Carrier, NoticeKind
from syndicator.domain.standstill import may_enter_into
from syndicator.intake.award_records import ParsedAward
from syndicator.intake.lifecycle import (
    Carriers,
    Enqueue,
    LifecycleError,
    StepResult,
    audit,
    refuse_if_withdrawn,
    refuse_problems,
    tender_for,
    wake,
)
from syndicator.intake.records import Problem
from syndicator.notices import schedule
from syndicator.notices.context import route_primary
from syndicator.notices.plan import plan_award, plan_contract_details
from syndicator.store.models import AwardLotRow, AwardRow, TenderRow

PA2023 = "pa2023"  # the regime whose award notice starts a standstill (s.51)


def standstill_applies(tender: TenderRow) -> bool:
    """Whether this product counts a standstill for the tender: under the Procurement Act, when
    its award notice goes on the primary (Find a Tender). A call-off under a framework has no
    primary here (Crystal only): its standstill, if any, is the framework's own business."""
    return tender.route.get("regime") == PA2023 and route_primary(tender.route) is not None


# Under the Public Contracts Regulations and the EU directives (commenced before 24 February
# 2025) the official journal's contract award notice is sent once the contract is concluded
# (PCR 2015 reg. 50) and there is no contract details notice (UK7 is a Procurement Act notice).
PCR_REGIMES = frozenset({"ojeu", "pcr-uk"})
JOURNAL = "find-a-tender"


def regime_carriers(tender: TenderRow, carriers: Carriers) -> Carriers:
    """What each destination carries for this tender's awards: under the PCR regimes Find a
    Tender takes the award notice after the signatures and no contract details notice."""
    if tender.route.get("regime") not in PCR_REGIMES:
        return carriers

    def carrier(destination: str) -> Carrier:
        declared_by = carriers(destination)
        if destination != JOURNAL:
            return declared_by
        return replace(
            declared_by,
            notices=declared_by.notices - {NoticeKind.CONTRACT_DETAILS},
            award_after_signature=True,
        )

    return carrier


class AwardProblems(Exception):
    """Problems with an award record against the stored tender, as problem lines."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def every_contract_signed(decision: Award) -> bool:
    """Whether every awarded lot's contract has been signed."""
    return all(
        lot.contract is not None and lot.contract.signed_on is not None
        for lot in decision.lots
        if lot.outcome is Outcome.AWARDED
    )


def part_of(lot: int | None) -> str:
    """The contract details notice part of a lot: 'lot-2', or 'whole' for an undivided tender."""
    return "whole" if lot is None else f"lot-{lot}"


def check(award: Award, tender: TenderRow | None, label: str) -> list[Problem]:
    """What makes an award record wrong for the tender it names (none when right)."""
    if tender is None:
        return [Problem(label, "reference", f"{award.buyer} has no tender {award.reference!r}")]
    found: list[Problem] = []
    if tender.withdrawn_at is not None:
        found.append(
            Problem(label, "reference", f"tender {tender.reference} was withdrawn: it cannot be awarded")
        )
    record = tender.record
    deadline = record.get("submission_deadline")
    if deadline and award.decision_date < date.fromisoformat(str(deadline)[:10]):
        found.append(
            Problem(
                label, "decision_date", f"{award.decision_date} is before the submission deadline {deadline}"
            )
        )
    lots = sorted(int(lot["number"]) for lot in record.get("lots") or [])
    given = [lot.lot for lot in award.lots]
    if not lots and given != [None]:
        found.append(
            Problem(label, "lots", 'the tender is not divided into lots: give one entry with "lot": null')
        )
    elif lots:
        missing = sorted(set(lots) - {n for n in given if n is not None})
        unknown = sorted({n for n in given if n is not None} - set(lots))
        if None in given:
            found.append(Problem(label, "lots", f"the tender has lots {lots}: give one entry per lot"))
        if missing:
            found.append(Problem(label, "lots", f"no outcome for lot(s) {missing}: give one entry per lot"))
        if unknown:
            found.append(Problem(label, "lots", f"the tender has no lot(s) {unknown}"))
    if standstill_applies(tender):
        for index, lot in enumerate(award.lots):
            if lot.contract and lot.contract.signed_on:
                found.append(
                    Problem(
                        label,
                        f"lots[{index}].contract.signed_on",
                        "under the Procurement Act 2023 a contract may be entered into only after the "
                        "standstill that begins when the award notice is published (s.51): record the "
                        "signature later (syndicator contract-signed)",
                    )
                )
    return found


def _lot_row(award_id: int, tender: TenderRow, lot: LotAward, vat_rate: Decimal) -> dict[str, Any]:
    contract = lot.contract
    return {
        "award_id": award_id,
        "tender_id": tender.id,
        "buyer": tender.buyer,
        "lot": lot.lot,
        "outcome": lot.outcome.value,
        "reason": lot.reason.value if lot.reason else None,
        "suppliers": [supplier.model_dump(mode="json") for supplier in lot.suppliers],
        "value_net": lot.value.net(vat_rate) if lot.value else None,
        "value_gross": lot.value.gross(vat_rate) if lot.value else None,
        "contract_start": contract.start if contract else None,
        "contract_end": contract.end if contract else None,
        "signed_on": contract.signed_on if contract else None,
    }


def award(
    sessions: sessionmaker[Session],
    parsed: ParsedAward,
    *,
    actor: str,
    now: datetime,
    vat_rate: Decimal,
    tender: TenderRow | None = None,
    carriers: Carriers = declared,
    enqueue: Enqueue | None = None,
) -> StepResult:
    """Store the award and plan its notices; AwardProblems or LifecycleError when refused."""
    decision = parsed.award
    with sessions.begin() as session:
        found = (
            tender
            or session.scalars(
                select(TenderRow).where(
                    TenderRow.buyer == decision.buyer, TenderRow.reference == decision.reference
                )
            ).first()
        )
        problems = check(decision, found, parsed.label)
        if problems:
            raise AwardProblems(problems)
        assert found is not None
        schedule.lock_tender(session, found.id)
        if session.scalar(select(AwardRow.id).where(AwardRow.tender_id == found.id)) is not None:
            raise LifecycleError([f"tender {found.reference} is already awarded"])
        row = AwardRow(
            tender_id=found.id,
            version=found.version,
            record=decision.model_dump(mode="json"),
            decision_date=decision.decision_date,
            created_by=actor,
            created_at=now,
        )
        session.add(row)
        session.flush()
        session.add_all(AwardLotRow(**_lot_row(row.id, found, lot, vat_rate)) for lot in decision.lots)
        primary = route_primary(found.route)
        existing = schedule.existing(session, found.id)
        carriers = regime_carriers(found, carriers)
        plan = plan_award(
            existing, found.version, primary, carriers, all_signed=every_contract_signed(decision)
        )
        refuse_problems(plan)
        scheduled = schedule.write(
            session, plan, tender_id=found.id, buyer=found.buyer, reference=found.reference, now=now
        )
        created, due = list(scheduled.created), list(scheduled.due)
        steps = [step.as_dict() for step in plan.steps]
        signed = [lot.lot for lot in decision.lots if lot.contract and lot.contract.signed_on]
        if signed:
            session.flush()
            existing = schedule.existing(session, found.id)
            for number in signed:
                details = plan_contract_details(existing, found.version, part_of(number), primary, carriers)
                written = schedule.write(
                    session,
                    details,
                    tender_id=found.id,
                    buyer=found.buyer,
                    reference=found.reference,
                    now=now,
                )
                created += written.created
                due += written.due
                steps += [step.as_dict() for step in details.steps]
        audit(
            session,
            now,
            actor,
            "award",
            found.id,
            f"decision of {decision.decision_date}",
            {
                "lots": [lot.label for lot in decision.lots],
                "awarded": [lot.outcome.value for lot in decision.lots],
            },
        )
        result = StepResult(
            "award", found.id, found.buyer, found.reference, found.version, steps, plan.warnings, [], created
        )
    wake(enqueue, due)
    return result


def contract_signed(
    sessions: sessionmaker[Session],
    *,
    buyer: str,
    reference: str,
    lot: int | None,
    signed_on: date,
    actor: str,
    now: datetime,
    carriers: Carriers = declared,
    enqueue: Enqueue | None = None,
) -> StepResult:
    """Record that a lot's contract was entered into, and send its contract details notices."""
    with sessions.begin() as session:
        tender = tender_for(session, buyer, reference)
        refuse_if_withdrawn(tender)
        schedule.lock_tender(session, tender.id)
        row = session.scalars(select(AwardRow).where(AwardRow.tender_id == tender.id)).first()
        if row is None:
            raise LifecycleError(
                [f"tender {reference} has no award yet: record the award first (syndicator award)"]
            )
        decision = Award.model_validate(row.record)
        outcome = decision.lot(lot)
        label = f"lot {lot}" if lot is not None else "the contract"
        if outcome is None:
            numbers = [entry.lot for entry in decision.lots]
            raise LifecycleError(
                [
                    f"the award has no {label} (its lots: {numbers}; "
                    "--lot is not given for an undivided tender)"
                ]
            )
        if outcome.outcome is not Outcome.AWARDED or outcome.contract is None:
            raise LifecycleError([f"{label} was not awarded: there is no contract to sign"])
        if outcome.contract.signed_on is not None:
            raise LifecycleError([f"{label} was already recorded as signed on {outcome.contract.signed_on}"])
        if signed_on < decision.decision_date:
            raise LifecycleError([f"{signed_on} is before the award decision of {decision.decision_date}"])
        if standstill_applies(tender):
            if row.award_notice_published_on is None or row.standstill_ends is None:
                raise LifecycleError(
                    [
                        "the contract award notice is not published yet, so the standstill has not begun: "
                        "a contract may be entered into only after it (Procurement Act 2023 s.51)"
                    ]
                )
            if signed_on <= row.standstill_ends:
                raise LifecycleError(
                    [
                        f"the standstill ends on {row.standstill_ends} (8 working days from the award notice "
                        f"published on {row.award_notice_published_on}): the contract may be entered into "
                        f"from {may_enter_into(row.award_notice_published_on)}"
                    ]
                )
        record = dict(row.record)
        record["lots"] = [
            {**entry, "contract": {**entry["contract"], "signed_on": signed_on.isoformat()}}
            if entry.get("lot") == lot and entry.get("contract")
            else entry
            for entry in record["lots"]
        ]
        session.execute(update(AwardRow).where(AwardRow.id == row.id).values(record=record))
        session.execute(
            update(AwardLotRow)
            .where(
                AwardLotRow.award_id == row.id,
                AwardLotRow.lot.is_(None) if lot is None else AwardLotRow.lot == lot,
            )
            .values(signed_on=signed_on)
        )
        plan = plan_contract_details(
            schedule.existing(session, tender.id),
            row.version,
            part_of(lot),
            route_primary(tender.route),
            regime_carriers(tender, carriers),
            all_signed=every_contract_signed(Award.model_validate(record)),
        )
        written = schedule.write(
            session, plan, tender_id=tender.id, buyer=tender.buyer, reference=tender.reference, now=now
        )
        audit(
            session, now, actor, "contract-signed", tender.id, f"{label} signed on {signed_on}", {"lot": lot}
        )
        result = StepResult(
            "contract-signed",
            tender.id,
            tender.buyer,
            tender.reference,
            row.version,
            [step.as_dict() for step in plan.steps],
            plan.warnings,
            [],
            written.created,
        )
    wake(enqueue, written.due)
    return result
