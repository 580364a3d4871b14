"""Bluelight adapter contract: golden notices, the project's XSD (and that it refuses what it
should), the HTTP answers' mapping to channel errors, and secrets kept out of what is shown."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from lxml import etree

from channels.bluelight import (
    NOTICE_NS,
    NOTICE_XSD,
    RECEIPT_NS,
    BluelightChannel,
    BluelightSettings,
)
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
from syndicator.channel.registry import channel_class
from syndicator.channel.xmlsafe import canonical, load_schema, parse
from syndicator.config.settings import Config
from syndicator.domain.tender import Tender
from tests.channels.contract import HttpChannelContract
from tests.conftest import contract, render_context, routed_examples

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


def test_every_routed_example_matches_its_golden_notice(config: Config, examples: Examples) -> None:
    channel = _channel()
    names = set()
    for name, tender, destination in _routed(config, examples):
        body = channel.render(contract(tender), render_context(config, tender, destination)).body
        path = GOLDEN / f"{name}.xml"
        names.add(path.name)
        if REGENERATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            continue
        assert path.is_file(), f"{path} is missing: run with SYNDICATOR_REGENERATE_GOLDEN=1"
        assert canonical(body) == canonical(path.read_bytes()), f"{name} differs from {path}"
    assert {p.name for p in GOLDEN.glob("*.xml")} == names, "stale golden files"


def test_every_routed_example_is_valid_against_the_project_xsd(config: Config, examples: Examples) -> None:
    channel = _channel()
    for name, tender, destination in _routed(config, examples):
        rendered = channel.render(contract(tender), render_context(config, tender, destination))
        assert rendered.media_type == "application/xml"
        assert _schema_errors(rendered.body) == [], name


def test_render_is_deterministic_and_carries_our_key(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, "bluelight")
    first, second = _channel().render(contract(tender), context), _channel().render(contract(tender), context)
    assert first.body == second.body
    root = parse(first.body)
    assert root.findtext("n:ExternalReference", namespaces=N) == context.key
    assert PASSWORD.encode() not in first.body
    again = _channel().render(contract(tender), replace(context, revision=2))
    assert parse(again.body).findtext("n:ExternalReference", namespaces=N) == f"{context.key}-r2"


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
    assert root.findtext("n:TedNotice/n:NoticeId", namespaces=N) == context.follows.identity
    assert root.findtext("n:TedNotice/n:DispatchDate", namespaces=N) == "2026-12-01"


def test_a_vat_inclusive_value_is_also_stated_net(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]
    root = parse(_channel().render(contract(tender), render_context(config, tender, "bluelight")).body)
    value = root.find("n:EstimatedValue", N)
    assert value is not None
    assert value.findtext("n:Amount", namespaces=N) == "180000.00"
    assert value.findtext("n:VatIncluded", namespaces=N) == "true"
    assert value.findtext("n:NetAmount", namespaces=N) == "150000.00"
    assert root.find("n:TedNotice", N) is None  # below the TED threshold: no TED notice


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


def test_the_password_never_reaches_an_excerpt_or_the_description() -> None:
    with pytest.raises(AuthError) as caught:
        _sent(401, f"bad password {PASSWORD}".encode()).submit(NOTICE, "key-1")
    assert caught.value.excerpt is not None and PASSWORD not in caught.value.excerpt
    assert PASSWORD not in str(_channel().describe())


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


def test_registered_with_the_sandbox_profile(config: Config) -> None:
    cls = channel_class("bluelight")
    assert cls is BluelightChannel
    assert cls.capabilities.deduplicates and cls.capabilities.polls
    settings = cls.settings_model.model_validate(config.channels.profile_sections("sandbox")["bluelight"])
    assert isinstance(settings, BluelightSettings)
    assert settings.redacted()["password"] == "********"


class TestBluelightContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "bluelight"
