"""TED award notices (subtype 29) from the award record: golden eForms XML for every routed
example, the official XSD, each lot's result (winner, or why none), and what is refused rather
than misstated (an unsigned contract, counts the record does not give, a date to come).
TED's business rules are applied in test_ted_rules.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from channels.ted.results import NON_AWARD_CODES, LotOutcome, outcomes
from channels.ted.schemas import errors
from syndicator.channel.base import RenderError
from syndicator.channel.xmlsafe import parse
from syndicator.config.settings import Config
from syndicator.domain.award import Award, NonAwardReason
from syndicator.domain.tender import Tender
from tests.channels.awards import award_of
from tests.channels.enotices import ted_channel
from tests.channels.eras import ojeu_examples
from tests.channels.ted_scenarios import award_job, matches_golden, not_awarded
from tests.conftest import routed_examples

NS = {
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
RESULT = ".//efac:NoticeResult/efac:LotResult"


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples commenced under the EU directives (tests/channels/eras.py)."""
    return ojeu_examples(config)


def _render(config: Config, tender: Tender, award: Award | None = None) -> bytes:
    job = award_job(config, tender, award)
    return ted_channel().render(job.notice, job.context).body


def test_every_routed_example_has_a_golden_award_notice_valid_against_the_xsd(
    config: Config, examples: dict[str, Tender]
) -> None:
    routed = routed_examples(config, examples, "ted")
    assert routed
    for name, tender, _ in routed:
        job = award_job(config, tender)
        rendered = ted_channel().render(job.notice, job.context)
        assert errors(rendered.body) == []
        matches_golden(f"{name}-award", rendered)


def test_each_lot_has_a_result_with_its_winner(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["it-managed-service"]
    root = parse(_render(config, tender))
    results = root.findall(RESULT, NS)
    assert len(results) == len(tender.lots) == 2
    assert [r.findtext("cbc:TenderResultCode", namespaces=NS) for r in results] == ["selec-w"] * 2
    assert [r.findtext("efac:LotTender/cbc:ID", namespaces=NS) for r in results] == ["TEN-0001", "TEN-0002"]
    stats = {
        s.findtext("efbc:StatisticsCode", namespaces=NS): s.findtext("efbc:StatisticsNumeric", namespaces=NS)
        for s in results[0].findall("efac:ReceivedSubmissionsStatistics", NS)
    }
    assert stats == {
        "tenders": "4",
        "t-sme": "1",
        "t-large": "3",
        "t-oth-eea": "1",
        "t-no-eea": "0",
        "t-esubm": "4",
    }
    # One supplier won both lots: one organisation, SME, referred to by both parties.
    body = _render(config, tender)
    assert body.count(b"Roadwatch Systems Ltd") == 1 and b">GB-COH-04567321<" in body
    assert b'<efbc:CompanySizeCode listName="economic-operator-size">sme<' in body
    assert body.count(b'<cbc:ID schemeName="organization">ORG-0003</cbc:ID>') == 3  # itself, two parties
    assert b"<cbc:IssueDate>2027-03-03Z</cbc:IssueDate>" in body  # BT-145: the day it was signed


def test_a_lot_not_awarded_is_closed_with_the_mapped_reason(
    config: Config, examples: dict[str, Tender]
) -> None:
    tender = examples["it-managed-service"]
    root = parse(_render(config, tender, not_awarded(award_of(tender, signed=True), "insufficient-funds")))
    first, second = root.findall(RESULT, NS)
    assert first.findtext("cbc:TenderResultCode", namespaces=NS) == "clos-nw"
    assert first.findtext("efac:DecisionReason/efbc:DecisionReasonCode", namespaces=NS) == "ins-fund"
    assert first.find("efac:LotTender", NS) is None
    assert second.findtext("cbc:TenderResultCode", namespaces=NS) == "selec-w"


def test_every_reason_maps_to_a_non_award_justification() -> None:
    assert set(NON_AWARD_CODES) == set(NonAwardReason)
    assert NON_AWARD_CODES[NonAwardReason.NO_TENDERS] == "no-rece"
    assert NON_AWARD_CODES[NonAwardReason.REQUIREMENT_CHANGED] == "chan-need"


def test_a_lot_the_record_does_not_decide_is_still_open(examples: dict[str, Tender]) -> None:
    award = award_of(examples["anpr-cameras"], signed=True)
    found = outcomes(award, ["LOT-0001"]) + outcomes(
        award.model_copy(update={"lots": award.lots}), ["LOT-0002"]
    )
    assert found[0].status == "selec-w"
    assert found[1] == LotOutcome("LOT-0002", "open-nw")


def test_an_unsigned_contract_is_refused_not_dated_by_the_decision(
    config: Config, examples: dict[str, Tender]
) -> None:
    tender = examples["anpr-cameras"]
    with pytest.raises(RenderError, match="no signing date"):
        _render(config, tender, award_of(tender))


def test_counts_the_record_does_not_give_are_refused(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    data = award_of(tender, signed=True).model_dump(mode="json")
    data["eea_tenders_received"] = None
    with pytest.raises(RenderError, match="BT-759"):
        _render(config, tender, Award.model_validate(data))


def test_an_award_dispatched_before_its_decision_is_refused(
    config: Config, examples: dict[str, Tender]
) -> None:
    tender = examples["anpr-cameras"]
    job = award_job(config, tender)
    early = replace(job.context, dispatched_at=job.context.dispatched_at.replace(year=2026))
    with pytest.raises(RenderError, match="before the award"):
        ted_channel().render(job.notice, early)
