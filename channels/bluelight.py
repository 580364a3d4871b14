"""Bluelight, the EU-Supply CTM portal the forces' commissioners publish tenders on: XML over
HTTPS with HTTP Basic auth, under the contract in docs/channels/bluelight.md (the portal
publishes no API description; `schemas/bluelight/*.xsd` are the project's definition).

    render: Tender -> <TenderNotice> (ctm-notice-1.xsd), validated before it is returned

    POST {base}/ctm/api/notices
      202 <NoticeReceipt> Received ----------> Receipt(live=False, remote_id=NoticeId)
      409 <NoticeConflict> NoticeId ---------> GET the existing notice; its status is the receipt
      400 / 422 <NoticeErrors> --------------> RejectedError(reasons)
      401 / 403 -> AuthError   429 -> RateLimited   5xx -> TransientError
    GET {base}/ctm/api/notices/{id}
      Received -> not live   Published -> live, Url   Rejected -> RejectedError(Reason...)

The portal keeps one notice per ExternalReference, our idempotency key, so a repeat after a
lost answer never publishes twice.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from lxml import etree
from pydantic import Field, SecretStr

from syndicator.channel.base import (
    Capabilities,
    OutcomeUnknown,
    Receipt,
    RejectedError,
    RenderContext,
    Rendered,
    RenderError,
)
from syndicator.channel.http import HttpChannel, HttpSettings, Response
from syndicator.channel.xmlsafe import UnsafeXml, load_schema, parse
from syndicator.config.buyers import Organisation
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Contact, Money, Tender

SCHEMAS = Path(__file__).resolve().parent / "schemas" / "bluelight"
NOTICE_XSD = SCHEMAS / "ctm-notice-1.xsd"
NOTICE_NS = "urn:emscu:syndicator:bluelight:ctm-notice:1"
RECEIPT_NS = "urn:emscu:syndicator:bluelight:ctm-receipt:1"
MEDIA_TYPE = "application/xml"
NOTICES = "/ctm/api/notices"
CENT = Decimal("0.01")
MAX_SHOWN_ERRORS = 5


class BluelightSettings(HttpSettings):
    """Where the portal is and the integration account it knows us by."""

    username: str = Field(min_length=1)
    password: SecretStr


def external_reference(context: RenderContext) -> str:
    """Our key as the portal's ExternalReference; a corrected re-send after a refusal gets a
    new one, since the portal would otherwise answer 409 with the refused notice."""
    return context.key if context.revision <= 1 else f"{context.key}-r{context.revision}"


def instant(value: datetime) -> str:
    """An aware datetime in ISO 8601 with its offset ('Z' for UTC)."""
    if value.tzinfo is None:
        raise RenderError(f"{value.isoformat()} has no UTC offset")
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _q(name: str) -> str:
    return f"{{{NOTICE_NS}}}{name}"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, _q(name))
    if text is not None:
        child.text = text
    return child


def _money(parent: etree._Element, name: str, amount: Decimal, currency: str) -> None:
    _add(parent, name, str(amount.quantize(CENT))).set("currencyID", currency)


def _value(parent: etree._Element, money: Money, vat_rate: Decimal) -> None:
    value = _add(parent, "EstimatedValue")
    _money(value, "Amount", money.amount, money.currency)
    _add(value, "VatIncluded", "true" if money.vat_included else "false")
    _money(value, "NetAmount", money.net(vat_rate), money.currency)


def _cpv(parent: etree._Element, codes: list[str]) -> None:
    block = _add(parent, "CpvCodes")
    _add(block, "Main", codes[0])
    for code in codes[1:]:
        _add(block, "Additional", code)


def _buyer(parent: etree._Element, buyer: Organisation) -> None:
    block = _add(parent, "Buyer")
    for name, text in (
        ("LegalName", buyer.legal_name),
        ("OrganisationId", buyer.org_id),
        ("Address", buyer.address),
        ("Town", buyer.town),
        ("Postcode", buyer.postcode),
        ("Country", buyer.country),
        ("Email", buyer.email),
        ("Telephone", buyer.phone),
        ("Website", buyer.website),
    ):
        _add(block, name, text)


def _contact(parent: etree._Element, contact: Contact) -> None:
    block = _add(parent, "Contact")
    _add(block, "Name", contact.name)
    _add(block, "Email", contact.email)
    if contact.phone:
        _add(block, "Telephone", contact.phone)


def build_notice(tender: Tender, context: RenderContext, vat_rate: Decimal) -> etree._Element:
    """The <TenderNotice> element, in the order ctm-notice-1.xsd prescribes."""
    root = etree.Element(_q("TenderNotice"), nsmap={None: NOTICE_NS})
    _add(root, "ExternalReference", external_reference(context))
    _add(root, "BuyerReference", tender.reference)
    _add(root, "Title", tender.title)
    _add(root, "Description", tender.description)
    _buyer(root, context.buyer)
    _add(root, "ContractType", tender.contract_type.value)
    _add(root, "Procedure", tender.procedure.value)
    _value(root, tender.estimated_value, vat_rate)
    _cpv(root, tender.cpv)
    if tender.lots:
        lots = _add(root, "Lots")
        for lot in tender.lots:
            block = _add(lots, "Lot")
            _add(block, "Number", str(lot.number))
            _add(block, "Title", lot.title)
            if lot.description:
                _add(block, "Description", lot.description)
            if lot.estimated_value:
                _value(block, lot.estimated_value, vat_rate)
            if lot.cpv:
                _cpv(block, lot.cpv)
    place = _add(root, "PlaceOfPerformance")
    _add(place, "Town", tender.place_of_performance.town)
    if tender.place_of_performance.postcode:
        _add(place, "Postcode", tender.place_of_performance.postcode)
    _add(place, "Country", tender.place_of_performance.country)
    # The planned publication date; validation always sets it, the dispatch day is a fallback
    # that keeps render pure (never "today").
    published = tender.publication_date or context.dispatched_at.astimezone(UTC).date()
    _add(root, "PublicationDate", published.isoformat())
    if tender.submission_deadline is not None:
        _add(root, "SubmissionDeadline", instant(tender.submission_deadline))
    if tender.duration_months is not None:
        _add(root, "DurationMonths", str(tender.duration_months))
    if tender.documents_url:
        _add(root, "DocumentsUrl", tender.documents_url)
    _contact(root, tender.contact)
    _add(root, "SmeSuitable", "true" if tender.sme_suitable else "false")
    ref = context.follows
    if ref is not None and ref.destination == "ted" and ref.identity and ref.dispatched_at:
        ted = _add(root, "TedNotice")
        _add(ted, "NoticeId", ref.identity)
        _add(ted, "DispatchDate", ref.dispatched_at.astimezone(UTC).date().isoformat())
        if ref.publication_id:
            _add(ted, "PublicationNumber", ref.publication_id)
    return root


def _text(root: etree._Element, name: str) -> str | None:
    found = root.find(f"{{{RECEIPT_NS}}}{name}")
    return found.text.strip() if found is not None and found.text else None


def error_reasons(root: etree._Element) -> list[str]:
    """The reasons of a <NoticeErrors> document ('location: message')."""
    reasons = []
    for error in root.iter(f"{{{RECEIPT_NS}}}Error"):
        message = _text(error, "Message") or "(no message)"
        location = _text(error, "Location")
        reasons.append(f"{location}: {message}" if location else message)
    return reasons


class BluelightChannel(HttpChannel):
    """Posts tender notices to Bluelight and follows them until they are published."""

    name = "bluelight"
    title = "Bluelight e-tendering (EU-Supply CTM)"
    capabilities = Capabilities(deduplicates=True, polls=True)
    settings_model = BluelightSettings
    settings: BluelightSettings

    def __init__(self, settings: BluelightSettings, session: requests.Session | None = None) -> None:
        super().__init__(settings, session)
        self._schema = load_schema(NOTICE_XSD)
        # lxml keeps a schema's error log on the schema object: validate one notice at a time.
        self._schema_lock = threading.Lock()

    # -- render ----------------------------------------------------------------------------

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """Our key is the notice's identity on the wire; the channel picks its own id."""
        return key, None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The <TenderNotice>, valid against ctm-notice-1.xsd."""
        if notice.kind is not NoticeKind.CONTRACT:
            raise RenderError(f"bluelight does not carry {notice.kind.value} notices yet")
        try:
            root = build_notice(notice.tender, context, context.vat_rate)
        except ValueError as exc:  # lxml refuses text that XML cannot carry
            raise RenderError(f"bluelight cannot carry this tender: {exc}") from exc
        with self._schema_lock:
            valid = self._schema.validate(root.getroottree())
            errors = [f"line {e.line}: {e.message}" for e in self._schema.error_log]
        if not valid:
            shown = "; ".join(errors[:MAX_SHOWN_ERRORS])
            raise RenderError(f"the notice is not valid against {NOTICE_XSD.name}: {shown}")
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return Rendered(body=body, media_type=MEDIA_TYPE, identity=external_reference(context))

    # -- submit and poll -------------------------------------------------------------------

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """POST the notice; a repeat of a known ExternalReference returns that notice's status."""
        response = self._call(
            "POST",
            NOTICES,
            data=rendered.body,
            headers={"Content-Type": f"{rendered.media_type}; charset=utf-8"},
        )
        if response.status == 409:
            conflict = self._document(response)
            notice_id = _text(conflict, "NoticeId") if conflict is not None else None
            if not notice_id:
                raise OutcomeUnknown(
                    "bluelight holds a notice with this ExternalReference but did not say which",
                    status_code=409,
                    excerpt=self.excerpt(response),
                )
            return self.poll(Receipt(remote_id=notice_id, live=False))
        self._raise_for_status(response)
        return self._receipt(response)

    def poll(self, receipt: Receipt) -> Receipt:
        """GET the notice's status: Received, Published (live) or Rejected (raises)."""
        if not receipt.remote_id:
            raise OutcomeUnknown("bluelight: there is no notice id to ask about")
        response = self._call("GET", f"{NOTICES}/{quote(receipt.remote_id, safe='')}")
        self._raise_for_status(response)
        return self._receipt(response)

    def _call(self, method: str, path: str, **kwargs: Any) -> Response:
        headers = {"Accept": MEDIA_TYPE, **kwargs.pop("headers", {})}
        auth = (self.settings.username, self.settings.password.get_secret_value())
        return self.request(method, path, headers=headers, auth=auth, **kwargs)

    def _document(self, response: Response) -> etree._Element | None:
        try:
            return parse(response.body, limit=self.settings.max_response_bytes)
        except UnsafeXml:
            return None

    def _raise_for_status(self, response: Response) -> None:
        if response.status >= 400:
            root = self._document(response)
            self.raise_for_status(response, error_reasons(root) if root is not None else [])
        elif not 200 <= response.status < 300:
            raise OutcomeUnknown(
                f"bluelight answered HTTP {response.status}, which its API never does",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )

    def _receipt(self, response: Response) -> Receipt:
        """Map a <NoticeReceipt> to a Receipt (Rejected raises RejectedError)."""
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        root = self._document(response)
        if root is None or root.tag != f"{{{RECEIPT_NS}}}NoticeReceipt":
            raise OutcomeUnknown(
                f"bluelight answered HTTP {response.status} without a readable NoticeReceipt",
                **common,
            )
        notice_id, status = _text(root, "NoticeId"), _text(root, "Status")
        if status == "Rejected":
            reasons = [r.text.strip() for r in root.iter(f"{{{RECEIPT_NS}}}Reason") if r.text]
            summary = "; ".join(reasons[:MAX_SHOWN_ERRORS]) or "no reason given"
            raise RejectedError(
                f"bluelight rejected notice {notice_id}: {summary}", reasons=reasons, **common
            )
        if status not in ("Received", "Published"):
            raise OutcomeUnknown(f"bluelight reported an unknown status {status!r}", **common)
        published_at = _when(_text(root, "PublishedAt"))
        live = status == "Published"
        return Receipt(
            remote_id=notice_id,
            live=live,
            url=_text(root, "Url") if live else None,
            status=status,
            published_at=published_at if live else None,
            **common,
        )


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
