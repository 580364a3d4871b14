"""Pieces of a Find a Tender release that its tender, award and contract sections share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from channels.ocds.parties import COUNTRY_NAMES
from syndicator.channel.base import RenderError
from syndicator.domain.tender import Money


def country_name(code: str) -> str:
    """OCDS 1.1 addresses name the country."""
    if code not in COUNTRY_NAMES:
        raise RenderError(f"find-a-tender: no country name for {code!r}")
    return COUNTRY_NAMES[code]


def value(money: Money, vat_rate: Decimal) -> dict[str, Any]:
    """`amount` net of VAT beside `amountGross` (UK extension), as Find a Tender publishes both;
    under PA2023 the notice's stated value includes VAT (UK-NOTICES.md section 3)."""
    return {"amount": money.net(vat_rate), "amountGross": money.gross(vat_rate), "currency": money.currency}
