"""The sections every TED notice shares, whatever its root: the eForms extension with the
organisations, the header (identifiers, dispatch, version, notice type), the contracting party,
the procedure's scope and the lots.

    UBLExtensions/.../EformsExtension   [efac:Changes] [efac:NoticeResult] subtype, ORG-0001
                                        buyer, ORG-0002 review body
    header                              OPT-001/002, BT-701, BT-04, BT-05, BT-757, [BT-738],
                                        BT-01, BT-02/03, BT-702
    ContractingParty                    BT-11, BT-10, -> ORG-0001
    ProcurementProject                  BT-22, BT-21, BT-24, BT-23, BT-27, BT-262/263, place
    lots                                LOT-nnnn, one per tender lot (or one for the whole)

Field numbers follow the eForms SDK 1.15 (`fields/fields.json`), element order the UBL 2.3 XSD.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lxml import etree

from channels.ted.identifiers import notice_id, procedure_id, version
from channels.ted.ubl import (
    CAC,
    CBC,
    COUNTRY,
    CUSTOMIZATION_ID,
    EFAC,
    EFEXT,
    EXT,
    LANGUAGE,
    LEGAL_BASIS,
    amount,
    code,
    cpv,
    date,
    nature,
    org_ref,
    text,
    time,
)
from syndicator.channel.base import RenderContext, RenderError
from syndicator.config.buyers import Organisation
from syndicator.domain.tender import Lot, Procedure, Tender

BUYER_ORG = "ORG-0001"
REVIEW_ORG = "ORG-0002"

# EMSCU's review terms, stated in every notice (BT-99): PCR 2015 reg. 92(2); Procurement Act
# 2023 s. 106. The review body (ORG-0002) is `_review_body` in config/buyers.toml.
REVIEW_DEADLINES = (
    "Proceedings must be started within 30 days of the date on which the supplier first knew, "
    "or ought to have known, of the grounds for starting them."
)

# fields.json maxLength: texts longer than this are refused by TED, so they are refused here
# rather than cut (a truncated description would misstate the contract).
MAX_TITLE = 400  # BT-21
MAX_DESCRIPTION = 6000  # BT-24


# BT-105: our procedures to the `procurement-procedure-type` code list. A framework call-off
# is missing on purpose: it is never advertised on TED.
PROCEDURE_CODES = {
    Procedure.OPEN: "open",
    Procedure.RESTRICTED: "restricted",
    Procedure.COMPETITIVE_DIALOGUE: "comp-dial",
    Procedure.COMPETITIVE_NEGOTIATED: "neg-w-call",
}


@dataclass(frozen=True)
class LotScope:
    """One lot as a notice states it (a tender without lots is one lot covering the whole)."""

    lot_id: str
    title: str
    description: str
    nature: str
    value: Decimal | None
    cpv: list[str]


def lot_id(number: int) -> str:
    """BT-137: `LOT-nnnn`, from the tender's lot number."""
    return f"LOT-{number:04d}"


def check_tender(tender: Tender) -> None:
    """Refuse what no TED notice of this tender can state: a procedure TED never carries,
    texts longer than TED accepts (never cut), a main CPV code of another nature."""
    if tender.procedure is Procedure.COMPETITIVE_FLEXIBLE:
        raise RenderError(
            "a competitive-flexible procedure is a Procurement Act 2023 procedure: TED carries "
            "only procurements under the EU directives (commenced before 1 January 2021)"
        )
    if tender.procedure not in PROCEDURE_CODES:
        raise RenderError(
            f"a {tender.procedure.value} is never advertised on TED: it is a call-off under a "
            "framework whose own notice was the call for competition"
        )
    for label, value, limit in _texts(tender):
        if len(value) > limit:
            raise RenderError(f"{label} is {len(value)} characters; TED accepts at most {limit}")
    main_nature = nature(tender.cpv[0])
    if main_nature != tender.contract_type.value:
        raise RenderError(
            f"the main CPV code {tender.cpv[0]} is a {main_nature} code but the contract is "
            f"{tender.contract_type.value}; TED requires them to agree (BT-23, BT-262)"
        )


