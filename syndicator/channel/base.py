"""The channel interface: what every adapter in `channels/` implements, and the errors it
raises. The engine speaks only this vocabulary; each adapter maps its protocol to it at one
boundary (`raise ... from exc`).

    ChannelError
     +-- TransientError     nothing was received: connect failure, 502/503/504, SMTP 4xx
     |    +-- RateLimited   come back after `retry_after` seconds (HTTP 429)
     +-- RejectedError      the channel refused this notice (400/422, SMTP 5xx): `reasons`
     +-- AuthError          credentials or configuration refused (401/403)
     +-- OutcomeUnknown     the channel may have it (read time-out after the body was sent)
     +-- RenderError        the tender cannot be expressed for this channel (from `render`)

`render` is pure and deterministic: the exact bytes that would be sent. `submit` is the only
I/O. `poll` exists where the channel publishes later. Capabilities are declared, not guessed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from syndicator.config.buyers import Organisation
from syndicator.domain.tender import Tender

EXCERPT_LIMIT = 20 * 1024


class ChannelError(Exception):
    """A channel could not take the notice; subclasses say what the engine should do."""

    error_class: ClassVar[str] = "error"

    def __init__(self, message: str, *, status_code: int | None = None, excerpt: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.excerpt = excerpt


class TransientError(ChannelError):
    """Nothing was received; trying again later may work."""

    error_class = "transient"


class RateLimited(TransientError):
    """The channel asks us to come back after `retry_after` seconds."""

    error_class = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RejectedError(ChannelError):
    """The channel refused this notice; `reasons` are the channel's own words."""

    error_class = "rejected"

    def __init__(self, message: str, *, reasons: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reasons = list(reasons)


class AuthError(ChannelError):
    """Credentials or configuration were refused; no retry will help."""

    error_class = "auth"


class OutcomeUnknown(ChannelError):
    """The request may have reached the channel; only a de-duplicating channel may be retried."""

    error_class = "unknown"


class RenderError(ChannelError):
    """The tender cannot be expressed for this channel (a field it cannot carry)."""

    error_class = "render"


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do, declared by the adapter."""

    deduplicates: bool  # re-sending with the same key never publishes twice
    polls: bool  # accepts first, publishes later; `poll` reports publication
    withdraws: bool = False  # a published notice can be withdrawn through the API


@dataclass(frozen=True)
class TedReference:
    """The TED notice an advert follows (national adverts state its dispatch date)."""

    notice_id: str
    dispatched_on: datetime
    publication_id: str | None = None


@dataclass(frozen=True)
class RenderContext:
    """Everything besides the tender that a notice depends on."""

    key: str  # the delivery's idempotency key
    destination: str  # e.g. "crystal" or "trade-press:construction-press"
    buyer: Organisation
    review_body: Organisation
    dispatched_at: datetime  # when the notice is sent (aware UTC): TED's IssueDate/IssueTime
    revision: int = 1  # bumped when a channel refused the notice and it is sent again
    ted: TedReference | None = None
    vat_rate: Decimal = Decimal("0.20")  # routing.toml's rate, to state VAT-inclusive values net

    @property
    def publication(self) -> str | None:
        """For `trade-press:<publication>`, the publication's name."""
        return self.destination.split(":", 1)[1] if ":" in self.destination else None


@dataclass(frozen=True)
class Rendered:
    """The exact bytes a channel would receive, and their media type."""

    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)  # protocol headers beyond the body

    def text(self) -> str:
        """The body as text (every channel here speaks UTF-8)."""
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class Receipt:
    """What the channel answered: its reference, the public URL, and whether it is live."""

    remote_id: str | None
    live: bool
    url: str | None = None
    status: str = ""
    status_code: int | None = None
    excerpt: str | None = None
    published_at: datetime | None = None


class ChannelSettings(BaseModel):
    """Base of every adapter's settings (one `[profiles.<profile>.<destination>]` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def secret_values(self) -> list[str]:
        """Every secret value, so they can be scrubbed from anything shown."""
        return [
            value.get_secret_value()
            for value in self.__dict__.values()
            if isinstance(value, SecretStr) and value.get_secret_value()
        ]

    def redacted(self) -> dict[str, Any]:
        """The configuration safe to show: secrets replaced by '********'."""
        shown: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, SecretStr):
                shown[name] = "********" if value.get_secret_value() else "(not set)"
            elif isinstance(value, BaseModel):
                shown[name] = value.model_dump(mode="json")
            else:
                shown[name] = value if isinstance(value, str | int | float | bool | None) else str(value)
        return shown


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


class Channel(ABC):
    """One destination's adapter."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    settings_model: ClassVar[type[ChannelSettings]]

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    @abstractmethod
    def render(self, tender: Tender, context: RenderContext) -> Rendered:
        """The exact notice for this channel (pure; raises RenderError)."""

    @abstractmethod
    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Send the notice; returns the receipt or raises a ChannelError."""

    def poll(self, receipt: Receipt) -> Receipt:
        """Ask whether an accepted notice is live (channels that publish later)."""
        raise NotImplementedError(f"{self.name} publishes at once; there is nothing to poll")

    def secret_values(self) -> list[str]:
        """Every secret this adapter holds."""
        return self.settings.secret_values()

    def describe(self) -> dict[str, Any]:
        """A redacted description of the configuration, safe for logs and the dashboard."""
        return {"channel": self.name, **self.settings.redacted()}

    def close(self) -> None:  # noqa: B027 - optional hook; most adapters hold nothing to close
        """Release connections."""
