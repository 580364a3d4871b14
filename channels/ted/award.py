"""The eForms contract award notice: subtype 29 (`can-standard`, Directive 2014/24/EU,
standard regime), root `ContractAwardNotice`, a new notice id (BT-701) and the procedure id
(BT-04) of the contract notice it concludes (both identifiers.py). Two notices take this form:
the award (`build_award_notice`: each lot's winner or why it has none, from the award record)
and a withdrawal after a lot's deadline (`build_no_award`: every lot closed without a winner,
as the official example `can_24_no_tenders.xml`).

    ContractAwardNotice
     +-- UBLExtensions/.../EformsExtension   efac:NoticeResult (results.py: one efac:LotResult
     |                                       per lot, winning tenders, contracts, parties),
     |                                       subtype 29, organisations (buyer, review, winners)
     +-- header                              BT-701, BT-04, BT-05, BT-757, BT-02/03 can-standard
     +-- ContractingParty                    as in the contract notice
     +-- TenderingProcess                    BT-105 procedure
     +-- ProcurementProject                  BT-22, BT-21, BT-24, BT-23, BT-300 note, BT-27, CPV
     +-- ProcurementProjectLot * n           LOT-nnnn: review body, GPA, no framework/DPS, scope
     +-- TenderResult/AwardDate              OPT-999: a dummy the UBL XSD requires, always
                                             2000-01-01Z (eForms SDK field_en.xml)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from lxml import etree

from channels.ted.results import CLOSED_NO_WINNER, LotOutcome, notice_result, outcomes
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
    CONTRACT_AWARD_NOTICE,
    amount,
    code,
    document,
    prose,
    root_maker,
    text,
)
from syndicator.channel.base import RenderContext, RenderError
from syndicator.domain.award import Award
from syndicator.domain.notices import Notice
from syndicator.domain.tender import Tender

SUBTYPE = "29"  # OPP-070: contract award notice, general directive, standard regime
NOTICE_TYPE = ("can-standard", "result")  # BT-02, BT-03
DUMMY_AWARD_DATE = "2000-01-01Z"  # OPT-999: "will always be '2000-01-01Z'"
MAX_NOTE = 10000  # BT-300-Procedure (fields.json maxLength)

# BT-144 of a withdrawal: the competition is closed without a winner (`clos-nw`). Every
# justification but `no-rece` obliges the notice to state how many tenders were received, by
# kind and by tenderer size (BT-759/BT-760, rules BR-BT-00760-0099 and BR-BT-13713-0123); a
# withdrawal records no such count, and a count must never be made up. So the notice says
# `no-rece`, as the official example can_24_no_tenders.xml does, and the buyer's own reason
# is stated beside it in BT-300.
# (docs/channels/ted.md: when tenders were received, the count has to be recorded first.)
WITHDRAWN = "no-rece"

# EMSCU's standard award terms (MEAT, PCR 2015 reg. 67), which subtype 29 must restate
# (ND-LotAwardCriteria-29, BR-BT-00539-0190, BR-BT-00543-0088); the tender record does not
# carry its criteria, so the notice points to the procurement documents for them.
AWARD_CRITERIA = (  # (BT-539 type, BT-540 description)
    ("quality", "Quality, as set out and weighted in the procurement documents."),
    ("price", "Price, as set out and weighted in the procurement documents."),
)
AWARD_WEIGHTING = "The criteria are weighted as stated in the procurement documents."  # BT-543


def build_award_notice(notice: Notice, context: RenderContext) -> bytes:
    """The award notice of `notice.tender`: every lot's result from `notice.award`."""
    award = notice.award
    if award is None:
        raise RenderError("an award notice needs the award decision; the notice carries none")
    _check_dates(award, context)
    scopes = lots(notice.tender, context.vat_rate)
    found = outcomes(award, [scope.lot_id for scope in scopes])
    return build_award(notice.tender, context, found, award=award)


