"""The results section of a contract award notice (subtype 29): what became of each lot, built
from our award record. Every lot gets one efac:LotResult; an awarded lot's winning tender, the
party that submitted it and the contract concluded with it are listed once beside the results
and referred to by id (eForms SDK 1.15 `can_24_minimal.xml`, `can_24_maximal.xml`):

    efac:NoticeResult
     +-- cbc:TotalAmount                 BT-161  every winning tender's value, net of VAT
     +-- efac:LotResult * lot            RES-nnnn
     |    +-- TenderResultCode           BT-142  selec-w / clos-nw / open-nw
     |    +-- DecisionReason             BT-144  why no winner (clos-nw)
     |    +-- LotTender                  -> TEN-nnnn, the winning tender
     |    +-- ReceivedSubmissionsStatistics * 3   BT-759/BT-760 tenders, t-sme, t-large
     |    +-- SettledContract            -> CON-nnnn
     |    +-- TenderLot                  BT-13713 LOT-nnnn
     +-- efac:LotTender * winner         TEN-nnnn: BT-720 value, -> TPA-nnnn, -> LOT-nnnn
     +-- efac:SettledContract * winner   CON-nnnn: BT-1451 decision, BT-145 conclusion,
     |                                   BT-150 reference, -> TEN-nnnn
     +-- efac:TenderingParty * winner    TPA-nnnn: -> ORG-nnnn each supplier (OPT-170 leader)

    efac:Organizations                   ORG-0003 on: each supplier once (BT-165 size, BT-500
                                         name, BT-501 company id, BT-510/513/512/514 address)

One awarded lot is one tender: our record gives one value per lot, so several suppliers on a
lot tendered together (a group, the first its leader; no framework is ever advertised on TED).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from channels.ted.sections import BUYER_ORG
from channels.ted.ubl import CAC, CBC, EFAC, EFBC, code, org_ref, text
from syndicator.channel.base import RenderError
from syndicator.domain.award import Award, LotAward, NonAwardReason, Supplier

SUBCONTRACTING = "not-known"  # BT-773 `applicability`: yes, no, not-known
FIRST_PARTY = 3  # ORG-0001 is the buyer, ORG-0002 the review body
CURRENCY = "GBP"

# BT-142 `winner-selection-status`.
WINNER = "selec-w"  # at least one winner was chosen
CLOSED_NO_WINNER = "clos-nw"  # no winner, and the competition is closed
OPEN_NO_WINNER = "open-nw"  # no winner yet, the competition goes on

# BT-144 `non-award-justification`: our reasons to the nearest code. "No suitable tenders"
# (Directive 2014/24/EU Art. 32(2)(a)) has no code of its own: an unsuitable tender is one
# the buyer could not accept, so it is stated as `all-rej` (every tender withdrawn or found
# inadmissible), as is a competition whose tenders were all rejected.
NON_AWARD_CODES = {
    NonAwardReason.NO_TENDERS: "no-rece",  # no tenders or requests to participate were received
    NonAwardReason.NO_SUITABLE_TENDERS: "all-rej",
    NonAwardReason.ALL_REJECTED: "all-rej",
    NonAwardReason.REQUIREMENT_CHANGED: "chan-need",  # the buyer's decision: its needs changed
    NonAwardReason.INSUFFICIENT_FUNDS: "ins-fund",  # the buyer's decision: insufficient funds
}

# BT-514: ISO 3166-1 alpha-3, as eForms writes countries, for the alpha-2 codes of our record.
# The UK's and its neighbours' suppliers; another country is refused rather than guessed.
COUNTRIES = {
    "GB": "GBR", "IE": "IRL", "FR": "FRA", "DE": "DEU", "NL": "NLD", "BE": "BEL", "LU": "LUX",
    "DK": "DNK", "SE": "SWE", "NO": "NOR", "FI": "FIN", "ES": "ESP", "PT": "PRT", "IT": "ITA",
    "AT": "AUT", "CH": "CHE", "PL": "POL", "CZ": "CZE", "US": "USA", "CA": "CAN",
}  # fmt: skip


@dataclass(frozen=True)
class LotOutcome:
    """What became of one lot: BT-142, with no winner BT-144, and for an awarded lot the
    record of its award with the tenders received (all and from SMEs)."""

    lot_id: str
    status: str  # winner-selection-status: selec-w, clos-nw, open-nw
    non_award: str | None = None  # non-award-justification, for clos-nw
    awarded: LotAward | None = None
    received: int | None = None  # BT-759 `tenders`
    smes: int | None = None  # `t-sme`; `t-large` is the rest
    eea: int | None = None  # `t-oth-eea`: from tenderers in EU/EEA countries
    non_eea: int | None = None  # `t-no-eea`: from tenderers outside the UK and the EEA


@dataclass(frozen=True)
class Winner:
    """The ids one awarded lot's winning tender is known by: tender, party, contract."""

    number: int
    outcome: LotOutcome
    lot: LotAward

    @property
    def tender(self) -> str:
        """OPT-321: TEN-nnnn."""
        return f"TEN-{self.number:04d}"

    @property
    def party(self) -> str:
        """OPT-210: TPA-nnnn."""
        return f"TPA-{self.number:04d}"

    @property
    def contract(self) -> str:
        """OPT-316: CON-nnnn."""
        return f"CON-{self.number:04d}"


