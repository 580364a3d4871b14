"""TED contract notices (subtype 16): golden eForms XML, the official XSD, the mandatory
fields, the procedures, and what TED cannot carry. Submission and polling are in
test_ted_api.py, change notices in test_ted_change.py, withdrawals in test_ted_withdrawal.py."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from channels.ted.identifiers import notice_id, procedure_id
from channels.ted.schemas import contract_notice_schema
from syndicator.channel.base import Rendered, RenderError
from syndicator.channel.xmlsafe import canonical
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Procedure, Tender
from syndicator.notices.context import Job
from tests.channels.awards import award_of
from tests.channels.contract import HttpChannelContract
from tests.channels.enotices import ted_channel, tricky, valid, variant, xpath
from tests.channels.eras import ROUTED_TO_TED, ojeu_examples
from tests.channels.ted_scenarios import award_job
from tests.conftest import contract, render_context, routed_examples


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples as procurements commenced under the EU directives: TED carries no
    others (tests/channels/eras.py)."""
    return ojeu_examples(config)


GOLDEN = Path(__file__).parent / "golden" / "ted"


def _rendered(config: Config, tender: Tender, revision: int = 1) -> Rendered:
    return ted_channel().render(contract(tender), render_context(config, tender, "ted", revision=revision))


# -- rendering -------------------------------------------------------------------------------


def test_every_routed_example_matches_its_golden_file(config: Config, examples: dict[str, Tender]) -> None:
    routed = routed_examples(config, examples, "ted")
    assert {name for name, _, _ in routed} == ROUTED_TO_TED
    regenerate = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
    for name, tender, destination in routed:
        rendered = ted_channel().render(contract(tender), render_context(config, tender, destination))
        assert rendered.media_type == "application/xml"
        golden = GOLDEN / f"{name}.xml"
        if regenerate:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(rendered.body)
        assert golden.is_file(), f"{golden} is missing; regenerate with SYNDICATOR_REGENERATE_GOLDEN=1"
        assert canonical(rendered.body) == canonical(golden.read_bytes()), f"{name} differs from {golden}"


def test_every_routed_example_is_valid_against_the_eforms_xsd(
    config: Config, examples: dict[str, Tender]
) -> None:
    for name, tender, destination in routed_examples(config, examples, "ted"):
        body = ted_channel().render(contract(tender), render_context(config, tender, destination)).body
        assert valid(body) == [], name


@pytest.mark.parametrize(
    "name",
    [
        "agency-staff",
        "anpr-cameras",
        "below-threshold",
        "construction-works",
        "framework-call-off",
        "it-managed-service",
        "it-software",
    ],
)
def test_every_shipped_example_renders_valid_or_is_refused_for_a_stated_reason(
    config: Config, examples: dict[str, Tender], name: str
) -> None:
    tender = examples[name]
    if tender.procedure is Procedure.FRAMEWORK_CALL_OFF:
        with pytest.raises(RenderError, match="never advertised on TED"):
            _rendered(config, tender)
    elif tender.documents_url is None:  # below-threshold, it-software: TED needs BT-15 and BT-18
        with pytest.raises(RenderError, match=r"BT-15.*no documents_url"):
            _rendered(config, tender)
        with_docs = variant(tender, documents_url="https://emscu.example.police.uk/tenders/x")
        assert valid(_rendered(config, with_docs).body) == []
    else:
        assert valid(_rendered(config, tender).body) == []


REQUIREMENT = "cac:TendererQualificationRequest/cac:SpecificTendererRequirement"
EXECUTION = "cac:ContractExecutionRequirement/cbc:ExecutionRequirementCode"
SYSTEM = "cac:ContractingSystem/cbc:ContractingSystemTypeCode"
DOCUMENTS = "cac:CallForTendersDocumentReference"
DOCS_URL = "https://emscu.example.police.uk/tenders/EMSCU-2026-0311"
REVIEW_TEXT = (
    "Proceedings must be started within 30 days of the date on which the supplier first knew, "
    "or ought to have known, of the grounds for starting them."
)


