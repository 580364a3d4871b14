"""A valid tender record to start from; tests change one thing at a time."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "reference": "TEST-2026-0001",
    "title": "Supply of ANPR cameras",
    "description": "Cameras, installation and maintenance.",
    "buyer": "emscu",
    "contract_type": "supplies",
    "procedure": "open",
    "estimated_value": {"amount": "100000.00", "currency": "GBP", "vat_included": False},
    "cpv": ["35125300-2"],
    "place_of_performance": {"town": "Nottingham", "postcode": "NG5 8PP", "country": "GB"},
    "publication_date": "2026-12-01",
    "submission_deadline": "2027-01-15T12:00:00Z",
    "documents_url": "https://emscu.example.police.uk/tenders/TEST",
    "contact": {"name": "EMSCU", "email": "emscu@example.police.uk"},
}


def record(**changes: Any) -> dict[str, Any]:
    """BASE with top-level fields replaced; a value of ... removes the field."""
    made = copy.deepcopy(BASE)
    for name, value in changes.items():
        if value is ...:
            made.pop(name, None)
        else:
            made[name] = value
    return made


def valued(amount: str, vat_included: bool = False, **changes: Any) -> dict[str, Any]:
    """A record with the given value."""
    money = {"amount": amount, "currency": "GBP", "vat_included": vat_included}
    return record(estimated_value=money, **changes)