def _texts(tender: Tender) -> Iterable[tuple[str, str, int]]:
    yield "the title (BT-21)", tender.title, MAX_TITLE
    yield "the description (BT-24)", tender.description, MAX_DESCRIPTION
    for lot in tender.lots:
        yield f"lot {lot.number}'s title (BT-21)", lot.title, MAX_TITLE
        if lot.description:
            yield f"lot {lot.number}'s description (BT-24)", lot.description, MAX_DESCRIPTION


def extension(
    subtype: str,
    tender: Tender,
    context: RenderContext,
    *before: etree._Element,
    parties: Sequence[etree._Element] = (),
) -> etree._Element:
    """ext:UBLExtensions: `before` (efac:Changes, efac:NoticeResult: they precede the subtype
    in the XSD's order), OPP-070 the subtype, and the organisations: the buyer, the review
    body, then `parties` (an award notice's winners, ORG-0003 on)."""
    contact = tender.contact
    # The tender's contact is the buyer's contact point for this procedure.
    buyer_contact = CAC.Contact(
        CBC.Name(contact.name),  # BT-502
        CBC.Telephone(contact.phone or context.buyer.phone),  # BT-503
        CBC.ElectronicMail(contact.email),  # BT-506
    )
    review = context.review_body
    review_contact = CAC.Contact(CBC.Telephone(review.phone), CBC.ElectronicMail(review.email))
    eforms = EFEXT.EformsExtension(
        *before,
        EFAC.NoticeSubType(code("SubTypeCode", "notice-subtype", subtype)),  # OPP-070
        EFAC.Organizations(
            _organisation(BUYER_ORG, context.buyer, buyer_contact),
            _organisation(REVIEW_ORG, review, review_contact),
            *parties,
        ),
    )
    return EXT.UBLExtensions(EXT.UBLExtension(EXT.ExtensionContent(eforms)))


def _organisation(org_id: str, org: Organisation, contact: etree._Element) -> etree._Element:
    """One organisation of efac:Organizations (OPT-200, BT-500 ... BT-514)."""
    company = EFAC.Company(
        CBC.WebsiteURI(org.website),  # BT-505
        CAC.PartyIdentification(CBC.ID(org_id, schemeName="organization")),  # OPT-200
        CAC.PartyName(text("Name", org.legal_name)),  # BT-500
        CAC.PostalAddress(
            CBC.StreetName(org.address),  # BT-510(a)
            CBC.CityName(org.town),  # BT-513
            CBC.PostalZone(org.postcode),  # BT-512: required, GBR uses postcodes
            CAC.Country(code("IdentificationCode", "country", COUNTRY)),  # BT-514
        ),
        CAC.PartyLegalEntity(CBC.CompanyID(org.org_id)),  # BT-501
        contact,
    )
    return EFAC.Organization(company)


def header(
    tender: Tender,
    context: RenderContext,
    notice_type: tuple[str, str],
    preferred: Sequence[etree._Element] = (),
) -> list[etree._Element]:
    """OPT-001 ... BT-702: identity, dispatch, version, legal basis and notice type.

    `notice_type` is (BT-02 notice type, BT-03 form type); `preferred` the BT-738 element."""
    kind, form = notice_type
    return [
        CBC.UBLVersionID("2.3"),  # OPT-001
        CBC.CustomizationID(CUSTOMIZATION_ID),  # OPT-002
        CBC.ID(notice_id(context.key), schemeName="notice-id"),  # BT-701
        CBC.ContractFolderID(procedure_id(tender.buyer, tender.reference)),  # BT-04
        CBC.IssueDate(date(context.dispatched_at)),  # BT-05(a)
        CBC.IssueTime(time(context.dispatched_at)),  # BT-05(b)
        CBC.VersionID(version(context.revision)),  # BT-757
        *preferred,
        CBC.RegulatoryDomain(LEGAL_BASIS),  # BT-01
        CBC.NoticeTypeCode(kind, listName=form),  # BT-02, BT-03
        CBC.NoticeLanguageCode(LANGUAGE),  # BT-702(a)
    ]


