"""The clock, passed in wherever behaviour depends on time so tests control it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current aware UTC time."""
    return datetime.now(UTC)
