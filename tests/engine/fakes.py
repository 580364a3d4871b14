"""In-process fakes for engine tests: a channel that answers from a script, and a clock
the test moves by hand."""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import SecretStr

from syndicator.channel.base import (
    Capabilities,
    Channel,
    ChannelSettings,
    Receipt,
    RenderContext,
    Rendered,
)
from syndicator.domain.notices import Notice, NoticeKind


class FakeClock:
    """A clock that only moves when told."""

    def __init__(self, start: datetime = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class ScriptedSettings(ChannelSettings):
    token: SecretStr = SecretStr("s3cret-token-value")


class ScriptedChannel(Channel):
    """Answers each submit/poll with the next scripted Receipt or raises the next error;
    with an empty script, submit answers live (or accepted, for polling channels)."""

    name: ClassVar[str] = "scripted"
    title: ClassVar[str] = "Scripted channel"
    notices: ClassVar[frozenset[NoticeKind]] = frozenset(NoticeKind)
    capabilities: ClassVar[Capabilities] = Capabilities(deduplicates=True, polls=False)
    settings_model = ScriptedSettings

    def __init__(self, name: str, *, deduplicates: bool = True, polls: bool = False) -> None:
        super().__init__(ScriptedSettings())
        self.name = name  # type: ignore[misc]
        self.capabilities = Capabilities(deduplicates=deduplicates, polls=polls)  # type: ignore[misc]
        self.sends: deque[Any] = deque()
        self.polls: deque[Any] = deque()
        self.sent: list[str] = []
        self.polled: list[str | None] = []
        self.contexts: list[RenderContext] = []
        self.notices_seen: list[Notice] = []
        self.lock = threading.Lock()
        self.gate: threading.Event | None = None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        self.contexts.append(context)
        self.notices_seen.append(notice)
        body = {
            "reference": notice.tender.reference,
            "notice": notice.kind.value,
            "version": notice.version,
            "key": context.key,
            "revision": context.revision,
        }
        return Rendered(json.dumps(body).encode(), "application/json", identity=context.key)

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        if self.gate is not None:
            self.gate.wait(5)
        with self.lock:
            self.sent.append(key)
            step = self.sends.popleft() if self.sends else None
        if isinstance(step, BaseException):
            raise step
        if step is not None:
            return step
        remote = f"{self.name}-{len(self.sent)}"
        return Receipt(
            remote_id=remote, live=not self.capabilities.polls, url=f"https://example.test/{remote}"
        )

    def poll(self, receipt: Receipt) -> Receipt:
        with self.lock:
            self.polled.append(receipt.remote_id)
            step = self.polls.popleft() if self.polls else None
        if isinstance(step, BaseException):
            raise step
        if step is not None:
            return step
        return Receipt(
            remote_id=receipt.remote_id,
            live=True,
            url=f"https://example.test/{receipt.remote_id}/live",
        )
