"""The award planner for a destination whose award notice states when each contract was
concluded (TED; Find a Tender under the PCR: reg. 50): its award notice waits until every awarded
contract is signed and comes with the last signature; when it is the primary, the others wait
and follow it (reg. 52)."""

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


def test_every_award_notice_waits_while_teds_the_primarys_needs_the_signatures() -> None:
    plan = plan_award(PUBLISHED, 1, "ted", carriers, all_signed=False)
    assert plan.create == []  # no national award notice before the journal's (PCR 2015 reg. 52)
    texts = {step.destination: step.text for step in plan.steps}
    assert all(step.kind is None for step in plan.steps)
    assert "once every awarded contract is signed" in texts["ted"]
    assert "after ted's" in texts["crystal"]


def test_the_last_signature_sends_teds_award_first_and_the_others_follow_it() -> None:
    not_yet = plan_contract_details(PUBLISHED, 1, "lot-1", "ted", carriers, all_signed=False)
    assert not_yet.create == []  # Crystal carries no award yet: nothing to follow
    last = plan_contract_details(PUBLISHED, 1, "lot-2", "ted", carriers, all_signed=True)
    assert [(n.destination, n.kind, n.follows_primary) for n in last.create] == [
        ("ted", NoticeKind.AWARD, False),
        ("crystal", NoticeKind.AWARD, True),
    ]
    assert last.create[0].previous == 1  # after TED's contract notice


def test_where_the_primary_needs_no_signatures_only_teds_award_waits() -> None:
    existing = [*PUBLISHED, Existing(3, "crystal", NoticeKind.AWARD, 1, State.PUBLISHED)]
    plan = plan_award(PUBLISHED, 1, "crystal", carriers, all_signed=False)
    assert [(n.destination, n.kind) for n in plan.create] == [("crystal", NoticeKind.AWARD)]
    last = plan_contract_details(existing, 1, "whole", "crystal", carriers, all_signed=True)
    assert [(n.destination, n.kind) for n in last.create] == [
        ("ted", NoticeKind.AWARD),
        ("crystal", NoticeKind.CONTRACT_DETAILS),
    ]


def test_an_award_decided_with_every_contract_signed_goes_to_ted_at_once_and_only_once() -> None:
    plan = plan_award(PUBLISHED, 1, "ted", carriers, all_signed=True)
    assert [(n.destination, n.kind) for n in plan.create] == [
        ("ted", NoticeKind.AWARD),
        ("crystal", NoticeKind.AWARD),
    ]
    sent = [*PUBLISHED, Existing(3, "ted", NoticeKind.AWARD, 1, State.SUBMITTED)]
    again = plan_contract_details(sent, 1, "whole", "ted", carriers, all_signed=True)
    assert all(n.kind is not NoticeKind.AWARD for n in again.create)
