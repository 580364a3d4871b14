"""Amending a submitted tender: the full changed record becomes the next version, and every
destination gets what the notice planner says (a change notice where the advert is, the new
version as a contract notice where it has not left yet), in one transaction.

    parsed record --checks (known, not withdrawn, deadline ahead, changed, time limits)-->
    lock tender -> plan_version(existing deliveries, route of the new version) -> version row,
    tender row, deliveries (one transaction) -> enqueue after commit
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from syndicator.channel.registry import declared
from syndicator.domain.changes import diff
from syndicator.domain.notices import ChangeKind
from syndicator.domain.tender import Tender
from syndicator.intake.lifecycle import (
    Carriers,
    Enqueue,
    LifecycleError,
    StepResult,
    audit,
    deadline_passed,
    refuse_if_withdrawn,
    refuse_problems,
    require,
    tender_for,
    wake,
)
from syndicator.intake.records import Parsed
from syndicator.intake.submit import content_hash
from syndicator.notices import schedule
from syndicator.notices.context import route_primary
from syndicator.notices.plan import plan_version
from syndicator.routing.destinations import route, short_tender_period
from syndicator.routing.policy import RoutingPolicy
from syndicator.routing.thresholds import Thresholds
from syndicator.store.models import TenderRow, TenderVersionRow


def _deadline(tender: Tender) -> datetime | None:
    return tender.submission_deadline.astimezone(UTC) if tender.submission_deadline else None


def _check(
    stored: TenderRow,
    tender: Tender,
    digest: str,
    policy: RoutingPolicy,
    thresholds: Thresholds,
    now: datetime,
) -> None:
    refuse_if_withdrawn(stored)
    problems = []
    if (tender.buyer, tender.reference) != (stored.buyer, stored.reference):
        problems.append(
            f"the record is {tender.buyer}/{tender.reference} but the tender is "
            f"{stored.buyer}/{stored.reference}: buyer and reference cannot change"
        )
    passed = deadline_passed(stored.record, now)
    if passed is not None:
        problems.append(
            f"its submission deadline {passed:%Y-%m-%d %H:%M} UTC has passed: an advert cannot be changed "
            "after its deadline (withdraw it, or award it)"
        )
    if stored.content_hash == digest:
        problems.append(f"nothing changed: the record is version {stored.version} as stored")
    previous = Tender.model_validate(stored.record)
    new_deadline, old_deadline = _deadline(tender), _deadline(previous)
    if new_deadline and old_deadline and new_deadline < old_deadline:
        short = short_tender_period(tender, policy, thresholds)
        if short:
            problems.append(f"the deadline is brought forward below the minimum: {short}")
    if problems:
        raise LifecycleError(problems)


def amend(
    sessions: sessionmaker[Session],
    parsed: Parsed,
    *,
    reason: str | None,
    correction: bool,
    policy: RoutingPolicy,
    thresholds: Thresholds,
    actor: str,
    now: datetime,
    expected: TenderRow | None = None,
    carriers: Carriers = declared,
    enqueue: Enqueue | None = None,
) -> StepResult:
    """Store `parsed` as the next version of its tender and plan its notices. `expected` is the
    tender a caller named (the API's path): the record must be that tender."""
    why = require(actor, reason)
    tender = parsed.tender
    digest = content_hash(tender)
    plan_route = route(tender, policy, thresholds)
    with sessions.begin() as session:
        stored = expected if expected is not None else tender_for(session, tender.buyer, tender.reference)
        schedule.lock_tender(session, stored.id)
        stored = session.get(TenderRow, stored.id, populate_existing=True) or stored
        _check(stored, tender, digest, policy, thresholds, now)
        version = stored.version + 1
        record = tender.model_dump(mode="json")
        changes = diff(stored.record, record)
        primary = plan_route.primary or route_primary(stored.route)
        existing = schedule.existing(session, stored.id)
        plan = plan_version(existing, plan_route.names(), primary, version, carriers)
        refuse_problems(plan)
        change_kind = ChangeKind.CORRECTION if correction else ChangeKind.UPDATE
        route_json = plan_route.as_dict() | {"primary": primary}
        session.execute(
            insert(TenderVersionRow).values(
                tender_id=stored.id,
                version=version,
                record=record,
                content_hash=digest,
                route=route_json,
                submitted_by=actor,
                created_at=now,
                reason=why,
                change_kind=change_kind.value,
                changes=[c.as_dict() for c in changes],
            )
        )
        session.execute(
            update(TenderRow)
            .where(TenderRow.id == stored.id)
            .values(version=version, title=tender.title, record=record, content_hash=digest, route=route_json)
        )
        scheduled = schedule.write(
            session, plan, tender_id=stored.id, buyer=stored.buyer, reference=stored.reference, now=now
        )
        audit(
            session,
            now,
            actor,
            "amend",
            stored.id,
            why,
            {"version": version, "kind": change_kind.value, "changed": [c.path for c in changes]},
        )
        result = StepResult(
            "amend",
            stored.id,
            stored.buyer,
            stored.reference,
            version,
            [step.as_dict() for step in plan.steps],
            plan.warnings + plan_route.warnings,
            [c.as_dict() for c in changes],
            scheduled.created,
        )
    wake(enqueue, scheduled.due)
    return result
