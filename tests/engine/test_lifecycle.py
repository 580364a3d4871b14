"""A tender's life through the real planner, store, dispatcher and sweeper (scripted channels,
a clock the test moves), on SQLite and PostgreSQL: amendments reach every destination in order,
unsent notices are superseded, withdrawals take the advert down, and refusals say why."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from syndicator.channel.base import Receipt, RejectedError
from syndicator.domain.notices import Carrier, NoticeKind
from syndicator.domain.states import State
from syndicator.intake.amend import amend
from syndicator.intake.lifecycle import LifecycleError
from syndicator.intake.records import read_bytes
from syndicator.intake.withdraw import withdraw
from syndicator.runtime.wiring import tender_context
from syndicator.store.models import DeliveryRow, TenderVersionRow
from tests.engine.conftest import Engine
from tests.unit.records_factory import valued

ABOVE = valued("500000")  # Find a Tender (the primary) and every other destination
PRIMARY = "find-a-tender"
EVERYWHERE = {PRIMARY, "crystal", "bluelight", "source-east-midlands", "trade-press:police-technology-press"}
PCR = {"procurement_commenced_on": "2023-05-02"}  # under the PCR as amended: no primary below the threshold
# Commenced on TED in 2020: TED is the primary, and it can stop a notice it has not published.
ON_TED = valued("500000", procurement_commenced_on="2020-11-16", documents_url="https://example.test/d")


def carriers(destination: str) -> Carrier:
    """Every scripted channel carries every kind; TED can stop a notice it has not published."""
    return Carrier(frozenset(NoticeKind), stops_unpublished=destination == "ted")


def amended(engine: Engine, record: dict, *, reason: str = "Deadline extended", correction: bool = False):
    parsed, problems = read_bytes(
        json.dumps(record).encode(), tender_context(engine.config, date(2026, 11, 26))
    )
    assert not problems, problems
    queued: list[int] = []
    result = amend(
        engine.store.sessions,
        parsed[0],
        reason=reason,
        correction=correction,
        policy=engine.config.policy,
        thresholds=engine.config.thresholds,
        actor="alice",
        now=engine.clock(),
        carriers=carriers,
        enqueue=queued.extend,
    )
    engine.sent.append(queued)
    return result


def withdrawn(engine: Engine, record: dict = ABOVE, reason: str = "Requirement withdrawn by the force"):
    queued: list[int] = []
    result = withdraw(
        engine.store.sessions,
        buyer=record["buyer"],
        reference=record["reference"],
        reason=reason,
        actor="alice",
        now=engine.clock(),
        carriers=carriers,
        enqueue=queued.extend,
    )
    engine.sent.append(queued)
    return result


def rows(engine: Engine) -> list[DeliveryRow]:
    with engine.store.sessions() as session:
        return list(session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def notices(engine: Engine) -> set[tuple[str, str, int, str]]:
    """(destination, notice, version, state) of every delivery."""
    return {(r.destination, r.notice, r.version, r.state) for r in rows(engine)}


def publish_everything(engine: Engine) -> None:
    """Move time on in quarter hours until nothing is waiting (at most a day)."""
    moving = {State.HELD, State.PENDING, State.RETRY_WAIT, State.SENDING, State.SUBMITTED}
    for _ in range(96):
        engine.clock.advance(minutes=15)
        engine.run()
        if not any(r.state in moving for r in rows(engine)):
            return


@pytest.fixture(autouse=True)
def _all_kinds(engine: Engine) -> None:
    engine.sweeper.carriers = carriers


def later(**changes: object) -> dict:
    return {**ABOVE, **changes}


def test_an_amendment_of_a_tender_published_everywhere_sends_one_change_notice_each_after_the_primary(
    engine: Engine, channels
) -> None:
    engine.sent.append(engine.submit(ABOVE))
    publish_everything(engine)
    assert {r.destination for r in rows(engine) if r.state == State.PUBLISHED} == EVERYWHERE
    channels[PRIMARY].polls.append(Receipt("t", live=False, status="SUBMITTED"))  # TED's change waits a while
    result = amended(engine, later(submission_deadline="2027-01-29T12:00:00Z"))
    assert result.version == 2 and [c["field"] for c in result.changes] == ["submission_deadline"]
    assert {s["destination"]: s["notice"] for s in result.steps} == dict.fromkeys(EVERYWHERE, "change")
    engine.clock.advance(seconds=10)
    engine.run()
    changes = [r for r in rows(engine) if r.notice == "change"]
    assert {r.destination: r.state for r in changes}[PRIMARY] == State.SUBMITTED
    assert all(r.state == State.HELD for r in changes if r.destination != PRIMARY)  # after the primary
    publish_everything(engine)
    assert {(r.destination, r.state) for r in rows(engine) if r.notice == "change"} == {
        (d, State.PUBLISHED) for d in EVERYWHERE
    }
    for name in ("crystal", "bluelight", PRIMARY):  # exactly one change notice each, carrying v2
        sent = [n for n in channels[name].notices_seen if n.kind is NoticeKind.CHANGE]
        assert [(n.version, n.reason) for n in sent] == [(2, "Deadline extended")]
        assert [c.path for c in sent[0].changes] == ["submission_deadline"]
    crystal_change = channels["crystal"].contexts[-1]
    assert crystal_change.previous is not None and crystal_change.previous.kind is NoticeKind.CONTRACT
    assert crystal_change.follows is not None and crystal_change.follows.kind is NoticeKind.CHANGE


def test_an_amendment_while_the_national_notices_are_held_supersedes_them_and_sends_the_new_version(
    engine: Engine, channels
) -> None:
    channels[PRIMARY].polls.extend([Receipt("t", live=False, status="SUBMITTED")] * 3)
    engine.sent.append(engine.submit(ABOVE))
    engine.clock.advance(seconds=10)
    engine.run()
    assert {r.destination: r.state for r in rows(engine)}["crystal"] == State.HELD
    amended(engine, later(title="Supply of ANPR cameras and back office"))
    superseded = {r.destination for r in rows(engine) if r.state == State.SUPERSEDED}
    assert superseded == EVERYWHERE - {PRIMARY}  # TED's own contract notice is with TED
    publish_everything(engine)
    final = notices(engine)
    assert (PRIMARY, "contract", 1, State.PUBLISHED) in final and (
        PRIMARY,
        "change",
        2,
        State.PUBLISHED,
    ) in final
    for destination in EVERYWHERE - {PRIMARY}:
        assert (destination, "contract", 2, State.PUBLISHED) in final  # the latest version, once
    assert channels["crystal"].notices_seen and all(n.version == 2 for n in channels["crystal"].notices_seen)


def test_two_quick_amendments_arrive_in_order_none_skipped_or_doubled(engine: Engine, channels) -> None:
    engine.sent.append(engine.submit(ABOVE))
    publish_everything(engine)
    channels[PRIMARY].polls.extend([Receipt("t", live=False, status="SUBMITTED")] * 2)
    amended(engine, later(submission_deadline="2027-01-22T12:00:00Z"))
    engine.clock.advance(seconds=5)
    engine.run()  # TED's change v2 is submitted, not yet published; v2 elsewhere is held
    amended(engine, later(submission_deadline="2027-01-29T12:00:00Z"), reason="Extended again")
    publish_everything(engine)
    ted = [(r.notice, r.version, r.state) for r in rows(engine) if r.destination == PRIMARY]
    assert ted == [
        ("contract", 1, State.PUBLISHED),
        ("change", 2, State.PUBLISHED),
        ("change", 3, State.PUBLISHED),
    ]
    crystal = [(r.notice, r.version, r.state) for r in rows(engine) if r.destination == "crystal"]
    assert crystal == [
        ("contract", 1, State.PUBLISHED),
        ("change", 2, State.SUPERSEDED),
        ("change", 3, State.PUBLISHED),
    ]
    seen = [(n.kind, n.version) for n in channels["crystal"].notices_seen]
    assert seen == [(NoticeKind.CONTRACT, 1), (NoticeKind.CHANGE, 3)]
    # v3's change notice on crystal says what changed since the version crystal carries (v1)
    v3 = channels["crystal"].notices_seen[-1]
    assert [(c.before, c.after) for c in v3.changes] == [("2027-01-15T12:00:00Z", "2027-01-29T12:00:00Z")]


def test_a_change_waiting_for_a_notice_that_then_fails_becomes_the_contract_notice_of_its_version(
    engine: Engine, channels
) -> None:
    channels["bluelight"].polls.append(Receipt("b", live=False))
    engine.sent.append(engine.submit(valued("60000", **PCR)))  # below the threshold: no primary
    engine.clock.advance(seconds=5)
    engine.run()
    assert {r.destination: r.state for r in rows(engine)}["bluelight"] == State.SUBMITTED
    amended(engine, valued("60000", title="Supply of ANPR cameras (revised)", **PCR))
    waiting = [r for r in rows(engine) if r.destination == "bluelight" and r.notice == "change"]
    assert [r.state for r in waiting] == [State.HELD]
    channels["bluelight"].polls.append(RejectedError("bluelight rejected notice BL-1: no category"))
    engine.clock.advance(minutes=1)
    engine.run()
    publish_everything(engine)
    bluelight = [(r.notice, r.version, r.state) for r in rows(engine) if r.destination == "bluelight"]
    assert bluelight == [
        ("contract", 1, State.SUPERSEDED),
        ("change", 2, State.SUPERSEDED),
        ("contract", 2, State.PUBLISHED),
    ]


def test_withdrawing_a_tender_published_everywhere_sends_a_cancellation_everywhere(
    engine: Engine, channels
) -> None:
    engine.sent.append(engine.submit(ABOVE))
    publish_everything(engine)
    result = withdrawn(engine)
    assert {s["destination"]: s["notice"] for s in result.steps} == dict.fromkeys(EVERYWHERE, "cancellation")
    publish_everything(engine)
    cancellations = {(r.destination, r.state) for r in rows(engine) if r.notice == "cancellation"}
    assert cancellations == {(d, State.PUBLISHED) for d in EVERYWHERE}
    reasons = {n.reason for n in channels["crystal"].notices_seen if n.kind is NoticeKind.CANCELLATION}
    assert reasons == {"Requirement withdrawn by the force"}


def test_withdrawing_while_ted_holds_the_notice_unpublished_stops_it_and_cancels_the_held_ones(
    engine: Engine, channels
) -> None:
    channels["ted"].polls.extend([Receipt("t", live=False, status="SUBMITTED")] * 2)
    engine.sent.append(engine.submit(ON_TED))
    engine.clock.advance(seconds=10)
    engine.run()
    channels["ted"].sends.append(Receipt("ted-stop", live=True, status="STOPPED"))  # stop-publication
    withdrawn(engine, ON_TED)
    engine.run()
    final = notices(engine)
    for destination in (EVERYWHERE - {PRIMARY}) | {"contracts-finder"}:
        assert (destination, "contract", 1, State.CANCELLED) in final
        assert not any(
            d == destination and n == "cancellation" for d, n, _, _ in final
        )  # nothing to take down
    assert ("ted", "cancellation", 1, State.PUBLISHED) in final  # sent at once: stops the notice
    assert ("ted", "contract", 1, State.CANCELLED) in final  # stopped before publication
    assert channels["crystal"].sent == []


def test_a_withdrawn_tender_cannot_be_amended_or_withdrawn_again(engine: Engine) -> None:
    engine.sent.append(engine.submit(ABOVE))
    engine.run()
    withdrawn(engine)
    with pytest.raises(LifecycleError, match="was withdrawn"):
        amended(engine, later(title="Too late"))
    with pytest.raises(LifecycleError, match="was withdrawn"):
        withdrawn(engine)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, "nothing changed"),
        ({"reference": "NO-SUCH-1"}, "no tender 'NO-SUCH-1'"),
        ({"submission_deadline": "2026-12-20T12:00:00Z"}, "brought forward below the minimum"),
    ],
)
def test_amendments_that_cannot_be_made_are_refused_with_the_reason(
    engine: Engine, changes: dict, problem: str
) -> None:
    engine.sent.append(engine.submit(ABOVE))
    engine.run()
    with pytest.raises(LifecycleError, match=problem):
        amended(engine, later(**changes))
    with engine.store.sessions() as session:
        assert session.scalar(select(TenderVersionRow.version).order_by(TenderVersionRow.version.desc())) == 1


def test_an_amendment_after_the_deadline_is_refused(engine: Engine) -> None:
    engine.sent.append(engine.submit(ABOVE))
    engine.run()
    engine.clock.advance(days=60)
    with pytest.raises(LifecycleError, match=r"deadline .* has passed"):
        amended(engine, later(title="After the deadline"))
