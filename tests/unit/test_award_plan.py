"""The award planner for a destination whose award notice states when each contract was
concluded (TED: PCR 2015 reg. 50): its award notice waits until every awarded contract is signed,
and comes with the last signature; other destinations get theirs at the decision."""

from __future__ import annotations

from syndicator.domain.notices import Carrier, NoticeKind
from syndicator.domain.states import State
from syndicator.notices.plan import Existing, plan_award, plan_contract_details

ADVERT = frozenset({NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.CANCELLATION})
CARRIERS = {
    "ted": Carrier(ADVERT | {NoticeKind.AWARD}, stops_unpublished=True, award_after_signature=True),
    "crystal": Carrier(frozenset(NoticeKind)),
}
PUBLISHED = [
    Existing(1, "ted", NoticeKind.CONTRACT, 1, State.PUBLISHED),
    Existing(2, "crystal", NoticeKind.CONTRACT, 1, State.PUBLISHED),
]


def carriers(destination: str) -> Carrier:
    return CARRIERS[destination]


def test_the_award_waits_on_ted_until_every_contract_is_signed() -> None:
    plan = plan_award(PUBLISHED, 1, "ted", carriers, all_signed=False)
    assert [(n.destination, n.kind) for n in plan.create] == [("crystal", NoticeKind.AWARD)]
    [waiting] = [step for step in plan.steps if step.destination == "ted"]
    assert waiting.kind is None and "once every awarded contract is signed" in waiting.text


def test_the_last_signature_sends_teds_award_and_the_contract_details_elsewhere() -> None:
    existing = [*PUBLISHED, Existing(3, "crystal", NoticeKind.AWARD, 1, State.PUBLISHED)]
    not_yet = plan_contract_details(existing, 1, "lot-1", "ted", carriers, all_signed=False)
    assert [(n.destination, n.kind) for n in not_yet.create] == [("crystal", NoticeKind.CONTRACT_DETAILS)]
    last = plan_contract_details(existing, 1, "lot-2", "ted", carriers, all_signed=True)
    assert [(n.destination, n.kind) for n in last.create] == [
        ("ted", NoticeKind.AWARD),
        ("crystal", NoticeKind.CONTRACT_DETAILS),
    ]
    assert last.create[0].previous == 1  # after TED's contract notice


def test_an_award_decided_with_every_contract_signed_goes_to_ted_at_once_and_only_once() -> None:
    plan = plan_award(PUBLISHED, 1, "ted", carriers, all_signed=True)
    assert [(n.destination, n.kind) for n in plan.create] == [
        ("ted", NoticeKind.AWARD),
        ("crystal", NoticeKind.AWARD),
    ]
    sent = [*PUBLISHED, Existing(3, "ted", NoticeKind.AWARD, 1, State.SUBMITTED)]
    again = plan_contract_details(sent, 1, "whole", "ted", carriers, all_signed=True)
    assert all(n.kind is not NoticeKind.AWARD for n in again.create)
