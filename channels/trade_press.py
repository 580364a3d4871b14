"""Trade press: an advert e-mailed over SMTP to one publication's advertising desk, and later
a correction or withdrawal of it, threaded to it (RFC 5322 3.6.4) as a reply to the advert.

The destination `trade-press:<publication>` names the desk (`desks` in the channel profile).
`render` builds the whole RFC 5322 message (multipart/alternative, text and HTML copy from
`trade_press_copy`) with the stdlib `email` package; `submit` hands it to the configured SMTP
server through the product's one SMTP client (`syndicator.channel.smtp`).

    contract      Subject "Invitation to tender: <title> [<reference>]"
    change        Subject "Amendment: ..." or "Correction: ..."  } In-Reply-To: <the advert's Message-ID>
    cancellation  Subject "Withdrawal: ..."                      } References: <advert> [<latest notice>]
    each its own Message-ID, <key@tender-syndicator.emscu>

    cannot connect, time-out or drop before the data was sent -> TransientError
    any 4xx reply (421 rate limiting included: SMTP has no Retry-After) -> TransientError
    530 / 534 / 535, AUTH or STARTTLS not offered, bad certificate --> AuthError
    any other 5xx reply --------------------------------------------> RejectedError
    time-out or drop while waiting for the reply to the data -------> OutcomeUnknown
    250 after the data ---------------------------------------------> Receipt(live=True)

A desk does not de-duplicate: every message it accepts is another advert, so the engine never
retries an OutcomeUnknown here; it waits for a person to reconcile. The Message-ID is derived
from our key all the same, so a desk (or a person) can recognise a resend.
"""

from __future__ import annotations

import hashlib
import re
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, default
from email.utils import format_datetime
from typing import ClassVar

from pydantic import SecretStr, field_validator

from channels.trade_press_copy import html, plain, subject
from syndicator.channel.base import (
    Capabilities,
    Channel,
    ChannelSettings,
    Receipt,
    RenderContext,
    Rendered,
    RenderError,
    scrub,
)
from syndicator.channel.smtp import SmtpConnections, SmtpServer, send_message
from syndicator.domain.notices import Notice, NoticeKind, NoticeRef

