"""Trade press: an advert e-mailed over SMTP to one publication's advertising desk.

The destination `trade-press:<publication>` names the desk (`desks` in the channel profile).
`render` builds the whole RFC 5322 message (multipart/alternative, text and HTML copy) with
the stdlib `email` package; `submit` hands it to the configured SMTP server through the
product's one SMTP client (`syndicator.channel.smtp`), which maps every failure:

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
from datetime import UTC, date, datetime
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, default
from email.utils import format_datetime
from html import escape
from typing import ClassVar

from pydantic import SecretStr, field_validator

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
from syndicator.channel.smtp import SmtpServer, send_message
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Lot, Money, Procedure, Tender

MEDIA_TYPE = "message/rfc822"
MESSAGE_ID_DOMAIN = "tender-syndicator.emscu"
_ADDRESS = re.compile(r"[!#-'*+\-/-9=?A-Z^-~.]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


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


_PROCEDURES = {
    Procedure.OPEN: "Open procedure",
    Procedure.RESTRICTED: "Restricted procedure",
    Procedure.COMPETITIVE_DIALOGUE: "Competitive dialogue",
    Procedure.COMPETITIVE_NEGOTIATED: "Competitive procedure with negotiation",
    Procedure.FRAMEWORK_CALL_OFF: "Call-off under a framework agreement",
}


# English names spelled out: strftime's %A and %B follow the process locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _day(moment: date) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _deadline(moment: datetime) -> str:
    # Stated in UTC: the tender records an instant, and a label-free local time would be ambiguous.
    utc = moment.astimezone(UTC)
    return f"{utc:%H:%M} UTC on {_WEEKDAYS[utc.weekday()]} {_day(utc.date())}"


def _money(money: Money) -> str:
    return f"£{money.amount:,.2f} {'including' if money.vat_included else 'excluding'} VAT"


def _ted_sentence(context: RenderContext) -> str | None:
    """Directive 2014/24/EU art. 52(3): a national advert states when the TED notice was sent."""
    ted = context.follows
    if ted is None or ted.destination != "ted" or ted.dispatched_at is None:
        return None
    published = f", published as {ted.publication_id}" if ted.publication_id else ""
    return (
        f"The contract notice for this tender was dispatched to the Publications Office of the "
        f"European Union (TED) on {_day(ted.dispatched_at.astimezone(UTC).date())} "
        f"(notice {ted.identity}{published})."
    )


def _facts(tender: Tender, context: RenderContext) -> list[tuple[str, str]]:
    """The advert's labelled facts, shared by the text and the HTML copy."""
    buyer, place, deadline = context.buyer, tender.place_of_performance, tender.submission_deadline
    cpv = ", ".join([f"{tender.cpv[0]} (main)", *tender.cpv[1:]])
    facts = [
        ("Reference", tender.reference),
        ("Buyer", f"{buyer.legal_name}, {buyer.address}, {buyer.town} {buyer.postcode}"),
        ("Contract type", tender.contract_type.value.capitalize()),
        ("Procedure", _PROCEDURES[tender.procedure]),
        ("Estimated value", _money(tender.estimated_value)),
        ("Publication date", _day(tender.published_on)),
        ("Place of performance", " ".join(filter(None, (place.town, place.postcode)))),
        ("CPV codes", cpv),
        ("Suitable for SMEs", "Yes" if tender.sme_suitable else "No"),
    ]
    if tender.duration_months is not None:
        facts.insert(5, ("Contract duration", f"{tender.duration_months} months"))
    if deadline is not None:  # render() refuses a tender without one; see there
        facts.insert(5, ("Submission deadline", _deadline(deadline)))
    return facts


def _lot_line(lot: Lot) -> str:
    parts = [f"Lot {lot.number}: {lot.title}"]
    if lot.estimated_value is not None:
        parts.append(f"estimated value {_money(lot.estimated_value)}")
    if lot.cpv:
        parts.append(f"CPV {', '.join(lot.cpv)}")
    return "; ".join(parts)


def _documents(tender: Tender) -> str:
    if tender.documents_url:
        return f"Download the tender documents from {tender.documents_url}"
    return "The tender documents are available on request from the contact below."


def _contact(tender: Tender) -> list[str]:
    contact = tender.contact
    return [contact.name, contact.email, *([contact.phone] if contact.phone else [])]


