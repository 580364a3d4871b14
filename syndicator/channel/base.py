"""The channel interface: what every adapter in `channels/` implements. The engine speaks only
this vocabulary (and the errors in `syndicator.channel.errors`); each adapter maps its protocol
to it at one boundary (`raise ... from exc`).

    render(notice, context) -> Rendered     pure and deterministic: the exact bytes to send
    submit(rendered, key)   -> Receipt      the only I/O
    poll(receipt)           -> Receipt      where the channel publishes later

A notice (`syndicator.domain.notices.Notice`) is one step of a procurement's life (contract,
change, cancellation, award, contract details) carrying one tender version; the context holds
everything else it depends on, including the receipts of the earlier notices of the same
procurement on this destination and on the primary one. Capabilities and the notice kinds a
channel carries are declared, not guessed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from syndicator.channel.errors import (
    EXCERPT_LIMIT,
    AuthError,
    ChannelError,
    OutcomeUnknown,
    RateLimited,
    RejectedError,
    RenderError,
    TransientError,
    scrub,
)
from syndicator.config.buyers import Organisation
from syndicator.domain.notices import Notice, NoticeKind, NoticeRef

__all__ = [  # the errors are re-exported: adapters import the whole interface from here
    "EXCERPT_LIMIT",
    "AuthError",
    "Capabilities",
    "Channel",
    "ChannelError",
    "ChannelSettings",
    "OutcomeUnknown",
    "RateLimited",
    "Receipt",
    "RejectedError",
    "RenderContext",
    "RenderError",
    "Rendered",
    "TransientError",
    "scrub",
]


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do, declared by the adapter."""

    deduplicates: bool  # re-sending with the same key never publishes twice
    polls: bool  # accepts first, publishes later; `poll` reports publication
    # A cancellation can stop a notice the channel accepted but has not published yet (TED's
    # stop-publication), so it need not wait for that notice to be published first.
    stops_unpublished: bool = False
    # The award notice states each contract's conclusion date, so it goes out only once every
    # awarded contract is signed (TED: PCR 2015 reg. 50 and Directive 2014/24 art. 50, BT-145).
    award_after_signature: bool = False


@dataclass(frozen=True)
class RenderContext:
    """Everything besides the notice's content that its bytes depend on."""

    key: str  # the delivery's idempotency key
    destination: str  # e.g. "crystal" or "trade-press:construction-press"
    buyer: Organisation
    review_body: Organisation
    dispatched_at: datetime  # when the notice is sent (aware UTC): TED's IssueDate/IssueTime
    revision: int = 1  # bumped when a person sends a refused notice again
    vat_rate: Decimal = Decimal("0.20")  # routing.toml's rate, to state VAT-inclusive values net
    # Earlier notices of this procurement that this destination carries (or may), oldest first.
    history: tuple[NoticeRef, ...] = ()
    # The primary destination's notice this one followed (the official journal's), if any, and
    # every notice of the procurement the primary carries.
    follows: NoticeRef | None = None
    primary: tuple[NoticeRef, ...] = ()
    # The procurement's legal regime ("ojeu", "pcr-uk", "pa2023") and whether its value is at or
    # above the threshold in force when it commenced (Find a Tender's `tender.aboveThreshold`).
    regime: str | None = None
    above_threshold: bool | None = None

    @property
    def publication(self) -> str | None:
        """For `trade-press:<publication>`, the publication's name."""
        return self.destination.split(":", 1)[1] if ":" in self.destination else None

    @property
    def previous(self) -> NoticeRef | None:
        """The notice a change or cancellation refers to: the latest this destination carries."""
        return self.history[-1] if self.history else None

    def first(self, kind: NoticeKind) -> NoticeRef | None:
        """The first notice of `kind` this destination carries (e.g. the original advert)."""
        return next((ref for ref in self.history if ref.kind is kind), None)


@dataclass(frozen=True)
class Rendered:
    """The exact bytes a channel would receive, and their media type."""

    body: bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)  # protocol headers beyond the body
    # What the channel will know this notice as, from our side (a TED businessId, an OCDS
    # release id, a Message-ID): `submit` uses it instead of parsing the bytes again, and later
    # notices refer to it.
    identity: str | None = None
    # For channels with several operations: which one the bytes are for ("update", "cancel",
    # "stop" for a TED stop-publication) and the channel's id of the notice it applies to;
    # None is the channel's ordinary "publish this notice".
    operation: str | None = None
    target: str | None = None

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
    publication_id: str | None = None  # the channel's official number, once it has one


class ChannelSettings(BaseModel):
    """Base of every adapter's settings (one `[profiles.<profile>.<destination>]` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Fields holding one value per buyer (`dict[buyer id, ...]`), e.g. the API key each
    # contracting authority gives its eSender; each maps to which buyers must have one. The
    # registry reads them from SYNDICATOR_<DESTINATION>_<FIELD>_<BUYER> and fails start-up
    # naming the variable of a buyer that needs one and has none.
    per_buyer: ClassVar[Mapping[str, Callable[[Organisation], bool]]] = {}

    def secret_values(self) -> list[str]:
        """Every secret value (also inside per-buyer tables), so they can be scrubbed."""
        found = []
        for value in self.__dict__.values():
            inner = value.values() if isinstance(value, dict) else (value,)
            found += [v.get_secret_value() for v in inner if isinstance(v, SecretStr)]
        return [value for value in found if value]

    def redacted(self) -> dict[str, Any]:
        """The configuration safe to show: secrets replaced by '********'."""
        shown: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, SecretStr):
                shown[name] = "********" if value.get_secret_value() else "(not set)"
            elif isinstance(value, dict) and any(isinstance(v, SecretStr) for v in value.values()):
                shown[name] = {k: "********" for k in value}
            elif isinstance(value, BaseModel):
                shown[name] = value.model_dump(mode="json")
            else:
                shown[name] = value if isinstance(value, str | int | float | bool | None) else str(value)
        return shown


class Channel(ABC):
    """One destination's adapter."""

    name: ClassVar[str]
    title: ClassVar[str]  # how people name the destination ("Tenders Electronic Daily (TED)")
    capabilities: ClassVar[Capabilities]
    settings_model: ClassVar[type[ChannelSettings]]
    # The notice kinds this channel carries; routing refuses any other kind before storing it.
    notices: ClassVar[frozenset[NoticeKind]] = frozenset({NoticeKind.CONTRACT})

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    @abstractmethod
    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The exact bytes of `notice` for this channel (pure; raises RenderError)."""

    @abstractmethod
    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Send the notice; returns the receipt or raises a ChannelError."""

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """What the first send of the notice with idempotency key `key` is called: our identity
        on the wire and, where it follows from ours, the channel's own id. `(None, None)` when
        the channel chooses them (used to sketch earlier notices for `syndicator preview`)."""
        return None, None

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