def _check_dates(award: Award, context: RenderContext) -> None:
    """The decision (BT-1451) and every signing (BT-145) lie on or before the dispatch date
    (BT-05): TED refuses a notice of what has not happened yet (BR-BT-01451-0101)."""
    sent = context.dispatched_at.astimezone(UTC).date()
    signed = [lot.contract.signed_on for lot in award.lots if lot.contract and lot.contract.signed_on]
    latest = max([award.decision_date, *signed])
    if latest > sent:
        raise RenderError(f"the award notice is dispatched on {sent}, before the award's date {latest}")


def build_no_award(notice: Notice, context: RenderContext) -> bytes:
    """The award notice closing every lot of `notice.tender` without a winner (a withdrawal
    after a deadline); the reason for the withdrawal is its BT-300."""
    scopes = lots(notice.tender, context.vat_rate)
    outcomes = [LotOutcome(scope.lot_id, CLOSED_NO_WINNER, WITHDRAWN) for scope in scopes]
    reason = prose(notice.reason or "")
    note = f"The procedure is withdrawn. Reason: {reason}" if reason else "The procedure is withdrawn."
    return build_award(notice.tender, context, outcomes, note=note)


def build_award(
    tender: Tender,
    context: RenderContext,
    results: Sequence[LotOutcome],
    note: str | None = None,
    award: Award | None = None,
) -> bytes:
    """The contract award notice of `tender` with one result per lot (RenderError for what
    TED cannot carry); `award` is the record the winners come from."""
    check_tender(tender)
    if note is not None and len(note) > MAX_NOTE:
        raise RenderError(f"the additional information is {len(note)} characters; TED accepts {MAX_NOTE}")
    scopes = lots(tender, context.vat_rate)
    known = {scope.lot_id for scope in scopes}
    if {outcome.lot_id for outcome in results} != known:
        raise RenderError("an award notice states a result for every lot, and only for those")
    stated, winners = notice_result(results, award, context.vat_rate)
    root = root_maker(CONTRACT_AWARD_NOTICE)

    def make() -> etree._Element:
        return root.ContractAwardNotice(
            extension(SUBTYPE, tender, context, stated, parties=winners),
            *header(tender, context, NOTICE_TYPE),
            contracting_party(context.buyer),
            CAC.TenderingProcess(  # BT-105
                code("ProcedureCode", "procurement-procedure-type", PROCEDURE_CODES[tender.procedure])
            ),
            procedure_scope(tender, context.vat_rate, note),
            *(_lot(tender, scope) for scope in scopes),
            CAC.TenderResult(CBC.AwardDate(DUMMY_AWARD_DATE)),  # OPT-999
        )

    return document(make)


def _award_terms() -> etree._Element:
    criteria = [
        CAC.SubordinateAwardingCriterion(
            code("AwardingCriterionTypeCode", "award-criterion-type", kind),  # BT-539
            text("Description", description),  # BT-540
        )
        for kind, description in AWARD_CRITERIA
    ]
    return CAC.AwardingTerms(
        CAC.AwardingCriterion(text("CalculationExpression", AWARD_WEIGHTING), *criteria)  # BT-543
    )


def _lot(tender: Tender, scope: LotScope) -> etree._Element:
    return CAC.ProcurementProjectLot(
        CBC.ID(scope.lot_id, schemeName="Lot"),  # BT-137
        CAC.TenderingTerms(
            code("FundingProgramCode", "eu-funded", "no-eu-funds"),  # BT-60
            _award_terms(),
            appeal_terms(),
        ),
        CAC.TenderingProcess(
            CBC.GovernmentAgreementConstraintIndicator("true"),  # BT-115
            CAC.AuctionTerms(CBC.AuctionConstraintIndicator("false")),  # BT-767
            CAC.ContractingSystem(code("ContractingSystemTypeCode", "framework-agreement", "none")),
            CAC.ContractingSystem(code("ContractingSystemTypeCode", "dps-usage", "none")),  # BT-766
        ),
        CAC.ProcurementProject(
            text("Name", scope.title),  # BT-21-Lot
            text("Description", scope.description),  # BT-24-Lot
            code("ProcurementTypeCode", "contract-nature", scope.nature),  # BT-23-Lot
            *([CAC.RequestedTenderTotal(amount(scope.value))] if scope.value is not None else []),
            *classifications(scope.cpv),
            place(tender),
        ),
    )
