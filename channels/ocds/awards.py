"""Awards and contracts (release-schema.json definitions Award, Contract) from an award record:
what an `award` release and a `contract` release carry, for every OCDS channel.

    awards[]     one per lot of the award record (one for an undivided tender):
                 {id, title, description?, status, date, value?, suppliers?, contractPeriod?,
                  documents?, relatedLots?}
                 status "active" for an awarded lot, "unsuccessful" for one not awarded, whose
                 description gives the reason (OCDS 1.1.5 has no Award.statusDetails)
    parties[]    each winning supplier once, role "supplier", keyed by its identifier
                 (`Identifier.text()`, e.g. GB-COH-04567321); SME or not as `details.scale`
                 (Party Scale extension)
    contracts[]  one per signed contract: {id, awardID, title, status "active", period, value,
                 dateSigned, documents?}
    bids         `bids.statistics[]` (Bid extension): tenders received, per lot when given

Ids are stable across releases so that a contract release's `awardID` names the award its
award release holds: `award-lot-2` / `contract-lot-2`, `award-whole` / `contract-whole` for an
undivided tender (the same "part" words as `Notice.part`).

Dates: the award record holds days; OCDS holds date-times. A day is written as its first
instant in UTC (the decision, the signature, a contract's start) and a contract's last day as
its last second (`23:59:59Z`), so the period covers the whole of that day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from channels.ocds.codelists import AwardStatus, ContractStatus, PartyRole, TenderStatus
from channels.ocds.parties import country_name
from channels.ocds.values import period, value
from syndicator.channel.errors import RenderError
from syndicator.domain.award import Award, LotAward, NonAwardReason, Outcome, Supplier
from syndicator.domain.tender import Tender

# Why a lot was not awarded, in words (Award.description of an unsuccessful award).
REASONS = {
    NonAwardReason.NO_TENDERS: "No tenders or requests to participate were received.",
    NonAwardReason.NO_SUITABLE_TENDERS: "No suitable tenders or requests to participate were received.",
    NonAwardReason.ALL_REJECTED: "All tenders were rejected.",
    NonAwardReason.REQUIREMENT_CHANGED: "The buyer's requirement changed; the lot will not be awarded.",
    NonAwardReason.INSUFFICIENT_FUNDS: "The lot is not awarded for lack of funds.",
}
# Party Scale extension (partyScale.csv): an SME, else "large".
SCALE_SME = "sme"
SCALE_LARGE = "large"
BIDS_MEASURE = "bids"  # bidStatistics.csv: "the total number of unique bids received"


def part(lot: int | None) -> str:
    """'lot-2', or 'whole' for an undivided tender (as `Notice.part`)."""
    return "whole" if lot is None else f"lot-{lot}"


def award_id(lot: int | None) -> str:
    """The award's id: 'award-lot-2', 'award-whole'."""
    return f"award-{part(lot)}"


def contract_id(lot: int | None) -> str:
    """The contract's id: 'contract-lot-2', 'contract-whole'."""
    return f"contract-{part(lot)}"


def day_start(day: date) -> datetime:
    """The first instant of a day, UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def day_end(day: date) -> datetime:
    """The last second of a day, UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def required(award: Award | None, kind: str) -> Award:
    """The notice's award record; a notice of `kind` cannot be rendered without one."""
    if award is None:
        raise RenderError(f"a {kind} notice needs the award record, and the notice carries none")
    return award


def supplier_reference(supplier: Supplier) -> dict[str, Any]:
    """An OrganizationReference to a supplier listed in `parties`."""
    return {"id": supplier.identifier.text(), "name": supplier.name}


def supplier_party(supplier: Supplier) -> dict[str, Any]:
    """One supplier as a party: its registered identifier, address and scale."""
    where = supplier.address
    return {
        "id": supplier.identifier.text(),
        "name": supplier.name,
        "identifier": {
            "scheme": supplier.identifier.scheme,
            "id": supplier.identifier.id.removeprefix(supplier.identifier.scheme + "-"),
            "legalName": supplier.name,
        },
        "address": {
            "streetAddress": where.street,
            "locality": where.town,
            "postalCode": where.postcode,
            "countryName": country_name(where.country),
        },
        "details": {"scale": SCALE_SME if supplier.sme else SCALE_LARGE},
        "roles": [str(PartyRole.SUPPLIER)],
    }


def supplier_parties(award: Award, lots: Sequence[int | None] | None = None) -> list[dict[str, Any]]:
    """Every winning supplier of the award (of `lots` only, when given) once, in the order first
    named; a supplier winning two lots is one party."""
    found: dict[str, dict[str, Any]] = {}
    for outcome in award.lots:
        if lots is not None and outcome.lot not in lots:
            continue
        for supplier in outcome.suppliers:
            found.setdefault(supplier.identifier.text(), supplier_party(supplier))
    return list(found.values())


def _title(tender: Tender, lot: int | None) -> str:
    if lot is None:
        return tender.title
    found = next((each for each in tender.lots if each.number == lot), None)
    return f"Lot {lot}: {found.title}" if found is not None else f"Lot {lot}"


def _received(award: Award, lot: int | None) -> str | None:
    count = award.received(lot)
    if count is None:
        return None
    return f"{count} tender{'' if count == 1 else 's'} received."


