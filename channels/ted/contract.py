"""The eForms contract notice: subtype 16 (`cn-standard`, Directive 2014/24/EU, standard
regime), built with lxml from a tender version and its render context. Pure: the same tender
and context always give the same bytes. A change notice is the same document with efac:Changes
in its extension (`channels/ted/change.py`).

    ContractNotice
     +-- UBLExtensions/.../EformsExtension   [efac:Changes] subtype 16; ORG-0001, ORG-0002
     +-- header                              BT-701, BT-04, BT-05, BT-757, [BT-738], BT-02/03
     +-- ContractingParty                    BT-11 legal type, BT-10 activity, -> ORG-0001
     +-- TenderingTerms                      BT-806 exclusion grounds, BT-31
     +-- TenderingProcess                    BT-105 procedure, BT-106 accelerated
     +-- ProcurementProject                  BT-22, BT-21, BT-24, BT-23, BT-27, BT-262/263, place
     +-- ProcurementProjectLot * n           LOT-nnnn: terms, process (deadline), scope

The values that are not in the tender are EMSCU's standard terms, kept together below so a
reviewer sees every assumption in one place (docs/channels/ted.md).
"""

from __future__ import annotations

from datetime import UTC

from lxml import etree

from channels.ted.sections import (
    PROCEDURE_CODES,
    LotScope,
    appeal_terms,
    check_tender,
    classifications,
    contracting_party,
    extension,
    header,
    lots,
    place,
    procedure_scope,
)
from channels.ted.ubl import (
    CAC,
    CBC,
    CONTRACT_NOTICE,
    LANGUAGE,
    amount,
    code,
    date,
    document,
    root_maker,
    text,
    time,
)
from syndicator.channel.base import RenderContext, RenderError
from syndicator.domain.tender import Procedure, Tender

SUBTYPE = "16"  # OPP-070: contract notice, general directive, standard regime
NOTICE_TYPE = ("cn-standard", "competition")  # BT-02, BT-03
MAX_PUBLICATION_DELAY_DAYS = 60  # BT-738 may lie at most 60 days after BT-05 (rule stage 5)

# BT-50: the fewest candidates a two-stage procedure may invite (Directive 2014/24/EU
# Art. 65(2): five for a restricted procedure, three otherwise). The tender states no number.
MINIMUM_CANDIDATES = {
    Procedure.RESTRICTED: "5",
    Procedure.COMPETITIVE_DIALOGUE: "3",
    Procedure.COMPETITIVE_NEGOTIATED: "3",
}

# EMSCU's standard terms for every contract notice (not carried by the tender record); the
# review deadlines (BT-99) every notice states are in sections.py.
TENDER_VALIDITY_MONTHS = "3"  # BT-98: how long tenders must remain valid (open procedures)

ROOT = root_maker(CONTRACT_NOTICE)


def build_notice(tender: Tender, context: RenderContext, changes: etree._Element | None = None) -> bytes:
    """The contract notice as UTF-8 XML bytes (raises RenderError for what TED cannot carry).

    With `changes` (an efac:Changes element) it is a change notice: the same complete notice
    of the new version, which TED publishes as changing the notice it names."""
    check_tender(tender)
    if tender.documents_url is None:
        # Subtype 16 requires the procurement documents' address (BT-15, rule
        # ND-LotProcurementDocument-16) and the address for submission (BT-18): Directive
        # 2014/24/EU Art. 53 requires free electronic access from the date of publication.
        raise RenderError(
            "TED requires the address of the procurement documents (BT-15) and for submitting "
            "tenders (BT-18); the tender has no documents_url"
        )
    # A change notice is published as soon as possible: the preferred date (BT-738) belongs
    # to the advert it changes.
    preferred = _preferred_publication(tender, context) if changes is None else []

    def make() -> etree._Element:
        return ROOT.ContractNotice(
            extension(SUBTYPE, tender, context, *([changes] if changes is not None else [])),
            *header(tender, context, NOTICE_TYPE, preferred),
            contracting_party(context.buyer),
            _procedure_terms(tender),
            _procedure_process(tender),
            procedure_scope(tender, context.vat_rate),
            *(_lot(tender, scope) for scope in lots(tender, context.vat_rate)),
        )

    return document(make)


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


