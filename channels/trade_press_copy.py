"""The words of a trade press e-mail, as plain text and as HTML carrying the same facts:

    contract      "Invitation to tender: <title> [<ref>]"   the advert
    change        "Amendment: ..." or "Correction: ..."     why, what changed, the advert as it now stands
    cancellation  "Withdrawal: ..."                         stop printing the advert, and why

Every text opens with its heading and then "Notice version: N" (the tender version it carries),
before any text taken from the tender or the buyer, so a desk (and the sandbox's sink) reads
the version from a place no title, reason or description can reach. The HTML is fixed markup
with every piece of outside text passed through `html.escape`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import escape

from syndicator.channel.base import RenderContext
from syndicator.domain.notices import Notice, NoticeKind, NoticeRef
from syndicator.domain.tender import Lot, Money, Procedure, Tender

VERSION_LINE = "Notice version: {}"
_PROCEDURES = {
    Procedure.OPEN: "Open procedure",
    Procedure.RESTRICTED: "Restricted procedure",
    Procedure.COMPETITIVE_DIALOGUE: "Competitive dialogue",
    Procedure.COMPETITIVE_NEGOTIATED: "Competitive procedure with negotiation",
    Procedure.FRAMEWORK_CALL_OFF: "Call-off under a framework agreement",
    Procedure.COMPETITIVE_FLEXIBLE: "Competitive flexible procedure",
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


def subject(notice: Notice) -> str:
    """The Subject: what the message is, then the tender's title and reference."""
    tender = notice.tender
    what = {NoticeKind.CONTRACT: "Invitation to tender", NoticeKind.CANCELLATION: "Withdrawal"}.get(
        notice.kind, "Correction" if notice.correction else "Amendment"
    )
    return f"{what}: {tender.title} [{tender.reference}]"


def _heading(notice: Notice) -> str:
    if notice.kind is NoticeKind.CONTRACT:
        return "Invitation to tender"
    if notice.kind is NoticeKind.CANCELLATION:
        return "Withdrawal of an invitation to tender"
    return f"{'Correction' if notice.correction else 'Amendment'} to an invitation to tender"


def follows_sentence(context: RenderContext) -> str | None:
    """PCR 2015 reg 52(3) (Directive 2014/24/EU art. 52(3)): a national advert states when the
    official journal's notice was sent, whichever journal is the primary (TED, Find a Tender)."""
    ref = context.follows
    if ref is None or ref.dispatched_at is None or ref.public_reference is None:
        return None
    where = ref.title or ref.destination
    return (
        f"The notice for this tender was sent to {where} on "
        f"{_day(ref.dispatched_at.astimezone(UTC).date())} (notice {ref.public_reference})."
    )


def _sent_on(ref: NoticeRef) -> str:
    when = f" on {_day(ref.dispatched_at.astimezone(UTC).date())}" if ref.dispatched_at else ""
    return f"the advert for this tender that we sent you{when} (Message-ID {ref.identity})"


def _intro(notice: Notice, original: NoticeRef) -> str:
    if notice.kind is NoticeKind.CANCELLATION:
        return (
            f"The buyer has withdrawn this invitation to tender. Please do not print "
            f"{_sent_on(original)} again, and take it down from your website."
        )
    done, result = ("corrects an error in", "corrected") if notice.correction else ("amends", "amended")
    return (
        f"This {done} {_sent_on(original)}. Please print the {result} advert below "
        "in its place from your next edition, and update your website."
    )