def advert_text(tender: Tender, context: RenderContext) -> str:
    """The plain-text advert copy."""
    lines = ["INVITATION TO TENDER", "", tender.title, ""]
    lines += [f"{label}: {value}" for label, value in _facts(tender, context)]
    lines += ["", "Summary", tender.description]
    for lot in tender.lots:
        lines += ["", _lot_line(lot), *([lot.description] if lot.description else [])]
    lines += ["", "How to obtain the documents", _documents(tender)]
    lines += ["", "Contact", *_contact(tender)]
    ted = _ted_sentence(context)
    if ted:
        lines += ["", ted]
    return "\n".join(lines) + "\n"


def _paragraphs(text: str) -> str:
    """Escaped text as <p> paragraphs (blank lines) with <br> for single line breaks."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(escape(line) for line in block.splitlines()) + "</p>" for block in blocks
    )


def advert_html(tender: Tender, context: RenderContext) -> str:
    """The HTML advert copy: every piece of tender text goes through html.escape."""
    rows = "\n".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>'
        for label, value in _facts(tender, context)
    )
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
        f"<title>{escape(tender.title)}</title>\n</head>\n<body>",
        f"<h1>Invitation to tender: {escape(tender.title)}</h1>",
        f"<table>\n{rows}\n</table>",
        "<h2>Summary</h2>",
        _paragraphs(tender.description),
    ]
    if tender.lots:
        items = "\n".join(
            f"<li>{escape(_lot_line(lot))}{_paragraphs(lot.description) if lot.description else ''}</li>"
            for lot in tender.lots
        )
        parts += ["<h2>Lots</h2>", f"<ul>\n{items}\n</ul>"]
    parts.append("<h2>How to obtain the documents</h2>")
    if tender.documents_url:
        url = escape(tender.documents_url)
        parts.append(f'<p>Download the tender documents from <a href="{url}">{url}</a></p>')
    else:
        parts.append(f"<p>{escape(_documents(tender))}</p>")
    contact = [escape(line) for line in _contact(tender)]
    contact[1] = f'<a href="mailto:{contact[1]}">{contact[1]}</a>'
    parts += ["<h2>Contact</h2>", "<p>" + "<br>\n".join(contact) + "</p>"]
    ted = _ted_sentence(context)
    if ted:
        parts.append(f"<p>{escape(ted)}</p>")
    parts.append("</body>\n</html>")
    return "\n".join(parts) + "\n"


class TradePressChannel(Channel):
    """E-mails an advert to a trade publication's advertising desk."""

    name = "trade-press"
    title = "Trade press"
    capabilities = Capabilities(deduplicates=False, polls=False)
    settings_model: ClassVar[type[TradePressSettings]] = TradePressSettings
    settings: TradePressSettings

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """The Message-ID derived from our key: the desk's copy carries it too."""
        return message_id(key), message_id(key)

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The complete message, byte for byte (CRLF, 7-bit, boundary derived from the key)."""
        if notice.kind is not NoticeKind.CONTRACT:
            raise RenderError(f"trade-press does not carry {notice.kind.value} notices yet")
        tender = notice.tender
        publication = context.publication
        desk = self.settings.desks.get(publication or "")
        if desk is None:
            known = ", ".join(sorted(self.settings.desks)) or "none"
            raise RenderError(
                f"no advertising desk is configured for {context.destination!r} "
                f"(trade-press.desks has: {known})"
            )
        if tender.submission_deadline is None:
            raise RenderError("a trade press advert needs a submission deadline; this has none")
        message = EmailMessage(policy=SMTP)
        message["From"] = self.settings.sender
        message["To"] = desk
        _set_subject(message, f"Invitation to tender: {tender.title} [{tender.reference}]")
        message["Date"] = format_datetime(context.dispatched_at)
        message["Message-ID"] = message_id(context.key)
        message["X-Tender-Reference"] = f"{tender.buyer}/{tender.reference}"
        # Quoted-printable keeps the message 7-bit and its lines short (RFC 5322 2.1.1).
        message.set_content(advert_text(tender, context), charset="utf-8", cte="quoted-printable")
        message.add_alternative(
            advert_html(tender, context), subtype="html", charset="utf-8", cte="quoted-printable"
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
            server, sender, recipients, rendered.body, what="the advert", secrets=self.secret_values()
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
