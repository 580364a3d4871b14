"""The eForms contract notice TED receives: subtype 16 (`cn-standard`, Directive 2014/24/EU,
standard regime), built with lxml from a tender and its render context. Pure: the same tender
and context always give the same bytes.

    ContractNotice
     +-- UBLExtensions/.../EformsExtension   subtype 16; ORG-0001 buyer, ORG-0002 review body
     +-- header                              SDK version, BT-701 notice id, BT-04 procedure id,
     |                                       BT-05 dispatch, BT-757 version, BT-01, BT-02/03
     +-- ContractingParty                    BT-11 legal type, BT-10 activity, -> ORG-0001
     +-- TenderingTerms                      BT-806 exclusion grounds
     +-- TenderingProcess                    BT-105 procedure, BT-106 accelerated
     +-- ProcurementProject                  BT-22, BT-21, BT-24, BT-23, BT-27, BT-262/263, place
     +-- ProcurementProjectLot * n           LOT-nnnn: terms, process (deadline), scope

Field numbers (BT-nnn) and element order follow the eForms SDK 1.15 (`fields/fields.json`)
and the UBL 2.3 XSD; the values that are not in the tender are EMSCU's standard terms, kept
together below so a reviewer sees every assumption in one place (docs/channels/ted.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree
from lxml.builder import ElementMaker

from syndicator.channel.base import RenderContext, RenderError
from syndicator.config.buyers import Organisation
from syndicator.domain.keys import uuid4_shaped
from syndicator.domain.tender import Lot, Procedure, Tender

CUSTOMIZATION_ID = "eforms-sdk-1.15"  # OPT-002: the SDK major.minor the notice is written to
SUBTYPE = "16"  # OPP-070: contract notice, general directive, standard regime
LEGAL_BASIS = "32014L0024"  # BT-01: Directive 2014/24/EU
LANGUAGE = "ENG"  # BT-702(a), and the languageID of every text
COUNTRY = "GBR"  # BT-514 / BT-5141; GBR is outside NUTS, so BT-507/BT-5071 are left out

# TED states estimated values net of VAT (BT-27 "Estimated Value" excludes VAT). A tender may
# give its value VAT-inclusive; it is converted at the configured rate (`context.vat_rate`).

# fields.json maxLength: texts longer than this are refused by TED, so they are refused here
# rather than cut (a truncated description would misstate the contract).
MAX_TITLE = 400  # BT-21
MAX_DESCRIPTION = 6000  # BT-24
MAX_PUBLICATION_DELAY_DAYS = 60  # BT-738 may lie at most 60 days after BT-05 (rule stage 5)

# BT-105: our procedures to the `procurement-procedure-type` code list.
PROCEDURE_CODES = {
    Procedure.OPEN: "open",
    Procedure.RESTRICTED: "restricted",
    Procedure.COMPETITIVE_DIALOGUE: "comp-dial",
    Procedure.COMPETITIVE_NEGOTIATED: "neg-w-call",
}

# BT-50: the fewest candidates a two-stage procedure may invite (Directive 2014/24/EU
# Art. 65(2): five for a restricted procedure, three otherwise). The tender states no number.
MINIMUM_CANDIDATES = {
    Procedure.RESTRICTED: "5",
    Procedure.COMPETITIVE_DIALOGUE: "3",
    Procedure.COMPETITIVE_NEGOTIATED: "3",
}

# EMSCU's standard terms for every TED notice (not carried by the tender record).
TENDER_VALIDITY_MONTHS = "3"  # BT-98: how long tenders must remain valid (open procedures)
REVIEW_DEADLINES = (  # BT-99: PCR 2015 reg. 92(2); Procurement Act 2023 s. 106
    "Proceedings must be started within 30 days of the date on which the supplier first knew, "
    "or ought to have known, of the grounds for starting them."
)

NS = {
    None: "urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
}
XPATH_NS = {"cn": NS[None], **{k: v for k, v in NS.items() if k}}

ROOT = ElementMaker(namespace=NS[None], nsmap=NS)
CAC = ElementMaker(namespace=NS["cac"], nsmap=NS)
CBC = ElementMaker(namespace=NS["cbc"], nsmap=NS)
EXT = ElementMaker(namespace=NS["ext"], nsmap=NS)
EFAC = ElementMaker(namespace=NS["efac"], nsmap=NS)
EFEXT = ElementMaker(namespace=NS["efext"], nsmap=NS)

BUYER_ORG = "ORG-0001"
REVIEW_ORG = "ORG-0002"


def notice_id(key: str) -> str:
    """TED notice identifier (BT-701) of the delivery with idempotency key `key`: eForms requires
    a lower-case UUID v4 (fields.json pattern); deriving it keeps every re-send identical."""
    return uuid4_shaped("ted-notice", key)


def procedure_id(buyer: str, reference: str) -> str:
    """TED procedure identifier (BT-04): the same for every notice of one tender."""
    return uuid4_shaped("procedure", buyer, reference)


@dataclass(frozen=True)
class _LotScope:
    """One lot as the notice states it (a tender without lots is one lot covering the whole)."""

    lot_id: str
    title: str
    description: str
    nature: str
    value: Decimal | None
    cpv: list[str]


def build_notice(tender: Tender, context: RenderContext) -> bytes:
    """The contract notice as UTF-8 XML bytes (raises RenderError for what TED cannot carry)."""
    if tender.procedure not in PROCEDURE_CODES:
        raise RenderError(
            f"a {tender.procedure.value} is never advertised on TED: it is a call-off under a "
            "framework whose own notice was the call for competition"
        )
    if not 1 <= context.revision <= 99:
        raise RenderError(f"TED notice versions run from 01 to 99 (BT-757); got {context.revision}")
    for label, text, limit in _texts(tender):
        if len(text) > limit:
            raise RenderError(f"{label} is {len(text)} characters; TED accepts at most {limit}")
    if tender.documents_url is None:
        # Subtype 16 requires the procurement documents' address (BT-15, rule
        # ND-LotProcurementDocument-16) and the address for submission (BT-18): Directive
        # 2014/24/EU Art. 53 requires free electronic access from the date of publication.
        raise RenderError(
            "TED requires the address of the procurement documents (BT-15) and for submitting "
            "tenders (BT-18); the tender has no documents_url"
        )
    main_nature = _nature(tender.cpv[0])
    if main_nature != tender.contract_type.value:
        raise RenderError(
            f"the main CPV code {tender.cpv[0]} is a {main_nature} code but the contract is "
            f"{tender.contract_type.value}; TED requires them to agree (BT-23, BT-262)"
        )
    try:
        root = ROOT.ContractNotice(
            _extensions(tender, context),
            CBC.UBLVersionID("2.3"),
            CBC.CustomizationID(CUSTOMIZATION_ID),
            CBC.ID(notice_id(context.key), schemeName="notice-id"),  # BT-701
            CBC.ContractFolderID(procedure_id(tender.buyer, tender.reference)),  # BT-04
            CBC.IssueDate(_date(context.dispatched_at)),  # BT-05(a)
            CBC.IssueTime(_time(context.dispatched_at)),  # BT-05(b)
            CBC.VersionID(f"{context.revision:02d}"),  # BT-757
            *_preferred_publication(tender, context),
            CBC.RegulatoryDomain(LEGAL_BASIS),  # BT-01
            CBC.NoticeTypeCode("cn-standard", listName="competition"),  # BT-02, BT-03
            CBC.NoticeLanguageCode(LANGUAGE),  # BT-702(a)
            _contracting_party(context.buyer),
            _procedure_terms(tender),
            _procedure_process(tender),
            _procedure_scope(tender, context.vat_rate),
            *(_lot(tender, scope) for scope in _lots(tender, context.vat_rate)),
        )
    except ValueError as exc:  # lxml refuses characters XML 1.0 cannot carry
        raise RenderError(f"the tender contains text XML cannot carry: {exc}") from None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _texts(tender: Tender) -> Iterable[tuple[str, str, int]]:
    yield "the title (BT-21)", tender.title, MAX_TITLE
    yield "the description (BT-24)", tender.description, MAX_DESCRIPTION
    for lot in tender.lots:
        yield f"lot {lot.number}'s title (BT-21)", lot.title, MAX_TITLE
        if lot.description:
            yield f"lot {lot.number}'s description (BT-24)", lot.description, MAX_DESCRIPTION


def _date(moment: datetime) -> str:
    """An xsd:date with its offset, in UTC (eForms requires the offset)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dZ")


