"""How an advertising desk reads an e-mail, as a person at the desk would: which notice it is
and which version of the advert it carries, from what the message itself says.

    no In-Reply-To ................................ an advert (contract)
    In-Reply-To + Subject "Amendment:"/"Correction:"  a change of the advert replied to
    In-Reply-To + Subject "Withdrawal:" ............ its withdrawal
    the copy's second line "Notice version: N" ...... the version (docs/channels/trade-press.md)

A correction or withdrawal must reply to an advert this desk received, for the same tender;
anything else is refused, as a desk would send back a correction of an advert it never ran.
No header added for the sandbox is read: the threading headers and the subject are RFC 5322's,
the version is in the copy for the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from syndicator.sandbox.ledger import Ledger

CONTRACT, CHANGE, CANCELLATION = "contract", "change", "cancellation"
REPLIES = {"amendment": CHANGE, "correction": CHANGE, "withdrawal": CANCELLATION}
_VERSION = re.compile(r"Notice version: ([1-9][0-9]{0,3})")


@dataclass(frozen=True)
class Reading:
    """What the desk made of a message."""

    notice: str  # contract, change or cancellation
    version: int
    replies_to: str | None  # the advert's Message-ID, for a change or cancellation


def read(message: EmailMessage, ledger: Ledger, channel: str) -> Reading | str:
    """The message's notice and version, or why the desk refuses it."""
    subject = str(message.get("Subject") or "")
    what = subject.split(":", 1)[0].strip().lower() if ":" in subject else ""
    replies_to = str(message.get("In-Reply-To") or "").strip() or None
    if replies_to is None:
        if what in REPLIES:
            return f"a {what} must reply to the advert it is about (In-Reply-To)"
        notice = CONTRACT
    else:
        if what not in REPLIES:
            return "a reply to an advert must be an Amendment, Correction or Withdrawal (Subject)"
        notice = REPLIES[what]
        advert = ledger.find(channel, replies_to)
        if advert is None or advert.notice != CONTRACT:
            return f"In-Reply-To {replies_to} names no advert this desk received"
        reference = str(message.get("X-Tender-Reference") or "").split("/", 1)[-1]
        if reference != advert.tender_reference:
            return f"the advert {replies_to} is for {advert.tender_reference}, not {reference}"
    version = _version(message)
    if version is None:
        return "the copy does not state its notice version ('Notice version: N' after the heading)"
    return Reading(notice, version, replies_to)


def _version(message: EmailMessage) -> int | None:
    body = message.get_body(("plain",))
    if not isinstance(body, EmailMessage):
        return None
    # The line after the heading, before any title, reason or description can come.
    lines = [line.strip() for line in body.get_content().splitlines() if line.strip()]
    found = _VERSION.fullmatch(lines[1]) if len(lines) > 1 else None
    return int(found[1]) if found else None
