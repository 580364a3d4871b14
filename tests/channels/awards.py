"""Award records for channel tests: the shipped ones (examples/awards/) and, for any tender, a
made-up award of every lot (so a channel's award renderer is checked on every example)."""

from __future__ import annotations

import json
from datetime import date, timedelta

from syndicator.domain.award import Award
from syndicator.domain.standstill import standstill_ends
from syndicator.domain.tender import Tender
from tests.conftest import EXAMPLES

AWARDS = EXAMPLES / "awards"
DECIDED = date(2027, 2, 1)
SUPPLIER = {
    "name": "Roadwatch Systems Ltd",
    "identifier": {"scheme": "GB-COH", "id": "04567321"},
    "address": {"street": "Unit 4, Meridian Business Park", "town": "Leicester", "postcode": "LE19 1WX"},
    "sme": True,
}


def shipped_awards() -> dict[str, Award]:
    """Every shipped award record by tender reference."""
    found = {}
    for path in sorted(AWARDS.glob("*.json")):
        for item in json.loads(path.read_text()):
            award = Award.model_validate(item)
            found[award.reference] = award
    return found


def award_of(tender: Tender, *, signed: bool = False) -> Award:
    """Every lot of `tender` (or the whole) awarded to one supplier at 95% of its estimate, for
    four years from two months after the decision, four tenders received (one from an SME,
    one from the EEA); `signed` gives the signing date too."""
    start = DECIDED + timedelta(days=60)
    contract = {"start": start.isoformat(), "end": (start + timedelta(days=4 * 365)).isoformat()}
    if signed:
        contract["signed_on"] = (DECIDED + timedelta(days=30)).isoformat()
    whole = tender.estimated_value
    each = (whole.amount / max(len(tender.lots), 1)).quantize(whole.amount)
    share = whole.model_copy(update={"amount": each})
    parts = [(lot.number, lot.estimated_value or share) for lot in tender.lots] or [(None, whole)]
    lots = [
        {
            "lot": number,
            "outcome": "awarded",
            "suppliers": [SUPPLIER],
            "value": {
                "amount": str((value.amount * 95 / 100).quantize(value.amount)),
                "currency": value.currency,
                "vat_included": value.vat_included,
            },
            "contract": contract,
        }
        for number, value in parts
    ]
    return Award.model_validate(
        {
            "reference": tender.reference,
            "buyer": tender.buyer,
            "decision_date": DECIDED.isoformat(),
            "lots": lots,
            "tenders_received": _per_lot(tender, 4),
            "sme_tenders_received": _per_lot(tender, 1),
            "eea_tenders_received": _per_lot(tender, 1),
            "non_eea_tenders_received": _per_lot(tender, 0),
        }
    )


def _per_lot(tender: Tender, count: int) -> int | dict[str, int]:
    """A count for an undivided tender, or the same count for each lot (the record's forms)."""
    return {str(lot.number): count for lot in tender.lots} if tender.lots else count


def award_options(tender: Tender, kind: str) -> dict[str, object]:
    """What `render_job` needs for an award (`kind` "award") or a contract details notice
    ("contract-details": the first lot's contract, signed); nothing for other kinds."""
    if kind == "award":
        return {"award": award_of(tender), "standstill_ends": standstill_ends(DECIDED)}
    if kind == "contract-details":
        first = tender.lots[0].number if tender.lots else None
        part = "whole" if first is None else f"lot-{first}"
        ends = standstill_ends(DECIDED)
        return {"award": award_of(tender, signed=True), "part": part, "standstill_ends": ends}
    return {}


def not_awarded(award: Award, lot: int | None, reason: str = "no-suitable-tenders") -> Award:
    """`award` with `lot` not awarded, for `reason`."""
    data = award.model_dump(mode="json")
    for item in data["lots"]:
        if item["lot"] == lot:
            item.update(outcome="not-awarded", reason=reason, suppliers=[], value=None, contract=None)
    return Award.model_validate(data)