def _time(moment: datetime) -> str:
    """An xsd:time with its offset, in UTC."""
    return moment.astimezone(UTC).strftime("%H:%M:%SZ")


def _cpv(code: str) -> str:
    """A CPV code as eForms lists it: the 8 digits, without the check digit."""
    return code.split("-")[0]


def _nature(code: str) -> str:
    """The contract nature a CPV code belongs to (the divisions TED checks, BR-BT-00262-02nn)."""
    division = int(code[:2])
    if division == 45:
        return "works"
    if division <= 44 or division == 48:
        return "supplies"
    return "services"


def _amount(value: Decimal) -> etree._Element:
    return CBC.EstimatedOverallContractAmount(f"{value:.2f}", currencyID="GBP")


def _code(tag: str, list_name: str, value: str) -> etree._Element:
    return CBC(tag, value, listName=list_name)


def _text(tag: str, value: str) -> etree._Element:
    return CBC(tag, value, languageID=LANGUAGE)


def _org_ref(wrapper: str, org: str) -> etree._Element:
    return CAC(wrapper, CAC.PartyIdentification(CBC.ID(org, schemeName="organization")))


def _requirement(list_name: str, value: str) -> etree._Element:
    return CAC.TendererQualificationRequest(
        CAC.SpecificTendererRequirement(_code("TendererRequirementTypeCode", list_name, value))
    )


