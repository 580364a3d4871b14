"""Submitting tenders: validate, route, and persist each tender (version 1) with its contract
notice to every destination in one transaction; enqueue the due deliveries only after the
commit.

If the process dies between the commit and the enqueue nothing is lost: the deliveries are in
the database, due, and the sweeper re-enqueues them (ARCHITECTURE.md section 1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from syndicator.channel.registry import declared
from syndicator.domain.tender import Tender
from syndicator.intake.records import Parsed
from syndicator.notices import schedule
from syndicator.notices.plan import Carriers, plan_version
from syndicator.routing.destinations import Route, route
from syndicator.routing.policy import RoutingPolicy
from syndicator.routing.thresholds import Thresholds
from syndicator.store.models import TenderRow, TenderVersionRow

Enqueue = Callable[[list[int]], None]
TENDERS = cast(Table, TenderRow.__table__)
VERSIONS = cast(Table, TenderVersionRow.__table__)


class Outcome(StrEnum):
    """What happened to one submitted record."""

    CREATED = "created"
    UNCHANGED = "unchanged"  # identical to the stored version: nothing to do
    CONFLICT = "conflict"  # same reference, different content: refused (that is an amendment)


@dataclass
class Submission:
    """The result of submitting one tender."""

    outcome: Outcome
    tender_id: int
    reference: str
    buyer: str
    destinations: list[str] = field(default_factory=list)
    not_advertised: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        """The JSON form (CLI --json and the HTTP API)."""
        return {
            "outcome": self.outcome.value,
            "tender_id": self.tender_id,
            "reference": self.reference,
            "buyer": self.buyer,
            "destinations": self.destinations,
            "not_advertised": self.not_advertised,
            "message": self.message,
        }


def content_hash(tender: Tender) -> str:
    """A hash of the record as given (defaults the sender left out are not part of it)."""
    given = tender.model_dump(mode="json", exclude_unset=True)
    canonical = json.dumps(given, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_EXISTING = (
    TENDERS.c.id,
    TENDERS.c.buyer,
    TENDERS.c.reference,
    TENDERS.c.content_hash,
    TENDERS.c.route,
    TENDERS.c.created_at,
    TENDERS.c.version,
)


def _existing(session: Session, tender: Tender) -> Any:
    query = (
        select(*_EXISTING)
        .where(TENDERS.c.buyer == tender.buyer, TENDERS.c.reference == tender.reference)
        .order_by(TENDERS.c.version.desc())
        .limit(1)
    )
    return session.execute(query).first()


def _compare(row: Any, digest: str) -> Submission:
    destinations = [entry["destination"] for entry in row.route["destinations"]]
    if row.content_hash == digest:
        return Submission(
            Outcome.UNCHANGED,
            row.id,
            row.reference,
            row.buyer,
            destinations,
            row.route.get("not_advertised"),
            f"already submitted on {row.created_at:%Y-%m-%d %H:%M} UTC as tender {row.id}; nothing to do",
        )
    return Submission(
        Outcome.CONFLICT,
        row.id,
        row.reference,
        row.buyer,
        destinations,
        row.route.get("not_advertised"),
        f"{row.buyer} already has a different tender {row.reference!r} (tender {row.id}, version "
        f"{row.version}); to change it, amend it: syndicator amend FILE --reason TEXT",
    )


def _insert(
    session: Session,
    tender: Tender,
    plan: Route,
    digest: str,
    actor: str,
    now: datetime,
    carriers: Carriers,
) -> tuple[int, list[int]]:
    """The tender, its first version and its contract notices; returns the tender id and the
    ids of the deliveries due now."""
    record = tender.model_dump(mode="json")
    route_json = plan.as_dict()
    tender_id = session.execute(
        insert(TENDERS)
        .values(
            buyer=tender.buyer,
            reference=tender.reference,
            version=1,
            title=tender.title,
            record=record,
            content_hash=digest,
            route=route_json,
            submitted_by=actor,
            created_at=now,
        )
        .returning(TENDERS.c.id)
    ).scalar_one()
    session.execute(
        insert(VERSIONS).values(
            tender_id=tender_id,
            version=1,
            record=record,
            content_hash=digest,
            route=route_json,
            submitted_by=actor,
            created_at=now,
            changes=[],
        )
    )
    notices = plan_version([], plan.names(), plan.primary, 1, carriers)
    scheduled = schedule.write(
        session, notices, tender_id=tender_id, buyer=tender.buyer, reference=tender.reference, now=now
    )
    return tender_id, scheduled.due


def submit_one(
    sessions: sessionmaker[Session],
    parsed: Parsed,
    policy: RoutingPolicy,
    thresholds: Thresholds,
    actor: str,
    now: datetime,
    carriers: Carriers = declared,
) -> tuple[Submission, list[int]]:
    """Persist one tender in its own transaction; returns it and the ids now due."""
    tender = parsed.tender
    digest = content_hash(tender)
    plan = route(tender, policy, thresholds)
    try:
        with sessions.begin() as session:
            existing = _existing(session, tender)
            if existing is not None:
                return _compare(existing, digest), []
            tender_id, due = _insert(session, tender, plan, digest, actor, now, carriers)
    except IntegrityError:  # another process submitted the same tender a moment ago
        with sessions() as again:
            raced = _existing(again, tender)
        if raced is None:
            raise
        return _compare(raced, digest), []
    result = Submission(
        Outcome.CREATED,
        tender_id,
        tender.reference,
        tender.buyer,
        plan.names(),
        plan.not_advertised,
        "submitted" if plan.destinations else f"recorded, not advertised: {plan.not_advertised}",
    )
    return result, due


def submit(
    sessions: sessionmaker[Session],
    records: Sequence[Parsed],
    policy: RoutingPolicy,
    thresholds: Thresholds,
    actor: str,
    now: datetime,
    enqueue: Enqueue | None = None,
    batch_size: int = 20,
    carriers: Carriers = declared,
) -> list[Submission]:
    """Submit validated records; each is committed on its own, and due deliveries are enqueued
    (after their commits) in messages of up to `batch_size`, so a file of many tenders becomes
    a few messages whose deliveries a worker sends in parallel."""
    results = []
    waiting: list[int] = []
    for parsed in records:
        result, due = submit_one(sessions, parsed, policy, thresholds, actor, now, carriers)
        waiting += due
        if enqueue is not None and len(waiting) >= batch_size:
            enqueue(waiting)
            waiting = []
        results.append(result)
    if enqueue is not None and waiting:
        enqueue(waiting)
    return results