def outcomes(award: Award, lot_ids: Sequence[str]) -> list[LotOutcome]:
    """One outcome per lot the notice states: the record's, or `open-nw` for a lot the
    record does not decide yet (the competition for it goes on)."""
    found = []
    for each in lot_ids:
        number = int(each.removeprefix("LOT-"))
        lot = award.lot(number) or (award.lot(None) if number == 1 and len(lot_ids) == 1 else None)
        if lot is None:
            found.append(LotOutcome(each, OPEN_NO_WINNER))
            continue
        counts = (
            award.received(lot.lot),
            award.breakdown("sme", lot.lot),
            award.breakdown("eea", lot.lot),
            award.breakdown("non_eea", lot.lot),
        )
        if lot.reason is not None:
            found.append(LotOutcome(each, CLOSED_NO_WINNER, NON_AWARD_CODES[lot.reason], None, *counts))
        else:
            found.append(LotOutcome(each, WINNER, None, lot, *counts))
    return found


def notice_result(
    outcomes: Sequence[LotOutcome], award: Award | None, vat_rate: Decimal
) -> tuple[etree._Element, list[etree._Element]]:
    """efac:NoticeResult, and the winners' efac:Organization elements (ORG-0003 on)."""
    winners = [
        Winner(n, outcome, outcome.awarded)
        for n, outcome in enumerate((o for o in outcomes if o.awarded is not None), 1)
        if outcome.awarded is not None
    ]
    organisations = _organisation_ids(winners)
    results: list[etree._Element] = []
    if winners:
        total = sum((_net(w.lot, vat_rate) for w in winners), Decimal(0))
        results.append(CBC.TotalAmount(f"{total:.2f}", currencyID=CURRENCY))  # BT-161
    by_lot = {w.outcome.lot_id: w for w in winners}
    results += [_lot_result(n, o, by_lot.get(o.lot_id)) for n, o in enumerate(outcomes, 1)]
    results += [_lot_tender(w, vat_rate) for w in winners]
    if award is not None:
        results += [_settled_contract(w, award.decision_date) for w in winners]
    results += [_tendering_party(w, organisations) for w in winners]
    parties = [_winner_organisation(org, supplier) for supplier, org in organisations.values()]
    return EFAC.NoticeResult(*results), parties


def _net(lot: LotAward, vat_rate: Decimal) -> Decimal:
    assert lot.value is not None  # LotAward requires a value for an awarded lot
    return lot.value.net(vat_rate)