def _execution(list_name: str, value: str) -> etree._Element:
    return CAC.ContractExecutionRequirement(_code("ExecutionRequirementCode", list_name, value))


def _preferred_publication(tender: Tender, context: RenderContext) -> list[etree._Element]:
    """BT-738, only when the tender's publication date is later than the dispatch date."""
    wanted = tender.publication_date
    sent = context.dispatched_at.astimezone(UTC).date()
    if wanted is None or wanted <= sent:
        return []  # as soon as possible: TED's default
    if (wanted - sent).days > MAX_PUBLICATION_DELAY_DAYS:
        raise RenderError(
            f"the publication date {wanted} is more than {MAX_PUBLICATION_DELAY_DAYS} days after "
            f"the dispatch date {sent}; TED accepts a preferred date (BT-738) at most that late"
        )
    return [CBC.RequestedPublicationDate(wanted.strftime("%Y-%m-%dZ"))]


def _extensions(tender: Tender, context: RenderContext) -> etree._Element:
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
        EFAC.NoticeSubType(_code("SubTypeCode", "notice-subtype", SUBTYPE)),  # OPP-070
        EFAC.Organizations(
            _organisation(BUYER_ORG, context.buyer, buyer_contact),
            _organisation(REVIEW_ORG, review, review_contact),
        ),
    )
    return EXT.UBLExtensions(EXT.UBLExtension(EXT.ExtensionContent(eforms)))


def _organisation(org_id: str, org: Organisation, contact: etree._Element) -> etree._Element:
    """One organisation of efac:Organizations (OPT-200, BT-500 ... BT-514)."""
    company = EFAC.Company(
        CBC.WebsiteURI(org.website),  # BT-505
        CAC.PartyIdentification(CBC.ID(org_id, schemeName="organization")),  # OPT-200
        CAC.PartyName(_text("Name", org.legal_name)),  # BT-500
        CAC.PostalAddress(
            CBC.StreetName(org.address),  # BT-510(a)
            CBC.CityName(org.town),  # BT-513
            CBC.PostalZone(org.postcode),  # BT-512: required, GBR uses postcodes
            CAC.Country(_code("IdentificationCode", "country", COUNTRY)),  # BT-514
        ),
        CAC.PartyLegalEntity(CBC.CompanyID(org.org_id)),  # BT-501
        contact,
    )
    return EFAC.Organization(company)


def _contracting_party(buyer: Organisation) -> etree._Element:
    return CAC.ContractingParty(
        CAC.ContractingPartyType(_code("PartyTypeCode", "buyer-legal-type", buyer.legal_type)),
        CAC.ContractingActivity(_code("ActivityTypeCode", "authority-activity", buyer.activity)),
        _org_ref("Party", BUYER_ORG),  # OPT-300
    )


def _place(tender: Tender) -> etree._Element:
    """Place of performance: town (BT-5131), postcode (BT-5121), country (BT-5141)."""
    place = tender.place_of_performance
    address = [CBC.CityName(place.town)]
    if place.postcode:
        address.append(CBC.PostalZone(place.postcode))
    address.append(CAC.Country(_code("IdentificationCode", "country", COUNTRY)))
    return CAC.RealizedLocation(CAC.Address(*address))