def award_entry(
    award: Award,
    outcome: LotAward,
    tender: Tender,
    *,
    vat_rate: Decimal,
    documents: Sequence[dict[str, Any]] = (),
    standstill_ends: date | None = None,
) -> dict[str, Any]:
    """One entry of `awards` for one lot's outcome (value net of VAT)."""
    awarded = outcome.outcome is Outcome.AWARDED
    words: list[str] = []
    if not awarded and outcome.reason is not None:
        words.append(f"Not awarded: {REASONS[outcome.reason]}")
    received = _received(award, outcome.lot)
    if received:
        words.append(received)
    if awarded and standstill_ends is not None:
        words.append(f"The standstill period ends on {standstill_ends.isoformat()}.")
    entry: dict[str, Any] = {"id": award_id(outcome.lot), "title": _title(tender, outcome.lot)}
    if words:
        entry["description"] = " ".join(words)
    entry["status"] = str(AwardStatus.ACTIVE if awarded else AwardStatus.UNSUCCESSFUL)
    entry["date"] = day_start(award.decision_date)
    if outcome.value is not None:
        entry["value"] = value(outcome.value, vat_rate)
    if outcome.suppliers:
        entry["suppliers"] = [supplier_reference(s) for s in outcome.suppliers]
    if outcome.contract is not None:
        entry["contractPeriod"] = period(day_start(outcome.contract.start), day_end(outcome.contract.end))
    if documents:
        entry["documents"] = list(documents)
    if outcome.lot is not None:
        entry["relatedLots"] = [part(outcome.lot)]  # Lots extension: the ids of tender.lots
    return entry


def awards(
    award: Award,
    tender: Tender,
    *,
    vat_rate: Decimal,
    documents: Sequence[dict[str, Any]] = (),
    standstill_ends: date | None = None,
) -> list[dict[str, Any]]:
    """`awards`: one entry per lot outcome, in lot order."""
    ordered = sorted(award.lots, key=lambda lot: lot.lot or 0)
    return [
        award_entry(
            award, outcome, tender, vat_rate=vat_rate, documents=documents, standstill_ends=standstill_ends
        )
        for outcome in ordered
    ]


def contract_entry(
    award: Award,
    lot: int | None,
    tender: Tender,
    *,
    vat_rate: Decimal,
    documents: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One entry of `contracts`: the signed contract of one awarded lot."""
    outcome = award.lot(lot)
    label = "the contract" if lot is None else f"lot {lot}"
    if outcome is None:
        raise RenderError(f"the award record has no outcome for {label}")
    if outcome.outcome is not Outcome.AWARDED or outcome.contract is None or outcome.value is None:
        raise RenderError(f"{label} was not awarded: there is no contract to publish")
    terms = outcome.contract
    signed = terms.signed_on
    if signed is None:
        raise RenderError(f"{label}: a contract details notice needs the day the contract was signed")
    entry: dict[str, Any] = {
        "id": contract_id(lot),
        "awardID": award_id(lot),
        "title": _title(tender, lot),
        "status": str(ContractStatus.ACTIVE),
        "period": period(day_start(terms.start), day_end(terms.end)),
        "value": value(outcome.value, vat_rate),
        "dateSigned": day_start(signed),
    }
    if documents:
        entry["documents"] = list(documents)
    return entry


def contracts(
    award: Award,
    lots: Sequence[int | None],
    tender: Tender,
    *,
    vat_rate: Decimal,
    documents: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """`contracts`: one entry per signed lot (a contract details notice names them)."""
    if not lots:
        raise RenderError(
            "a contract details notice names the signed contract (its part), and this one names none"
        )
    return [contract_entry(award, lot, tender, vat_rate=vat_rate, documents=documents) for lot in lots]


def tender_status(award: Award) -> TenderStatus:
    """The tender's status once awarded: complete if any lot was awarded, else unsuccessful."""
    if any(lot.outcome is Outcome.AWARDED for lot in award.lots):
        return TenderStatus.COMPLETE
    return TenderStatus.UNSUCCESSFUL


def mark_lots(section: dict[str, Any], award: Award) -> None:
    """Set each of `tender.lots` to its outcome: complete (awarded) or unsuccessful; a lot the
    award record does not mention stays as it was."""
    for entry in section.get("lots", []):
        outcome = next((lot for lot in award.lots if part(lot.lot) == entry["id"]), None)
        if outcome is not None:
            awarded = outcome.outcome is Outcome.AWARDED
            entry["status"] = str(TenderStatus.COMPLETE if awarded else TenderStatus.UNSUCCESSFUL)


def bid_statistics(award: Award) -> dict[str, Any] | None:
    """`bids` with one statistic per lot (or for the whole) whose tenders received are known
    (Bid extension; measure "bids"), or None when the record gives no counts."""
    found = []
    for outcome in sorted(award.lots, key=lambda lot: lot.lot or 0):
        count = award.received(outcome.lot)
        if count is None:
            continue
        statistic: dict[str, Any] = {
            "id": f"bids-{part(outcome.lot)}",
            "measure": BIDS_MEASURE,
            "value": count,
        }
        if outcome.lot is not None:
            statistic["relatedLot"] = part(outcome.lot)
        found.append(statistic)
    return {"statistics": found} if found else None
