"""The awards and contracts of a UK6 contract award notice and a UK7 contract details notice, in
the shape Find a Tender publishes (UK-NOTICES.md section 9: UK6 -> release tag `award`,
`awards[].standstillPeriod`, `awards[].documents[]` with noticeType UK6; UK7 -> tag `contract`,
`contracts[].documents[]` with documentType contractNotice and noticeType UK7).

    award (UK6)                              contract details (UK7)
    awards[] one per lot                     awards[] the signed lot's, status active
      status pending | unsuccessful          contracts[] one per signed lot
      value {amount, amountGross}              awardID, status active, dateSigned,
      suppliers -> parties (role supplier)     period, value, documents (UK7)
      contractPeriod, relatedLots
      standstillPeriod (its last day)
      documents (UK6), description
    bids.statistics: tenders received per lot (the Bids extension)

An awarded lot is `pending` in the UK6: the contract may not be entered into before the standstill
ends (PA2023 s.51); it is `active` from the UK7 on. A procurement under the PCR 2015 (`pcr-uk`)
sends its award notice once the contracts are concluded (reg. 50): its awards are `active`, with
no standstill (the PCR standstill runs from the letters to bidders, not from a notice), and it
has no UK7. A lot not awarded is `unsuccessful`, its
reason in words [unconfirmed: Find a Tender's own codes for the reason are not published].

The standstill is eight working days beginning with the day the UK6 is published. Before the
notice is published that day is not known: the UK6 states the last day counted from the dispatch
day (a notice sent on a working day is published that day by Find a Tender, UK-NOTICES.md
section 9) and the product records the true one from the publication (`notices/awards.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from channels.find_a_tender.parts import country_name, value
from channels.ocds.serialize import instant
from syndicator.channel.base import RenderContext, RenderError
from syndicator.domain.award import Award, LotAward, NonAwardReason, Outcome, Supplier
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.standstill import standstill_ends

REASONS = {
    NonAwardReason.NO_TENDERS: "No tenders or requests to participate were received.",
    NonAwardReason.NO_SUITABLE_TENDERS: "No suitable tenders were received.",
    NonAwardReason.ALL_REJECTED: "All tenders were rejected or excluded.",
    NonAwardReason.REQUIREMENT_CHANGED: "The requirement changed; the lot will not be awarded.",
    NonAwardReason.INSUFFICIENT_FUNDS: "The funds for the contract are no longer available.",
}


def _day(day: Any) -> str:
    """A date as the start of that day in UTC (OCDS dates are date-times)."""
    return instant(datetime.combine(day, time(0, 0), tzinfo=UTC))


def _end_of(day: Any) -> str:
    return instant(datetime.combine(day, time(23, 59, 59), tzinfo=UTC))


def award_id(lot: LotAward) -> str:
    """'award-lot-2', or 'award' for an undivided tender."""
    return "award" if lot.lot is None else f"award-lot-{lot.lot}"


def supplier_party(supplier: Supplier) -> dict[str, Any]:
    """A winning supplier as a party: its identifier, address and size (the scale of the
    Organisation scale extension: sme or large)."""
    identifier = supplier.identifier
    address = supplier.address
    return {
        "id": identifier.text(),
        "name": supplier.name,
        "identifier": {
            "scheme": identifier.scheme,
            "id": identifier.id.removeprefix(identifier.scheme + "-"),
        },
        "address": {
            "streetAddress": address.street,
            "locality": address.town,
            "postalCode": address.postcode,
            "countryName": country_name(address.country),
        },
        "roles": ["supplier"],
        "details": {"scale": "sme" if supplier.sme else "large"},
    }


def suppliers(award: Award) -> list[dict[str, Any]]:
    """Every winning supplier once, in the order they first appear."""
    found: dict[str, dict[str, Any]] = {}
    for lot in award.lots:
        for supplier in lot.suppliers:
            party = supplier_party(supplier)
            found.setdefault(party["id"], party)
    return list(found.values())


def standstill_period(notice: Notice, context: RenderContext) -> dict[str, str]:
    """From the day the UK6 is (to be) published to the standstill's last day."""
    if notice.standstill_ends is not None:
        return {"endDate": _end_of(notice.standstill_ends)}
    published = context.dispatched_at.astimezone(UTC).date()
    return {"startDate": _day(published), "endDate": _end_of(standstill_ends(published))}


def _lot_refs(lot: LotAward) -> dict[str, Any]:
    return {} if lot.lot is None else {"relatedLots": [f"lot-{lot.lot}"]}