def _classifications(codes: list[str]) -> list[etree._Element]:
    """BT-262 (main) and BT-263 (additional) CPV codes."""
    main, *additional = codes
    return [
        CAC.MainCommodityClassification(_code("ItemClassificationCode", "cpv", _cpv(main))),
        *(
            CAC.AdditionalCommodityClassification(_code("ItemClassificationCode", "cpv", _cpv(c)))
            for c in additional
        ),
    ]


def _procedure_scope(tender: Tender, vat_rate: Decimal) -> etree._Element:
    return CAC.ProcurementProject(
        CBC.ID(tender.reference, schemeName="InternalID"),  # BT-22: the buyer's reference
        _text("Name", tender.title),  # BT-21
        _text("Description", tender.description),  # BT-24
        _code("ProcurementTypeCode", "contract-nature", tender.contract_type.value),  # BT-23
        CAC.RequestedTenderTotal(_amount(tender.estimated_value.net(vat_rate))),  # BT-27
        *_classifications(tender.cpv),
        _place(tender),
    )


def _lots(tender: Tender, vat_rate: Decimal) -> list[_LotScope]:
    if not tender.lots:
        whole = _LotScope(
            "LOT-0001",
            tender.title,
            tender.description,
            tender.contract_type.value,
            tender.estimated_value.net(vat_rate),
            tender.cpv,
        )
        return [whole]
    return [_lot_scope(tender, lot, vat_rate) for lot in sorted(tender.lots, key=lambda lot: lot.number)]


def _lot_scope(tender: Tender, lot: Lot, vat_rate: Decimal) -> _LotScope:
    # BT-24-Lot is mandatory; a lot given without a description is described by its title.
    # A lot without its own CPV codes is classified under the tender's main code. A lot's
    # nature (BT-23-Lot) is the one its main CPV code belongs to: a services tender may have
    # a supplies lot (e.g. the devices of a managed service), and TED checks they agree.
    cpv = lot.cpv or tender.cpv[:1]
    return _LotScope(
        lot_id=f"LOT-{lot.number:04d}",
        title=lot.title,
        description=lot.description or lot.title,
        nature=_nature(cpv[0]),
        value=lot.estimated_value.net(vat_rate) if lot.estimated_value else None,
        cpv=cpv,
    )


def _procedure_process(tender: Tender) -> etree._Element:
    code = PROCEDURE_CODES[tender.procedure]
    process = [_code("ProcedureCode", "procurement-procedure-type", code)]
    if tender.procedure is not Procedure.COMPETITIVE_DIALOGUE:
        # BT-106: no accelerated procedure is claimed. A competitive dialogue cannot be
        # accelerated (Directive 2014/24/EU Arts. 27-30), so TED forbids the field there.
        process.append(CAC.ProcessJustification(_code("ProcessReasonCode", "accelerated-procedure", "false")))
    return CAC.TenderingProcess(*process)  # BT-105


def _procedure_terms(tender: Tender) -> etree._Element:
    terms = [_requirement("exclusion-grounds-source", "epo-procurement-document")]  # BT-806
    if len(tender.lots) > 1:
        # BT-31: the tender sets no limit, so a tenderer may bid for every lot.
        terms.append(CAC.LotDistribution(CBC.MaximumLotsSubmittedNumeric(str(len(tender.lots)))))
    return CAC.TenderingTerms(*terms)


def _lot(tender: Tender, scope: _LotScope) -> etree._Element:
    return CAC.ProcurementProjectLot(
        CBC.ID(scope.lot_id, schemeName="Lot"),  # BT-137
        _lot_terms(tender),
        _lot_process(tender),
        _lot_project(tender, scope),
    )


