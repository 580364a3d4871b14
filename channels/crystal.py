"""Crystal, EMSCU's own e-tendering system: JSON over HTTPS, one request per notice.

    notice         request (Authorization: Bearer <token>, Idempotency-Key: <our delivery key>)
    contract       POST {base}/api/v1/opportunities                    opportunity-1, amendment null
    change         PUT  {base}/api/v1/opportunities/{id}               opportunity-1 + amendment
    cancellation   POST {base}/api/v1/opportunities/{id}/cancellation  cancellation-1
    award          POST {base}/api/v1/opportunities/{id}/award         award-1
    contract det.  POST {base}/api/v1/opportunities/{id}/contracts     contract-1

    201 / 200 {"id", "url", "status": "live"} ---------> Receipt(live=True)   (contract, change)
    200 {"id", "url", "status": "withdrawn"} ----------> Receipt(live=True)   (cancellation)
    200 {"id", "url", "status": "awarded"} ------------> Receipt(live=True)   (award, contract det.)
    200 (same Idempotency-Key seen before) ------------> the first answer again
    400 / 404 / 422 {"errors": [{"field", "message"}]} -> RejectedError, reasons "field: message"
    401 / 403 -----------------------------------------> AuthError
    429 + Retry-After ---------------------------------> RateLimited
    5xx -----------------------------------------------> TransientError

`{id}` is Crystal's id of the opportunity (`context.previous.remote_id`: every later notice keeps
it); an id Crystal does not hold answers 404. Crystal publishes synchronously and de-duplicates
by the Idempotency-Key, so a time-out after the body was sent (OutcomeUnknown) is safe to
retry. The contract is docs/channels/crystal.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import SecretStr

from syndicator.channel.base import (
    Capabilities,
    OutcomeUnknown,
    Receipt,
    RenderContext,
    Rendered,
    RenderError,
)
from syndicator.channel.http import HttpChannel, HttpSettings, Response
from syndicator.domain.award import Award, LotAward, Supplier
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Money

MEDIA_TYPE = "application/json; charset=utf-8"
OPPORTUNITIES = "api/v1/opportunities"
SCHEMAS = Path(__file__).resolve().parent / "schemas" / "crystal"
SCHEMA = SCHEMAS / "opportunity-1.schema.json"
CANCELLATION_SCHEMA = SCHEMAS / "cancellation-1.schema.json"
AWARD_SCHEMA = SCHEMAS / "award-1.schema.json"
CONTRACT_SCHEMA = SCHEMAS / "contract-1.schema.json"
# Rendered.operation; None is a new opportunity
UPDATE, CANCEL, AWARD, CONTRACTS = "update", "cancel", "award", "contracts"
# (method, path below the opportunity, the status Crystal answers) of each later operation
OPERATIONS = {
    UPDATE: ("PUT", "", "live"),
    CANCEL: ("POST", "/cancellation", "withdrawn"),
    AWARD: ("POST", "/award", "awarded"),
    CONTRACTS: ("POST", "/contracts", "awarded"),
}


class CrystalSettings(HttpSettings):
    """`[profiles.<profile>.crystal]`: where Crystal is and the bearer token it issued us."""

    token: SecretStr


def _utc(moment: datetime) -> str:
    """An aware datetime as `YYYY-MM-DDTHH:MM:SSZ` (the schema's only accepted form)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(money: Money, vat_rate: Decimal) -> dict[str, Any]:
    # Amounts travel as strings with two decimals: JSON numbers are floats to most parsers.
    return {
        "amount": f"{money.amount:.2f}",
        "currency": money.currency,
        "vat_included": money.vat_included,
        "net": f"{money.net(vat_rate):.2f}",
    }


def opportunity(notice: Notice, context: RenderContext) -> dict[str, Any]:
    """The opportunity document of the notice's tender version, keys in the order the contract
    lists them; a change notice's carries its amendment."""
    tender = notice.tender
    buyer, deadline = context.buyer, tender.submission_deadline
    return {
        "reference": tender.reference,
        "version": notice.version,
        "title": tender.title,
        "description": tender.description,
        "buyer": {
            "id": tender.buyer,
            "legal_name": buyer.legal_name,
            "org_id": buyer.org_id,
            "address": buyer.address,
            "town": buyer.town,
            "postcode": buyer.postcode,
            "country": buyer.country,
            "email": buyer.email,
            "phone": buyer.phone,
            "website": buyer.website,
        },
        "contract_type": tender.contract_type.value,
        "procedure": tender.procedure.value,
        "value": _value(tender.estimated_value, context.vat_rate),
        "cpv": list(tender.cpv),
        "place_of_performance": {
            "town": tender.place_of_performance.town,
            "postcode": tender.place_of_performance.postcode,
            "country": tender.place_of_performance.country,
        },
        "lots": [
            {
                "number": lot.number,
                "title": lot.title,
                "description": lot.description,
                "value": _value(lot.estimated_value, context.vat_rate) if lot.estimated_value else None,
                "cpv": list(lot.cpv) if lot.cpv else None,
            }
            for lot in tender.lots
        ],
        # A framework call-off has no deadline of its own; the schema allows null only then.
        "submission_deadline": _utc(deadline) if deadline else None,
        "publication_date": tender.published_on.isoformat(),
        "duration_months": tender.duration_months,
        "documents_url": tender.documents_url,
        "contact": {
            "name": tender.contact.name,
            "email": tender.contact.email,
            "phone": tender.contact.phone,
        },
        "sme_suitable": tender.sme_suitable,
        "follows": _followed(context),
        "amendment": _amendment(notice) if notice.kind is NoticeKind.CHANGE else None,
    }


def _followed(context: RenderContext) -> dict[str, Any] | None:
    """The primary destination's notice this one follows (TED's today, Find a Tender's next):
    PCR 2015 reg 52(3) has a national advert state when the official notice was sent."""
    ref = context.follows
    if ref is None:
        return None
    if ref.dispatched_at is None or not (ref.identity or ref.publication_id):
        raise RenderError(
            f"the {ref.destination} notice this one follows has no dispatch date or reference to state"
        )
    return {
        "destination": ref.destination,
        "title": ref.title or ref.destination,
        "notice_id": ref.identity,
        "publication_id": ref.publication_id,
        "dispatched_on": _utc(ref.dispatched_at),
    }


def _amendment(notice: Notice) -> dict[str, Any]:
    """Why this version replaces the one Crystal holds, and each field that differs."""
    return {
        "kind": "correction" if notice.correction else "update",
        "reason": notice.reason or None,
        "changes": [change.as_dict() for change in notice.changes],
    }


def cancellation(notice: Notice) -> dict[str, Any]:
    """The cancellation document (cancellation-1): which tender and version, when and why."""
    tender = notice.tender
    return {
        "reference": tender.reference,
        "buyer": tender.buyer,
        "version": notice.version,
        "reason": notice.reason or None,
        "withdrawn_at": _utc(notice.withdrawn_at) if notice.withdrawn_at else None,
    }


def award_document(notice: Notice, context: RenderContext) -> dict[str, Any]:
    """The award document (award-1): every lot's outcome, with the winners, the awarded value
    and the contract's dates, or the reason in words; the standstill's last day once known."""
    award, tender = _award(notice), notice.tender
    return {
        "reference": tender.reference,
        "buyer": tender.buyer,
        "version": notice.version,
        "decision_date": award.decision_date.isoformat(),
        "standstill_ends": notice.standstill_ends.isoformat() if notice.standstill_ends else None,
        "lots": [_lot_outcome(notice, award, lot, context.vat_rate) for lot in award.lots],
        "follows": _followed(context),
    }


def contract_document(notice: Notice, context: RenderContext) -> dict[str, Any]:
    """The contract details document (contract-1): the contract signed for `notice.part`."""
    award, tender = _award(notice), notice.tender
    contracts = []
    for number in notice.signed_lots():
        lot = award.lot(number)
        label = f"lot {number}" if number is not None else "the contract"
        if lot is None or lot.value is None or lot.contract is None:
            raise RenderError(f"crystal: the award does not award {label}, so it has no contract")
        if lot.contract.signed_on is None:
            raise RenderError(f"crystal: {label} has no signing date; a contract details notice needs one")
        contracts.append(
            {
                "lot": lot.lot,
                "title": _lot_title(notice, lot.lot),
                "suppliers": [_supplier(s) for s in lot.suppliers],
                "value": _value(lot.value, context.vat_rate),
                "start": lot.contract.start.isoformat(),
                "end": lot.contract.end.isoformat(),
                "signed_on": lot.contract.signed_on.isoformat(),
            }
        )
    if not contracts:
        raise RenderError(f"crystal: a contract details notice names no contract (part {notice.part!r})")
    return {
        "reference": tender.reference,
        "buyer": tender.buyer,
        "version": notice.version,
        "part": notice.part,
        "decision_date": award.decision_date.isoformat(),
        "contracts": contracts,
        "follows": _followed(context),
    }


def _award(notice: Notice) -> Award:
    if notice.award is None:
        raise RenderError(f"crystal: a {notice.kind.value} notice needs the award record, and there is none")
    return notice.award


def _lot_title(notice: Notice, number: int | None) -> str | None:
    return next((lot.title for lot in notice.tender.lots if lot.number == number), None)


def _lot_outcome(notice: Notice, award: Award, lot: LotAward, vat_rate: Decimal) -> dict[str, Any]:
    """One lot of the award: awarded (suppliers, value, contract) or not (the reason, in words)."""
    terms = lot.contract
    return {
        "lot": lot.lot,
        "title": _lot_title(notice, lot.lot),
        "outcome": lot.outcome.value,
        "reason": {"code": lot.reason.value, "text": lot.reason.words} if lot.reason else None,
        "tenders_received": award.received(lot.lot),
        "suppliers": [_supplier(s) for s in lot.suppliers],
        "value": _value(lot.value, vat_rate) if lot.value else None,
        "contract": {
            "start": terms.start.isoformat(),
            "end": terms.end.isoformat(),
            "signed_on": terms.signed_on.isoformat() if terms.signed_on else None,
        }
        if terms
        else None,
    }


def _supplier(supplier: Supplier) -> dict[str, Any]:
    identifier, address = supplier.identifier, supplier.address
    # org-id.guide form: the scheme, and the id within it (as given, less any scheme prefix)
    scheme = identifier.scheme
    return {
        "name": supplier.name,
        "identifier": {"scheme": scheme, "id": identifier.text().removeprefix(f"{scheme}-")},
        "address": {
            "street": address.street,
            "town": address.town,
            "postcode": address.postcode,
            "country": address.country,
        },
        "sme": supplier.sme,
    }


def _target(context: RenderContext) -> str:
    """Crystal's id of the opportunity a later notice applies to (the earlier notice's)."""
    previous = context.previous
    if previous is None or not previous.remote_id:
        raise RenderError(
            "crystal needs the id it gave the opportunity to amend, withdraw or award it; "
            "the earlier notice on crystal has none"
        )
    return previous.remote_id


def _endpoint(rendered: Rendered) -> tuple[str, str, str]:
    """(method, path, the status Crystal answers when it took the request) for the bytes."""
    if rendered.operation is None:
        return "POST", OPPORTUNITIES, "live"
    if not rendered.target or rendered.operation not in OPERATIONS:
        raise RenderError(f"crystal cannot send operation {rendered.operation!r} to {rendered.target!r}")
    method, below, expected = OPERATIONS[rendered.operation]
    return method, f"{OPPORTUNITIES}/{quote(rendered.target, safe='')}{below}", expected


def _reasons(response: Response) -> list[str]:
    """`{"errors": [{"field", "message"}]}` as "field: message" lines."""
    document = response.json()
    errors = document.get("errors") if isinstance(document, Mapping) else None
    if not isinstance(errors, list):
        return []
    found = []
    for error in errors:
        if isinstance(error, Mapping):
            field, message = error.get("field"), error.get("message")
            found.append(f"{field}: {message}" if field else str(message))
    return found


class CrystalChannel(HttpChannel):
    """Publishes an opportunity on Crystal (live at once, de-duplicated by Idempotency-Key)."""

    name = "crystal"
    title = "Crystal (EMSCU e-tendering)"
    capabilities = Capabilities(deduplicates=True, polls=False)
    notices = frozenset(
        {
            NoticeKind.CONTRACT,
            NoticeKind.CHANGE,
            NoticeKind.CANCELLATION,
            NoticeKind.AWARD,
            NoticeKind.CONTRACT_DETAILS,
        }
    )
    settings_model: ClassVar[type[CrystalSettings]] = CrystalSettings
    settings: CrystalSettings

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """Our key is the notice's identity on the wire; the channel picks its own id."""
        return key, None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The request body as deterministic UTF-8 JSON (fixed key order and separators), and
        for a later notice (change, cancellation, award, contract details) the operation and
        the opportunity it applies to."""
        if notice.kind not in self.notices:
            raise RenderError(f"crystal does not carry {notice.kind.value} notices")
        operation: str | None = None
        target: str | None = None
        document: dict[str, Any]
        if notice.kind is NoticeKind.CONTRACT:
            document = opportunity(notice, context)
        elif notice.kind is NoticeKind.CHANGE:
            operation, target, document = UPDATE, _target(context), opportunity(notice, context)
        elif notice.kind is NoticeKind.CANCELLATION:
            operation, target, document = CANCEL, _target(context), cancellation(notice)
        elif notice.kind is NoticeKind.AWARD:
            operation, target, document = AWARD, _target(context), award_document(notice, context)
        else:
            operation, target, document = CONTRACTS, _target(context), contract_document(notice, context)
        body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
        return Rendered(
            body=body, media_type=MEDIA_TYPE, identity=context.key, operation=operation, target=target
        )

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Send the request; the same key always yields the same answer."""
        method, path, expected = _endpoint(rendered)
        headers = {
            **rendered.headers,
            "Content-Type": rendered.media_type,
            "Accept": "application/json",
            "Authorization": f"Bearer {self.settings.token.get_secret_value()}",
            "Idempotency-Key": key,
        }
        response = self.request(method, path, data=rendered.body, headers=headers)
        if response.status >= 400:
            self.raise_for_status(response, _reasons(response))
        document = response.json()
        remote_id = document.get("id") if isinstance(document, Mapping) else None
        if response.status not in (200, 201) or not isinstance(remote_id, str) or not remote_id:
            # Crystal took the request but the answer is not the contract's: ask again with
            # the same key (it de-duplicates) rather than guess.
            raise OutcomeUnknown(
                f"crystal answered HTTP {response.status} without an opportunity id",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        if document.get("status") != expected:
            raise OutcomeUnknown(
                f"crystal holds opportunity {remote_id} but did not say it is {expected}",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        url = document.get("url")
        return Receipt(
            remote_id=remote_id,
            live=True,
            url=url if isinstance(url, str) else None,
            status=expected,
            status_code=response.status,
            excerpt=self.excerpt(response),
        )
