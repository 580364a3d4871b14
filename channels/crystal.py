"""Crystal, EMSCU's own e-tendering system: one JSON opportunity POSTed over HTTPS.

    POST {base_url}/api/v1/opportunities
         Authorization: Bearer <token>          Idempotency-Key: <our delivery key>
         body: opportunity-1 (channels/schemas/crystal/opportunity-1.schema.json)

    201 {"id", "url", "status": "live"} ---------> Receipt(live=True)
    200 (same Idempotency-Key seen before) ------> Receipt(live=True), the first id
    400 / 422 {"errors": [{"field", "message"}]} -> RejectedError, reasons "field: message"
    401 / 403 -----------------------------------> AuthError
    429 + Retry-After ---------------------------> RateLimited
    5xx -----------------------------------------> TransientError

Crystal publishes synchronously and de-duplicates by the Idempotency-Key, so a time-out after
the body was sent (OutcomeUnknown) is safe to retry. The contract is docs/channels/crystal.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

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
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Money, Tender

MEDIA_TYPE = "application/json; charset=utf-8"
OPPORTUNITIES = "api/v1/opportunities"
SCHEMA = Path(__file__).resolve().parent / "schemas" / "crystal" / "opportunity-1.schema.json"


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


def opportunity(tender: Tender, context: RenderContext) -> dict[str, Any]:
    """The opportunity document, keys in the order the contract lists them."""
    buyer, deadline = context.buyer, tender.submission_deadline
    return {
        "reference": tender.reference,
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
        "ted": _followed(context),
    }


def _followed(context: RenderContext) -> dict[str, Any] | None:
    """The official-journal notice this opportunity follows (the contract's `ted` member)."""
    ref = context.follows
    if ref is None or ref.destination != "ted" or ref.identity is None or ref.dispatched_at is None:
        return None
    return {
        "notice_id": ref.identity,
        "dispatched_on": _utc(ref.dispatched_at),
        "publication_id": ref.publication_id,
    }


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
    settings_model: ClassVar[type[CrystalSettings]] = CrystalSettings
    settings: CrystalSettings

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """Our key is the notice's identity on the wire; the channel picks its own id."""
        return key, None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The opportunity as deterministic UTF-8 JSON (fixed key order and separators)."""
        if notice.kind is not NoticeKind.CONTRACT:
            raise RenderError(f"crystal does not carry {notice.kind.value} notices yet")
        body = json.dumps(opportunity(notice.tender, context), ensure_ascii=False, indent=2)
        return Rendered(body=body.encode("utf-8"), media_type=MEDIA_TYPE, identity=context.key)

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """POST the opportunity; the same key always yields the same Crystal id."""
        headers = {
            **rendered.headers,
            "Content-Type": rendered.media_type,
            "Accept": "application/json",
            "Authorization": f"Bearer {self.settings.token.get_secret_value()}",
            "Idempotency-Key": key,
        }
        response = self.request("POST", OPPORTUNITIES, data=rendered.body, headers=headers)
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
        if document.get("status") != "live":
            raise OutcomeUnknown(
                f"crystal holds opportunity {remote_id} but did not say it is live",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        url = document.get("url")
        return Receipt(
            remote_id=remote_id,
            live=True,
            url=url if isinstance(url, str) else None,
            status="live",
            status_code=response.status,
            excerpt=self.excerpt(response),
        )