def contracting_party(buyer: Organisation) -> etree._Element:
    """BT-11 legal type, BT-10 activity, OPT-300 the buyer."""
    return CAC.ContractingParty(
        CAC.ContractingPartyType(code("PartyTypeCode", "buyer-legal-type", buyer.legal_type)),
        CAC.ContractingActivity(code("ActivityTypeCode", "authority-activity", buyer.activity)),
        org_ref("Party", BUYER_ORG),  # OPT-300
    )


def appeal_terms() -> etree._Element:
    """A lot's review terms: BT-99 the deadlines, OPT-301 the review body."""
    return CAC.AppealTerms(
        CAC.PresentationPeriod(text("Description", REVIEW_DEADLINES)),  # BT-99
        org_ref("AppealReceiverParty", REVIEW_ORG),  # OPT-301-Lot-ReviewOrg
    )


def place(tender: Tender) -> etree._Element:
    """Place of performance: town (BT-5131), postcode (BT-5121), country (BT-5141)."""
    where = tender.place_of_performance
    address = [CBC.CityName(where.town)]
    if where.postcode:
        address.append(CBC.PostalZone(where.postcode))
    address.append(CAC.Country(code("IdentificationCode", "country", COUNTRY)))
    return CAC.RealizedLocation(CAC.Address(*address))


def classifications(codes: list[str]) -> list[etree._Element]:
    """BT-262 (main) and BT-263 (additional) CPV codes."""
    main, *additional = codes
    return [
        CAC.MainCommodityClassification(code("ItemClassificationCode", "cpv", cpv(main))),
        *(
            CAC.AdditionalCommodityClassification(code("ItemClassificationCode", "cpv", cpv(c)))
            for c in additional
        ),
    ]


def procedure_scope(tender: Tender, vat_rate: Decimal, note: str | None = None) -> etree._Element:
    """The procedure's ProcurementProject; `note` is BT-300 (additional information)."""
    return CAC.ProcurementProject(
        CBC.ID(tender.reference, schemeName="InternalID"),  # BT-22: the buyer's reference
        text("Name", tender.title),  # BT-21
        text("Description", tender.description),  # BT-24
        code("ProcurementTypeCode", "contract-nature", tender.contract_type.value),  # BT-23
        *([text("Note", note)] if note else []),  # BT-300
        CAC.RequestedTenderTotal(amount(tender.estimated_value.net(vat_rate))),  # BT-27
        *classifications(tender.cpv),
        place(tender),
    )


def lots(tender: Tender, vat_rate: Decimal) -> list[LotScope]:
    """The lots a notice states, in number order."""
    if not tender.lots:
        whole = LotScope(
            lot_id(1),
            tender.title,
            tender.description,
            tender.contract_type.value,
            tender.estimated_value.net(vat_rate),
            tender.cpv,
        )
        return [whole]
    return [_lot_scope(tender, lot, vat_rate) for lot in sorted(tender.lots, key=lambda lot: lot.number)]


def _lot_scope(tender: Tender, lot: Lot, vat_rate: Decimal) -> LotScope:
    # BT-24-Lot is mandatory; a lot given without a description is described by its title.
    # A lot without its own CPV codes is classified under the tender's main code. A lot's
    # nature (BT-23-Lot) is the one its main CPV code belongs to: a services tender may have
    # a supplies lot (e.g. the devices of a managed service), and TED checks they agree.
    codes = lot.cpv or tender.cpv[:1]
    return LotScope(
        lot_id=lot_id(lot.number),
        title=lot.title,
        description=lot.description or lot.title,
        nature=nature(codes[0]),
        value=lot.estimated_value.net(vat_rate) if lot.estimated_value else None,
        cpv=codes,
    )


def deadline_passed(tender: Tender, moment: datetime) -> bool:
    """Whether the tender's deadline (every lot's BT-131 or BT-1311) is at or before `moment`."""
    deadline = tender.submission_deadline
    return deadline is not None and deadline <= moment