def _mandatory(config: Config, tender: Tender) -> list[tuple[str, str, str]]:
    """(BT, XPath, expected value) for every field FACTS section 3 shows for subtype 16."""
    context = render_context(config, tender, "ted")
    ext = "/*/ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"
    buyer = f"{ext}/efac:Organizations/efac:Organization[1]/efac:Company"
    review = f"{ext}/efac:Organizations/efac:Organization[2]/efac:Company"
    party = "/*/cac:ContractingParty"
    scope = "/*/cac:ProcurementProject"
    place = f"{scope}/cac:RealizedLocation/cac:Address"
    lot = "/*/cac:ProcurementProjectLot[1]"
    terms = f"{lot}/cac:TenderingTerms"
    process = f"{lot}/cac:TenderingProcess"
    deadline = f"{process}/cac:TenderSubmissionDeadlinePeriod"
    lot_scope = f"{lot}/cac:ProcurementProject"
    return [
        ("OPP-070", f"{ext}/efac:NoticeSubType/cbc:SubTypeCode", "16"),
        ("OPT-200", f"{buyer}/cac:PartyIdentification/cbc:ID", "ORG-0001"),
        ("BT-500", f"{buyer}/cac:PartyName/cbc:Name", "East Midlands Strategic Commercial Unit"),
        ("BT-513", f"{buyer}/cac:PostalAddress/cbc:CityName", "Nottingham"),
        ("BT-512", f"{buyer}/cac:PostalAddress/cbc:PostalZone", "NG5 8PP"),
        ("BT-514", f"{buyer}/cac:PostalAddress/cac:Country/cbc:IdentificationCode", "GBR"),
        ("BT-501", f"{buyer}/cac:PartyLegalEntity/cbc:CompanyID", "GB-EMSCU"),
        ("BT-503", f"{buyer}/cac:Contact/cbc:Telephone", "+44 115 967 0999"),
        ("BT-506", f"{buyer}/cac:Contact/cbc:ElectronicMail", "emscu.digital@example.police.uk"),
        (
            "BT-500 review",
            f"{review}/cac:PartyName/cbc:Name",
            "High Court of Justice of England and Wales",
        ),
        ("OPT-001", "/*/cbc:UBLVersionID", "2.3"),
        ("OPT-002", "/*/cbc:CustomizationID", "eforms-sdk-1.15"),
        ("BT-701", "/*/cbc:ID[@schemeName='notice-id']", notice_id(context.key)),
        ("BT-04", "/*/cbc:ContractFolderID", procedure_id("emscu", "EMSCU-2026-0311")),
        ("BT-05(a)", "/*/cbc:IssueDate", "2026-12-01Z"),
        ("BT-05(b)", "/*/cbc:IssueTime", "09:00:00Z"),
        ("BT-757", "/*/cbc:VersionID", "01"),
        ("BT-01", "/*/cbc:RegulatoryDomain", "32014L0024"),
        ("BT-02", "/*/cbc:NoticeTypeCode", "cn-standard"),
        ("BT-03", "/*/cbc:NoticeTypeCode/@listName", "competition"),
        ("BT-702(a)", "/*/cbc:NoticeLanguageCode", "ENG"),
        ("BT-11", f"{party}/cac:ContractingPartyType/cbc:PartyTypeCode", "body-pl"),
        ("BT-10", f"{party}/cac:ContractingActivity/cbc:ActivityTypeCode", "pub-os"),
        ("OPT-300", f"{party}/cac:Party/cac:PartyIdentification/cbc:ID", "ORG-0001"),
        ("BT-806", f"/*/cac:TenderingTerms/{REQUIREMENT}/cbc:*", "epo-procurement-document"),
        ("BT-105", "/*/cac:TenderingProcess/cbc:ProcedureCode", "open"),
        (
            "BT-106",
            "/*/cac:TenderingProcess/cac:ProcessJustification/cbc:ProcessReasonCode",
            "false",
        ),
        ("BT-22", f"{scope}/cbc:ID[@schemeName='InternalID']", "EMSCU-2026-0311"),
        ("BT-21", f"{scope}/cbc:Name", "Body-worn video managed service"),
        ("BT-24", f"{scope}/cbc:Description", tender.description),
        ("BT-23", f"{scope}/cbc:ProcurementTypeCode", "services"),
        ("BT-27", f"{scope}/cac:RequestedTenderTotal/cbc:*", "1200000.00"),
        ("BT-262", f"{scope}/cac:MainCommodityClassification/cbc:*", "72500000"),
        ("BT-5131", f"{place}/cbc:CityName", "Nottingham"),
        ("BT-5141", f"{place}/cac:Country/cbc:IdentificationCode", "GBR"),
        ("BT-137", f"{lot}/cbc:ID[@schemeName='Lot']", "LOT-0001"),
        ("BT-60", f"{terms}/cbc:FundingProgramCode[@listName='eu-funded']", "no-eu-funds"),
        ("BT-14", f"{terms}/{DOCUMENTS}/cbc:DocumentType", "non-restricted-document"),
        ("BT-15", f"{terms}/{DOCUMENTS}/cac:Attachment/cac:ExternalReference/cbc:URI", DOCS_URL),
        ("BT-71", f"{terms}/{REQUIREMENT}/cbc:*[@listName='reserved-procurement']", "none"),
        (
            "BT-821",
            f"{terms}/{REQUIREMENT}/cbc:*[@listName='selection-criteria-source']",
            "epo-procurement-document",
        ),
        ("BT-736", f"{terms}/{EXECUTION}[@listName='reserved-execution']", "no"),
        ("BT-743", f"{terms}/{EXECUTION}[@listName='einvoicing']", "allowed"),
        ("BT-764", f"{terms}/{EXECUTION}[@listName='ecatalog-submission']", "not-allowed"),
        ("BT-18", f"{terms}/cac:TenderRecipientParty/cbc:EndpointID", DOCS_URL),
        ("BT-98", f"{terms}/cac:TenderValidityPeriod/cbc:DurationMeasure[@unitCode='MONTH']", "3"),
        ("BT-99", f"{terms}/cac:AppealTerms/cac:PresentationPeriod/cbc:Description", REVIEW_TEXT),
        (
            "OPT-301 review",
            f"{terms}/cac:AppealTerms/cac:AppealReceiverParty/cac:PartyIdentification/cbc:ID",
            "ORG-0002",
        ),
        ("BT-97", f"{terms}/cac:Language/cbc:ID", "ENG"),
        ("BT-92", f"{terms}/cac:PostAwardProcess/cbc:ElectronicOrderUsageIndicator", "false"),
        ("BT-93", f"{terms}/cac:PostAwardProcess/cbc:ElectronicPaymentUsageIndicator", "true"),
        ("BT-17", f"{process}/cbc:SubmissionMethodCode[@listName='esubmission']", "required"),
        ("BT-115", f"{process}/cbc:GovernmentAgreementConstraintIndicator", "true"),
        ("BT-131(d)", f"{deadline}/cbc:EndDate", "2027-01-20Z"),
        ("BT-131(t)", f"{deadline}/cbc:EndTime", "12:00:00Z"),
        ("BT-767", f"{process}/cac:AuctionTerms/cbc:AuctionConstraintIndicator", "false"),
        ("BT-765", f"{process}/{SYSTEM}[@listName='framework-agreement']", "none"),
        ("BT-766", f"{process}/{SYSTEM}[@listName='dps-usage']", "none"),
        ("BT-21-Lot", f"{lot_scope}/cbc:Name", "Body-worn video devices and docking"),
        (
            "BT-24-Lot",
            f"{lot_scope}/cbc:Description",
            "Supply and replacement of body-worn cameras and docking stations.",
        ),
        ("BT-23-Lot", f"{lot_scope}/cbc:ProcurementTypeCode", "supplies"),
        ("BT-726-Lot", f"{lot_scope}/cbc:SMESuitableIndicator", "false"),
        ("BT-27-Lot", f"{lot_scope}/cac:RequestedTenderTotal/cbc:*", "500000.00"),
        ("BT-262-Lot", f"{lot_scope}/cac:MainCommodityClassification/cbc:*", "32323500"),
        ("BT-5131-Lot", f"{lot_scope}/cac:RealizedLocation/cac:Address/cbc:CityName", "Nottingham"),
        ("BT-36", f"{lot_scope}/cac:PlannedPeriod/cbc:DurationMeasure[@unitCode='MONTH']", "48"),
    ]


