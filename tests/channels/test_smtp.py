"""The one SMTP client: trade press adverts and alert e-mails share it, so they share its
failure mapping; no other module speaks SMTP."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from syndicator.channel.base import AuthError, RejectedError, TransientError
from syndicator.channel.smtp import SmtpConnections, SmtpServer, send_message
from syndicator.engine.alerts import AlertSettings, send
from syndicator.store.models import AlertRow
from tests.conftest import ROOT

PASSWORD = "alerts-secret-password"


class Desk:
    """Answers MAIL FROM with `mail` (or 250) and keeps what it accepts."""

    def __init__(self, mail: str | None = None) -> None:
        self.mail = mail
        self.received: list[Envelope] = []

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.mail_from = address
        return self.mail or "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 2.0.0 queued"


@pytest.fixture
def desk() -> Iterator[Any]:
    started: list[Controller] = []

    def start(handler: Desk) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="test")
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def _settings(port: int, **changes: Any) -> AlertSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "sender": "tender-syndicator <syndicator@example.test>",
        "to": ["ops@example.test", "duty@example.test"],
        "group_window": timedelta(minutes=5),
        **changes,
    }
    return AlertSettings(**values)


def _alert_mail(settings: AlertSettings) -> Any:
    from syndicator.engine.alerts import compose

    row = AlertRow(
        kind="failed",
        destination="crystal",
        delivery_id=1,
        message=".a line starting with a dot",
        at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )
    return compose([row], settings, datetime(2026, 12, 1, 9, 5, tzinfo=UTC))


def test_an_alert_goes_through_the_shared_client(desk: Any) -> None:
    handler = Desk()
    settings = _settings(desk(handler))
    send(_alert_mail(settings), settings)
    (envelope,) = handler.received
    assert envelope.mail_from == "syndicator@example.test"  # the address, not the display name
    assert envelope.rcpt_tos == ["ops@example.test", "duty@example.test"]
    received = message_from_bytes(envelope.original_content)
    assert received["X-Syndicator-Alert"] == "1"
    assert ".a line starting with a dot" in received.get_payload(decode=True).decode()


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("535 5.7.8 Authentication credentials invalid", AuthError),
        ("451 4.3.0 try later", TransientError),
        ("550 5.7.1 relaying denied", RejectedError),
    ],
)
def test_alert_failures_are_mapped_like_adverts(desk: Any, reply: str, error: type[Exception]) -> None:
    settings = _settings(desk(Desk(mail=reply)))
    with pytest.raises(error) as caught:
        send(_alert_mail(settings), settings)
    assert caught.value.status_code == int(reply[:3])  # type: ignore[attr-defined]


def test_an_alert_username_without_password_is_an_auth_error(desk: Any) -> None:
    settings = _settings(desk(Desk()), username="syndicator")
    with pytest.raises(AuthError, match="SYNDICATOR_ALERTS_PASSWORD"):
        send(_alert_mail(settings), settings)


def test_only_one_module_speaks_smtp() -> None:
    speaking = sorted(
        str(path.relative_to(ROOT))
        for folder in ("syndicator", "channels")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"^\s*(import smtplib|from smtplib import)", path.read_text("utf-8"), re.MULTILINE)
        and "/sandbox/" not in str(path)
    )
    assert speaking == ["syndicator/channel/smtp.py"]


class CountingDesk(Desk):
    """Counts sessions (one EHLO each); with `hang_up`, ends the session after each message."""

    def __init__(self, hang_up: bool = False) -> None:
        super().__init__()
        self.sessions = 0
        self.hang_up = hang_up

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.sessions += 1
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.hang_up:  # after the 250 is written: the kept session is gone for the next one
            asyncio.get_running_loop().call_soon(server.transport.close)
        return answer


def advert(n: int) -> bytes:
    return f"Subject: advert {n}\r\nMessage-ID: <{n}@test>\r\n\r\nbody {n}\r\n".encode()


def test_kept_sessions_carry_several_messages(desk: Any) -> None:
    handler = CountingDesk()
    server = SmtpServer(name="trade-press", host="127.0.0.1", port=desk(handler), timeout=5)
    connections = SmtpConnections()
    for n in range(3):
        send_message(server, "a@example.org", ["desk@example.org"], advert(n), connections=connections)
    connections.close()
    assert handler.sessions == 1
    assert [message_from_bytes(e.content)["Subject"] for e in handler.received] == [
        "advert 0",
        "advert 1",
        "advert 2",
    ]


def test_a_session_the_server_ended_is_replaced_and_the_message_sent_once(desk: Any) -> None:
    handler = CountingDesk(hang_up=True)
    server = SmtpServer(name="trade-press", host="127.0.0.1", port=desk(handler), timeout=5)
    connections = SmtpConnections()
    for n in range(3):
        send_message(server, "a@example.org", ["desk@example.org"], advert(n), connections=connections)
    connections.close()
    assert handler.sessions == 3
    assert len(handler.received) == 3