def _requirement(list_name: str, value: str) -> etree._Element:
    return CAC.TendererQualificationRequest(
        CAC.SpecificTendererRequirement(code("TendererRequirementTypeCode", list_name, value))
    )


def _execution(list_name: str, value: str) -> etree._Element:
    return CAC.ContractExecutionRequirement(code("ExecutionRequirementCode", list_name, value))


def _procedure_process(tender: Tender) -> etree._Element:
    process = [code("ProcedureCode", "procurement-procedure-type", PROCEDURE_CODES[tender.procedure])]
    if tender.procedure is not Procedure.COMPETITIVE_DIALOGUE:
        # BT-106: no accelerated procedure is claimed. A competitive dialogue cannot be
        # accelerated (Directive 2014/24/EU Arts. 27-30), so TED forbids the field there.
        process.append(CAC.ProcessJustification(code("ProcessReasonCode", "accelerated-procedure", "false")))
    return CAC.TenderingProcess(*process)  # BT-105


def _procedure_terms(tender: Tender) -> etree._Element:
    terms = [_requirement("exclusion-grounds-source", "epo-procurement-document")]  # BT-806
    if len(tender.lots) > 1:
        # BT-31: the tender sets no limit, so a tenderer may bid for every lot.
        terms.append(CAC.LotDistribution(CBC.MaximumLotsSubmittedNumeric(str(len(tender.lots)))))
    return CAC.TenderingTerms(*terms)


def _lot(tender: Tender, scope: LotScope) -> etree._Element:
    return CAC.ProcurementProjectLot(
        CBC.ID(scope.lot_id, schemeName="Lot"),  # BT-137
        _lot_terms(tender),
        _lot_process(tender),
        _lot_project(tender, scope),
    )


def _lot_terms(tender: Tender) -> etree._Element:
    terms: list[etree._Element] = [
        code("FundingProgramCode", "eu-funded", "no-eu-funds"),  # BT-60: UK bodies, no EU funds
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
        appeal_terms(),
        CAC.Language(CBC.ID(LANGUAGE)),  # BT-97
        CAC.PostAwardProcess(
            CBC.ElectronicOrderUsageIndicator("false"),  # BT-92
            CBC.ElectronicPaymentUsageIndicator("true"),  # BT-93
        ),
    ]
    return CAC.TenderingTerms(*terms)


def _lot_process(tender: Tender) -> etree._Element:
    process: list[etree._Element] = [code("SubmissionMethodCode", "esubmission", "required")]
    if tender.procedure in (Procedure.COMPETITIVE_DIALOGUE, Procedure.COMPETITIVE_NEGOTIATED):
        # BT-52: no elimination of participants in successive stages is announced.
        process.append(CBC.CandidateReductionConstraintIndicator("false"))
    process.append(CBC.GovernmentAgreementConstraintIndicator("true"))  # BT-115: UK is in GPA
    deadline = tender.submission_deadline
    if deadline is not None:
        period = [CBC.EndDate(date(deadline)), CBC.EndTime(time(deadline))]
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
        CAC.ContractingSystem(code("ContractingSystemTypeCode", "framework-agreement", "none")),
        CAC.ContractingSystem(code("ContractingSystemTypeCode", "dps-usage", "none")),  # BT-766
    ]
    return CAC.TenderingProcess(*process)


def _lot_project(tender: Tender, scope: LotScope) -> etree._Element:
    project: list[etree._Element] = [
        text("Name", scope.title),  # BT-21-Lot
        text("Description", scope.description),  # BT-24-Lot
        code("ProcurementTypeCode", "contract-nature", scope.nature),  # BT-23-Lot
        CBC.SMESuitableIndicator("true" if tender.sme_suitable else "false"),  # BT-726-Lot
    ]
    if scope.value is not None:
        project.append(CAC.RequestedTenderTotal(amount(scope.value)))  # BT-27-Lot
    project += [*classifications(scope.cpv), place(tender)]
    if tender.duration_months is not None:
        project.append(
            CAC.PlannedPeriod(  # BT-36
                CBC.DurationMeasure(str(tender.duration_months), unitCode="MONTH")
            )
        )
    else:
        project.append(
            CAC.PlannedPeriod(  # BT-538: the tender does not state a duration
                code("DescriptionCode", "timeperiod", "UNKNOWN")
            )
        )
    return CAC.ProcurementProject(*project)
