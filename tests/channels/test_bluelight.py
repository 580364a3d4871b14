"""Bluelight adapter: golden documents of every notice kind, the project's XSD (and that it
refuses what it should), what an update, a cancellation, an award and a contract details notice
carry and where they are posted, the HTTP answers' mapping to channel errors. What every
channel keeps (determinism, secrets, profiles) is the contract mixin's."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from lxml import etree

from channels.bluelight import NOTICE_XSD, RECEIPT_NS, BluelightChannel, BluelightSettings
from channels.bluelight_notice import NOTICE_NS
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
from syndicator.channel.xmlsafe import canonical, load_schema, parse
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Tender
from tests.channels.awards import DECIDED, SUPPLIER, award_of, not_awarded
from tests.channels.contract import HttpChannelContract
from tests.channels.lifecycle import (
    AWARD_KINDS,
    KINDS,
    REASON,
    SUFFIX,
    WITHDRAWAL,
    award_job,
    cancellation_job,
    change_job,
    job,
)
from tests.conftest import DISPATCHED_AT, contract, render_context, routed_examples

GOLDEN = Path(__file__).parent / "golden" / "bluelight"
RECEIPT_XSD = NOTICE_XSD.parent / "ctm-receipt-1.xsd"
REGENERATE = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
PASSWORD = "bl-test-password-7c2d"
Examples = dict[str, Tender]
Handler = Callable[[requests.PreparedRequest], Response]
N = {"n": NOTICE_NS}


def _channel(handler: Handler | None = None) -> BluelightChannel:
    settings = BluelightSettings(
        base_url="https://bluelight.test/", username="emscu", password=PASSWORD, connect_retries=1
    )
    return BluelightChannel(settings, session=function_session(handler) if handler else None)


def _xml(status: int, body: bytes, **headers: str) -> Response:
    return Response(status, {"Content-Type": "application/xml", **headers}, body)


def _receipt(status: str, *extra: tuple[str, str], notice_id: str = "BL-2026-000123") -> bytes:
    root = etree.Element(f"{{{RECEIPT_NS}}}NoticeReceipt", nsmap={None: RECEIPT_NS})
    fields = [
        ("NoticeId", notice_id),
        ("ExternalReference", "key-1"),
        ("Status", status),
        ("ReceivedAt", "2026-12-01T09:00:01Z"),
        *extra,
    ]
    for name, text in fields:
        etree.SubElement(root, f"{{{RECEIPT_NS}}}{name}").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _errors(*messages: tuple[str | None, str]) -> bytes:
    root = etree.Element(f"{{{RECEIPT_NS}}}NoticeErrors", nsmap={None: RECEIPT_NS})
    for location, message in messages:
        error = etree.SubElement(root, f"{{{RECEIPT_NS}}}Error")
        etree.SubElement(error, f"{{{RECEIPT_NS}}}Code").text = "schema"
        if location:
            etree.SubElement(error, f"{{{RECEIPT_NS}}}Location").text = location
        etree.SubElement(error, f"{{{RECEIPT_NS}}}Message").text = message
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _withdrawn() -> bytes:
    return _receipt(
        "Withdrawn",
        ("PublishedAt", "2026-12-01T09:00:04Z"),
        ("WithdrawnAt", "2026-12-02T10:00:00Z"),
        ("Url", "https://bl.test/n/123"),
    )


def _conflict(notice_id: str | None = "BL-2026-000042") -> bytes:
    root = etree.Element(f"{{{RECEIPT_NS}}}NoticeConflict", nsmap={None: RECEIPT_NS})
    if notice_id:
        etree.SubElement(root, f"{{{RECEIPT_NS}}}NoticeId").text = notice_id
    etree.SubElement(root, f"{{{RECEIPT_NS}}}ExternalReference").text = "key-1"
    etree.SubElement(root, f"{{{RECEIPT_NS}}}Message").text = "exists"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _routed(config: Config, examples: Examples) -> list[tuple[str, Tender, str]]:
    found = routed_examples(config, examples, "bluelight")
    assert len(found) >= 5, "the shipped examples should exercise Bluelight"
    return found


def _tricky(tender: Tender) -> Tender:
    """The tender with markup, quotes, CDATA ends, pound signs and non-ASCII text."""
    data = tender.model_dump(mode="json")
    data["title"] = 'ANPR <b>cameras</b> & "docks" ]]> £5k — Zürich 東京 🚓'
    data["description"] = (
        "Supply of <script>alert('x')</script> &amp; <![CDATA[docks]]>.\n\n"
        "Second paragraph: café, naïve, ]]> and £1,000 <i>each</i>."
    )
    data["lots"] = [{"number": 1, "title": "Lot <1> & ]]> £", "description": "Ærø 'quoted'"}]
    return Tender.model_validate(data)


def _schema_errors(body: bytes) -> list[str]:
    schema = load_schema(NOTICE_XSD)
    schema.validate(parse(body).getroottree())
    return [error.message for error in schema.error_log]


# -- rendering -------------------------------------------------------------------------------


def test_every_notice_of_every_routed_example_matches_its_golden_file(
    config: Config, examples: Examples
) -> None:
    channel = _channel()
    names = set()
    for name, tender, destination in _routed(config, examples):
        for kind in KINDS + AWARD_KINDS:
            made = job(config, tender, destination, kind)
            body = channel.render(made.notice, made.context).body
            path = GOLDEN / f"{name}{SUFFIX[kind]}.xml"
            names.add(path.name)
            if REGENERATE:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
                continue
            assert path.is_file(), f"{path} is missing: run with SYNDICATOR_REGENERATE_GOLDEN=1"
            assert canonical(body) == canonical(path.read_bytes()), f"{name} differs from {path}"
    assert {p.name for p in GOLDEN.glob("*.xml")} == names, "stale golden files"


def test_every_notice_of_every_routed_example_is_valid_against_the_project_xsd(
    config: Config, examples: Examples
) -> None:
    channel = _channel()
    for name, tender, destination in _routed(config, examples):
        for kind in KINDS + AWARD_KINDS:
            made = job(config, tender, destination, kind)
            rendered = channel.render(made.notice, made.context)
            assert rendered.media_type == "application/xml"
            assert _schema_errors(rendered.body) == [], f"{name} {kind.value}"


def test_our_key_is_the_external_reference_and_a_resend_gets_a_new_one(
    config: Config, examples: Examples
) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, "bluelight")
    rendered = _channel().render(contract(tender), context)
    root = parse(rendered.body)
    assert root.findtext("n:ExternalReference", namespaces=N) == context.key == rendered.identity
    assert root.findtext("n:Version", namespaces=N) == "1"
    assert (rendered.operation, rendered.target) == (None, None)
    again = _channel().render(contract(tender), replace(context, revision=2))
    assert parse(again.body).findtext("n:ExternalReference", namespaces=N) == f"{context.key}-r2"
    assert again.identity == f"{context.key}-r2"


def test_fields_land_where_the_schema_says(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, "bluelight")
    root = parse(_channel().render(contract(tender), context).body)
    assert root.findtext("n:BuyerReference", namespaces=N) == "NOTTS-2026-0142"
    assert root.findtext("n:Buyer/n:LegalName", namespaces=N) == context.buyer.legal_name
    assert root.findtext("n:Procedure", namespaces=N) == "open"
    assert root.findtext("n:EstimatedValue/n:Amount", namespaces=N) == "380000.00"
    assert root.find("n:EstimatedValue/n:Amount", N).get("currencyID") == "GBP"
    assert [e.text for e in root.iterfind("n:CpvCodes/*", N)] == ["35125300-2", "32323500-8"]
    assert root.findtext("n:SubmissionDeadline", namespaces=N) == "2027-01-15T12:00:00Z"
    assert root.findtext("n:SmeSuitable", namespaces=N) == "true"
    assert context.follows is not None
    assert root.findtext("n:FollowsNotice/n:Destination", namespaces=N) == "find-a-tender"
    assert root.findtext("n:FollowsNotice/n:Title", namespaces=N) == "Find a Tender"
    assert root.findtext("n:FollowsNotice/n:NoticeId", namespaces=N) == context.follows.identity
    assert root.findtext("n:FollowsNotice/n:DispatchDate", namespaces=N) == "2026-12-01"


def test_a_vat_inclusive_value_is_also_stated_net(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]
    root = parse(_channel().render(contract(tender), render_context(config, tender, "bluelight")).body)
    value = root.find("n:EstimatedValue", N)
    assert value is not None
    assert value.findtext("n:Amount", namespaces=N) == "180000.00"
    assert value.findtext("n:VatIncluded", namespaces=N) == "true"
    assert value.findtext("n:NetAmount", namespaces=N) == "150000.00"
    # Below the threshold, a Procurement Act 2023 tender notice still goes to Find a Tender first.
    assert root.findtext("n:FollowsNotice/n:Destination", namespaces=N) == "find-a-tender"


def test_a_find_a_tender_notice_is_stated_as_well_as_a_ted_one(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    fts = NoticeRef(
        destination="find-a-tender",
        kind=NoticeKind.CONTRACT,
        version=1,
        state="published",
        key="k",
        publication_id="012345-2026",
        dispatched_at=DISPATCHED_AT,
        title="Find a Tender",
    )
    context = replace(render_context(config, tender, "bluelight"), follows=fts)
    body = _channel().render(contract(tender), context).body
    follows = parse(body).find("n:FollowsNotice", N)
    assert follows is not None
    assert [(e.tag.split("}")[1], e.text) for e in follows] == [
        ("Destination", "find-a-tender"),
        ("Title", "Find a Tender"),
        ("PublicationNumber", "012345-2026"),
        ("DispatchDate", "2026-12-01"),
    ]
    assert _schema_errors(body) == []
    with pytest.raises(RenderError, match="dispatch date"):
        _channel().render(contract(tender), replace(context, follows=replace(fts, dispatched_at=None)))


# -- update and cancellation -----------------------------------------------------------------


def test_an_update_carries_the_new_version_whole_and_what_changed(config: Config, examples: Examples) -> None:
    made = change_job(config, examples["anpr-cameras"], "bluelight")
    previous = made.context.previous
    assert previous is not None and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target, rendered.identity) == (
        "update",
        previous.remote_id,
        made.context.key,
    )
    root = parse(rendered.body)
    assert root.tag == f"{{{NOTICE_NS}}}TenderNoticeUpdate"
    assert root.findtext("n:NoticeId", namespaces=N) == previous.remote_id
    assert root.findtext("n:ExternalReference", namespaces=N) == made.context.key
    assert root.findtext("n:Version", namespaces=N) == "2"
    assert root.findtext("n:Amendment/n:Kind", namespaces=N) == "update"
    assert root.findtext("n:Amendment/n:Reason", namespaces=N) == REASON
    changes = [
        [child.text for child in change] for change in root.iterfind("n:Amendment/n:Changes/n:Change", N)
    ]
    assert changes == [
        ["submission_deadline", "Submission deadline", "2027-01-15T12:00:00Z", "2027-01-22T12:00:00Z"],
        ["duration_months", "Contract duration (months)", "60", "72"],
    ]
    assert root.findtext("n:SubmissionDeadline", namespaces=N) == "2027-01-22T12:00:00Z"
    corrected = change_job(config, examples["anpr-cameras"], "bluelight", correction=True)
    body = _channel().render(corrected.notice, corrected.context).body
    assert parse(body).findtext("n:Amendment/n:Kind", namespaces=N) == "correction"


def test_a_cancellation_names_the_notice_tender_version_and_reason(
    config: Config, examples: Examples
) -> None:
    made = cancellation_job(config, examples["it-software"], "bluelight")
    previous = made.context.previous
    assert previous is not None and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target) == ("cancel", previous.remote_id)
    root = parse(rendered.body)
    assert root.tag == f"{{{NOTICE_NS}}}TenderNoticeCancellation"
    assert [(e.tag.split("}")[1], e.text) for e in root] == [
        ("ExternalReference", made.context.key),
        ("NoticeId", previous.remote_id),
        ("Version", "2"),
        ("BuyerReference", "NORTHANTS-2026-0058"),
        ("Reason", WITHDRAWAL),
        ("WithdrawnAt", "2026-12-01T09:00:00Z"),
    ]


@pytest.mark.parametrize(
    "kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION, NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS]
)
def test_without_the_portals_notice_id_nothing_is_rendered(
    config: Config, examples: Examples, kind: NoticeKind
) -> None:
    made = job(config, examples["anpr-cameras"], "bluelight", kind)
    previous = made.context.previous
    assert previous is not None
    for history in ((), (replace(previous, remote_id=None),)):
        with pytest.raises(RenderError, match="NoticeId it gave"):
            _channel().render(made.notice, replace(made.context, history=history))


# -- award and contract details -----------------------------------------------------------


def _children(element: etree._Element | None) -> list[tuple[str, str | None]]:
    assert element is not None
    return [(etree.QName(e).localname, e.text) for e in element]


def test_an_award_states_every_lots_result_under_the_notice(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]  # two lots
    made = award_job(config, tender, "bluelight")
    previous = made.context.previous
    assert previous is not None and previous.kind is NoticeKind.CONTRACT and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target, rendered.identity) == (
        "award",
        previous.remote_id,
        made.context.key,
    )
    root = parse(rendered.body)
    assert root.tag == f"{{{NOTICE_NS}}}TenderNoticeAward"
    assert _children(root)[:6] == [
        ("ExternalReference", made.context.key),
        ("NoticeId", previous.remote_id),
        ("Version", "1"),
        ("BuyerReference", tender.reference),
        ("DecisionDate", DECIDED.isoformat()),
        ("StandstillEnds", made.notice.standstill_ends.isoformat()),  # type: ignore[union-attr]
    ]
    first = root.find("n:LotResults/n:LotResult", N)
    assert first is not None
    assert first.findtext("n:LotNumber", namespaces=N) == "1"
    assert first.findtext("n:LotTitle", namespaces=N) == tender.lots[0].title
    assert first.findtext("n:TendersReceived", namespaces=N) == "4"
    supplier = first.find("n:Awarded/n:Supplier", N)
    assert _children(supplier) == [
        ("Name", SUPPLIER["name"]),
        ("Identifier", "04567321"),
        ("Address", "Unit 4, Meridian Business Park"),
        ("Town", "Leicester"),
        ("Postcode", "LE19 1WX"),
        ("Country", "GB"),
        ("Sme", "true"),
    ]
    assert supplier is not None and supplier.find("n:Identifier", N).get("scheme") == "GB-COH"  # type: ignore[union-attr]
    awarded = first.find("n:Awarded", N)
    assert awarded is not None
    assert awarded.findtext("n:ContractStart", namespaces=N) == "2027-04-02"
    assert awarded.findtext("n:ContractEnd", namespaces=N) == "2031-04-01"
    assert awarded.find("n:SignedOn", N) is None  # not signed yet
    assert root.findtext("n:FollowsNotice/n:Destination", namespaces=N) == "find-a-tender"
    assert _schema_errors(rendered.body) == []


def test_a_lot_not_awarded_carries_its_reason_in_words(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]
    award = not_awarded(award_of(tender), 2, "all-rejected")
    made = award_job(config, tender, "bluelight", award=award)
    body = _channel().render(made.notice, made.context).body
    second = parse(body).findall("n:LotResults/n:LotResult", N)[1]
    assert second.findtext("n:LotNumber", namespaces=N) == "2"
    assert second.find("n:Awarded", N) is None
    assert _children(second.find("n:NotAwarded", N)) == [
        ("ReasonCode", "all-rejected"),
        ("Reason", "All tenders received were rejected."),
    ]
    assert _schema_errors(body) == []


def test_an_awarded_value_is_stated_net_too(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]  # £180,000 including VAT, undivided
    made = award_job(config, tender, "bluelight")
    result = parse(_channel().render(made.notice, made.context).body).find("n:LotResults/n:LotResult", N)
    assert result is not None and result.find("n:LotNumber", N) is None
    assert _children(result.find("n:Awarded/n:AwardedValue", N)) == [
        ("Amount", "171000.00"),
        ("VatIncluded", "true"),
        ("NetAmount", "142500.00"),
    ]


def test_contract_details_name_the_signed_contract_and_the_notice(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]
    made = award_job(config, tender, "bluelight", NoticeKind.CONTRACT_DETAILS)
    previous = made.context.previous
    assert previous is not None and previous.kind is NoticeKind.AWARD and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target) == ("contracts", previous.remote_id)
    root = parse(rendered.body)
    assert root.tag == f"{{{NOTICE_NS}}}TenderNoticeContractDetails"
    assert root.findtext("n:NoticeId", namespaces=N) == previous.remote_id
    assert root.findtext("n:Part", namespaces=N) == "lot-1"
    (signed,) = root.findall("n:Contracts/n:Contract", N)
    assert signed.findtext("n:LotNumber", namespaces=N) == "1"
    assert signed.findtext("n:SignedOn", namespaces=N) == "2027-03-03"
    assert signed.findtext("n:Supplier/n:Name", namespaces=N) == SUPPLIER["name"]
    assert _schema_errors(rendered.body) == []


def test_an_award_notice_without_what_it_needs_is_not_rendered(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]
    made = award_job(config, tender, "bluelight")
    with pytest.raises(RenderError, match="award record"):
        _channel().render(replace(made.notice, award=None), made.context)
    details = award_job(config, tender, "bluelight", NoticeKind.CONTRACT_DETAILS)
    with pytest.raises(RenderError, match="signing date"):
        _channel().render(replace(details.notice, award=award_of(tender)), details.context)
    lost = replace(details.notice, award=not_awarded(award_of(tender, signed=True), 1))
    with pytest.raises(RenderError, match="does not award lot 1"):
        _channel().render(lost, details.context)


@pytest.mark.parametrize(
    ("path", "bad", "complaint"),
    [
        ("n:LotResults/n:LotResult/n:Awarded/n:AwardedValue/n:Amount", "1", "pattern"),
        ("n:LotResults/n:LotResult/n:Awarded/n:Supplier/n:Sme", "maybe", "boolean"),
        ("n:DecisionDate", "1 Feb 2027", "date"),
    ],
)
def test_the_xsd_refuses_a_bad_award(
    config: Config, examples: Examples, path: str, bad: str, complaint: str
) -> None:
    made = award_job(config, examples["it-managed-service"], "bluelight")
    root = parse(_channel().render(made.notice, made.context).body)
    element = root.find(path, N)
    assert element is not None
    element.text = bad
    problems = _schema_errors(etree.tostring(root))
    assert problems and complaint in " ".join(problems)


def test_the_xsd_refuses_a_lot_both_awarded_and_not(config: Config, examples: Examples) -> None:
    award = not_awarded(award_of(examples["it-managed-service"]), 2)
    made = award_job(config, examples["it-managed-service"], "bluelight", award=award)
    root = parse(_channel().render(made.notice, made.context).body)
    first, second = root.findall("n:LotResults/n:LotResult", N)
    awarded, refused = first.find("n:Awarded", N), second.find("n:NotAwarded", N)
    assert awarded is not None and refused is not None
    first.append(refused)  # a result with both branches
    assert _schema_errors(etree.tostring(root))


def test_hostile_reasons_stay_text(config: Config, examples: Examples) -> None:
    reason = "Typo\r\n<Version>9</Version> ]]> <![CDATA[x]]> &amp; £5k — Zürich"
    for made in (
        change_job(config, examples["anpr-cameras"], "bluelight", reason=reason),
        cancellation_job(config, examples["anpr-cameras"], "bluelight", reason=reason),
    ):
        body = _channel().render(made.notice, made.context).body
        root = parse(body)
        assert root.findtext(".//n:Reason", namespaces=N) == reason
        assert root.findtext("n:Version", namespaces=N) == "2"
        assert b"<![CDATA[" not in body and _schema_errors(body) == []
    bell = change_job(config, examples["anpr-cameras"], "bluelight", reason="ding \x07")
    with pytest.raises(RenderError):
        _channel().render(bell.notice, bell.context)


def test_lots_carry_their_own_value_and_cpv(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]
    root = parse(_channel().render(contract(tender), render_context(config, tender, "bluelight")).body)
    lots = root.findall("n:Lots/n:Lot", N)
    assert [lot.findtext("n:Number", namespaces=N) for lot in lots] == ["1", "2"]
    assert lots[1].findtext("n:EstimatedValue/n:NetAmount", namespaces=N) == "700000.00"
    assert lots[0].findtext("n:CpvCodes/n:Main", namespaces=N) == "32323500-8"


def test_a_call_off_renders_without_a_deadline(config: Config, examples: Examples) -> None:
    tender = examples["framework-call-off"]  # never routed here, but the schema models it
    body = _channel().render(contract(tender), render_context(config, tender, "bluelight")).body
    assert parse(body).find("n:SubmissionDeadline", N) is None
    assert _schema_errors(body) == []


def test_markup_and_unicode_are_escaped_and_round_trip(config: Config, examples: Examples) -> None:
    tender = _tricky(examples["anpr-cameras"])
    body = _channel().render(contract(tender), render_context(config, tender, "bluelight")).body
    assert b"<b>" not in body and b"<script>" not in body and b"<![CDATA[" not in body
    assert b"]]&gt;" in body and "£5k — Zürich 東京 🚓".encode() in body
    root = parse(body)
    assert root.findtext("n:Title", namespaces=N) == tender.title
    assert root.findtext("n:Description", namespaces=N) == tender.description
    assert root.findtext("n:Lots/n:Lot/n:Title", namespaces=N) == "Lot <1> & ]]> £"
    assert _schema_errors(body) == []


def test_text_xml_cannot_carry_is_a_render_error(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"].model_copy(update={"title": "Cameras \x07 bell"})
    with pytest.raises(RenderError):
        _channel().render(contract(tender), render_context(config, tender, "bluelight"))


def test_a_notice_the_schema_refuses_is_a_render_error(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, "bluelight")
    odd_buyer = context.buyer.model_copy(update={"phone": "ring reception"})
    with pytest.raises(RenderError, match=r"ctm-notice-1\.xsd.*Telephone"):
        _channel().render(contract(tender), replace(context, buyer=odd_buyer))


@pytest.mark.parametrize(
    ("path", "bad", "complaint"),
    [
        ("n:EstimatedValue/n:Amount", "380000", "pattern"),
        ("n:EstimatedValue/n:Amount", "-1.00", "minInclusive"),
        ("n:CpvCodes/n:Main", "3512530", "pattern"),
        ("n:SubmissionDeadline", "2027-01-15T12:00:00", "pattern"),
        ("n:Procedure", "negotiated-without-notice", "enumeration"),
        ("n:ContractType", "concession", "enumeration"),
        ("n:Title", "", "length"),
        ("n:PlaceOfPerformance/n:Postcode", "NG58PP", "pattern"),
        ("n:DocumentsUrl", "http://insecure.example/docs", "pattern"),
    ],
)
def test_the_xsd_refuses_what_it_should(
    config: Config, examples: Examples, path: str, bad: str, complaint: str
) -> None:
    tender = examples["anpr-cameras"]
    root = parse(_channel().render(contract(tender), render_context(config, tender, "bluelight")).body)
    element = root.find(path, N)
    assert element is not None
    element.text = bad
    problems = _schema_errors(etree.tostring(root))
    assert problems and complaint in " ".join(problems)


@pytest.mark.parametrize(
    ("path", "bad", "complaint"),
    [
        ("n:NoticeId", "CRY-000001", "pattern"),
        ("n:Version", "0", "VersionType"),
        ("n:Amendment/n:Kind", "rewrite", "enumeration"),
    ],
)
def test_the_xsd_refuses_a_bad_update(
    config: Config, examples: Examples, path: str, bad: str, complaint: str
) -> None:
    made = change_job(config, examples["anpr-cameras"], "bluelight")
    root = parse(_channel().render(made.notice, made.context).body)
    element = root.find(path, N)
    assert element is not None
    element.text = bad
    problems = _schema_errors(etree.tostring(root))
    assert problems and complaint in " ".join(problems)


def test_the_xsd_refuses_repeated_lot_numbers(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]
    root = parse(_channel().render(contract(tender), render_context(config, tender, "bluelight")).body)
    root.findall("n:Lots/n:Lot/n:Number", N)[1].text = "1"
    assert any("Duplicate key-sequence" in p for p in _schema_errors(etree.tostring(root)))


def test_the_sandbox_answers_match_the_receipt_schema() -> None:
    schema = load_schema(RECEIPT_XSD)
    documents = [
        _receipt("Received"),
        _errors(("line 3", "bad")),
        _conflict(),
        _receipt("Published", ("PublishedAt", "2026-12-01T09:00:04Z"), ("Url", "https://x.test/1")),
        _withdrawn(),
    ]
    for document in documents:
        assert schema.validate(parse(document).getroottree()), schema.error_log
    assert not schema.validate(parse(_receipt("Lost")).getroottree())


# -- submit ----------------------------------------------------------------------------------


def _sent(
    status: int,
    body: bytes,
    seen: list[requests.PreparedRequest] | None = None,
    headers: dict[str, str] | None = None,
) -> BluelightChannel:
    def handler(request: requests.PreparedRequest) -> Response:
        if seen is not None:
            seen.append(request)
        return _xml(status, body, **(headers or {}))

    return _channel(handler)


NOTICE = Rendered(body=b"<TenderNotice/>", media_type="application/xml")


def test_accepted_is_not_live_yet_and_is_sent_as_the_contract_says() -> None:
    seen: list[requests.PreparedRequest] = []
    receipt = _sent(202, _receipt("Received"), seen).submit(NOTICE, "key-1")
    assert receipt == Receipt(
        remote_id="BL-2026-000123",
        live=False,
        status="Received",
        status_code=202,
        excerpt=receipt.excerpt,
    )
    (request,) = seen
    assert (request.method, request.url) == ("POST", "https://bluelight.test/ctm/api/notices")
    assert request.body == NOTICE.body
    assert request.headers["Content-Type"] == "application/xml; charset=utf-8"
    expected = base64.b64encode(f"emscu:{PASSWORD}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    ("operation", "path"),
    [
        ("update", "BL-2026-000123/updates"),
        ("cancel", "BL-2026-000123/cancellation"),
        ("award", "BL-2026-000123/award"),
        ("contracts", "BL-2026-000123/contracts"),
    ],
)
def test_a_later_notice_is_posted_under_the_notice(operation: str, path: str) -> None:
    seen: list[requests.PreparedRequest] = []
    answer = _withdrawn() if operation == "cancel" else _receipt("Received")
    rendered = Rendered(b"<x/>", "application/xml", operation=operation, target="BL-2026-000123")
    receipt = _sent(200 if operation == "cancel" else 202, answer, seen).submit(rendered, "key-1")
    (request,) = seen
    assert (request.method, request.url) == ("POST", f"https://bluelight.test/ctm/api/notices/{path}")
    if operation == "cancel":
        assert (receipt.live, receipt.status, receipt.url) == (True, "Withdrawn", "https://bl.test/n/123")
        assert receipt.published_at is not None and receipt.published_at.day == 2  # when withdrawn
    else:
        assert (receipt.live, receipt.status) == (False, "Received")


def test_a_notice_the_portal_does_not_hold_is_rejected() -> None:
    body = _errors((None, "no notice BL-2026-000999"))
    rendered = Rendered(b"<x/>", "application/xml", operation="update", target="BL-2026-000999")
    with pytest.raises(RejectedError) as caught:
        _sent(404, body).submit(rendered, "key-1")
    assert caught.value.status_code == 404
    assert caught.value.reasons == ["no notice BL-2026-000999"]


def test_a_known_external_reference_returns_the_existing_notice() -> None:
    seen: list[requests.PreparedRequest] = []

    def handler(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        if request.method == "POST":
            return _xml(409, _conflict("BL-2026-000042"))
        return _xml(
            200,
            _receipt(
                "Published",
                ("PublishedAt", "2026-12-01T09:00:04Z"),
                ("Url", "https://bl.test/n/42"),
                notice_id="BL-2026-000042",
            ),
        )

    receipt = _channel(handler).submit(NOTICE, "key-1")
    assert (receipt.remote_id, receipt.live, receipt.url) == (
        "BL-2026-000042",
        True,
        "https://bl.test/n/42",
    )
    assert (
        receipt.published_at is not None and receipt.published_at.isoformat() == "2026-12-01T09:00:04+00:00"
    )
    assert [(r.method, r.url) for r in seen][1] == (
        "GET",
        "https://bluelight.test/ctm/api/notices/BL-2026-000042",
    )


def test_a_conflict_with_a_rejected_notice_is_a_rejection() -> None:
    def handler(request: requests.PreparedRequest) -> Response:
        if request.method == "POST":
            return _xml(409, _conflict())
        return _xml(200, _receipt("Rejected", ("Reason", "CPV code withdrawn")))

    with pytest.raises(RejectedError) as caught:
        _channel(handler).submit(NOTICE, "key-1")
    assert caught.value.reasons == ["CPV code withdrawn"]


def test_a_conflict_without_an_id_is_an_unknown_outcome() -> None:
    with pytest.raises(OutcomeUnknown):
        _sent(409, _conflict(None)).submit(NOTICE, "key-1")


@pytest.mark.parametrize("status", [400, 422])
def test_refusals_carry_the_portal_reasons(status: int) -> None:
    body = _errors(("line 12", "Element 'Title': too long"), (None, "CPV 99999999 unknown"))
    with pytest.raises(RejectedError) as caught:
        _sent(status, body).submit(NOTICE, "key-1")
    assert caught.value.reasons == ["line 12: Element 'Title': too long", "CPV 99999999 unknown"]
    assert caught.value.status_code == status


@pytest.mark.parametrize(
    ("status", "error", "headers"),
    [
        (401, AuthError, {}),
        (403, AuthError, {}),
        (429, RateLimited, {"Retry-After": "7"}),
        (500, TransientError, {}),
        (502, TransientError, {}),
        (503, TransientError, {}),
        (504, TransientError, {}),
        (302, OutcomeUnknown, {"Location": "https://elsewhere.test/"}),
    ],
)
def test_status_codes_map_to_channel_errors(
    status: int, error: type[Exception], headers: dict[str, str]
) -> None:
    with pytest.raises(error) as caught:
        _sent(status, b"", headers=headers).submit(NOTICE, "key-1")
    assert type(caught.value) is error
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 7


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
        _conflict(),
    ],
)
def test_an_acceptance_we_cannot_read_is_an_unknown_outcome(body: bytes) -> None:
    with pytest.raises(OutcomeUnknown):
        _sent(202, body).submit(NOTICE, "key-1")


# -- poll ------------------------------------------------------------------------------------


def test_poll_maps_each_status() -> None:
    asked = Receipt(remote_id="BL-2026-000123", live=False)
    pending = _sent(200, _receipt("Received")).poll(asked)
    assert (pending.live, pending.url, pending.status) == (False, None, "Received")
    published = _sent(
        200,
        _receipt("Published", ("PublishedAt", "2026-12-01T09:00:04Z"), ("Url", "https://bl.test/n/123")),
    ).poll(asked)
    assert (published.live, published.url, published.remote_id) == (
        True,
        "https://bl.test/n/123",
        "BL-2026-000123",
    )
    withdrawn = _sent(200, _withdrawn()).poll(asked)
    assert (withdrawn.live, withdrawn.status, withdrawn.url) == (True, "Withdrawn", "https://bl.test/n/123")
    with pytest.raises(RejectedError) as caught:
        _sent(200, _receipt("Rejected", ("Reason", "duplicate advert"), ("Reason", "no budget"))).poll(asked)
    assert caught.value.reasons == ["duplicate advert", "no budget"]
    with pytest.raises(TransientError):
        _sent(503, b"").poll(asked)
    with pytest.raises(OutcomeUnknown):
        _sent(200, _receipt("Archived")).poll(asked)


def test_poll_asks_for_the_notice_by_id() -> None:
    seen: list[requests.PreparedRequest] = []
    _sent(200, _receipt("Received"), seen).poll(Receipt(remote_id="BL-2026-000123", live=False))
    assert (seen[0].method, seen[0].url) == (
        "GET",
        "https://bluelight.test/ctm/api/notices/BL-2026-000123",
    )


# -- configuration ---------------------------------------------------------------------------


def test_capabilities_are_declared() -> None:
    assert BluelightChannel.capabilities.deduplicates and BluelightChannel.capabilities.polls
    assert not BluelightChannel.capabilities.stops_unpublished  # a withdrawal waits for publication
    assert BluelightChannel.notices == set(NoticeKind)


class TestBluelightContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "bluelight"
