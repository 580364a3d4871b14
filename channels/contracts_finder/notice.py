"""What Contracts Finder is sent, built from the notice and its context (pure).

    contract      -> a Notice (Contracts Finder's own model, JSON): created as a draft, then published
    cancellation  -> a WithdrawNoticeRequest {noticeId, withdrawalReason} for the published notice
    award         -> an award of the published notice {noticeId, awardedDate, awardedValue,
                     description, awardDetails: [one per winning supplier of each awarded lot]}
                     (PCR 2015 reg 112; the request's shape is [unconfirmed])

The Notice model is Contracts Finder's, not OCDS (UK notice facts, section 2; model pages under
https://www.contractsfinder.service.gov.uk/apidocumentation/ResourceModel). Members are written
in camelCase, as the documentation's JSON samples are. The model has no lots, procedure,
duration, buyer reference or documents link: those facts go into the description as sentences,
so nothing the tender holds is dropped. A value is stated net of VAT: PCR-era notices state
values excluding VAT (PPN 10/21; UK notice facts, section 3), and the description says so.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from syndicator.channel.base import RenderContext, RenderError
from syndicator.domain.award import Award, LotAward, NonAwardReason, Outcome
from syndicator.domain.notices import Notice, NoticeKind, NoticeRef
from syndicator.domain.tender import Money, Procedure, Tender

# Limits of the Notice model (NoticeImport: Identifier 100, Title 300, Description 3000).
MAX_IDENTIFIER = 100
MAX_TITLE = 300
MAX_DESCRIPTION = 3000
# The notice type of a live opportunity ("Contract"; the others are pipeline and early
# engagement notices). The enumeration's spelling is [unconfirmed]: see the channel's doc.
OPPORTUNITY = "Contract"
# Regimes Contracts Finder carries: PCR 2015 procurements (`ojeu` before 2021, `pcr-uk` after).
# A PA2023 procurement publishes on the Central Digital Platform instead (Procurement
# Regulations 2024 reg 5; PPN 019).
NOT_CARRIED = frozenset({"pa2023"})

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_UUID_HEX = re.compile(r"[0-9a-f]{32}")
PROCEDURES = {
    Procedure.OPEN: "open procedure",
    Procedure.RESTRICTED: "restricted procedure",
    Procedure.COMPETITIVE_DIALOGUE: "competitive dialogue",
    Procedure.COMPETITIVE_NEGOTIATED: "competitive procedure with negotiation",
    Procedure.FRAMEWORK_CALL_OFF: "call-off under a framework agreement",
}


def identifier(reference: str, version: int, key: str, revision: int = 1) -> str:
    """The notice's Identifier: unique per organisation on Contracts Finder, shown to suppliers as
    the procurement reference, and derived from our delivery key so every attempt presents the
    same one: `NOTTS-2026-0142-v1-3f9c0a1b2c3d` (buyer's reference, tender version, the key's
    first 12 hex digits), `-r2` appended for a person's re-send after a refusal (the refused
    draft keeps the first Identifier). Characters other than letters, digits, `-` and `_` become
    `-`: the Identifier travels in a URL path (Draft/Notices/Lookup/{identifier})."""
    stem = _UNSAFE.sub("-", reference).strip("-") or "notice"
    compact = key.replace("-", "").lower()
    if not _UUID_HEX.fullmatch(compact):
        compact = hashlib.sha256(key.encode("utf-8")).hexdigest()
    text = f"{stem}-v{version}-{compact[:12]}"
    if revision > 1:
        text += f"-r{revision}"
    if len(text) > MAX_IDENTIFIER:
        raise RenderError(
            f"the Identifier {text!r} is longer than Contracts Finder's {MAX_IDENTIFIER} characters"
        )
    return text


def _net(money: Money, context: RenderContext) -> Decimal:
    return money.net(context.vat_rate)


def _pounds(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: datetime) -> str:
    day = moment.astimezone(UTC)
    return f"{day.day} {day:%B %Y}"


def follows_sentence(ref: NoticeRef | None) -> str | None:
    """Which official-journal notice this one follows and when that was sent (PCR 2015 reg 52:
    a national notice must not appear first, must not say more, and must state the dispatch
    date of the notice it follows)."""
    if ref is None:
        return None
    name = ref.title or ref.destination
    text = f"This opportunity follows the {name} notice"
    if ref.public_reference:
        text += f" {ref.public_reference}"
    if ref.url:
        text += f" ({ref.url})"
    if ref.dispatched_at is not None:
        text += f", dispatched on {_day(ref.dispatched_at)}"
    return text + "."


def description(tender: Tender, context: RenderContext) -> str:
    """The tender's description, then the facts the Notice model has no member for."""
    paragraphs = [tender.description]
    facts = [f"Buyer: {context.buyer.legal_name}. Buyer's reference: {tender.reference}."]
    if tender.procedure not in PROCEDURES:
        raise RenderError(
            f"a {tender.procedure.value} procedure is a Procurement Act 2023 procedure: "
            "Contracts Finder carries PCR 2015 procurements only"
        )
    contract = f"{tender.contract_type.value.capitalize()} contract, {PROCEDURES[tender.procedure]}"
    if tender.duration_months is not None:
        contract += f", for {tender.duration_months} months"
    facts.append(contract + ".")
    facts.append(f"Estimated value: {_pounds(_net(tender.estimated_value, context))} excluding VAT.")
    paragraphs.append("\n".join(facts))
    if tender.lots:
        lines = ["Lots:"]
        for lot in tender.lots:
            line = f"Lot {lot.number}: {lot.title}"
            if lot.estimated_value is not None:
                line += f" (estimated {_pounds(_net(lot.estimated_value, context))} excluding VAT)"
            if lot.description:
                line += f". {lot.description}"
            lines.append(line)
        paragraphs.append("\n".join(lines))
    if tender.documents_url:
        paragraphs.append(f"Tender documents: {tender.documents_url}")
    follows = follows_sentence(context.follows)
    if follows:
        paragraphs.append(follows)
    text = "\n\n".join(paragraphs)
    if len(text) > MAX_DESCRIPTION:
        raise RenderError(
            f"the description with the notice's facts is {len(text)} characters; Contracts Finder "
            f"takes at most {MAX_DESCRIPTION}: shorten the tender's description or lot descriptions"
        )
    return text


