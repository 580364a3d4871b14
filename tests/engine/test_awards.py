"""Awards through the real planner, store, dispatcher and sweeper (scripted channels, a clock
the test moves), on SQLite and PostgreSQL: the award notice goes to the primary first, its
publication starts the Procurement Act standstill, a contract signed after it sends its contract
details, and a contract details notice 30 days late raises one alert; under the PCR the
journal's award notice follows the signatures and there is no UK7."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from syndicator.channel.base import TransientError
from syndicator.domain.notices import NoticeKind
from syndicator.domain.states import State
from syndicator.intake.award import AwardProblems, award, contract_signed
from syndicator.intake.award_records import validate_award
from syndicator.intake.lifecycle import LifecycleError
from syndicator.store.models import AlertRow, AwardRow, DeliveryRow
from tests.engine.conftest import Engine
from tests.engine.test_lifecycle import ABOVE, publish_everything, withdrawn
from tests.unit.records_factory import valued

SUPPLIER = {
    "name": "Roadwatch Systems Ltd",
    "identifier": {"scheme": "GB-COH", "id": "01234567"},
    "address": {"street": "1 Station Road", "town": "Derby", "postcode": "DE1 2AB", "country": "GB"},
    "sme": True,
}


def decision(record: dict, **changes: object) -> dict:
    lot = {
        "lot": None,
        "outcome": "awarded",
        "suppliers": [SUPPLIER],
        "value": {"amount": "450000.00", "currency": "GBP", "vat_included": False},
        "contract": {"start": "2027-03-01", "end": "2030-02-28"},
    }
    return {
        "reference": record["reference"],
        "buyer": record["buyer"],
        "decision_date": "2027-02-01",
        "lots": [lot],
    } | changes


def awarded(engine: Engine, data: dict):
    parsed = validate_award(data, data["reference"])
    assert not isinstance(parsed, list), parsed
    queued: list[int] = []
    result = award(
        engine.store.sessions,
        parsed,
        actor="carol",
        now=engine.clock(),
        vat_rate=engine.config.policy.vat_rate,
        carriers=engine.carriers,
        enqueue=queued.extend,
    )
    engine.sent.append(queued)
    return result


def signed(engine: Engine, record: dict, on: date, lot: int | None = None):
    queued: list[int] = []
    result = contract_signed(
        engine.store.sessions,
        buyer=record["buyer"],
        reference=record["reference"],
        lot=lot,
        signed_on=on,
        actor="carol",
        now=engine.clock(),
        carriers=engine.carriers,
        enqueue=queued.extend,
    )
    engine.sent.append(queued)
    return result


def rows(engine: Engine, kind: str) -> dict[str, DeliveryRow]:
    with engine.store.sessions() as session:
        found = session.scalars(
            select(DeliveryRow).where(DeliveryRow.notice == kind).order_by(DeliveryRow.id)
        )
        return {row.destination: row for row in found}


def award_row(engine: Engine) -> AwardRow:
    with engine.store.sessions() as session:
        found = session.scalars(select(AwardRow)).one()
        return found


@pytest.fixture(autouse=True)
def _trade_press_carries_no_awards(channels) -> None:
    # As the real channel: an advert e-mail, no award notices.
    channels["trade-press"].notices = frozenset(
        {NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.CANCELLATION}
    )
    channels["crystal"].notices = frozenset(set(NoticeKind) - {NoticeKind.CONTRACT_DETAILS})


def test_a_procurement_act_award_starts_the_standstill_and_the_signed_contract_follows(
    engine: Engine, channels
) -> None:
    engine.sent.append(engine.submit(ABOVE))
    publish_everything(engine)
    engine.clock.now = engine.clock.now.replace(year=2027, month=2, day=3, hour=10)  # Wednesday
    result = awarded(engine, decision(ABOVE))
    steps = {s["destination"]: s for s in result.steps}
    assert steps["find-a-tender"]["notice"] == "award"
    assert steps["trade-press:police-technology-press"]["notice"] is None  # carries no awards
    engine.run()
    notices = rows(engine, "award")
    assert notices["find-a-tender"].state == State.SUBMITTED
    assert notices["crystal"].state == State.HELD  # after the primary's award notice
    with pytest.raises(LifecycleError, match="not published yet"):
        signed(engine, ABOVE, date(2027, 2, 20))
    publish_everything(engine)
    row = award_row(engine)
    assert row.award_notice_published_on == date(2027, 2, 3)
    assert row.standstill_ends == date(2027, 2, 12)  # 3,4,5,8,9,10,11,12 February
    assert {d: r.state for d, r in rows(engine, "award").items()} == dict.fromkeys(
        ["find-a-tender", "crystal", "bluelight", "source-east-midlands"], State.PUBLISHED
    )
    sent = [n for n in channels["find-a-tender"].notices_seen if n.kind is NoticeKind.AWARD]
    assert (
        sent
        and sent[0].award is not None
        and sent[0].award.lots[0].suppliers[0].name == "Roadwatch Systems Ltd"
    )
    with pytest.raises(LifecycleError, match="the contract may be entered into from 2027-02-15"):
        signed(engine, ABOVE, date(2027, 2, 12))
    signed(engine, ABOVE, date(2027, 2, 15))
    publish_everything(engine)
    details = rows(engine, "contract-details")
    assert set(details) == {"find-a-tender", "bluelight", "source-east-midlands"}  # crystal carries none
    assert {r.state for r in details.values()} == {State.PUBLISHED}
    assert {r.part for r in details.values()} == {"whole"}
    uk7 = [n for n in channels["find-a-tender"].notices_seen if n.kind is NoticeKind.CONTRACT_DETAILS]
    assert uk7[0].signed_lots() == [None] and uk7[0].award is not None
    assert uk7[0].award.lots[0].contract is not None and uk7[0].award.lots[0].contract.signed_on == date(
        2027, 2, 15
    )
    with pytest.raises(LifecycleError, match="already recorded as signed"):
        signed(engine, ABOVE, date(2027, 2, 16))


def test_a_contract_details_notice_thirty_days_late_raises_one_alert(engine: Engine, channels) -> None:
    engine.sent.append(engine.submit(ABOVE))
    publish_everything(engine)
    engine.clock.now = engine.clock.now.replace(year=2027, month=2, day=3, hour=10)
    awarded(engine, decision(ABOVE))
    publish_everything(engine)
    channels["find-a-tender"].sends.extend([TransientError("503")] * 100)
    signed(engine, ABOVE, date(2027, 2, 15))
    engine.clock.now = engine.clock.now.replace(month=3, day=16)
    engine.run()
    with engine.store.sessions() as session:
        assert (
            session.scalars(select(AlertRow).where(AlertRow.kind == "contract_details_overdue")).all() == []
        )
    engine.clock.now = engine.clock.now.replace(month=3, day=18)
    engine.run()
    engine.run()
    with engine.store.sessions() as session:
        alerts = session.scalars(select(AlertRow).where(AlertRow.kind == "contract_details_overdue")).all()
    assert len(alerts) == 1 and "signed on 2027-02-15" in alerts[0].message and "s.53" in alerts[0].message


def test_under_the_pcr_an_award_signed_already_goes_at_once_with_no_uk7(
    engine: Engine,
) -> None:
    """PCR 2015 reg. 50: the journal's award notice follows the contract's conclusion, and the
    contract details notice (UK7) is a Procurement Act notice: Find a Tender gets none."""
    pcr = valued("500000", procurement_commenced_on="2023-05-02")
    engine.sent.append(engine.submit(pcr))
    publish_everything(engine)
    engine.clock.now = engine.clock.now.replace(year=2027, month=2, day=3)
    data = decision(pcr)
    data["lots"][0]["contract"]["signed_on"] = "2027-02-20"
    result = awarded(engine, data)
    kinds = {(s["destination"], s["notice"]) for s in result.steps}
    assert ("find-a-tender", "award") in kinds and ("find-a-tender", "contract-details") not in kinds
    publish_everything(engine)
    assert rows(engine, "award")["find-a-tender"].state == State.PUBLISHED
    assert "find-a-tender" not in rows(engine, "contract-details")
    assert award_row(engine).standstill_ends is None  # the PCR standstill is not this product's to count


def test_award_records_that_do_not_fit_the_tender_are_refused_field_by_field(engine: Engine) -> None:
    lotted = valued("500000", lots=[{"number": 1, "title": "Cameras"}, {"number": 2, "title": "Maintenance"}])
    engine.sent.append(engine.submit(lotted))
    engine.run()
    unknown = decision(lotted, reference="NOPE-1")
    with pytest.raises(AwardProblems) as raised:
        awarded(engine, unknown)
    assert [(p.field, "has no tender" in p.message) for p in raised.value.problems] == [("reference", True)]
    early = decision(lotted, decision_date="2027-01-10")
    with pytest.raises(AwardProblems) as raised:
        awarded(engine, early)
    fields = [p.field for p in raised.value.problems]
    assert "decision_date" in fields and "lots" in fields  # before the deadline; lot null on a lotted tender
    signed_too_soon = decision(
        lotted,
        lots=[
            {
                **decision(lotted)["lots"][0],
                "lot": 1,
                "contract": {"start": "2027-03-01", "end": "2028-02-28", "signed_on": "2027-02-02"},
            },
            {"lot": 2, "outcome": "not-awarded", "reason": "no-tenders"},
        ],
    )
    with pytest.raises(AwardProblems) as raised:
        awarded(engine, signed_too_soon)
    assert [p.field for p in raised.value.problems] == ["lots[0].contract.signed_on"]


def test_a_withdrawn_tender_cannot_be_awarded_and_an_award_is_given_once(engine: Engine) -> None:
    other = ABOVE | {"reference": "TEST-2026-0002"}
    engine.sent.append(engine.submit(ABOVE, other))
    engine.run()
    withdrawn(engine, other)
    with pytest.raises(AwardProblems) as raised:
        awarded(engine, decision(other))
    assert "was withdrawn" in raised.value.problems[0].message
    awarded(engine, decision(ABOVE))
    with pytest.raises(LifecycleError, match="already awarded"):
        awarded(engine, decision(ABOVE))