def _facts(tender: Tender, context: RenderContext) -> list[tuple[str, str]]:
    """The advert's labelled facts, shared by the text and the HTML copy."""
    place, deadline = tender.place_of_performance, tender.submission_deadline
    cpv = ", ".join([f"{tender.cpv[0]} (main)", *tender.cpv[1:]])
    facts = [
        ("Reference", tender.reference),
        ("Buyer", _buyer(context)),
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
    if deadline is not None:  # the channel refuses an advert without one; see its render()
        facts.insert(5, ("Submission deadline", _deadline(deadline)))
    return facts


def _withdrawal_facts(notice: Notice, context: RenderContext) -> list[tuple[str, str]]:
    withdrawn = (notice.withdrawn_at or context.dispatched_at).astimezone(UTC).date()
    return [
        ("Reference", notice.tender.reference),
        ("Buyer", _buyer(context)),
        ("Withdrawn on", _day(withdrawn)),
    ]


def _buyer(context: RenderContext) -> str:
    buyer = context.buyer
    return f"{buyer.legal_name}, {buyer.address}, {buyer.town} {buyer.postcode}"


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


def _changes(notice: Notice) -> list[str]:
    return [change.sentence() for change in notice.changes] or [
        "None of the advert's details changed; see the reason above."
    ]


# -- plain text ------------------------------------------------------------------------------


def plain(notice: Notice, context: RenderContext, original: NoticeRef | None) -> str:
    """The text/plain copy; `original` is the advert a change or withdrawal refers to."""
    tender = notice.tender
    lines = [_heading(notice).upper(), VERSION_LINE.format(notice.version), "", tender.title, ""]
    if notice.kind is not NoticeKind.CONTRACT:
        assert original is not None  # the channel refuses a follow-up without it
        lines += [_intro(notice, original), ""]
        if notice.reason:
            lines += ["Reason", notice.reason, ""]
    if notice.kind is NoticeKind.CANCELLATION:
        lines += [f"{label}: {value}" for label, value in _withdrawal_facts(notice, context)]
        lines += ["", "Contact", *_contact(tender)]
        return "\n".join(lines) + "\n"
    if notice.kind is NoticeKind.CHANGE:
        lines += ["What changed", *(f"- {line}" for line in _changes(notice)), ""]
        lines += [f"THE ADVERT AS {'CORRECTED' if notice.correction else 'AMENDED'}", ""]
    lines += [f"{label}: {value}" for label, value in _facts(tender, context)]
    lines += ["", "Summary", tender.description]
    for lot in tender.lots:
        lines += ["", _lot_line(lot), *([lot.description] if lot.description else [])]
    lines += ["", "How to obtain the documents", _documents(tender)]
    lines += ["", "Contact", *_contact(tender)]
    follows = follows_sentence(context)
    if follows:
        lines += ["", follows]
    return "\n".join(lines) + "\n"


# -- HTML ------------------------------------------------------------------------------------


def _paragraphs(text: str) -> str:
    """Escaped text as <p> paragraphs (blank lines) with <br> for single line breaks."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(escape(line) for line in block.splitlines()) + "</p>" for block in blocks
    )


def _table(facts: list[tuple[str, str]]) -> str:
    rows = "\n".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>' for label, value in facts
    )
    return f"<table>\n{rows}\n</table>"


def _contact_html(tender: Tender) -> list[str]:
    contact = [escape(line) for line in _contact(tender)]
    contact[1] = f'<a href="mailto:{contact[1]}">{contact[1]}</a>'
    return ["<h2>Contact</h2>", "<p>" + "<br>\n".join(contact) + "</p>"]


def html(notice: Notice, context: RenderContext, original: NoticeRef | None) -> str:
    """The text/html copy: every piece of outside text goes through html.escape."""
    tender = notice.tender
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
        f"<title>{escape(tender.title)}</title>\n</head>\n<body>",
        f"<h1>{escape(_heading(notice))}: {escape(tender.title)}</h1>",
        f"<p>{escape(VERSION_LINE.format(notice.version))}</p>",
    ]
    if notice.kind is not NoticeKind.CONTRACT:
        assert original is not None  # the channel refuses a follow-up without it
        parts.append(f"<p>{escape(_intro(notice, original))}</p>")
        if notice.reason:
            parts += ["<h2>Reason</h2>", _paragraphs(notice.reason)]
    if notice.kind is NoticeKind.CANCELLATION:
        parts += [_table(_withdrawal_facts(notice, context)), *_contact_html(tender)]
        parts.append("</body>\n</html>")
        return "\n".join(parts) + "\n"
    if notice.kind is NoticeKind.CHANGE:
        items = "\n".join(f"<li>{escape(line)}</li>" for line in _changes(notice))
        parts += ["<h2>What changed</h2>", f"<ul>\n{items}\n</ul>"]
        parts.append(f"<h2>The advert as {'corrected' if notice.correction else 'amended'}</h2>")
    parts += [_table(_facts(tender, context)), "<h2>Summary</h2>", _paragraphs(tender.description)]
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
    parts += _contact_html(tender)
    follows = follows_sentence(context)
    if follows:
        parts.append(f"<p>{escape(follows)}</p>")
    parts.append("</body>\n</html>")
    return "\n".join(parts) + "\n"