def _cpv_codes(tender: Tender) -> list[str]:
    """Every CPV code of the tender and its lots, main code first, without check digits (as
    Contracts Finder's own OCDS output writes them, e.g. "45300000")."""
    codes: list[str] = []
    for code in [*tender.cpv, *(c for lot in tender.lots for c in (lot.cpv or []))]:
        bare = code.split("-")[0]
        if bare not in codes:
            codes.append(bare)
    return codes


def contract_notice(tender: Tender, context: RenderContext, identity: str, region: str) -> dict[str, Any]:
    """The Notice for create_draft_notice, members in a fixed order."""
    if tender.submission_deadline is None:
        raise RenderError(
            "Contracts Finder's opportunity notice needs a closing date (DeadlineDate), and this "
            f"{tender.procedure.value} has no submission deadline"
        )
    if len(tender.title) > MAX_TITLE:
        raise RenderError(f"the title is longer than Contracts Finder's {MAX_TITLE} characters")
    value = _net(tender.estimated_value, context)
    buyer, contact = context.buyer, tender.contact
    return {
        "identifier": identity,
        "title": tender.title,
        "description": description(tender, context),
        "type": OPPORTUNITY,
        "deadlineDate": _utc(tender.submission_deadline),
        # One estimate: the low and high ends of Contracts Finder's value range are the same.
        "valueLow": value,
        "valueHigh": value,
        "postcode": tender.place_of_performance.postcode or buyer.postcode,
        "region": region,
        "cpvCodes": _cpv_codes(tender),
        "isSuitableForSme": tender.sme_suitable,
        "contactDetails": {
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone or buyer.phone,
            "address1": buyer.address,
            "town": buyer.town,
            "postcode": buyer.postcode,
            "website": buyer.website,
        },
    }


def withdrawn_notice(context: RenderContext) -> NoticeRef:
    """The contract notice a cancellation withdraws: the first this destination carries."""
    ref = context.first(NoticeKind.CONTRACT)
    if ref is None:
        raise RenderError("Contracts Finder carries no contract notice of this procurement to withdraw")
    return ref


def withdrawal(notice: Notice, ref: NoticeRef) -> dict[str, Any]:
    """The WithdrawNoticeRequest; `noticeId` is Contracts Finder's GUID of the published notice
    (null when it is not on record: the adapter then finds it by Identifier before sending)."""
    reason = " ".join((notice.reason or "").split())
    if not reason:
        raise RenderError("Contracts Finder needs a reason to withdraw a notice, and none was given")
    return {"noticeId": ref.remote_id, "withdrawalReason": reason}


def check_regime(context: RenderContext) -> None:
    """Refuse a procurement whose regime Contracts Finder does not carry."""
    if context.regime in NOT_CARRIED:
        raise RenderError(
            f"Contracts Finder does not carry {context.regime} procurements: they publish on the "
            "Central Digital Platform (Procurement Regulations 2024, regulation 5)"
        )


# -- award -----------------------------------------------------------------------------------

# Why a lot was not awarded, in words for the award's description.
NOT_AWARDED = {
    NonAwardReason.NO_TENDERS: "no tenders were received",
    NonAwardReason.NO_SUITABLE_TENDERS: "no suitable tenders were received",
    NonAwardReason.ALL_REJECTED: "all tenders were rejected",
    NonAwardReason.REQUIREMENT_CHANGED: "the requirement changed",
    NonAwardReason.INSUFFICIENT_FUNDS: "there are insufficient funds",
}