def _lot_terms(tender: Tender) -> etree._Element:
    terms: list[etree._Element] = [
        _code("FundingProgramCode", "eu-funded", "no-eu-funds"),  # BT-60: UK bodies, no EU funds
    ]
    documents = tender.documents_url or ""  # build_notice refused a tender without it
    terms.append(
        CAC.CallForTendersDocumentReference(
            CBC.ID(tender.reference),
            CBC.DocumentType("non-restricted-document"),  # BT-14: freely accessible
            CAC.Attachment(CAC.ExternalReference(CBC.URI(documents))),  # BT-15
        )
    )
    terms += [
        _requirement("reserved-procurement", "none"),  # BT-71
        _requirement("selection-criteria-source", "epo-procurement-document"),  # BT-821
        _execution("reserved-execution", "no"),  # BT-736
        _execution("einvoicing", "allowed"),  # BT-743
        _execution("ecatalog-submission", "not-allowed"),  # BT-764
    ]
    # BT-18: tenders are submitted on the e-tendering portal that holds the documents.
    terms.append(CAC.TenderRecipientParty(CBC.EndpointID(documents)))
    if tender.procedure is Procedure.OPEN:
        terms.append(
            CAC.TenderValidityPeriod(  # BT-98
                CBC.DurationMeasure(TENDER_VALIDITY_MONTHS, unitCode="MONTH")
            )
        )
    terms += [
        CAC.AppealTerms(
            CAC.PresentationPeriod(_text("Description", REVIEW_DEADLINES)),  # BT-99
            _org_ref("AppealReceiverParty", REVIEW_ORG),  # OPT-301-Lot-ReviewOrg
        ),
        CAC.Language(CBC.ID(LANGUAGE)),  # BT-97
        CAC.PostAwardProcess(
            CBC.ElectronicOrderUsageIndicator("false"),  # BT-92
            CBC.ElectronicPaymentUsageIndicator("true"),  # BT-93
        ),
    ]
    return CAC.TenderingTerms(*terms)


def _lot_process(tender: Tender) -> etree._Element:
    process: list[etree._Element] = [_code("SubmissionMethodCode", "esubmission", "required")]
    if tender.procedure in (Procedure.COMPETITIVE_DIALOGUE, Procedure.COMPETITIVE_NEGOTIATED):
        # BT-52: no elimination of participants in successive stages is announced.
        process.append(CBC.CandidateReductionConstraintIndicator("false"))
    process.append(CBC.GovernmentAgreementConstraintIndicator("true"))  # BT-115: UK is in GPA
    deadline = tender.submission_deadline
    if deadline is not None:
        period = [CBC.EndDate(_date(deadline)), CBC.EndTime(_time(deadline))]
        if tender.procedure is Procedure.OPEN:
            process.append(CAC.TenderSubmissionDeadlinePeriod(*period))  # BT-131
        else:
            # Two-stage procedures advertise the deadline for requests to participate; the
            # tender deadline is set later in the invitation to the selected candidates.
            process.append(CAC.ParticipationRequestReceptionPeriod(*period))  # BT-1311
    if tender.procedure in MINIMUM_CANDIDATES:
        process.append(
            CAC.EconomicOperatorShortList(
                CBC.LimitationDescription("false"),  # BT-661: no maximum number is announced
                CBC.MinimumQuantity(MINIMUM_CANDIDATES[tender.procedure]),  # BT-50
            )
        )
    process += [
        CAC.AuctionTerms(CBC.AuctionConstraintIndicator("false")),  # BT-767
        CAC.ContractingSystem(_code("ContractingSystemTypeCode", "framework-agreement", "none")),
        CAC.ContractingSystem(_code("ContractingSystemTypeCode", "dps-usage", "none")),  # BT-766
    ]
    return CAC.TenderingProcess(*process)


def _lot_project(tender: Tender, scope: _LotScope) -> etree._Element:
    project: list[etree._Element] = [
        _text("Name", scope.title),  # BT-21-Lot
        _text("Description", scope.description),  # BT-24-Lot
        _code("ProcurementTypeCode", "contract-nature", scope.nature),  # BT-23-Lot
        CBC.SMESuitableIndicator("true" if tender.sme_suitable else "false"),  # BT-726-Lot
    ]
    if scope.value is not None:
        project.append(CAC.RequestedTenderTotal(_amount(scope.value)))  # BT-27-Lot
    project += [*_classifications(scope.cpv), _place(tender)]
    if tender.duration_months is not None:
        project.append(
            CAC.PlannedPeriod(  # BT-36
                CBC.DurationMeasure(str(tender.duration_months), unitCode="MONTH")
            )
        )
    else:
        project.append(
            CAC.PlannedPeriod(  # BT-538: the tender does not state a duration
                _code("DescriptionCode", "timeperiod", "UNKNOWN")
            )
        )
    return CAC.ProcurementProject(*project)
