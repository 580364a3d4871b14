"""Per-destination circuit breakers, kept in `channel_state`.

    closed --N consecutive failures--> open (until now + cool-down) --sweeper--> half-open
    half-open --success--> closed        half-open --failure--> open again

Only failures that say something about the channel count (transient, rate limited, auth,
outcome unknown); a notice the channel rejected says something about the notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from syndicator.channel.base import ChannelError, RejectedError, RenderError
from syndicator.config.channels import BreakerConfig
from syndicator.store.models import ChannelStateRow
from syndicator.store.transitions import Executor


@dataclass(frozen=True)
class BreakerView:
    """A destination's breaker as read at the start of a batch."""

    destination: str
    consecutive_failures: int
    open_until: datetime | None

    def is_open(self, now: datetime) -> bool:
        """Paused: deliveries wait without spending attempts."""
        return self.open_until is not None and self.open_until > now


def _dialect(bind: Any) -> str:
    """The database's name, from an ORM session or a Core connection."""
    return str((bind.get_bind() if hasattr(bind, "get_bind") else bind).dialect.name)


def counts_against_channel(error: ChannelError) -> bool:
    """Whether an error is the channel's fault rather than the notice's."""
    return not isinstance(error, RejectedError | RenderError)


def snapshot(session: Executor) -> dict[str, BreakerView]:
    """Every destination's breaker."""
    table = ChannelStateRow
    rows = session.execute(select(table.destination, table.consecutive_failures, table.open_until))
    return {row.destination: BreakerView(*row) for row in rows}


def _ensure_row(session: Executor, destination: str) -> None:
    dialect = _dialect(session)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ChannelStateRow).values(destination=destination, consecutive_failures=0)
    session.execute(statement.on_conflict_do_nothing(index_elements=["destination"]))


def record_failure(
    session: Executor, destination: str, config: BreakerConfig, now: datetime, error: str
) -> bool:
    """Count a failure; opens the breaker at the threshold. Returns True when it opened."""
    _ensure_row(session, destination)
    table = ChannelStateRow
    session.execute(
        update(table)
        .where(table.destination == destination)
        .values(
            consecutive_failures=table.consecutive_failures + 1,
            last_failure_at=now,
            last_error=error[:2000],
        )
    )
    opened = session.execute(
        update(table)
        .where(
            table.destination == destination,
            table.consecutive_failures >= config.failures,
            (table.open_until.is_(None)) | (table.open_until <= now),
        )
        .values(open_until=now + config.cooldown, opened_at=now)
    )
    return int(getattr(opened, "rowcount", 0) or 0) > 0


def record_success(session: Executor, destination: str) -> None:
    """Close the breaker after a success."""
    table = ChannelStateRow
    session.execute(
        update(table)
        .where(table.destination == destination, table.consecutive_failures > 0)
        .values(consecutive_failures=0, open_until=None, opened_at=None)
    )


def half_open_expired(
    session: Executor, config_for: Callable[[str], BreakerConfig], now: datetime
) -> list[str]:
    """After the cool-down, let traffic through again; one more failure re-opens at once."""
    table = ChannelStateRow
    expired = session.scalars(
        select(table.destination).where(table.open_until.is_not(None), table.open_until <= now)
    ).all()
    for destination in expired:
        threshold = config_for(destination).failures
        session.execute(
            update(table)
            .where(table.destination == destination, table.open_until <= now)
            .values(open_until=None, opened_at=None, consecutive_failures=max(threshold - 1, 0))
        )
    return list(expired)