def _organisation_ids(winners: Sequence[Winner]) -> dict[str, tuple[Supplier, str]]:
    """Each supplier once, by its identifier (`GB-COH-01234567`), with its ORG-nnnn."""
    found: dict[str, tuple[Supplier, str]] = {}
    for winner in winners:
        for supplier in winner.lot.suppliers:
            key = supplier.identifier.text()
            if key not in found:
                found[key] = (supplier, f"ORG-{FIRST_PARTY + len(found):04d}")
    return found


def _lot_result(number: int, outcome: LotOutcome, winner: Winner | None) -> etree._Element:
    result = [
        CBC.ID(f"RES-{number:04d}", schemeName="result"),  # OPT-322
        code("TenderResultCode", "winner-selection-status", outcome.status),  # BT-142
    ]
    if outcome.non_award is not None:
        result.append(
            EFAC.DecisionReason(  # BT-144
                EFBC.DecisionReasonCode(outcome.non_award, listName="non-award-justification")
            )
        )
    if winner is not None:
        result.append(EFAC.LotTender(CBC.ID(winner.tender, schemeName="tender")))  # OPT-320
    result += _statistics(outcome)
    if winner is not None:
        result.append(EFAC.SettledContract(CBC.ID(winner.contract, schemeName="contract")))  # OPT-315
    result.append(EFAC.TenderLot(CBC.ID(outcome.lot_id, schemeName="Lot")))  # BT-13713
    return EFAC.LotResult(*result)


def _statistics(outcome: LotOutcome) -> list[etree._Element]:
    """BT-759/BT-760: the tenders received, by tenderer size and origin.

    TED requires them for every lot with a winner, and for a lot closed without one unless
    none were received (BR-BT-00760-0099); once given, subtype 29 must state `t-large` and
    `t-sme` (BR-BT-13713-0117, -0123, -0124), `t-oth-eea` and `t-no-eea` (-0122, -0118) and
    `t-esubm` (-0119). Every tender was submitted electronically: the contract notice required
    it (BT-17 `required`), so `t-esubm` is all of them. The other counts are never made up:
    without them in the award record the notice is refused. For a UK buyer the UK is the
    home country, so `t-no-eea` counts tenderers outside both the UK and the EEA."""
    if outcome.status == OPEN_NO_WINNER or outcome.non_award == NON_AWARD_CODES[NonAwardReason.NO_TENDERS]:
        return []
    received, smes, eea, non_eea = outcome.received, outcome.smes, outcome.eea, outcome.non_eea
    if received is None or smes is None or eea is None or non_eea is None:
        raise RenderError(
            f"TED requires the number of tenders received for {outcome.lot_id}, and how many came "
            "from SMEs, from EU/EEA countries and from elsewhere abroad (BT-759, BT-760); give "
            "tenders_received, sme_tenders_received, eea_tenders_received and "
            "non_eea_tenders_received in the award"
        )
    counts = (
        ("tenders", received),
        ("t-sme", smes),
        ("t-large", received - smes),
        ("t-oth-eea", eea),
        ("t-no-eea", non_eea),
        ("t-esubm", received),
    )
    return [
        EFAC.ReceivedSubmissionsStatistics(
            EFBC.StatisticsCode(kind, listName="received-submission-type"),  # BT-760
            EFBC.StatisticsNumeric(str(count)),  # BT-759
        )
        for kind, count in counts
    ]


def _lot_tender(winner: Winner, vat_rate: Decimal) -> etree._Element:
    return EFAC.LotTender(
        CBC.ID(winner.tender, schemeName="tender"),  # OPT-321
        CAC.LegalMonetaryTotal(  # BT-720: the winning tender's value, net of VAT
            CBC.PayableAmount(f"{_net(winner.lot, vat_rate):.2f}", currencyID=CURRENCY)
        ),
        # BT-773: whether the winner subcontracts is not in our record: `not-known`.
        EFAC.SubcontractingTerm(EFBC.TermCode(SUBCONTRACTING, listName="applicability")),
        EFAC.TenderingParty(CBC.ID(winner.party, schemeName="tendering-party")),  # OPT-210
        EFAC.TenderLot(CBC.ID(winner.outcome.lot_id, schemeName="Lot")),  # BT-13714
        EFAC.TenderReference(CBC.ID(winner.tender)),  # BT-3201: our id of the tender
    )


