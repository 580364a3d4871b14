"""What is being bought: CPV classifications, items and lots (Lots extension).

OCDS 1.1 has no field for a procedure's main CPV code other than an item's classification, so
item "1" classifies the procedure as a whole; with lots, one more item per lot carries
`relatedLot`. The Lots extension advises `relatedLot` on every item when lots are used; item 1
deliberately has none, since the extension reads such an item as applying to the whole tender.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from channels.ocds.codelists import ItemClassificationScheme, TenderStatus
from channels.ocds.parties import place_address
from channels.ocds.values import value
from syndicator.domain.tender import Lot, Tender


def cpv_id(code: str) -> str:
    """OCDS CPV ids are the 8 digits without the check digit ('35125300-5' -> '35125300')."""
    return code.split("-")[0]


def classification(code: str) -> dict[str, Any]:
    """A CPV Classification."""
    return {"scheme": str(ItemClassificationScheme.CPV), "id": cpv_id(code)}


def classifications(codes: Sequence[str]) -> dict[str, Any]:
    """`classification` (the first code) and `additionalClassifications` (the others, if any)."""
    found: dict[str, Any] = {"classification": classification(codes[0])}
    if len(codes) > 1:
        found["additionalClassifications"] = [classification(code) for code in codes[1:]]
    return found


def lot_id(lot: Lot) -> str:
    """The Lots extension id of a lot."""
    return f"lot-{lot.number}"


def items(tender: Tender) -> list[dict[str, Any]]:
    """Item 1 for the procedure, then one item per lot; each with the place of performance as
    its `deliveryAddress` (Location extension)."""
    where = place_address(tender.place_of_performance)
    found = [
        {"id": "1", "description": tender.title, **classifications(tender.cpv), "deliveryAddress": where}
    ]
    for position, lot in enumerate(tender.lots, start=2):
        found.append(
            {
                "id": str(position),
                "description": lot.title,
                **classifications(lot.cpv or tender.cpv),
                "deliveryAddress": where,
                "relatedLot": lot_id(lot),
            }
        )
    return found


def lots(
    tender: Tender, vat_rate: Decimal, *, status: TenderStatus = TenderStatus.ACTIVE, gross: bool = False
) -> list[dict[str, Any]]:
    """The Lots extension's `tender.lots`: {id, title, description?, status, value?}."""
    found = []
    for lot in tender.lots:
        entry: dict[str, Any] = {"id": lot_id(lot), "title": lot.title}
        if lot.description:
            entry["description"] = lot.description
        entry["status"] = str(status)
        if lot.estimated_value is not None:
            entry["value"] = value(lot.estimated_value, vat_rate, gross=gross)
        found.append(entry)
    return found
