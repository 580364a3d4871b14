"""Failures reach ops as one grouped e-mail per window, not one per delivery."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes

import pytest

from syndicator.channel.base import RejectedError, TransientError
from syndicator.engine.alerts import AlertSettings, flush
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.faults import Faults
from syndicator.sandbox.ledger import Ledger
from syndicator.sandbox.smtp import ALERTS, SmtpSink
from tests.engine.conftest import Engine
from tests.unit.records_factory import valued


@pytest.fixture
def mailbox() -> Iterator[tuple[Ledger, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ledger = Ledger()
    sink = SmtpSink(SandboxConfig(smtp_port=port, data_dir=None), ledger, Faults())
    sink.start()
    yield ledger, port
    sink.stop()


def settings(port: int) -> AlertSettings:
    return AlertSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        sender="syndicator@example.test",
        to=["ops@example.test"],
        group_window=timedelta(minutes=5),
    )


def test_a_storm_of_failures_is_one_email(engine: Engine, channels, mailbox) -> None:
    ledger, port = mailbox
    channels["crystal"].sends.extend([RejectedError("crystal rejected the notice: title too long")] * 12)
    calls = [
        valued("60000", procedure="framework-call-off", submission_deadline=..., reference=f"A-{n}")
        for n in range(12)
    ]
    engine.dispatcher.deliver(engine.submit(*calls))
    assert flush(engine.store, settings(port), engine.clock()) == 0  # the window is still open
    engine.clock.advance(minutes=6)
    assert flush(engine.store, settings(port), engine.clock()) == 12
    assert flush(engine.store, settings(port), engine.clock()) == 0
    [mail] = ledger.entries(ALERTS)
    message = message_from_bytes(mail.body)
    assert "12 failed" in message["Subject"] and "crystal" in message["Subject"]
    assert message["To"] == "ops@example.test"
    assert "title too long" in message.get_payload(decode=True).decode()


def test_an_opened_breaker_is_alerted(engine: Engine, channels, mailbox) -> None:
    ledger, port = mailbox
    channels["crystal"].sends.extend([TransientError("connection refused")] * 5)
    calls = [
        valued("60000", procedure="framework-call-off", submission_deadline=..., reference=f"B-{n}")
        for n in range(5)
    ]
    engine.dispatcher.deliver(engine.submit(*calls))
    engine.clock.advance(minutes=6)
    assert flush(engine.store, settings(port), engine.clock()) == 1
    [mail] = ledger.entries(ALERTS)
    assert "breaker open" in message_from_bytes(mail.body)["Subject"]


def test_an_unreachable_mail_server_keeps_the_alerts(engine: Engine, channels) -> None:
    channels["crystal"].sends.append(RejectedError("no"))
    engine.dispatcher.deliver(
        engine.submit(valued("60000", procedure="framework-call-off", submission_deadline=...))
    )
    engine.clock.advance(minutes=6)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert flush(engine.store, settings(closed), engine.clock()) == 0