def _midnight(day: date) -> str:
    """A day as Contracts Finder's date-times are written (its model has no date-only type):
    the day's start, UTC."""
    return f"{day.isoformat()}T00:00:00Z"


def awarded_notice(context: RenderContext) -> NoticeRef:
    """The contract notice an award is published against: the first this destination carries."""
    ref = context.first(NoticeKind.CONTRACT)
    if ref is None:
        raise RenderError("Contracts Finder carries no contract notice of this procurement to award")
    return ref


def _lot_line(tender: Tender, award: Award, outcome: LotAward, context: RenderContext) -> str:
    """One sentence per lot: who won it, for how much and how long; or why it was not awarded."""
    lot = next((each for each in tender.lots if each.number == outcome.lot), None)
    name = (
        "The contract" if outcome.lot is None else f"Lot {outcome.lot}" + (f" ({lot.title})" if lot else "")
    )
    if outcome.outcome is Outcome.NOT_AWARDED:
        reason = NOT_AWARDED[outcome.reason] if outcome.reason else "no reason was given"
        text = f"{name}: not awarded, because {reason}."
    else:
        winners = ", ".join(f"{s.name} ({s.identifier.text()})" for s in outcome.suppliers)
        text = f"{name}: awarded to {winners}"
        if outcome.value is not None:
            text += f" for {_pounds(_net(outcome.value, context))} excluding VAT"
        if outcome.contract is not None:
            text += f", from {outcome.contract.start.isoformat()} to {outcome.contract.end.isoformat()}"
        text += "."
    received = award.received(outcome.lot)
    if received is not None:
        text += f" Tenders received: {received}."
    return text


def award_description(notice: Notice, award: Award, context: RenderContext) -> str:
    """Every lot's outcome (Contracts Finder's model has no lots: a lot not awarded, and its
    reason, is stated here), the standstill, and the primary notice it follows."""
    tender = notice.tender
    ordered = sorted(award.lots, key=lambda lot: lot.lot or 0)
    paragraphs = [
        f"Award decision of {award.decision_date.isoformat()} for {tender.title} "
        f"(buyer's reference {tender.reference}).",
        "\n".join(_lot_line(tender, award, outcome, context) for outcome in ordered),
    ]
    if notice.standstill_ends is not None:
        paragraphs.append(f"The standstill period ends on {notice.standstill_ends.isoformat()}.")
    follows = follows_sentence(context.follows)
    if follows:
        paragraphs.append(follows.replace("This opportunity follows", "This award follows"))
    text = "\n\n".join(paragraphs)
    if len(text) > MAX_DESCRIPTION:
        raise RenderError(
            f"the award's description is {len(text)} characters; Contracts Finder takes at most "
            f"{MAX_DESCRIPTION}"
        )
    return text


def award_request(notice: Notice, context: RenderContext, ref: NoticeRef) -> dict[str, Any]:
    """The award of the published contract notice `ref` (its GUID as `noticeId`, null when not
    on record: the adapter then finds it by Identifier). One award detail per winning supplier
    of each awarded lot, values net of VAT; the member names are [unconfirmed]."""
    award = notice.award
    if award is None:
        raise RenderError("an award notice needs the award record, and the notice carries none")
    won = [outcome for outcome in sorted(award.lots, key=lambda lot: lot.lot or 0) if outcome.suppliers]
    if not won:
        raise RenderError(
            "Contracts Finder publishes an award with its suppliers, and no lot was awarded: "
            "withdraw the notice instead (a cancellation)"
        )
    details = []
    for outcome in won:
        terms = outcome.contract
        for supplier in outcome.suppliers:
            detail: dict[str, Any] = {
                "supplierName": supplier.name,
                "supplierIdentifier": {
                    "scheme": supplier.identifier.scheme,
                    "id": supplier.identifier.id.removeprefix(supplier.identifier.scheme + "-"),
                },
                "supplierAddress": {
                    "address1": supplier.address.street,
                    "town": supplier.address.town,
                    "postcode": supplier.address.postcode,
                    "country": supplier.address.country,
                },
                "isSme": supplier.sme,
                # The lot's value: a lot shared by several suppliers (a framework) states it for each.
                "value": _net(outcome.value, context) if outcome.value is not None else None,
            }
            if terms is not None:
                detail["startDate"] = _midnight(terms.start)
                detail["endDate"] = f"{terms.end.isoformat()}T23:59:59Z"  # through its last day
            details.append(detail)
    total = sum((_net(o.value, context) for o in won if o.value is not None), Decimal(0))
    return {
        "noticeId": ref.remote_id,
        "awardedDate": _midnight(award.decision_date),
        "awardedValue": total,
        "description": award_description(notice, award, context),
        "awardDetails": details,
    }
