"""Small presentation helpers for the terminal: ages, times, state colours."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from syndicator.cli.terminal import styled

# One reading of `--since` for the CLI, the dashboard and the API.
from syndicator.ops.periods import parse_since as parse_since

STATE_STYLE = {
    "published": "green",
    "submitted": "cyan",
    "sending": "blue",
    "pending": "white",
    "held": "magenta",
    "retry_wait": "yellow",
    "failed": "bold red",
    "needs_reconcile": "bold red",
    "cancelled": "dim",
    "superseded": "dim",
}


def age(when: datetime | None, now: datetime) -> str:
    """'4s', '12m', '3h', '2d' since `when`."""
    if when is None:
        return ""
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def until(when: datetime | None, now: datetime) -> str:
    """'in 5m' / 'now' for a future time."""
    if when is None:
        return ""
    if when <= now:
        return "now"
    return "in " + age(now - (when - now), now)


def stamp(when: datetime | None) -> str:
    """'2026-11-26 09:00:00' in UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if when else ""


def state_text(state: str) -> Text:
    """A state in its colour."""
    return styled(state, STATE_STYLE.get(state, "white"))


def one_line(text: str | None, width: int = 70) -> str:
    """The first line of `text`, shortened."""
    if not text:
        return ""
    first = text.strip().splitlines()[0]
    return first if len(first) <= width else first[: width - 1] + "…"
