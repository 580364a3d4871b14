"""OCDS Value and Period objects (release-schema.json definitions Value, Period).

Values are Decimal (channels.ocds.serialize writes them with exactly two decimals) and net of
VAT, as OCDS `amount` is read by every OCDS consumer we know of; Find a Tender states the
VAT-inclusive amount beside it as `amountGross` (UK extension), asked for with `gross=True`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from syndicator.domain.tender import Money

# OCDS periods count days (Period.durationInDays); a duration in months has no fixed number of
# days, so a month is stated as 30 days: the convention each OCDS channel documents.
DAYS_PER_MONTH = 30


def value(money: Money, vat_rate: Decimal, *, gross: bool = False) -> dict[str, Any]:
    """{amount (net of VAT), amountGross? (with VAT, UK extension), currency}."""
    found: dict[str, Any] = {"amount": money.net(vat_rate)}
    if gross:
        found["amountGross"] = money.gross(vat_rate)
    found["currency"] = money.currency
    return found


def period(
    start: datetime | None = None, end: datetime | None = None, *, days: int | None = None
) -> dict[str, Any]:
    """A Period with the bounds given (datetimes are written by the serializer)."""
    found: dict[str, Any] = {}
    if start is not None:
        found["startDate"] = start
    if end is not None:
        found["endDate"] = end
    if days is not None:
        found["durationInDays"] = days
    return found


def months_as_days(months: int) -> int:
    """A duration in months as OCDS days (DAYS_PER_MONTH each)."""
    return months * DAYS_PER_MONTH