def lot_award(
    notice: Notice, context: RenderContext, lot: LotAward, status: str, documents: list[dict[str, Any]]
) -> dict[str, Any]:
    """One lot's entry in `awards`."""
    assert notice.award is not None
    entry: dict[str, Any] = {"id": award_id(lot), "title": f"Award of {lot.label}"}
    if lot.outcome is Outcome.NOT_AWARDED:
        assert lot.reason is not None
        entry.update(status="unsuccessful", description=REASONS[lot.reason])
    else:
        assert lot.value is not None and lot.contract is not None
        entry.update(
            status=status,
            value=value(lot.value, context.vat_rate),
            suppliers=[{"id": s.identifier.text(), "name": s.name} for s in lot.suppliers],
            contractPeriod={"startDate": _day(lot.contract.start), "endDate": _end_of(lot.contract.end)},
        )
        if status == "pending":
            entry["standstillPeriod"] = standstill_period(notice, context)
    entry["date"] = _day(notice.award.decision_date)
    entry.update(_lot_refs(lot))
    if documents:
        entry["documents"] = documents
    return entry


def statistics(award: Award) -> list[dict[str, Any]]:
    """Tenders received per lot, where the record gives them (Bids extension)."""
    found: list[dict[str, Any]] = []
    for lot in award.lots:
        received = award.received(lot.lot)
        if received is not None:
            found.append({"id": str(len(found) + 1), "measure": "bids", "value": received, **_relate(lot)})
    return found


def _relate(lot: LotAward) -> dict[str, Any]:
    return {} if lot.lot is None else {"relatedLot": f"lot-{lot.lot}"}


def award_document(notice: Notice) -> dict[str, Any]:
    """The UK6 itself, on each award (its id carries the tender version, as UK4s do)."""
    return {
        "id": f"uk6-v{notice.version}",
        "documentType": "awardNotice",
        "noticeType": "UK6",
        "title": "Contract award notice",
        "language": "en",
    }


def contract_document(notice: Notice, lot: LotAward) -> dict[str, Any]:
    """The UK7 of one signed contract."""
    part = "whole" if lot.lot is None else f"lot-{lot.lot}"
    return {
        "id": f"uk7-{part}",
        "documentType": "contractNotice",
        "noticeType": "UK7",
        "title": "Contract details notice",
        "language": "en",
    }


def award_sections(notice: Notice, context: RenderContext) -> dict[str, Any]:
    """`awards` (and `bids`) of a UK6: every lot's outcome."""
    award = _award_of(notice)
    document = [award_document(notice)]
    # Under the Procurement Act the contract follows the standstill; under the PCR the award
    # notice is sent once the contracts are concluded (reg. 50), so they are active.
    status = "pending" if context.regime == "pa2023" else "active"
    sections: dict[str, Any] = {
        "awards": [lot_award(notice, context, lot, status, document) for lot in award.lots]
    }
    if found := statistics(award):
        sections["bids"] = {"statistics": found}
    return sections


def contract_sections(notice: Notice, context: RenderContext) -> dict[str, Any]:
    """`awards` and `contracts` of a UK7: the signed lot(s), each with its signature date."""
    award = _award_of(notice)
    signed = [award.lot(number) for number in notice.signed_lots()]
    lots = [lot for lot in signed if lot is not None and lot.outcome is Outcome.AWARDED]
    if not lots:
        raise RenderError(f"a UK7 is about a signed contract; {notice.part or 'no part'} was not awarded")
    contracts = []
    for lot in lots:
        assert lot.value is not None and lot.contract is not None
        if lot.contract.signed_on is None:
            raise RenderError(f"a UK7 states when the contract was signed; {lot.label} has no signed_on")
        contracts.append(
            {
                "id": "contract" if lot.lot is None else f"contract-lot-{lot.lot}",
                "awardID": award_id(lot),
                "title": f"Contract for {lot.label}",
                "status": "active",
                "value": value(lot.value, context.vat_rate),
                "period": {"startDate": _day(lot.contract.start), "endDate": _end_of(lot.contract.end)},
                "dateSigned": _day(lot.contract.signed_on),
                "documents": [contract_document(notice, lot)],
                **_lot_refs(lot),
            }
        )
    return {
        "awards": [lot_award(notice, context, lot, "active", []) for lot in lots],
        "contracts": contracts,
    }


def parties_for(notice: Notice) -> list[dict[str, Any]]:
    """The suppliers a UK6 or UK7 names (besides the buyer)."""
    award = _award_of(notice)
    if notice.kind is NoticeKind.CONTRACT_DETAILS:
        lots = [award.lot(number) for number in notice.signed_lots()]
        award = award.model_copy(update={"lots": [lot for lot in lots if lot is not None]})
    return suppliers(award)


def _award_of(notice: Notice) -> Award:
    if notice.award is None:
        raise RenderError(f"a {notice.kind.value} notice needs the award record; this notice has none")
    return notice.award
