"""When to try again: a per-destination retry policy that turns an error into a decision.

The first attempt is immediate; after the n-th failure the policy waits `schedule[n-1]`
(+/- jitter); when the schedule is exhausted the delivery fails. A 429 waits at least its
Retry-After, capped at the longest step so a hostile header cannot park a delivery forever.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from syndicator.channel.base import (
    AuthError,
    ChannelError,
    OutcomeUnknown,
    RateLimited,
    RejectedError,
    RenderError,
    TransientError,
)
from syndicator.config.channels import RetryConfig
from syndicator.domain.states import Event


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt."""

    event: Event
    next_attempt_at: datetime | None
    why: str


@dataclass(frozen=True)
class RetryPolicy:
    """A retry schedule with jitter."""

    schedule: tuple[timedelta, ...]
    jitter: float = 0.2

    @classmethod
    def from_config(cls, config: RetryConfig) -> RetryPolicy:
        """Build from a `[retry.<destination>]` section."""
        return cls(tuple(config.schedule), config.jitter)

    @property
    def max_attempts(self) -> int:
        """Attempts before giving up: the first, plus one per step."""
        return len(self.schedule) + 1

    def wait(self, attempts_made: int, rng: random.Random) -> timedelta | None:
        """The wait before the next attempt, or None when the schedule is exhausted."""
        if attempts_made >= self.max_attempts:
            return None
        base = self.schedule[attempts_made - 1]
        factor = 1 + rng.uniform(-self.jitter, self.jitter) if self.jitter else 1
        return base * factor

    def decide(
        self,
        error: ChannelError,
        attempts_made: int,
        now: datetime,
        *,
        deduplicates: bool,
        rng: random.Random,
    ) -> Decision:
        """Map an attempt's error to the next state (ARCHITECTURE.md section 3)."""
        if isinstance(error, RejectedError | RenderError):
            return Decision(Event.FAIL, None, "refused: retrying cannot help")
        if isinstance(error, AuthError):
            return Decision(Event.FAIL, None, "credentials or configuration refused")
        if isinstance(error, OutcomeUnknown) and not deduplicates:
            return Decision(
                Event.UNKNOWN,
                None,
                "the channel may have it and does not de-duplicate: a person decides",
            )
        if not isinstance(error, TransientError | OutcomeUnknown):
            return Decision(Event.FAIL, None, f"unexpected error class {error.error_class}")
        wait = self.wait(attempts_made, rng)
        if wait is None:
            return Decision(Event.FAIL, None, f"gave up after {attempts_made} attempts")
        if isinstance(error, RateLimited) and error.retry_after is not None:
            longest = max(self.schedule, default=timedelta(0))
            wait = max(wait, min(timedelta(seconds=error.retry_after), longest))
        return Decision(Event.TRANSIENT, now + wait, f"attempt {attempts_made + 1} of {self.max_attempts}")