@pytest.mark.parametrize("position", range(66))
def test_open_services_notice_carries_each_mandatory_field(
    config: Config, examples: dict[str, Tender], position: int
) -> None:
    tender = examples["it-managed-service"]
    fields = _mandatory(config, tender)
    assert len(fields) == 66
    bt, path, expected = fields[position]
    found = xpath(_rendered(config, tender).body, path)
    values = [str(v) if isinstance(v, str) else v.text for v in found]
    assert values[:1] == [expected], f"{bt} at {path}: {values}"


def test_no_nuts_code_is_given_for_great_britain(config: Config, examples: dict[str, Tender]) -> None:
    body = _rendered(config, examples["it-managed-service"]).body
    assert xpath(body, "//cbc:CountrySubentityCode") == []  # BT-507/BT-5071 forbidden for GBR


def test_lots_are_numbered_valued_and_classified(config: Config, examples: dict[str, Tender]) -> None:
    body = _rendered(config, examples["it-managed-service"]).body
    lots = "/*/cac:ProcurementProjectLot"
    assert xpath(body, f"{lots}/cbc:ID/text()") == ["LOT-0001", "LOT-0002"]
    amounts = xpath(body, f"{lots}/cac:ProcurementProject/cac:RequestedTenderTotal/*/text()")
    assert amounts == ["500000.00", "700000.00"]
    natures = xpath(body, f"{lots}/cac:ProcurementProject/cbc:ProcurementTypeCode/text()")
    assert natures == ["supplies", "services"]  # each lot's nature follows its main CPV code
    additional = "/*/cac:ProcurementProject/cac:AdditionalCommodityClassification/cbc:*/text()"
    assert xpath(body, additional) == ["32323500", "72317000"]
    assert xpath(
        body, "/*/cac:TenderingTerms/cac:LotDistribution/cbc:MaximumLotsSubmittedNumeric/text()"
    ) == ["2"]


