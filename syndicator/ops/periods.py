"""`since` filters (`2h`, `3d`, an ISO date or date-time), read the same way by the CLI, the
dashboard and the API.

A period further back than the calendar goes (`99999999d`) means "everything", not an
overflow: the answer is the earliest representable time, which every row is after.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)")
# What the API documents (no spaces): the JSON Schema pattern of a duration.
DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h|d)$"
_SECONDS = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
}


def parse_since(text: str, now: datetime) -> datetime:
    """'2h' / '3d' ago, or an ISO date or date-time (UTC when no offset is given); ValueError if neither."""
    text = text.strip()
    if found := DURATION.fullmatch(text):
        seconds = Decimal(found.group(1)) * _SECONDS[found.group(2)]
        if seconds >= Decimal(str((now - EARLIEST).total_seconds())):
            return EARLIEST
        return now - timedelta(seconds=float(seconds))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration like 2h or 3d nor an ISO date") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 or 9999-12-31T23:59-01:00: past either end
        return EARLIEST if parsed.year == 1 else LATEST
