"""The demo's later chapters, after the adverts are out: what a procurement's life adds.

    buyers_own_notices   Derbyshire publishes on Find a Tender with its own e-tendering tool
                         (fts_mode = "adopt"): the sandbox receives the tool's notices, and the
                         product adopts them instead of sending its own
    amend / withdraw     a deadline extended (change notices everywhere the advert is) and a
                         tender withdrawn (cancellation notices)
    award                one tender awarded from examples/awards/: its notices, and the quarter's
                         contracts list the forces publish

Each step goes through the same use-cases as the CLI and the API (intake.amend, intake.withdraw,
intake.award) and prints what they planned.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from syndicator.channel.registry import build_channel, title
from syndicator.config.settings import Config
from syndicator.domain.clock import utcnow
from syndicator.intake.amend import amend
from syndicator.intake.award import award
from syndicator.intake.award_records import read_awards
from syndicator.intake.lifecycle import LifecycleError, StepResult
from syndicator.intake.records import validate_object
from syndicator.intake.withdraw import withdraw
from syndicator.notices.context import ContextBuilder
from syndicator.ops.contracts import Quarter, contracts_list
from syndicator.runtime.wiring import Store, route_check, tender_context
from syndicator.store.models import DeliveryRow, TenderRow

FTS = "find-a-tender"
FTS_PREFIX = "ocds-h6vhtk"  # Find a Tender's registered OCID prefix
AMENDED = ("nottinghamshire-police", "NOTTS-2026-0142")  # its deadline is extended by a week
WITHDRAWN = ("northamptonshire-opfcc", "NORTHANTS-OPFCC-2026-0009")
AWARDED = "NOTTS-2026-0142"


def buyers_own_notices(store: Store, config: Config, sandbox_url: str) -> list[str]:
    """Publish, as each adopt-mode buyer's own tool would, the Find a Tender notices its
    tenders need; returns the references. The notice is the one the product would have sent,
    under Find a Tender's OCID (the tool's submission, not ours)."""
    adopting = [buyer for buyer, found in config.buyers.by_id.items() if found.fts_mode == "adopt"]
    with store.sessions() as session:
        rows = session.execute(
            select(DeliveryRow.id, DeliveryRow.tender_id, TenderRow.reference)
            .join(TenderRow, TenderRow.id == DeliveryRow.tender_id)
            .where(DeliveryRow.destination == FTS, TenderRow.buyer.in_(adopting))
        ).all()
        builder = ContextBuilder(config.buyers, config.policy.vat_rate, title)
        jobs = builder.jobs(session, [(row.id, row.tender_id) for row in rows], utcnow())
    channel = build_channel(config, FTS)
    published = []
    try:
        for row in rows:
            job = jobs[row.id]
            own_tool = job.context.buyer.model_copy(update={"fts_mode": "publish"})
            rendered = channel.render(job.notice, replace(job.context, buyer=own_tool))
            release: dict[str, Any] = json.loads(rendered.body)
            ocid = f"{FTS_PREFIX}-{hashlib.sha256(row.reference.encode()).hexdigest()[:6]}"
            release.update(ocid=ocid, id=f"{ocid}-1")
            for document in release["tender"]["documents"]:
                if document.get("noticeType"):
                    document["id"] = "notice"
            answer = requests.post(f"{sandbox_url}/_sandbox/find-a-tender/notices", json=release, timeout=5)
            answer.raise_for_status()
            published.append(row.reference)
    finally:
        channel.close()
    return published


def _extended(record: dict[str, Any], days: int) -> dict[str, Any]:
    deadline = datetime.fromisoformat(record["submission_deadline"].replace("Z", "+00:00"))
    later = (deadline + timedelta(days=days)).isoformat().replace("+00:00", "Z")
    return record | {"submission_deadline": later}


def _stored(store: Store, buyer: str, reference: str) -> TenderRow:
    with store.sessions() as session:
        found = session.scalars(
            select(TenderRow).where(TenderRow.buyer == buyer, TenderRow.reference == reference)
        ).one()
        session.expunge(found)
        return found


def _report(console: Console, what: str, result: StepResult) -> None:
    console.print(f"  {what} [bold]{result.buyer}/{result.reference}[/] (version {result.version}):")
    for step in result.steps:
        console.print(f"    {step['destination']:36} {step['text']}", markup=False)


def amend_and_withdraw(store: Store, config: Config, enqueue: Any, console: Console) -> None:
    """Extend one tender's deadline by a week; withdraw another."""
    now = utcnow()
    buyer, reference = AMENDED
    stored = _stored(store, buyer, reference)
    record = _extended(stored.record, 7)
    parsed = validate_object(record, tender_context(config, now.date()), reference, route_check(config))
    if isinstance(parsed, list):
        raise SystemExit(f"the demo's amendment is invalid: {parsed[0].line('amendment')}")
    changed = amend(
        store.sessions,
        parsed,
        reason="Deadline extended by a week at suppliers' request",
        correction=False,
        policy=config.policy,
        thresholds=config.thresholds,
        actor="demo",
        now=now,
        expected=stored,
        enqueue=enqueue,
    )
    _report(console, "amended", changed)
    buyer, reference = WITHDRAWN
    ended = withdraw(
        store.sessions,
        buyer=buyer,
        reference=reference,
        reason="The requirement is met under an existing framework",
        actor="demo",
        now=utcnow(),
        enqueue=enqueue,
    )
    _report(console, "withdrawn", ended)


def award_one(store: Store, config: Config, awards: Path, enqueue: Any, console: Console) -> date | None:
    """Award the demo's tender from the shipped award records; returns its contract's start."""
    parsed, problems = read_awards(awards)
    if problems:
        raise SystemExit(f"the shipped award records are invalid: {problems[0].line(awards.name)}")
    [item] = [p for p in parsed if p.award.reference == AWARDED]
    try:
        result = award(
            store.sessions, item, actor="demo", now=utcnow(), vat_rate=config.policy.vat_rate, enqueue=enqueue
        )
    except LifecycleError as exc:
        console.print(f"  [yellow]the award was refused: {'; '.join(exc.problems)}[/]")
        return None
    _report(console, "awarded", result)
    starts = [lot.contract.start for lot in item.award.lots if lot.contract is not None]
    return min(starts) if starts else None


def contracts_table(store: Store, quarter: Quarter) -> Table:
    """The quarter's contracts list, as `syndicator contracts-list` prints it."""
    with store.sessions() as session:
        rows = contracts_list(session, quarter)
    table = Table(title=f"Contracts list {quarter} (current on {quarter.end}, £25,000 and above)")
    for column in ("buyer", "reference", "supplier", "value (net)", "start", "end"):
        table.add_column(column)
    for row in rows:
        data = row.as_dict()
        table.add_row(
            str(data["buyer"]),
            str(data["reference"]),
            str(data["supplier"]),
            f"£{float(data['value_net']):,.2f}",
            str(data["start"]),
            str(data["end"]),
        )
    return table
