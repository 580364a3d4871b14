"""The sandbox's simulated network distance: every SMTP reply waits once, however many lines
it has (no timing is measured: the waits are recorded)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from syndicator.sandbox import smtp as sink


def test_a_multi_line_reply_waits_once(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    written: list[str] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    async def push(self: Any, status: str) -> None:
        written.append(status)

    monkeypatch.setattr(sink.asyncio, "sleep", wait)
    monkeypatch.setattr(SMTP, "push", push)
    session = object.__new__(sink._DistantSMTP)
    session._latency = 0.1

    async def replies() -> None:
        for line in ("250-trade-press.sandbox", "250-SIZE 10485760", "250 HELP", "354 go ahead"):
            await session.push(line)

    asyncio.run(replies())
    assert written == ["250-trade-press.sandbox", "250-SIZE 10485760", "250 HELP", "354 go ahead"]
    assert waits == [0.1, 0.1]  # the EHLO reply (three lines) and the DATA reply