def _settled_contract(winner: Winner, decided: date) -> etree._Element:
    """The contract concluded with the winner: BT-1451 the award decision, BT-145 the day it
    was signed.

    Under the directives the award notice reports a contract already concluded (Directive
    2014/24/EU Art. 50(1): within 30 days after its conclusion), and TED requires BT-145 for
    every contract with a winning tender (BR-BT-00145-0036). The decision date is not the
    date of conclusion, so a lot not yet signed is refused rather than dated wrongly; the
    notice is sent again once the signing is recorded."""
    terms = winner.lot.contract
    if terms is None or terms.signed_on is None:
        raise RenderError(
            f"TED's award notice reports concluded contracts (Directive 2014/24/EU Art. 50; "
            f"BT-145): the contract for {winner.outcome.lot_id} has no signing date yet; "
            "record the contract as signed, then send the award notice again"
        )
    contract = [
        CBC.ID(winner.contract, schemeName="contract"),  # OPT-316
        CBC.AwardDate(_date(decided)),  # BT-1451
        CBC.IssueDate(_date(terms.signed_on)),  # BT-145
    ]
    contract += [
        org_ref("SignatoryParty", BUYER_ORG),  # OPT-300-Contract-Signatory
        EFAC.ContractReference(CBC.ID(winner.contract)),  # BT-150
        EFAC.LotTender(CBC.ID(winner.tender, schemeName="tender")),  # OPT-320
    ]
    return EFAC.SettledContract(*contract)


def _tendering_party(winner: Winner, organisations: dict[str, tuple[Supplier, str]]) -> etree._Element:
    suppliers = winner.lot.suppliers
    tenderers = []
    for n, supplier in enumerate(suppliers):
        org = organisations[supplier.identifier.text()][1]
        lead = [EFBC.GroupLeadIndicator("true" if n == 0 else "false")] if len(suppliers) > 1 else []
        tenderers.append(EFAC.Tenderer(CBC.ID(org, schemeName="organization"), *lead))  # OPT-300, OPT-170
    return EFAC.TenderingParty(CBC.ID(winner.party, schemeName="tendering-party"), *tenderers)


def _winner_organisation(org: str, supplier: Supplier) -> etree._Element:
    """A winning supplier: BT-165 size (an SME, else large), BT-500 name, BT-510/513/512/514
    its registered address, BT-501 its identifier as registered (`GB-COH-01234567`)."""
    address = supplier.address
    country = COUNTRIES.get(address.country)
    if country is None:
        raise RenderError(f"{supplier.name}'s country {address.country} is not one this channel can state")
    return EFAC.Organization(
        EFAC.Company(
            EFBC.CompanySizeCode("sme" if supplier.sme else "large", listName="economic-operator-size"),
            CAC.PartyIdentification(CBC.ID(org, schemeName="organization")),  # OPT-200
            CAC.PartyName(text("Name", supplier.name)),  # BT-500
            CAC.PostalAddress(
                CBC.StreetName(address.street),  # BT-510(a)
                CBC.CityName(address.town),  # BT-513
                CBC.PostalZone(address.postcode),  # BT-512
                CAC.Country(code("IdentificationCode", "country", country)),  # BT-514
            ),
            CAC.PartyLegalEntity(CBC.CompanyID(supplier.identifier.text())),  # BT-501
        )
    )


def _date(day: date) -> str:
    """An xsd:date with its offset (eForms requires one): the day in UTC."""
    return f"{day.isoformat()}Z"