def test_a_tender_without_lots_is_one_lot_covering_the_whole(
    config: Config, examples: dict[str, Tender]
) -> None:
    body = _rendered(config, examples["anpr-cameras"]).body
    assert xpath(body, "/*/cac:ProcurementProjectLot/cbc:ID/text()") == ["LOT-0001"]
    scope = "/*/cac:ProcurementProjectLot/cac:ProcurementProject"
    assert xpath(body, f"{scope}/cbc:Name/text()") == ["Supply, installation and maintenance of ANPR cameras"]
    assert xpath(
        body, f"{scope}/cac:AdditionalCommodityClassification/cbc:ItemClassificationCode/text()"
    ) == ["32323500"]
    assert xpath(body, f"{scope}/cbc:SMESuitableIndicator/text()") == ["true"]


def test_vat_inclusive_values_are_stated_net(config: Config, examples: dict[str, Tender]) -> None:
    body = _rendered(config, examples["agency-staff"]).body  # £180,000 including VAT at 20%
    assert xpath(body, "//cbc:EstimatedOverallContractAmount/text()")[0] == "150000.00"
    assert xpath(body, "//cbc:EstimatedOverallContractAmount/@currencyID")[0] == "GBP"


@pytest.mark.parametrize(
    ("procedure", "code", "deadline", "minimum"),
    [
        ("open", "open", "TenderSubmissionDeadlinePeriod", []),
        ("restricted", "restricted", "ParticipationRequestReceptionPeriod", ["5"]),
        ("competitive-dialogue", "comp-dial", "ParticipationRequestReceptionPeriod", ["3"]),
        ("competitive-negotiated", "neg-w-call", "ParticipationRequestReceptionPeriod", ["3"]),
    ],
)
def test_procedures_map_to_ted_codes_and_deadlines(
    config: Config,
    examples: dict[str, Tender],
    procedure: str,
    code: str,
    deadline: str,
    minimum: list[str],
) -> None:
    tender = variant(examples["agency-staff"], procedure=procedure)
    body = _rendered(config, tender).body
    assert valid(body) == []
    assert xpath(body, "/*/cac:TenderingProcess/cbc:ProcedureCode/text()") == [code]
    process = "/*/cac:ProcurementProjectLot/cac:TenderingProcess"
    assert xpath(body, f"{process}/cac:{deadline}/cbc:EndDate/text()") == ["2027-01-11Z"]
    assert xpath(body, f"{process}/cac:EconomicOperatorShortList/cbc:MinimumQuantity/text()") == minimum


