"""The notice documents Bluelight takes (`schemas/bluelight/ctm-notice-1.xsd`): the advert, its
update, withdrawal, award and contract details, built from a notice and its render context.
Pure; `channels/bluelight.py` validates, sends and follows them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree

from syndicator.channel.base import RenderContext, RenderError
from syndicator.config.buyers import Organisation
from syndicator.domain.award import Award, LotAward, Supplier
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Contact, Money

NOTICE_NS = "urn:emscu:syndicator:bluelight:ctm-notice:1"
ROOTS = {
    NoticeKind.CONTRACT: "TenderNotice",
    NoticeKind.CHANGE: "TenderNoticeUpdate",
    NoticeKind.CANCELLATION: "TenderNoticeCancellation",
    NoticeKind.AWARD: "TenderNoticeAward",
    NoticeKind.CONTRACT_DETAILS: "TenderNoticeContractDetails",
}
CENT = Decimal("0.01")


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


def _value(parent: etree._Element, money: Money, vat_rate: Decimal, name: str = "EstimatedValue") -> None:
    value = _add(parent, name)
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


def build_notice(notice: Notice, context: RenderContext, target: str | None = None) -> etree._Element:
    """The document for the notice, in the order ctm-notice-1.xsd prescribes: a <TenderNotice>,
    or a <TenderNoticeUpdate>, <TenderNoticeCancellation>, <TenderNoticeAward> or
    <TenderNoticeContractDetails> of notice `target`."""
    root = etree.Element(_q(ROOTS[notice.kind]), nsmap={None: NOTICE_NS})
    _add(root, "ExternalReference", external_reference(context))
    if target is not None:
        _add(root, "NoticeId", target)
    _add(root, "Version", str(notice.version))
    if notice.kind is NoticeKind.CANCELLATION:
        _add(root, "BuyerReference", notice.tender.reference)
        if notice.reason:
            _add(root, "Reason", notice.reason)
        if notice.withdrawn_at is not None:
            _add(root, "WithdrawnAt", instant(notice.withdrawn_at))
        return root
    if notice.kind is NoticeKind.AWARD:
        _award(root, notice, context)
        return root
    if notice.kind is NoticeKind.CONTRACT_DETAILS:
        _contract_details(root, notice, context)
        return root
    if notice.kind is NoticeKind.CHANGE:
        _amendment(root, notice)
    _content(root, notice, context)
    return root


def _amendment(root: etree._Element, notice: Notice) -> None:
    """Why the new version was made and each field that differs from the one the portal holds."""
    block = _add(root, "Amendment")
    _add(block, "Kind", "correction" if notice.correction else "update")
    if notice.reason:
        _add(block, "Reason", notice.reason)
    if notice.changes:
        changes = _add(block, "Changes")
        for change in notice.changes:
            item = _add(changes, "Change")
            _add(item, "Field", change.path)
            _add(item, "Label", change.label)
            if change.before is not None:
                _add(item, "Before", change.before)
            if change.after is not None:
                _add(item, "After", change.after)


def _content(root: etree._Element, notice: Notice, context: RenderContext) -> None:
    """The notice itself (the schema's NoticeContent group), from the notice's tender version."""
    tender, vat_rate = notice.tender, context.vat_rate
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
    _follows(root, context)


def _award(root: etree._Element, notice: Notice, context: RenderContext) -> None:
    """Every lot's result: the winners, the awarded value and the contract's dates, or the
    reason it was not awarded (a code and the sentence suppliers read)."""
    award = _award_record(notice)
    _add(root, "BuyerReference", notice.tender.reference)
    _add(root, "DecisionDate", award.decision_date.isoformat())
    if notice.standstill_ends is not None:
        _add(root, "StandstillEnds", notice.standstill_ends.isoformat())
    results = _add(root, "LotResults")
    for lot in award.lots:
        block = _add(results, "LotResult")
        _lot_heading(block, notice, lot.lot)
        received = award.received(lot.lot)
        if received is not None:
            _add(block, "TendersReceived", str(received))
        if lot.reason is not None:
            refused = _add(block, "NotAwarded")
            _add(refused, "ReasonCode", lot.reason.value)
            _add(refused, "Reason", lot.reason.words)
        else:
            _awarded(_add(block, "Awarded"), lot, context.vat_rate, signed=False)
    _follows(root, context)


def _contract_details(root: etree._Element, notice: Notice, context: RenderContext) -> None:
    """The contract signed for `notice.part`: its supplier, value, dates and signing date."""
    award = _award_record(notice)
    _add(root, "BuyerReference", notice.tender.reference)
    _add(root, "Part", notice.part or "")
    _add(root, "DecisionDate", award.decision_date.isoformat())
    contracts = _add(root, "Contracts")
    for number in notice.signed_lots():
        lot = award.lot(number)
        label = f"lot {number}" if number is not None else "the contract"
        if lot is None or lot.value is None or lot.contract is None:
            raise RenderError(f"bluelight: the award does not award {label}, so it has no contract")
        if lot.contract.signed_on is None:
            raise RenderError(f"bluelight: {label} has no signing date; a contract details notice needs one")
        block = _add(contracts, "Contract")
        _lot_heading(block, notice, number)
        _awarded(block, lot, context.vat_rate, signed=True)
    if not len(contracts):
        raise RenderError(f"bluelight: a contract details notice names no contract (part {notice.part!r})")
    _follows(root, context)


def _award_record(notice: Notice) -> Award:
    if notice.award is None:
        raise RenderError(
            f"bluelight: a {notice.kind.value} notice needs the award record, and there is none"
        )
    return notice.award


def _lot_heading(block: etree._Element, notice: Notice, number: int | None) -> None:
    if number is None:  # a tender not divided into lots
        return
    _add(block, "LotNumber", str(number))
    title = next((lot.title for lot in notice.tender.lots if lot.number == number), None)
    if title:
        _add(block, "LotTitle", title)


def _awarded(block: etree._Element, lot: LotAward, vat_rate: Decimal, *, signed: bool) -> None:
    """Suppliers, AwardedValue, ContractStart, ContractEnd and (if known) SignedOn."""
    assert lot.value is not None and lot.contract is not None  # an awarded lot has both
    for supplier in lot.suppliers:
        _supplier(block, supplier)
    _value(block, lot.value, vat_rate, "AwardedValue")
    _add(block, "ContractStart", lot.contract.start.isoformat())
    _add(block, "ContractEnd", lot.contract.end.isoformat())
    if lot.contract.signed_on is not None:
        _add(block, "SignedOn", lot.contract.signed_on.isoformat())


def _supplier(parent: etree._Element, supplier: Supplier) -> None:
    block = _add(parent, "Supplier")
    _add(block, "Name", supplier.name)
    scheme = supplier.identifier.scheme
    # org-id.guide form: the id within the scheme (as given, less any scheme prefix)
    _add(block, "Identifier", supplier.identifier.text().removeprefix(f"{scheme}-")).set("scheme", scheme)
    _add(block, "Address", supplier.address.street)
    _add(block, "Town", supplier.address.town)
    _add(block, "Postcode", supplier.address.postcode)
    _add(block, "Country", supplier.address.country)
    _add(block, "Sme", "true" if supplier.sme else "false")


def _follows(root: etree._Element, context: RenderContext) -> None:
    """The primary destination's notice this one follows (TED's today, Find a Tender's next):
    PCR 2015 reg 52(3) has a national advert state when the official notice was sent."""
    ref = context.follows
    if ref is None:
        return
    if ref.dispatched_at is None or not (ref.identity or ref.publication_id):
        raise RenderError(
            f"the {ref.destination} notice this one follows has no dispatch date or reference to state"
        )
    block = _add(root, "FollowsNotice")
    _add(block, "Destination", ref.destination)
    _add(block, "Title", ref.title or ref.destination)
    if ref.identity:
        _add(block, "NoticeId", ref.identity)
    if ref.publication_id:
        _add(block, "PublicationNumber", ref.publication_id)
    _add(block, "DispatchDate", ref.dispatched_at.astimezone(UTC).date().isoformat())


def notice_target(context: RenderContext) -> str:
    """The portal's NoticeId of the notice a later notice applies to (the earlier notice's)."""
    previous = context.previous
    if previous is None or not previous.remote_id:
        raise RenderError(
            "bluelight needs the NoticeId it gave the notice to update, withdraw or award it; "
            "the earlier notice on bluelight has none"
        )
    return previous.remote_id
