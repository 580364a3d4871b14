"""The errors every channel raises, and the one table of what each means to the engine.

    ChannelError
     +-- TransientError     nothing was received: connect failure, 502/503/504, SMTP 4xx
     |    +-- RateLimited   come back after `retry_after` seconds (HTTP 429)
     +-- RejectedError      the channel refused this notice (400/422, SMTP 5xx): `reasons`
     +-- AuthError          credentials or configuration refused (401/403)
     +-- OutcomeUnknown     the channel may have it (read time-out after the body was sent)
     +-- RenderError        the notice cannot be expressed for this channel (from `render`)

    error            recoverable (another attempt may work)     blames the channel (breaker)
    transient        yes                                        yes
    rate_limited     yes, after Retry-After                     yes
    rejected         no                                         no: it says something about the notice
    auth             no                                         yes
    unknown          only where the channel de-duplicates       yes
    render           no                                         no

Each class carries its row as `recoverable` and `blames_channel`; the retry policy and the
circuit breaker read them, nothing else decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

EXCERPT_LIMIT = 20 * 1024


class ChannelError(Exception):
    """A channel could not take the notice; subclasses say what the engine should do."""

    error_class: ClassVar[str] = "error"
    recoverable: ClassVar[bool] = False
    blames_channel: ClassVar[bool] = True

    def __init__(self, message: str, *, status_code: int | None = None, excerpt: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.excerpt = excerpt


class TransientError(ChannelError):
    """Nothing was received; trying again later may work."""

    error_class = "transient"
    recoverable = True


class RateLimited(TransientError):
    """The channel asks us to come back after `retry_after` seconds."""

    error_class = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RejectedError(ChannelError):
    """The channel refused this notice; `reasons` are the channel's own words."""

    error_class = "rejected"
    blames_channel = False

    def __init__(self, message: str, *, reasons: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reasons = list(reasons)


class AuthError(ChannelError):
    """Credentials or configuration were refused; no retry will help."""

    error_class = "auth"


class OutcomeUnknown(ChannelError):
    """The request may have reached the channel; only a de-duplicating channel may be retried."""

    error_class = "unknown"
    recoverable = True  # where the channel de-duplicates by our key; else a person decides


class RenderError(ChannelError):
    """The notice cannot be expressed for this channel (a field it cannot carry)."""

    error_class = "render"
    blames_channel = False


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """Remove secret values from text that will be stored or shown, and bound its size."""
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    if len(text) > EXCERPT_LIMIT:
        text = text[:EXCERPT_LIMIT] + "\n[... truncated]"
    return text
