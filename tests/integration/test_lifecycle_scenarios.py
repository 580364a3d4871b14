"""A procurement's whole life against real PostgreSQL, Redis, Celery worker processes and the
sandbox (real HTTP and SMTP): amendments reaching every channel once and after Find a Tender,
amendments overtaking notices still held, two quick amendments, a worker SIGKILLed during a
change run, withdrawals; then the award of each regime (Find a Tender's UK6 and the standstill,
then the UK7; TED's award notice once the contracts are signed; Contracts Finder), a worker
SIGKILLed during the award run, a refused contract details notice re-pushed; adopt mode and
Contracts Finder through the workers."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from syndicator.domain.clock import utcnow
from syndicator.intake.amend import amend
from syndicator.intake.award import award, contract_signed
from syndicator.intake.award_records import validate_award
from syndicator.intake.records import read_bytes
from syndicator.intake.withdraw import withdraw
from syndicator.ops import actions as ops
from syndicator.runtime.celeryapp import DELIVER
from syndicator.runtime.wiring import tender_context
from syndicator.sandbox.server import Sandbox
from syndicator.store.models import AwardRow, DeliveryRow
from tests.integration.conftest import inject, received, sandbox_url
from tests.integration.deployment import Deployment
from tests.services import fresh_postgres_database, redis_url
from tests.unit.records_factory import valued

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PRIMARY = "find-a-tender"
DONE = {"published", "superseded", "cancelled"}
SUPPLIER = {
    "name": "Roadwatch Systems Ltd",
    "identifier": {"scheme": "GB-COH", "id": "04567321"},
    "address": {"street": "Unit 4, Meridian Business Park", "town": "Leicester", "postcode": "LE19 1WX"},
    "sme": True,
}


@pytest.fixture
def deployment(tmp_path: Path, sandbox: Sandbox) -> Iterator[Deployment]:
    for database in fresh_postgres_database():
        built = Deployment(tmp_path, database, redis_url(), sandbox)
        try:
            yield built
        finally:
            built.stop()


# -- driving the deployment as the CLI does ----------------------------------------------------


def _send(d: Deployment) -> Any:
    return lambda ids: d.app.send_task(DELIVER, args=[ids])


def amended(d: Deployment, data: dict[str, Any], reason: str = "Deadline extended") -> Any:
    parsed, problems = read_bytes(json.dumps(data).encode(), tender_context(d.config, date.today()))
    assert not problems, problems
    return amend(
        d.store.sessions,
        parsed[0],
        reason=reason,
        correction=False,
        policy=d.config.policy,
        thresholds=d.config.thresholds,
        actor="alice",
        now=utcnow(),
        enqueue=_send(d),
    )


def withdrawn(d: Deployment, data: dict[str, Any]) -> Any:
    return withdraw(
        d.store.sessions,
        buyer=data["buyer"],
        reference=data["reference"],
        reason="Requirement withdrawn by the force",
        actor="alice",
        now=utcnow(),
        enqueue=_send(d),
    )


def awarded(d: Deployment, decision: dict[str, Any]) -> Any:
    parsed = validate_award(decision, decision["reference"])
    assert not isinstance(parsed, list), parsed
    return award(
        d.store.sessions,
        parsed,
        actor="carol",
        now=utcnow(),
        vat_rate=d.config.policy.vat_rate,
        enqueue=_send(d),
    )


def signed(d: Deployment, data: dict[str, Any], on: date) -> Any:
    return contract_signed(
        d.store.sessions,
        buyer=data["buyer"],
        reference=data["reference"],
        lot=None,
        signed_on=on,
        actor="carol",
        now=utcnow(),
        enqueue=_send(d),
    )


def decision(data: dict[str, Any], **lot: Any) -> dict[str, Any]:
    """The whole contract awarded today to one supplier, four tenders received."""
    terms = {"start": (date.today() + timedelta(days=40)).isoformat(), "end": "2031-03-31"} | lot
    return {
        "reference": data["reference"],
        "buyer": data["buyer"],
        "decision_date": date.today().isoformat(),
        "lots": [
            {
                "lot": None,
                "outcome": "awarded",
                "suppliers": [SUPPLIER],
                "value": {"amount": "452000.00", "currency": "GBP", "vat_included": False},
                "contract": terms,
            }
        ],
        "tenders_received": 4,
        "sme_tenders_received": 2,
        "eea_tenders_received": 0,
        "non_eea_tenders_received": 0,
    }


# -- observing ---------------------------------------------------------------------------------


def of(d: Deployment, tender: int, notice: str | None = None) -> list[DeliveryRow]:
    return [r for r in d.deliveries([tender]) if notice is None or r.notice == notice]


def settled(d: Deployment, tender: int) -> Any:
    return d.all_in(DONE, [tender])


def closing_soon(reference: str, seconds: int = 20, **changes: Any) -> dict[str, Any]:
    """A Procurement Act tender (Find a Tender first) whose deadline passes during the test."""
    deadline = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    return valued("500000", reference=reference, submission_deadline=deadline.isoformat(), **changes)


def after_deadline(data: dict[str, Any]) -> None:
    deadline = datetime.fromisoformat(data["submission_deadline"])
    while datetime.now(UTC) <= deadline:
        time.sleep(0.2)


def published_everywhere(d: Deployment, tender: int, what: str) -> None:
    d.wait_for(settled(d, tender), 90, what)
    assert {r.state for r in d.deliveries([tender])} <= DONE


def later(data: dict[str, Any], days: int) -> dict[str, Any]:
    deadline = datetime.fromisoformat(data["submission_deadline"]) + timedelta(days=days)
    return {**data, "submission_deadline": deadline.isoformat()}


def received_for(box: Sandbox, reference: str) -> list[dict[str, Any]]:
    return [n for n in received(box) if n.get("tender_reference") in (reference, None)]


def _times(rows: list[DeliveryRow]) -> dict[str, datetime]:
    return {r.destination: r.published_at for r in rows if r.published_at is not None}


def held_behind_find_a_tender(d: Deployment, sandbox: Sandbox, data: dict[str, Any]) -> int:
    """Submit `data` with Find a Tender publishing slowly; return once it has accepted the UK4,
    while every national advert is still held behind it."""
    requests.post(sandbox_url(sandbox) + "/_sandbox/delays", json={PRIMARY: 4}, timeout=5).raise_for_status()
    d.start_worker()
    [tender] = d.submit(data)
    d.wait_for(
        lambda: any(r.destination == PRIMARY and r.state == "submitted" for r in of(d, tender)),
        30,
        "Find a Tender to accept the UK4",
    )
    return tender


# -- the lifecycle -----------------------------------------------------------------------------


def test_an_amendment_reaches_every_channel_once_after_find_a_tender_then_a_withdrawal_ends_it(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    d.start_worker()
    data = valued("500000", reference="LIFE-1")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "the adverts")
    advertised = {r.destination for r in of(d, tender, "contract")}
    assert PRIMARY in advertised and len(advertised) >= 4

    amended(d, later(data, 7))
    published_everywhere(d, tender, "the change notices")
    changes = of(d, tender, "change")
    assert Counter(r.destination for r in changes) == Counter(advertised)  # one each
    assert {(r.version, r.state) for r in changes} == {(2, "published")}
    times = _times(changes)
    assert all(when >= times[PRIMARY] for when in times.values())  # after Find a Tender's

    withdrawn(d, later(data, 7))
    published_everywhere(d, tender, "the cancellation notices")
    ended = of(d, tender, "cancellation")
    assert {r.destination for r in ended} == advertised and {r.state for r in ended} == {"published"}
    assert d.tender(tender).withdrawn_at is not None
    # every notice reached its channel once (the trade press does not de-duplicate)
    assert all(n["times_received"] == 1 for n in received(sandbox) if n["channel"] == "trade-press")


def test_an_amendment_overtakes_national_notices_still_held(deployment: Deployment, sandbox: Sandbox) -> None:
    d = deployment
    data = valued("500000", reference="LIFE-2")
    tender = held_behind_find_a_tender(d, sandbox, data)
    assert {r.state for r in of(d, tender) if r.destination != PRIMARY} == {"held"}
    amended(d, later(data, 7))
    published_everywhere(d, tender, "the new version everywhere")
    rows = of(d, tender)
    national = {r.destination for r in rows if r.destination != PRIMARY}
    for destination in national:
        mine = [r for r in rows if r.destination == destination]
        # version 1 never left; version 2 went once, as the advert itself
        assert {(r.notice, r.version, r.state) for r in mine} == {
            ("contract", 1, "superseded"),
            ("contract", 2, "published"),
        }, mine
    crystal = [n for n in received(sandbox, "crystal")]
    assert len(crystal) == 1 and crystal[0]["version"] in (2, None)


def test_two_quick_amendments_arrive_in_order_none_twice(deployment: Deployment, sandbox: Sandbox) -> None:
    d = deployment
    d.start_worker()
    data = valued("500000", reference="LIFE-3")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "the adverts")
    amended(d, later(data, 7), "Deadline extended")
    amended(d, later(data, 14), "Deadline extended again")
    published_everywhere(d, tender, "both amendments")
    for destination in {r.destination for r in of(d, tender)}:
        mine = sorted(
            (r for r in of(d, tender, "change") if r.destination == destination and r.state == "published"),
            key=lambda r: r.published_at,
        )
        versions = [r.version for r in mine]
        assert versions == sorted(set(versions)) and versions[-1] == 3, (destination, versions)
    # Find a Tender, the primary, carries both revisions, in order
    fts = [r.version for r in sorted(of(d, tender, "change"), key=lambda r: r.id) if r.destination == PRIMARY]
    assert fts == [2, 3]


def test_a_worker_killed_during_a_change_run_loses_and_doubles_nothing(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    first = d.start_worker()
    data = valued("500000", reference="LIFE-4")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "the adverts")
    inject(sandbox, "crystal", "timeout", count=1, delay=3)
    amended(d, later(data, 7))
    d.wait_for(
        lambda: any(r.notice == "change" and r.state in ("sending", "submitted") for r in of(d, tender)),
        30,
        "a change notice in flight",
    )
    d.kill(first)
    d.start_worker()
    published_everywhere(d, tender, "the change notices after the crash")
    changes = of(d, tender, "change")
    assert Counter(r.destination for r in changes) == Counter(
        r.destination for r in of(d, tender, "contract")
    )
    assert {r.state for r in changes} == {"published"}
    press = [n for n in received(sandbox, "trade-press") if n["notice"] == "change"]
    assert all(n["times_received"] == 1 for n in press)


def test_a_withdrawal_while_the_national_notices_are_held_cancels_them_unsent(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    data = valued("500000", reference="LIFE-5")
    tender = held_behind_find_a_tender(d, sandbox, data)
    withdrawn(d, data)
    published_everywhere(d, tender, "the withdrawal")
    national = [r for r in of(d, tender, "contract") if r.destination != PRIMARY]
    assert national and {r.state for r in national} == {"cancelled"}
    assert [r.destination for r in of(d, tender, "cancellation")] == [PRIMARY]  # only where it was
    assert received(sandbox, "crystal") == []


# -- awards ------------------------------------------------------------------------------------


def test_a_procurement_act_award_starts_the_standstill_and_the_signed_contract_follows(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    d.start_worker()
    data = closing_soon("AWARD-PA", procurement_commenced_on="2025-06-02")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "the adverts")
    after_deadline(data)
    result = awarded(d, decision(data))
    assert {s["destination"]: s["notice"] for s in result.steps}[PRIMARY] == "award"
    published_everywhere(d, tender, "the award notices")
    times = _times(of(d, tender, "award"))
    assert PRIMARY in times and len(times) >= 4 and all(when >= times[PRIMARY] for when in times.values())
    with d.store.sessions() as session:
        row = session.scalars(select(AwardRow)).one()
    # the standstill counts from the UK6's publication (today), eight working days
    assert row.award_notice_published_on == date.today()
    assert row.standstill_ends is not None and row.standstill_ends > date.today()
    signed(d, data, row.standstill_ends + timedelta(days=1))
    published_everywhere(d, tender, "the contract details notices")
    details = of(d, tender, "contract-details")
    assert PRIMARY in {r.destination for r in details} and {r.state for r in details} == {"published"}
    fts = [n for n in received(sandbox, "fts") if n["tender_reference"] == data["reference"]]
    assert Counter(n["notice"] for n in fts) == Counter({"contract": 1, "award": 1, "contract-details": 1})


def test_a_pcr_award_goes_on_find_a_tender_once_signed_then_everywhere_else(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    d.start_worker()
    data = closing_soon("AWARD-PCR", procurement_commenced_on="2023-05-02")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "the adverts")
    assert "contracts-finder" in {r.destination for r in of(d, tender)}
    after_deadline(data)
    result = awarded(d, decision(data))
    assert all(s["notice"] is None for s in result.steps), result.steps  # PCR 2015 regs. 50 and 52
    assert of(d, tender, "award") == []
    signed(d, data, date.today())
    published_everywhere(d, tender, "the award notices after the signature")
    awards = of(d, tender, "award")
    times = _times(awards)
    assert {PRIMARY, "contracts-finder"} <= set(times) and all(w >= times[PRIMARY] for w in times.values())
    assert PRIMARY not in {r.destination for r in of(d, tender, "contract-details")}  # no UK7 under the PCR
    fts = [n for n in received(sandbox, "fts") if n["tender_reference"] == data["reference"]]
    assert Counter(n["notice"] for n in fts) == Counter({"contract": 1, "award": 1})


def test_teds_award_notice_waits_for_the_signature_then_publishes(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    d.start_worker()
    data = closing_soon("AWARD-TED", procurement_commenced_on="2020-11-16")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "the adverts, TED first")
    assert "ted" in {r.destination for r in of(d, tender)}
    after_deadline(data)
    result = awarded(d, decision(data))
    waiting = next(s for s in result.steps if s["destination"] == "ted")
    assert waiting["notice"] is None and "signed" in waiting["text"]
    assert of(d, tender, "award") == []  # the others follow TED's (PCR 2015 reg. 52)
    signed(d, data, date.today())
    published_everywhere(d, tender, "the award notices, TED's first")
    times = _times(of(d, tender, "award"))
    assert "ted" in times and len(times) >= 3 and all(when >= times["ted"] for when in times.values())
    notices = [n for n in received(sandbox, "ted") if n["notice"] == "award"]
    assert len(notices) == 1 and notices[0]["status"] == "published" and not notices[0]["rejected"]


def test_a_killed_worker_loses_no_award_notice_and_a_failed_one_is_re_pushed(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    first = d.start_worker()
    data = closing_soon("AWARD-FAIL")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "the adverts")
    after_deadline(data)
    # a worker SIGKILLed while an award notice is with Source East Midlands (answering late)
    inject(sandbox, "source-east-midlands", "timeout", count=1, delay=3)
    awarded(d, decision(data))
    d.wait_for(
        lambda: any(
            r.notice == "award"
            and r.destination == "source-east-midlands"
            and r.state in ("sending", "submitted")
            for r in of(d, tender)
        ),
        60,
        "Source East Midlands' award notice in flight",
    )
    d.kill(first)
    d.start_worker()
    published_everywhere(d, tender, "every award notice after the crash")
    awards = of(d, tender, "award")
    assert {r.state for r in awards} == {"published"} and len(awards) >= 4
    sem = [n for n in received(sandbox, "sem") if n["notice"] == "award"]
    assert len(sem) == 1  # published once, whatever the crash

    # a contract details notice Crystal refuses, re-pushed by a person once Crystal is fixed
    inject(sandbox, "crystal", "reject-422", count=1)
    with d.store.sessions() as session:
        ends = session.scalars(select(AwardRow.standstill_ends)).one()
    signed(d, data, ends + timedelta(days=1))
    d.wait_for(
        lambda: any(
            r.destination == "crystal" and r.state == "failed" for r in of(d, tender, "contract-details")
        ),
        60,
        "Crystal's refusal",
    )
    [crystal] = [r for r in of(d, tender, "contract-details") if r.destination == "crystal"]
    ops.repush(
        d.store.sessions,
        crystal.id,
        actor="alice",
        reason="Crystal fixed its validation",
        now=utcnow(),
        enqueue=_send(d),
    )
    published_everywhere(d, tender, "the re-pushed contract details notice")
    details = of(d, tender, "contract-details")
    assert {r.state for r in details} == {"published"}
    last = d.attempts(crystal.id)[-1]
    assert (last.trigger, last.actor, last.outcome) == ("manual", "alice", "published")


# -- Find a Tender's adopt mode and Contracts Finder, through the workers ----------------------


def test_adopt_mode_takes_the_buyers_own_notice_and_never_submits(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    """Derbyshire's own e-tendering tool publishes its Find a Tender notices (fts_mode = adopt):
    the product finds the notice, never sends its own, and the national adverts follow it."""
    from syndicator.demo.story import buyers_own_notices

    d = deployment
    data = valued("500000", reference="DERBYS-ADOPT-1", buyer="derbyshire-constabulary")
    [tender] = d.submit(data, enqueue=False)
    assert buyers_own_notices(d.store, d.config, sandbox_url(sandbox)) == ["DERBYS-ADOPT-1"]
    d.start_worker()
    d.app.send_task(DELIVER, args=[[r.id for r in of(d, tender)]])
    published_everywhere(d, tender, "the adopted notice and the adverts after it")
    [fts] = [r for r in of(d, tender) if r.destination == PRIMARY]
    assert fts.remote_url and "/Notice/" in fts.remote_url and fts.publication_id
    assert [n for n in received(sandbox, "fts") if n["tender_reference"] == "DERBYS-ADOPT-1"] == []
    times = _times(of(d, tender))
    assert all(when >= times[PRIMARY] for when in times.values())


def test_contracts_finder_publishes_a_pcr_tender_through_its_faults(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    d = deployment
    inject(sandbox, "contracts-finder", "error-503", count=2)
    d.start_worker()
    data = valued("500000", reference="CF-PCR-1", procurement_commenced_on="2023-05-02")
    [tender] = d.submit(data)
    published_everywhere(d, tender, "Contracts Finder after two 503s")
    [cf] = [r for r in of(d, tender) if r.destination == "contracts-finder"]
    assert cf.state == "published" and cf.attempts >= 3
    notices = [n for n in received(sandbox, "contracts-finder") if n["tender_reference"] == "CF-PCR-1"]
    assert len(notices) == 1 and notices[0]["status"] == "published"
