"""What changed between two versions of a tender record, field by field.

Lots are matched by their number, not their position, so inserting a lot reports one added
lot instead of every later lot as changed. Values are compared in the record's JSON form.
"""

from __future__ import annotations

import json
from typing import Any

from syndicator.domain.notices import FieldChange

# Field labels for people, in the order fields are reported.
LABELS = {
    "title": "Title",
    "description": "Description",
    "contract_type": "Contract type",
    "procedure": "Procedure",
    "procurement_commenced_on": "Procurement commenced on",
    "estimated_value": "Estimated value",
    "cpv": "CPV codes",
    "place_of_performance": "Place of performance",
    "publication_date": "Publication date",
    "submission_deadline": "Submission deadline",
    "duration_months": "Contract duration (months)",
    "documents_url": "Documents URL",
    "contact": "Contact",
    "sme_suitable": "Suitable for SMEs",
    "lots": "Lots",
}
LOT_LABELS = {
    "title": "title",
    "description": "description",
    "estimated_value": "estimated value",
    "cpv": "CPV codes",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if set(value) >= {"amount", "currency"}:
            vat = "including" if value.get("vat_included") else "excluding"
            return f"£{value['amount']} {vat} VAT"
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(_text(v) or "" for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False)


def _lots(record: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {int(lot["number"]): lot for lot in record.get("lots") or []}


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldChange, ...]:
    """Every difference between two tender records in JSON form (`Tender.model_dump(mode="json")`)."""
    found: list[FieldChange] = []
    names = [n for n in LABELS if n != "lots"] + sorted((set(before) | set(after)) - set(LABELS))
    for name in names:
        old, new = before.get(name), after.get(name)
        if old != new:
            found.append(FieldChange(name, LABELS.get(name, name), _text(old), _text(new)))
    old_lots, new_lots = _lots(before), _lots(after)
    for number in sorted(set(old_lots) | set(new_lots)):
        old_lot, new_lot = old_lots.get(number), new_lots.get(number)
        if old_lot is None or new_lot is None:
            found.append(
                FieldChange(
                    f"lots[number={number}]",
                    f"Lot {number}",
                    None if old_lot is None else _text(old_lot.get("title")),
                    None if new_lot is None else _text(new_lot.get("title")),
                )
            )
            continue
        for field_name, label in LOT_LABELS.items():
            if old_lot.get(field_name) != new_lot.get(field_name):
                found.append(
                    FieldChange(
                        f"lots[number={number}].{field_name}",
                        f"Lot {number} {label}",
                        _text(old_lot.get(field_name)),
                        _text(new_lot.get(field_name)),
                    )
                )
    return tuple(found)