def test_a_deadline_with_an_offset_is_stated_in_utc(config: Config, examples: dict[str, Tender]) -> None:
    tender = variant(examples["anpr-cameras"], submission_deadline="2027-01-15T12:00:00+01:00")
    body = _rendered(config, tender).body
    period = "//cac:TenderSubmissionDeadlinePeriod"
    assert xpath(body, f"{period}/cbc:EndDate/text()") == ["2027-01-15Z"]
    assert xpath(body, f"{period}/cbc:EndTime/text()") == ["11:00:00Z"]


def test_an_unknown_duration_is_declared_unknown(config: Config, examples: dict[str, Tender]) -> None:
    tender = variant(examples["anpr-cameras"], duration_months=None)
    body = _rendered(config, tender).body
    assert xpath(body, "//cac:PlannedPeriod/cbc:DescriptionCode/text()") == ["UNKNOWN"]
    assert valid(body) == []


def test_a_later_publication_date_becomes_the_preferred_date(
    config: Config, examples: dict[str, Tender]
) -> None:
    tender = examples["anpr-cameras"].model_copy(update={"publication_date": date(2026, 12, 10)})
    assert xpath(_rendered(config, tender).body, "/*/cbc:RequestedPublicationDate/text()") == ["2026-12-10Z"]
    same_day = _rendered(config, examples["anpr-cameras"]).body  # publication on the dispatch day
    assert xpath(same_day, "/*/cbc:RequestedPublicationDate") == []
    too_late = examples["anpr-cameras"].model_copy(update={"publication_date": date(2027, 3, 1)})
    with pytest.raises(RenderError, match="BT-738"):
        _rendered(config, too_late)


def test_the_revision_is_the_notice_version(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    assert xpath(_rendered(config, tender, revision=2).body, "/*/cbc:VersionID/text()") == ["02"]
    with pytest.raises(RenderError, match="BT-757"):
        _rendered(config, tender, revision=100)


def test_fields_ted_cannot_carry_are_refused_not_cut(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    with pytest.raises(RenderError, match=r"description \(BT-24\) is 6001 characters"):
        _rendered(config, variant(tender, description="x" * 6001))
    with pytest.raises(RenderError, match="is a services code but the contract is supplies"):
        _rendered(config, variant(tender, cpv=["72000000-5"]))
    with pytest.raises(RenderError, match="XML cannot carry"):
        _rendered(config, tender.model_copy(update={"title": "bad \ufffe"}))


def test_an_xsd_violation_is_a_render_error(
    config: Config, examples: dict[str, Tender], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(tender: Tender, context: Any) -> bytes:
        return b"<ContractNotice xmlns='urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2'><Bogus/></ContractNotice>"  # noqa: E501

    monkeypatch.setattr("channels.ted.channel.build_notice", broken)
    with pytest.raises(RenderError, match=r"breaks the eForms 1.15 XSD \(1 errors\): line 1: .*Bogus"):
        _rendered(config, examples["anpr-cameras"])


def test_the_schema_is_loaded_once_per_process() -> None:
    assert contract_notice_schema() is contract_notice_schema()


def test_markup_quotes_pounds_and_unicode_round_trip(config: Config, examples: dict[str, Tender]) -> None:
    tender = tricky(examples["anpr-cameras"])
    body = _rendered(config, tender).body
    assert valid(body) == []
    assert b"<![CDATA[" not in body and b"<b>" not in body and b"<script>" not in body
    assert b"]]&gt;" in body  # the CDATA end is escaped, not written raw
    assert xpath(body, "/*/cac:ProcurementProject/cbc:Name/text()") == [tender.title]
    assert xpath(body, "/*/cac:ProcurementProject/cbc:Description/text()") == [tender.description]
    assert "£5k — Zürich 東京".encode() in body  # UTF-8, not character references


class TestTedContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "ted"

    def job(self, config: Config, tender: Tender, destination: str, **options: Any) -> Job:
        """An award as TED carries it under the directives: its contracts signed, the notice
        dispatched after the signing (channels/ted/results.py, Directive 2014/24/EU Art. 50)."""
        if options.get("kind") is NoticeKind.AWARD and options.get("award") is not None:
            return award_job(config, tender, award_of(tender, signed=True))
        return super().job(config, tender, destination, **options)
