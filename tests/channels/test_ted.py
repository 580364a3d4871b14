"""TED adapter contract: golden eForms XML, the official XSD, the mandatory fields of a
subtype 16 contract notice, the eNotices2 answers' mapping to channel errors, polling, and
secrets kept out of everything shown."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.ted.channel import TedChannel, TedSettings, notice_identity
from channels.ted.identifiers import notice_id, procedure_id
from channels.ted.schemas import contract_notice_schema
from channels.ted.ubl import XPATH_NS
from syndicator.channel.base import (
    AuthError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    Rendered,
    RenderError,
    TransientError,
)
from syndicator.channel.http import Response, function_session
from syndicator.channel.registry import build_channel, channel_class
from syndicator.channel.xmlsafe import canonical, parse
from syndicator.config.settings import Config
from syndicator.domain.tender import Procedure, Tender
from tests.channels.contract import HttpChannelContract
from tests.conftest import contract, render_context, routed_examples

GOLDEN = Path(__file__).parent / "golden" / "ted"
API_KEY = "0f3c9a7be5d24c61a8f2b7c4d9e01a55"
BASE = "https://enotices2.test/esenders"
NOTICE_ID = "16962097-473a-475d-894b-f26f731d54d5"
BUSINESS_ID = f"{NOTICE_ID}-01"
Handler = Callable[[requests.PreparedRequest], Response]


def _channel(handler: Handler | None = None, **overrides: Any) -> TedChannel:
    values: dict[str, Any] = {
        "base_url": BASE,
        "api_key": API_KEY,
        "author_email": "emscu.tenders@example.police.uk",
        "connect_retries": 1,
        **overrides,
    }
    session = function_session(handler) if handler else None
    return TedChannel(TedSettings.model_validate(values), session=session)


def _json(status: int, document: Any, **headers: str) -> Response:
    body = json.dumps(document).encode()
    return Response(status, {"Content-Type": "application/json", **headers}, body)


def _notice(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": NOTICE_ID, "versionId": "01", "status": status, **extra}


def _found(*notices: dict[str, Any]) -> Response:
    return _json(200, {"totalSize": len(notices), "content": list(notices)})


def _rendered(config: Config, tender: Tender, revision: int = 1) -> Rendered:
    return _channel().render(contract(tender), render_context(config, tender, "ted", revision=revision))


def _xpath(body: bytes, path: str) -> list[Any]:
    found = parse(body).xpath(path, namespaces=XPATH_NS)
    assert isinstance(found, list)
    return found


def _valid(body: bytes) -> list[str]:
    return contract_notice_schema().errors(parse(body))


def _tricky(tender: Tender) -> Tender:
    """The tender with markup, quotes, CDATA ends, pound signs and non-ASCII text."""
    data = tender.model_dump(mode="json")
    data["title"] = 'Body-worn <b>cameras</b> & "docks" ]]> £5k — Zürich 東京'
    data["description"] = (
        "Supply of <script>alert('x')</script> &amp; docks.\n\n"
        "Second paragraph: café, naïve, ]]> and £1,000 <i>each</i>."
    )
    return Tender.model_validate(data)


def _with(tender: Tender, **changes: Any) -> Tender:
    """A re-validated copy of the tender with some fields changed."""
    return Tender.model_validate({**tender.model_dump(mode="json"), **changes})


# -- rendering -------------------------------------------------------------------------------


def test_every_routed_example_matches_its_golden_file(config: Config, examples: dict[str, Tender]) -> None:
    routed = routed_examples(config, examples, "ted")
    assert {name for name, _, _ in routed} == {"anpr-cameras", "it-managed-service"}
    regenerate = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
    for name, tender, destination in routed:
        rendered = _channel().render(contract(tender), render_context(config, tender, destination))
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
        body = _channel().render(contract(tender), render_context(config, tender, destination)).body
        assert _valid(body) == [], name


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
        with_docs = _with(tender, documents_url="https://emscu.example.police.uk/tenders/x")
        assert _valid(_rendered(config, with_docs).body) == []
    else:
        assert _valid(_rendered(config, tender).body) == []


def test_rendering_is_deterministic(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["it-managed-service"]
    context = render_context(config, tender, "ted")
    assert (
        _channel().render(contract(tender), context).body == _channel().render(contract(tender), context).body
    )


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
    found = _xpath(_rendered(config, tender).body, path)
    values = [str(v) if isinstance(v, str) else v.text for v in found]
    assert values[:1] == [expected], f"{bt} at {path}: {values}"


def test_no_nuts_code_is_given_for_great_britain(config: Config, examples: dict[str, Tender]) -> None:
    body = _rendered(config, examples["it-managed-service"]).body
    assert _xpath(body, "//cbc:CountrySubentityCode") == []  # BT-507/BT-5071 forbidden for GBR


def test_lots_are_numbered_valued_and_classified(config: Config, examples: dict[str, Tender]) -> None:
    body = _rendered(config, examples["it-managed-service"]).body
    lots = "/*/cac:ProcurementProjectLot"
    assert _xpath(body, f"{lots}/cbc:ID/text()") == ["LOT-0001", "LOT-0002"]
    amounts = _xpath(body, f"{lots}/cac:ProcurementProject/cac:RequestedTenderTotal/*/text()")
    assert amounts == ["500000.00", "700000.00"]
    natures = _xpath(body, f"{lots}/cac:ProcurementProject/cbc:ProcurementTypeCode/text()")
    assert natures == ["supplies", "services"]  # each lot's nature follows its main CPV code
    additional = "/*/cac:ProcurementProject/cac:AdditionalCommodityClassification/cbc:*/text()"
    assert _xpath(body, additional) == ["32323500", "72317000"]
    assert _xpath(
        body, "/*/cac:TenderingTerms/cac:LotDistribution/cbc:MaximumLotsSubmittedNumeric/text()"
    ) == ["2"]


def test_a_tender_without_lots_is_one_lot_covering_the_whole(
    config: Config, examples: dict[str, Tender]
) -> None:
    body = _rendered(config, examples["anpr-cameras"]).body
    assert _xpath(body, "/*/cac:ProcurementProjectLot/cbc:ID/text()") == ["LOT-0001"]
    scope = "/*/cac:ProcurementProjectLot/cac:ProcurementProject"
    assert _xpath(body, f"{scope}/cbc:Name/text()") == [
        "Supply, installation and maintenance of ANPR cameras"
    ]
    assert _xpath(
        body, f"{scope}/cac:AdditionalCommodityClassification/cbc:ItemClassificationCode/text()"
    ) == ["32323500"]
    assert _xpath(body, f"{scope}/cbc:SMESuitableIndicator/text()") == ["true"]


def test_vat_inclusive_values_are_stated_net(config: Config, examples: dict[str, Tender]) -> None:
    body = _rendered(config, examples["agency-staff"]).body  # £180,000 including VAT at 20%
    assert _xpath(body, "//cbc:EstimatedOverallContractAmount/text()")[0] == "150000.00"
    assert _xpath(body, "//cbc:EstimatedOverallContractAmount/@currencyID")[0] == "GBP"


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
    tender = _with(examples["agency-staff"], procedure=procedure)
    body = _rendered(config, tender).body
    assert _valid(body) == []
    assert _xpath(body, "/*/cac:TenderingProcess/cbc:ProcedureCode/text()") == [code]
    process = "/*/cac:ProcurementProjectLot/cac:TenderingProcess"
    assert _xpath(body, f"{process}/cac:{deadline}/cbc:EndDate/text()") == ["2027-01-11Z"]
    assert _xpath(body, f"{process}/cac:EconomicOperatorShortList/cbc:MinimumQuantity/text()") == minimum


def test_a_deadline_with_an_offset_is_stated_in_utc(config: Config, examples: dict[str, Tender]) -> None:
    tender = _with(examples["anpr-cameras"], submission_deadline="2027-01-15T12:00:00+01:00")
    body = _rendered(config, tender).body
    period = "//cac:TenderSubmissionDeadlinePeriod"
    assert _xpath(body, f"{period}/cbc:EndDate/text()") == ["2027-01-15Z"]
    assert _xpath(body, f"{period}/cbc:EndTime/text()") == ["11:00:00Z"]


def test_an_unknown_duration_is_declared_unknown(config: Config, examples: dict[str, Tender]) -> None:
    tender = _with(examples["anpr-cameras"], duration_months=None)
    body = _rendered(config, tender).body
    assert _xpath(body, "//cac:PlannedPeriod/cbc:DescriptionCode/text()") == ["UNKNOWN"]
    assert _valid(body) == []


def test_a_later_publication_date_becomes_the_preferred_date(
    config: Config, examples: dict[str, Tender]
) -> None:
    tender = examples["anpr-cameras"].model_copy(update={"publication_date": date(2026, 12, 10)})
    assert _xpath(_rendered(config, tender).body, "/*/cbc:RequestedPublicationDate/text()") == ["2026-12-10Z"]
    same_day = _rendered(config, examples["anpr-cameras"]).body  # publication on the dispatch day
    assert _xpath(same_day, "/*/cbc:RequestedPublicationDate") == []
    too_late = examples["anpr-cameras"].model_copy(update={"publication_date": date(2027, 3, 1)})
    with pytest.raises(RenderError, match="BT-738"):
        _rendered(config, too_late)


def test_the_revision_is_the_notice_version(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    assert _xpath(_rendered(config, tender, revision=2).body, "/*/cbc:VersionID/text()") == ["02"]
    with pytest.raises(RenderError, match="BT-757"):
        _rendered(config, tender, revision=100)


def test_fields_ted_cannot_carry_are_refused_not_cut(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    with pytest.raises(RenderError, match=r"description \(BT-24\) is 6001 characters"):
        _rendered(config, _with(tender, description="x" * 6001))
    with pytest.raises(RenderError, match="is a services code but the contract is supplies"):
        _rendered(config, _with(tender, cpv=["72000000-5"]))
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
    tender = _tricky(examples["anpr-cameras"])
    body = _rendered(config, tender).body
    assert _valid(body) == []
    assert b"<![CDATA[" not in body and b"<b>" not in body and b"<script>" not in body
    assert b"]]&gt;" in body  # the CDATA end is escaped, not written raw
    assert _xpath(body, "/*/cac:ProcurementProject/cbc:Name/text()") == [tender.title]
    assert _xpath(body, "/*/cac:ProcurementProject/cbc:Description/text()") == [tender.description]
    assert "£5k — Zürich 東京".encode() in body  # UTF-8, not character references


# -- submission ------------------------------------------------------------------------------


class FakeEnotices:
    """Scripted eNotices2 answers, recording every request."""

    def __init__(self, *answers: Response) -> None:
        self.answers = list(answers)
        self.requests: list[requests.PreparedRequest] = []

    def __call__(self, request: requests.PreparedRequest) -> Response:
        self.requests.append(request)
        return self.answers.pop(0)


def _parts(request: requests.PreparedRequest) -> dict[str, tuple[str, bytes]]:
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    assert isinstance(request.body, bytes)
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    assert isinstance(message, EmailMessage)
    parts = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = part.get_param("name", header="content-disposition")
        parts[str(name)] = (part.get_content_type(), payload)
    return parts


def test_submit_posts_the_notice_and_metadata_as_multipart(
    config: Config, examples: dict[str, Tender]
) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    fake = FakeEnotices(_json(201, {"success": True, "validationReportUrl": "https://r/1"}))
    receipt = _channel(fake).submit(rendered, "key")
    assert receipt == Receipt(
        remote_id=BUSINESS_ID,
        live=False,
        status="SUBMITTED",
        status_code=201,
        excerpt=json.dumps({"success": True, "validationReportUrl": "https://r/1"}),
    )
    (request,) = fake.requests
    assert request.method == "POST"
    assert request.url == f"{BASE}/api/v2/notice/notices/submit"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    parts = _parts(request)
    assert parts["notice"] == ("application/xml", rendered.body)
    kind, metadata = parts["metadata"]
    assert kind == "application/json"
    assert json.loads(metadata) == {
        "noticeAuthorEmail": "emscu.tenders@example.police.uk",
        "noticeAuthorLocale": "en",
    }


def test_a_failed_validation_is_rejected_with_the_report(config: Config, examples: dict[str, Tender]) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    fake = FakeEnotices(_json(201, {"success": False, "validationReportUrl": "https://r/report-7"}))
    with pytest.raises(RejectedError) as caught:
        _channel(fake).submit(rendered, "key")
    assert caught.value.reasons == ["VALIDATION_FAILED: validation report https://r/report-7"]
    assert caught.value.status_code == 201


@pytest.mark.parametrize(
    ("status", "status_name", "live"),
    [
        ("SUBMITTED", "SUBMITTED", False),
        ("PUBLISHING", "PUBLISHING", False),
        ("PUBLISHED", "PUBLISHED", True),
    ],
)
def test_an_existing_business_id_is_looked_up_not_resent(
    config: Config, examples: dict[str, Tender], status: str, status_name: str, live: bool
) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    exists = _json(400, {"message": "Notice with the same noticeId and versionId already exists"})
    notice = _notice(status, publicationId="8164123-2026", publicationDate="2026-12-03T09:00:00Z")
    fake = FakeEnotices(exists, _found(notice))
    receipt = _channel(fake).submit(rendered, "key")
    assert (receipt.remote_id, receipt.live, receipt.status) == (BUSINESS_ID, live, status_name)
    search = fake.requests[1]
    assert search.method == "GET"
    assert (
        search.url is not None
        and urlsplit(search.url).path == "/esenders/api/v2/notice/notices/search-esentool"
    )
    assert parse_qs(urlsplit(search.url).query) == {"id": [NOTICE_ID], "versionId": ["01"]}
    assert search.headers["Authorization"] == f"Bearer {API_KEY}"


def test_an_existing_business_id_that_failed_is_rejected(config: Config, examples: dict[str, Tender]) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    exists = _json(400, {"message": "Notice with the same noticeId and versionId already exists"})
    with pytest.raises(RejectedError, match="VALIDATION_FAILED; send a new version"):
        _channel(FakeEnotices(exists, _found(_notice("VALIDATION_FAILED")))).submit(rendered, "key")
    with pytest.raises(OutcomeUnknown, match="does not list"):
        _channel(FakeEnotices(exists, _found())).submit(rendered, "key")


@pytest.mark.parametrize(
    ("answer", "error", "match"),
    [
        (
            _json(400, {"message": "The metadata part is missing"}),
            RejectedError,
            "metadata part is missing",
        ),
        (_json(401, {"message": "Unauthorized"}), AuthError, "HTTP 401"),
        (_json(403, {"message": "No Enotices2 account found"}), AuthError, "HTTP 403"),
        (
            _json(404, {"message": "No compatible SDK version found"}),
            RejectedError,
            "No compatible SDK",
        ),
        (_json(409, {"message": "Concurrent update"}), TransientError, "HTTP 409"),
        (_json(429, {"message": "slow down"}, **{"Retry-After": "7"}), RateLimited, "HTTP 429"),
        (_json(500, {"message": "CVS unavailable"}), TransientError, "HTTP 500"),
        (_json(503, {"message": "maintenance"}), TransientError, "HTTP 503"),
        (
            Response(201, {"Content-Type": "text/html"}, b"<html>ok</html>"),
            OutcomeUnknown,
            "without a submission",
        ),
    ],
)
def test_submit_maps_each_answer_to_a_channel_error(
    config: Config,
    examples: dict[str, Tender],
    answer: Response,
    error: type[Exception],
    match: str,
) -> None:
    rendered = _rendered(config, examples["anpr-cameras"])
    with pytest.raises(error, match=match) as caught:
        _channel(FakeEnotices(answer)).submit(rendered, "key")
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 7
    if type(caught.value) is TransientError:
        assert not isinstance(caught.value, RejectedError)


def test_submit_reads_the_identity_from_the_notice() -> None:
    with pytest.raises(RenderError, match="not a TED notice"):
        _channel(FakeEnotices()).submit(Rendered(b"<x/>", "application/xml"), "key")
    with pytest.raises(RenderError, match="not a TED notice"):
        notice_identity(b"not xml")


# -- polling ---------------------------------------------------------------------------------


def test_poll_of_a_published_notice_gives_its_public_url_and_date() -> None:
    published = _notice("PUBLISHED", publicationId="8164123-2026", publicationDate="2026-12-03T09:00:00Z")
    fake = FakeEnotices(_found(_notice("SUBMITTED", versionId="02"), published))
    receipt = _channel(fake).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert receipt.live is True
    assert receipt.remote_id == BUSINESS_ID
    assert receipt.status == "PUBLISHED"
    assert receipt.url == "https://ted.europa.eu/en/notice/-/detail/8164123-2026"
    assert receipt.published_at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert fake.requests[0].url is not None
    assert parse_qs(urlsplit(fake.requests[0].url).query) == {
        "id": [NOTICE_ID],
        "versionId": ["01"],
    }


def test_poll_uses_the_configured_public_url_template() -> None:
    published = _notice("PUBLISHED", publicationId="123456-2026", publicationDate="2026-12-03")
    channel = _channel(
        FakeEnotices(_found(published)), public_notice_url="{base_url}/notice/{publication_id}"
    )
    receipt = channel.poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert receipt.url == f"{BASE}/notice/123456-2026"
    assert receipt.published_at == datetime(2026, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize("status", ["SUBMITTED", "PUBLISHING"])
def test_poll_of_a_waiting_notice_is_not_live(status: str) -> None:
    receipt = _channel(FakeEnotices(_found(_notice(status)))).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert (receipt.live, receipt.status, receipt.url) == (False, status, None)


@pytest.mark.parametrize("status", ["NOT_PUBLISHED", "STOPPED", "VALIDATION_FAILED"])
def test_poll_of_a_refused_notice_is_rejected(status: str) -> None:
    with pytest.raises(RejectedError, match=status) as caught:
        _channel(FakeEnotices(_found(_notice(status)))).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert caught.value.reasons == [f"TED status {status}"]


@pytest.mark.parametrize("answer", [_found(), _found(_notice("DELETED")), _json(200, ["not", "a", "page"])])
def test_poll_of_a_missing_or_unknown_notice_is_outcome_unknown(answer: Response) -> None:
    with pytest.raises(OutcomeUnknown):
        _channel(FakeEnotices(answer)).poll(Receipt(remote_id=BUSINESS_ID, live=False))


def test_poll_errors_map_like_submit() -> None:
    with pytest.raises(AuthError):
        _channel(FakeEnotices(_json(401, {}))).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    with pytest.raises(TransientError):
        _channel(FakeEnotices(_json(502, {}))).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    with pytest.raises(OutcomeUnknown, match="not a TED businessId"):
        _channel(FakeEnotices()).poll(Receipt(remote_id=None, live=False))


# -- configuration and secrets -----------------------------------------------------------------


def test_the_sandbox_profile_builds_a_ted_channel(config: Config) -> None:
    assert channel_class("ted") is TedChannel
    assert TedChannel.capabilities.deduplicates and TedChannel.capabilities.polls
    channel = build_channel(config, "ted", environ={})
    assert isinstance(channel, TedChannel)
    assert channel.settings.author_language == "en"


def test_the_public_url_template_is_checked() -> None:
    with pytest.raises(ValueError, match="publication_id"):
        _channel(public_notice_url="https://ted.europa.eu/en/notice/")
    with pytest.raises(ValueError, match="only"):
        _channel(public_notice_url="https://x/{notice}")


def test_the_api_key_never_appears_in_notices_errors_or_descriptions(
    config: Config, examples: dict[str, Tender]
) -> None:
    channel = _channel()
    for tender in examples.values():
        try:
            rendered = channel.render(contract(tender), render_context(config, tender, "ted"))
        except RenderError as exc:
            assert API_KEY not in str(exc)
            continue
        assert API_KEY.encode() not in rendered.body
    assert API_KEY not in json.dumps(channel.describe())
    rendered = _rendered(config, examples["anpr-cameras"])
    echo = _json(401, {"message": f"bad header Authorization: Bearer {API_KEY}"})
    with pytest.raises(AuthError) as caught:
        _channel(FakeEnotices(echo)).submit(rendered, "key")
    shown = f"{caught.value} {caught.value.excerpt}"
    assert API_KEY not in shown and "********" in shown
    echo_400 = _json(400, {"message": f"key {API_KEY} is not allowed here"})
    with pytest.raises(RejectedError) as rejected:
        _channel(FakeEnotices(echo_400)).submit(rendered, "key")
    assert API_KEY not in f"{rejected.value} {rejected.value.reasons} {rejected.value.excerpt}"


class TestTedContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "ted"
