"""The trade press desks' mail server, simulated: an SMTP sink (aiosmtpd) on loopback that
checks each advert, keeps it in the ledger and serves it back over the sandbox's HTTP port.
The product's alert e-mails to ops reach the same sink; they are a channel of their own,
`ops-alerts`, in the ledger and for faults.

    MAIL FROM   the transaction's channel is decided by the envelope sender: mail from
                `config.alerts_sender` (the shipped profiles' `alerts.sender`) is `ops-alerts`,
                anything else `trade-press`; a pending fault *of that channel* is taken here,
                one per message transaction:
                  error-503       421 4.3.2 (temporary; the session stays open)
                  rate-limit-429  451 4.7.1 "rate limited" (SMTP has no Retry-After)
                  down            421 4.3.0, then the connection is closed
                  auth-401/403    535 5.7.8 credentials refused
    DATA end    reject-422      554 5.6.0, nothing kept
                an alert        (X-Syndicator-Alert header, or the alerts sender) kept, 250
                not an advert   554 5.6.0 naming what is missing, nothing kept
                a correction or withdrawal of no advert received (desk.py): 554 5.6.0, nothing kept
                timeout         kept, then 250 only after `fault.delay` seconds
                otherwise       kept, 250

An advertising desk does not de-duplicate: a second message with the same Message-ID is a
second advert, so the ledger counts it as another receipt and another copy.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import Any, AnyStr
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.desk import Reading, read
from syndicator.sandbox.faults import AUTH, Fault, Faults
from syndicator.sandbox.ledger import Entry, Ledger

CHANNEL = "trade-press"
ALERTS = "ops-alerts"  # the product's own alert e-mails to ops, kept apart from adverts
MAX_MESSAGE = 10 * 1024 * 1024
AT_DATA = ("timeout", "reject-422")  # faults that act once the message has been sent


def problem(message: EmailMessage) -> str | None:
    """Why a message is not an advert the desk can print, or None."""
    if message.defects:
        return f"the message is malformed ({type(message.defects[0]).__name__})"
    if not str(message.get("Message-ID") or "").strip():
        return "the message has no Message-ID"
    reference = str(message.get("X-Tender-Reference") or "")
    if "/" not in reference.strip("/"):
        return "the message has no X-Tender-Reference: <buyer>/<reference> header"
    types = {part.get_content_type() for part in message.walk()}
    missing = [kind for kind in ("text/plain", "text/html") if kind not in types]
    if missing:
        return f"the advert has no {' or '.join(missing)} part"
    return None


class _Desk:
    """The aiosmtpd handler: faults, validation and the ledger."""

    def __init__(self, config: SandboxConfig, ledger: Ledger, faults: Faults) -> None:
        self.config = config
        self.ledger = ledger
        self.faults = faults
        # The fault taken at MAIL FROM that acts at the end of DATA, per SMTP session.
        self._pending: weakref.WeakKeyDictionary[Session, Fault] = weakref.WeakKeyDictionary()

    def channel_of(self, sender: str) -> str:
        """The channel a message transaction belongs to, by its envelope sender."""
        return ALERTS if sender.strip("<>").lower() == self.config.alerts_sender.lower() else CHANNEL

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Start a transaction, or fail it as an injected fault says."""
        self._pending.pop(session, None)
        fault = self.faults.take(self.channel_of(address))
        if fault is not None and fault.mode not in AT_DATA:
            if fault.mode in AUTH:
                return "535 5.7.8 Authentication credentials invalid (injected)"
            if fault.mode == "down":
                # Answer, then hang up (RFC 5321 3.8: 421 closes the transmission channel).
                if server.transport is not None:
                    asyncio.get_running_loop().call_soon(server.transport.close)
                return "421 4.3.0 Service not available, closing transmission channel (injected)"
            if fault.mode == "rate-limit-429":
                return "451 4.7.1 Rate limited: too many messages, try again later (injected)"
            return "421 4.3.2 Service temporarily unavailable, try again later (injected)"
        if fault is not None:
            self._pending[session] = fault
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Check the advert and keep it (or refuse it)."""
        fault = self._pending.pop(session, None)
        if fault is not None and fault.mode == "reject-422":
            return "554 5.6.0 The desk refused this advert (injected)"
        content = envelope.original_content or b""
        parsed = BytesParser(policy=default).parsebytes(content)
        assert isinstance(parsed, EmailMessage)  # policy=default always builds one
        if parsed.get("X-Syndicator-Alert") or self.channel_of(envelope.mail_from or "") == ALERTS:
            self._keep_alert(envelope, parsed, content)
            if fault is not None:  # timeout: kept, the answer comes too late
                await asyncio.sleep(fault.delay)
            return "250 2.0.0 Alert delivered to the ops mailbox"
        why = problem(parsed)
        if why is not None:
            return f"554 5.6.0 Not an advert: {why}"
        reading = read(parsed, self.ledger, CHANNEL)  # which notice and version (desk.py)
        if isinstance(reading, str):
            return f"554 5.6.0 Refused: {reading}"
        self._keep(envelope, parsed, content, reading)
        if fault is not None:  # timeout: the advert is kept, the answer comes too late
            await asyncio.sleep(fault.delay)
        return "250 2.0.0 Advert received for the next edition"

    def _keep_alert(self, envelope: Envelope, message: EmailMessage, content: bytes) -> None:
        message_id = str(message.get("Message-ID") or f"<alert-{time.time_ns()}@sandbox>").strip()
        now = time.time()
        self.ledger.add(
            Entry(
                channel=ALERTS,
                key=message_id,
                remote_id=message_id,
                tender_reference=None,
                body=content,
                extension="eml",
                first_received_at=now,
                publish_at=now,
                url=f"{self.config.base_url()}/_sandbox/notices/{ALERTS}/{quote(message_id, safe='')}",
                meta={"rcpt_tos": list(envelope.rcpt_tos), "subject": str(message.get("Subject") or "")},
            )
        )

    def _keep(self, envelope: Envelope, message: EmailMessage, content: bytes, reading: Reading) -> None:
        message_id = str(message["Message-ID"]).strip()
        existing = self.ledger.find(CHANNEL, message_id)
        # Everything runs on the sink's one event loop thread with no await between the
        # lookup and the store, so two messages cannot interleave here.
        if existing is not None:
            self.ledger.repeat(existing, copy=True)  # a resend is a second advert
            return
        now = time.time()
        self.ledger.add(
            Entry(
                channel=CHANNEL,
                key=message_id,
                remote_id=message_id,
                tender_reference=str(message["X-Tender-Reference"]).split("/", 1)[1],
                body=content,
                extension="eml",
                first_received_at=now,
                publish_at=now,  # the desk has it; print runs are outside the sandbox
                url=f"{self.config.base_url()}/_sandbox/notices/{CHANNEL}/{quote(message_id, safe='')}",
                meta={
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "subject": str(message.get("Subject") or ""),
                    "in_reply_to": reading.replies_to,
                },
                notice=reading.notice,
                version=reading.version,
            )
        )


class _DistantSMTP(SMTP):
    """An SMTP session whose every reply arrives `latency` seconds late (the simulated network)."""

    def __init__(self, *args: Any, latency: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._latency = latency

    async def push(self, status: AnyStr) -> None:
        line = status if isinstance(status, str) else status.decode("ascii", "replace")
        if line[3:4] != "-":  # the last (or only) line of a reply: "250-..." lines continue it
            await asyncio.sleep(self._latency)
        await super().push(status)


class _Controller(Controller):
    def __init__(self, *args: Any, latency: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._latency = latency

    def factory(self) -> SMTP:
        if self._latency <= 0:
            return super().factory()
        return _DistantSMTP(self.handler, latency=self._latency, **self.SMTP_kwargs)


class SmtpSink:
    """The SMTP side of the sandbox: one aiosmtpd server on `config.host:config.smtp_port`."""

    def __init__(self, config: SandboxConfig, ledger: Ledger, faults: Faults) -> None:
        self.config = config
        self._controller: Controller | None = None
        self._handler = _Desk(config, ledger, faults)

    def start(self) -> None:
        """Listen (in a background thread with its own event loop)."""
        controller = _Controller(
            self._handler,
            latency=self.config.smtp_latency,
            hostname=self.config.host,
            port=self.config.smtp_port,
            ready_timeout=10.0,
            server_hostname="trade-press.sandbox",  # no getfqdn() lookup at start
            data_size_limit=MAX_MESSAGE,
            ident="EMSCU sandbox trade press desk",
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening and close open sessions; safe to call twice."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
