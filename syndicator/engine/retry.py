"""When to try again: a per-destination retry policy that turns an error into a decision.

The first attempt is immediate; after the n-th failure the policy waits `schedule[n-1]`
(+/- jitter); when the schedule is exhausted the delivery fails. A 429 waits at least its
Retry-After, as the README promises; a channel that asks for more than `max_retry_after`
(channels.toml) fails the delivery with that reason instead, so a hostile or broken header
cannot park a delivery for months unseen: a failed delivery alerts ops and can be re-pushed.
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
    max_retry_after: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config: RetryConfig) -> RetryPolicy:
        """Build from a `[retry.<destination>]` section."""
        return cls(tuple(config.schedule), config.jitter, config.max_retry_after)

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
            asked = _seconds(error.retry_after)
            if asked > self.max_retry_after:
                return Decision(
                    Event.FAIL,
                    None,
                    f"the channel asks us to wait {_shown(asked)}, longer than max_retry_after "
                    f"({_shown(self.max_retry_after)}): re-push it when the channel takes notices again",
                )
            wait = max(wait, asked)
        return Decision(Event.TRANSIENT, now + wait, f"attempt {attempts_made + 1} of {self.max_attempts}")


def _seconds(value: float) -> timedelta:
    """Retry-After seconds as a timedelta; more than timedelta can hold is simply very long."""
    try:
        return timedelta(seconds=value)
    except OverflowError:
        return timedelta.max


def _shown(wait: timedelta) -> str:
    """'90s', '2h', '3d' (whole units, rounded down): for a message a person reads."""
    seconds = int(wait.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
