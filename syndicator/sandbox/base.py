"""What a channel simulator is: a request in, a response out, with the shared ledger of
received notices and the sandbox's credentials and publication delays at hand."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import Ledger


@dataclass(frozen=True)
class SandboxRequest:
    """One HTTP request, as a simulator sees it (`path` is below the channel's prefix)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass
class SandboxResponse:
    """What a simulator answers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, **headers: str) -> SandboxResponse:
        """A JSON response."""
        body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
        return cls(status, body, "application/json; charset=utf-8", dict(headers))

    @classmethod
    def xml(cls, status: int, body: bytes, **headers: str) -> SandboxResponse:
        """An XML response (build the bytes with lxml)."""
        return cls(status, body, "application/xml; charset=utf-8", dict(headers))


class Simulator(ABC):
    """A faithful local stand-in for one HTTP channel."""

    channel: ClassVar[str]  # the ledger's channel name, e.g. "crystal"
    prefix: ClassVar[str]  # the URL prefix it is served under, e.g. "/crystal"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        self.config = config
        self.ledger = ledger

    @abstractmethod
    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Answer one request exactly as the real channel would."""

    @abstractmethod
    def reject(self, request: SandboxRequest, reason: str) -> SandboxResponse:
        """The channel's own way of refusing a notice (for the `reject-422` fault)."""

    @abstractmethod
    def refuse_credentials(self, request: SandboxRequest, status: int) -> SandboxResponse:
        """The channel's own 401 (credentials refused) or 403 (not allowed) answer, for the
        `auth-401` and `auth-403` faults."""

    def control(self, method: str, path: str, query: dict[str, str], body: bytes) -> SandboxResponse | None:
        """The channel's own control endpoints under `/_sandbox/<channel>/` (None: no such one)."""
        return None
