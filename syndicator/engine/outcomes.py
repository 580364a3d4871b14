"""What an attempt came to, as stored in the attempts ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from syndicator.channel.base import (
    AuthError,
    ChannelError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    RenderError,
    scrub,
)
from syndicator.domain.states import Event


class Outcome(StrEnum):
    """The result of one send or status check."""

    PUBLISHED = "published"  # live on the channel
    SUBMITTED = "submitted"  # accepted; the channel publishes later
    PENDING = "pending"  # status check: not published yet
    RETRY = "retry"  # transient failure; another attempt is scheduled
    RATE_LIMITED = "rate_limited"  # 429; the next attempt honours Retry-After
    REJECTED = "rejected"  # the channel refused the notice
    AUTH = "auth_refused"  # credentials or configuration refused
    UNKNOWN = "unknown"  # the channel may or may not have it
    RENDER_ERROR = "render_error"  # the notice cannot be expressed for this channel
    GAVE_UP = "gave_up"  # a transient failure with no attempts left
    LOST = "lost"  # the worker died holding the lease; nothing recorded its result

    @classmethod
    def for_error(cls, error: ChannelError, event: Event) -> Outcome:
        """The outcome of an attempt that raised `error` and led to `event`."""
        if isinstance(error, RenderError):
            return cls.RENDER_ERROR
        if isinstance(error, RejectedError):
            return cls.REJECTED
        if isinstance(error, AuthError):
            return cls.AUTH
        if isinstance(error, OutcomeUnknown):
            return cls.UNKNOWN
        if event is not Event.TRANSIENT:
            return cls.GAVE_UP
        return cls.RATE_LIMITED if isinstance(error, RateLimited) else cls.RETRY


def attempt_values(
    delivery_id: int,
    kind: str,
    started: datetime,
    finished: datetime,
    duration_ms: int,
    outcome: Outcome,
    receipt: Receipt | None,
    error: ChannelError | None,
    secrets: list[str],
    *,
    trigger: str = "auto",
    actor: str | None = None,
) -> dict[str, Any]:
    """One attempts-ledger row, with secrets scrubbed and the excerpt bounded (20 KB)."""
    if error is not None:
        reasons = getattr(error, "reasons", None)
        message = error.message + ("\n" + "\n".join(reasons) if reasons else "")
        status_code, excerpt, remote_id = error.status_code, error.excerpt, None
    else:
        assert receipt is not None
        message = receipt.status or outcome.value
        status_code, excerpt, remote_id = receipt.status_code, receipt.excerpt, receipt.remote_id
    return {
        "delivery_id": delivery_id,
        "kind": kind,
        "trigger": trigger,
        "actor": actor,
        "started_at": started,
        "finished_at": finished,
        "duration_ms": duration_ms,
        "outcome": outcome.value,
        "error_class": error.error_class if error else None,
        "status_code": status_code,
        "message": scrub(message, secrets),
        "excerpt": scrub(excerpt, secrets),
        "remote_id": remote_id,
    }