MEDIA_TYPE = "message/rfc822"
MESSAGE_ID_DOMAIN = "tender-syndicator.emscu"
_ADDRESS = re.compile(r"[!#-'*+\-/-9=?A-Z^-~.]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MESSAGE_ID = re.compile(r"<[A-Za-z0-9._-]{1,128}@[A-Za-z0-9.-]{1,128}>")  # as message_id() makes them


class TradePressSettings(ChannelSettings):
    """`[profiles.<profile>.trade-press]`: the SMTP relay and each publication's desk."""

    smtp_host: str
    smtp_port: int = 587
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: str
    desks: dict[str, str]
    timeout: float = 30.0

    @field_validator("smtp_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("must be a TCP port (1-65535)")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        parsed = default.header_factory("From", value)
        if len(parsed.addresses) != 1 or not _ADDRESS.fullmatch(parsed.addresses[0].addr_spec):
            raise ValueError("must be one ASCII e-mail address, e.g. 'Name <adverts@example.org>'")
        return value

    @field_validator("desks")
    @classmethod
    def _desks(cls, value: dict[str, str]) -> dict[str, str]:
        for publication, address in value.items():
            # ASCII only: the server is not assumed to offer SMTPUTF8 (RFC 6531).
            if not _ADDRESS.fullmatch(address):
                raise ValueError(f"{publication}: {address!r} is not an ASCII e-mail address")
        return value


def message_id(key: str) -> str:
    """The stable Message-ID of the advert with idempotency key `key`."""
    if not _KEY.fullmatch(key):
        raise RenderError(f"the delivery key {key!r} cannot form a Message-ID")
    return f"<{key}@{MESSAGE_ID_DOMAIN}>"


def _set_subject(message: EmailMessage, subject: str) -> None:
    """Set Subject so that it decodes to exactly `subject`.

    The `email` package's own folder can drop the spaces between RFC 2047 encoded words
    (Python 3.11: "£5k — Zürich" came back as "£5k—Zürich"), so any subject that needs
    encoding is encoded whole by `email.header.Header`, which keeps every space inside the
    encoded words, and stored as is.
    """
    if subject.isascii() and "=?" not in subject:
        message["Subject"] = subject
        return
    folded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\n")
    message.set_raw("Subject", folded)


def _thread(context: RenderContext) -> tuple[NoticeRef, list[str]]:
    """The advert a correction or withdrawal replies to, and the References (RFC 5322 3.6.4):
    the advert, then the latest notice the desk has of the tender when that is another one.
    Stored identities are checked before they go into a header."""
    original = context.first(NoticeKind.CONTRACT)
    if original is None or not original.identity:
        raise RenderError(
            f"{context.destination} has no advert of this tender on record to correct or withdraw"
        )
    chain = [original.identity]
    previous = context.previous
    if previous is not None and previous.identity and previous.identity != original.identity:
        chain.append(previous.identity)
    for identity in chain:
        if not _MESSAGE_ID.fullmatch(identity):
            raise RenderError(f"{identity!r} is not a Message-ID this channel gave an e-mail")
    return original, chain


class TradePressChannel(Channel):
    """E-mails an advert to a trade publication's advertising desk."""

    name = "trade-press"
    title = "Trade press"
    capabilities = Capabilities(deduplicates=False, polls=False)
    notices = frozenset({NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.CANCELLATION})
    settings_model: ClassVar[type[TradePressSettings]] = TradePressSettings
    settings: TradePressSettings

    def __init__(self, settings: ChannelSettings) -> None:
        super().__init__(settings)
        # One session per sending thread is kept open between adverts: each saves the
        # connection, greeting, EHLO and QUIT round trips. A desk does not de-duplicate, so a
        # kept session changes nothing about when an advert counts as sent (the 250 after DATA).
        self._connections = SmtpConnections()

    def close(self) -> None:
        """QUIT the kept sessions."""
        self._connections.close()

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """The Message-ID derived from our key: the desk's copy carries it too."""
        return message_id(key), message_id(key)

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The complete message, byte for byte (CRLF, 7-bit, boundary derived from the key)."""
        if notice.kind not in self.notices:
            raise RenderError(f"trade-press does not carry {notice.kind.value} notices")
        tender = notice.tender
        publication = context.publication
        desk = self.settings.desks.get(publication or "")
        if desk is None:
            known = ", ".join(sorted(self.settings.desks)) or "none"
            raise RenderError(
                f"no advertising desk is configured for {context.destination!r} "
                f"(trade-press.desks has: {known})"
            )
        if tender.submission_deadline is None and notice.kind is not NoticeKind.CANCELLATION:
            raise RenderError("a trade press advert needs a submission deadline; this has none")
        follows = context.follows
        if follows is not None and (follows.dispatched_at is None or follows.public_reference is None):
            raise RenderError(
                f"the {follows.destination} notice this advert follows has no dispatch date or reference"
            )
        original, chain = _thread(context) if notice.kind is not NoticeKind.CONTRACT else (None, [])
        message = EmailMessage(policy=SMTP)
        message["From"] = self.settings.sender
        message["To"] = desk
        _set_subject(message, subject(notice))
        message["Date"] = format_datetime(context.dispatched_at)
        message["Message-ID"] = message_id(context.key)
        if chain:
            message["In-Reply-To"] = chain[0]
            message["References"] = " ".join(chain)
        message["X-Tender-Reference"] = f"{tender.buyer}/{tender.reference}"
        # Quoted-printable keeps the message 7-bit and its lines short (RFC 5322 2.1.1).
        message.set_content(plain(notice, context, original), charset="utf-8", cte="quoted-printable")
        message.add_alternative(
            html(notice, context, original), subtype="html", charset="utf-8", cte="quoted-printable"
        )
        for part in message.iter_parts():
            del part["MIME-Version"]  # belongs on the message only (RFC 2045 section 4)
        # "=_" cannot occur in quoted-printable text, so this boundary never collides.
        digest = hashlib.sha256(context.key.encode("utf-8")).hexdigest()[:32]
        message.set_boundary(f"=_advert_{digest}")
        return Rendered(
            body=message.as_bytes(policy=SMTP), media_type=MEDIA_TYPE, identity=message_id(context.key)
        )

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Send the message to the desk through the one SMTP client (`syndicator.channel.smtp`)."""
        remote_id, sender, recipients = _envelope(rendered.body)
        settings = self.settings
        server = SmtpServer(
            name=self.name,
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.starttls,
            username=settings.username,
            password=settings.password,
            timeout=settings.timeout,
            password_variable="SYNDICATOR_TRADE_PRESS_PASSWORD",  # noqa: S106 - a variable's name
        )
        accepted = send_message(
            server,
            sender,
            recipients,
            rendered.body,
            what="the advert",
            secrets=self.secret_values(),
            connections=self._connections,
        )
        return Receipt(
            remote_id=remote_id,
            live=True,
            status="accepted by the desk",
            status_code=accepted.code,
            excerpt=scrub(f"{accepted.code} {accepted.reply}", self.secret_values()),
        )


def _envelope(body: bytes) -> tuple[str, str, list[str]]:
    """(Message-ID, envelope sender, recipients) read back from the rendered message."""
    headers = BytesParser(policy=default).parsebytes(body, headersonly=True)
    senders = [a.addr_spec for a in (headers["From"].addresses if headers["From"] else [])]
    recipients = [
        address.addr_spec
        for name in ("To", "Cc")
        for address in (headers[name].addresses if headers[name] else [])
    ]
    if not headers["Message-ID"] or len(senders) != 1 or not recipients:
        raise RenderError("the rendered advert lacks a Message-ID, one From or a recipient")
    return str(headers["Message-ID"]), senders[0], recipients
