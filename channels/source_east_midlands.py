"""Source East Midlands, the regional opportunities portal: one OCDS 1.1 release package per
notice, JSON over HTTPS with an `X-API-Key` header (docs/channels/source-east-midlands.md).

    render: Tender -> release package {uri, version "1.1", publishedDate, publisher,
            releases: [one release tagged "tender"]}, deterministic bytes

    POST {base}/ocds/releases
      202 {"id", "status": "pending"} ------> Receipt(live=False, remote_id=id)
      200 {"id", "status", "url"?} ---------> a release id seen before: its current status
      400 / 422 {"errors": [...]} ----------> RejectedError(reasons)
      401 / 403 -> AuthError   429 -> RateLimited   5xx -> TransientError
    GET {base}/ocds/releases/{id}
      pending -> not live   published -> live, url   rejected -> RejectedError(reason)

The portal de-duplicates by release id, which is derived from our idempotency key.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from pydantic import Field, SecretStr

from syndicator.channel.base import (
    Capabilities,
    OutcomeUnknown,
    Receipt,
    RejectedError,
    RenderContext,
    Rendered,
    RenderError,
)
from syndicator.channel.http import HttpChannel, HttpSettings, Response
from syndicator.config.buyers import Organisation
from syndicator.domain.keys import uuid4_shaped
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import ContractType, Lot, Procedure, Tender

MEDIA_TYPE = "application/json"
CENT = Decimal("0.01")
RELEASES = "/ocds/releases"
MAX_SHOWN_ERRORS = 5

# OCDS 1.1 closed codelists: method.csv and procurementCategory.csv.
METHOD = {
    Procedure.OPEN: "open",
    Procedure.RESTRICTED: "selective",
    Procedure.COMPETITIVE_DIALOGUE: "selective",
    Procedure.COMPETITIVE_NEGOTIATED: "selective",
    Procedure.FRAMEWORK_CALL_OFF: "selective",  # a mini-competition among framework suppliers
}
METHOD_DETAILS = {
    Procedure.OPEN: "Open procedure",
    Procedure.RESTRICTED: "Restricted procedure",
    Procedure.COMPETITIVE_DIALOGUE: "Competitive dialogue",
    Procedure.COMPETITIVE_NEGOTIATED: "Competitive procedure with negotiation",
    Procedure.FRAMEWORK_CALL_OFF: "Call-off by mini-competition under a framework agreement",
}
CATEGORY = {
    ContractType.SUPPLIES: "goods",
    ContractType.SERVICES: "services",
    ContractType.WORKS: "works",
}
COUNTRY_NAMES = {"GB": "United Kingdom"}
DAYS_PER_MONTH = 30  # OCDS periods count days; months are stated at 30 days (documented)

# Extensions whose fields the release uses; the core schema accepts them as extra properties.
_EXTENSIONS = "https://raw.githubusercontent.com/open-contracting-extensions"
LOTS_EXTENSION = f"{_EXTENSIONS}/ocds_lots_extension/v1.1.5/extension.json"
LOCATION_EXTENSION = f"{_EXTENSIONS}/ocds_location_extension/v1.1.5/extension.json"
SUITABILITY_EXTENSION = f"{_EXTENSIONS}/ocds_suitability_extension/master/extension.json"


class SourceEastMidlandsSettings(HttpSettings):
    """Where the portal is, our API key, and how our releases identify themselves."""

    api_key: SecretStr
    # The prefix registered with the OCDS helpdesk: every ocid we mint starts with it.
    ocid_prefix: str = Field(pattern=r"^ocds-[a-z0-9]{6}$")
    publisher_name: str = Field(
        default="East Midlands Strategic Commercial Unit (EMSCU)", min_length=1, max_length=200
    )
    publisher_uri: str | None = Field(default=None, pattern=r"^https://\S+$")


def instant(value: datetime) -> str:
    """An aware datetime as RFC 3339 (OCDS date-time), 'Z' for UTC."""
    if value.tzinfo is None:
        raise RenderError(f"{value.isoformat()} has no UTC offset")
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _encode(value: Any, depth: int) -> str:
    """JSON text in a fixed layout; Decimal money is written with exactly two decimals."""
    if isinstance(value, dict):
        inner = "\n" + "  " * (depth + 1)
        members = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_encode(v, depth + 1)}"
            for k, v in value.items()
        ]
        return "{" + ",".join(members) + "\n" + "  " * depth + "}" if members else "{}"
    if isinstance(value, list):
        inner = "\n" + "  " * (depth + 1)
        elements = [inner + _encode(v, depth + 1) for v in value]
        return "[" + ",".join(elements) + "\n" + "  " * depth + "]" if elements else "[]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise RenderError(f"{value} is not an amount")
        # json.dumps would need float, which cannot hold every pence value exactly
        return str(value.quantize(CENT))
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(document: dict[str, Any]) -> bytes:
    """Deterministic UTF-8 JSON: keys in the order built, two-space indent, non-ASCII as is."""
    return (_encode(document, 0) + "\n").encode("utf-8")


def ocid(prefix: str, buyer: str, reference: str) -> str:
    """The contracting process id: the same for every release about this tender.

    Buyer ids never contain '_' and references never contain '~', so joining with '_' and
    writing '/' as '~' (both URL-unreserved, RFC 3986 2.3) keeps distinct tenders distinct.
    """
    return f"{prefix}-{buyer}_{reference.replace('/', '~')}"


def release_id(process: str, context: RenderContext) -> str:
    """The release id, derived from our key; a corrected re-send after a refusal is new."""
    suffix = "" if context.revision <= 1 else f"-r{context.revision}"
    return f"{process}-tender-{context.key}{suffix}"


def _value(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _party(buyer: Organisation, tender: Tender) -> dict[str, Any]:
    country = COUNTRY_NAMES.get(buyer.country)
    if country is None:
        raise RenderError(f"source-east-midlands: no country name for {buyer.country!r}")
    contact: dict[str, Any] = {"name": tender.contact.name, "email": tender.contact.email}
    if tender.contact.phone:
        contact["telephone"] = tender.contact.phone
    return {
        "id": buyer.org_id,
        "name": buyer.legal_name,
        "address": {
            "streetAddress": buyer.address,
            "locality": buyer.town,
            "postalCode": buyer.postcode,
            "countryName": country,
        },
        "contactPoint": contact,
        "roles": ["buyer", "procuringEntity"],
    }


def _classifications(codes: list[str]) -> dict[str, Any]:
    # OCDS CPV ids are the 8 digits without the check digit.
    found: dict[str, Any] = {"classification": {"scheme": "CPV", "id": codes[0].split("-")[0]}}
    if len(codes) > 1:
        found["additionalClassifications"] = [
            {"scheme": "CPV", "id": code.split("-")[0]} for code in codes[1:]
        ]
    return found


def _delivery(tender: Tender) -> dict[str, Any]:
    place = tender.place_of_performance
    address: dict[str, Any] = {"locality": place.town}
    if place.postcode:
        address["postalCode"] = place.postcode
    country = COUNTRY_NAMES.get(place.country)
    if country is None:
        raise RenderError(f"source-east-midlands: no country name for {place.country!r}")
    address["countryName"] = country
    return address


def lot_id(lot: Lot) -> str:
    """The Lots extension id of a lot."""
    return f"lot-{lot.number}"


def _items(tender: Tender, vat_rate: Decimal) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Items and lots. Item 1 classifies the procedure as a whole (OCDS 1.1 has no other place
    for its main CPV); with lots, one item per lot carries `relatedLot` (Lots extension)."""
    where = _delivery(tender)
    items = [
        {
            "id": "1",
            "description": tender.title,
            **_classifications(tender.cpv),
            "deliveryAddress": where,
        }
    ]
    lots = []
    for position, lot in enumerate(tender.lots, start=2):
        items.append(
            {
                "id": str(position),
                "description": lot.title,
                **_classifications(lot.cpv or tender.cpv),
                "deliveryAddress": where,
                "relatedLot": lot_id(lot),
            }
        )
        entry: dict[str, Any] = {"id": lot_id(lot), "title": lot.title}
        if lot.description:
            entry["description"] = lot.description
        entry["status"] = "active"
        if lot.estimated_value is not None:
            money = lot.estimated_value
            entry["value"] = _value(money.net(vat_rate), money.currency)
        lots.append(entry)
    return items, lots


def _documents(tender: Tender, context: RenderContext) -> list[dict[str, Any]]:
    """The tender documents, and the TED notice an above-threshold advert follows (a national
    advert states when the TED notice was dispatched; OCDS 1.1 has no field of its own)."""
    found = []
    if tender.documents_url:
        found.append(
            {
                "id": "tender-documents",
                "documentType": "tenderNotice",
                "title": "Tender documents",
                "url": tender.documents_url,
                "language": "en",
            }
        )
    ted = context.follows
    if ted is not None and ted.destination == "ted" and ted.identity and ted.dispatched_at:
        sent = ted.dispatched_at.astimezone(UTC).date().isoformat()
        published = f", published as {ted.publication_id}" if ted.publication_id else ""
        found.append(
            {
                "id": f"ted-{ted.identity}",
                "documentType": "tenderNotice",
                "title": "Contract notice sent to TED",
                "description": f"TED notice {ted.identity}, dispatched on {sent}{published}",
                "language": "en",
            }
        )
    return found


def build_release(
    tender: Tender, context: RenderContext, settings: SourceEastMidlandsSettings
) -> dict[str, Any]:
    """The one release of the package, tagged "tender"."""
    process = ocid(settings.ocid_prefix, tender.buyer, tender.reference)
    when = instant(context.dispatched_at)
    buyer = {"id": context.buyer.org_id, "name": context.buyer.legal_name}
    items, lots = _items(tender, context.vat_rate)
    money = tender.estimated_value
    period: dict[str, Any] = {"startDate": when}
    if tender.submission_deadline is not None:
        period["endDate"] = instant(tender.submission_deadline)
    section: dict[str, Any] = {
        "id": tender.reference,
        "title": tender.title,
        "description": tender.description,
        "status": "active",
        "procuringEntity": buyer,
        "items": items,
        "value": _value(money.net(context.vat_rate), money.currency),  # net of VAT
        "procurementMethod": METHOD[tender.procedure],
        "procurementMethodDetails": METHOD_DETAILS[tender.procedure],
        "mainProcurementCategory": CATEGORY[tender.contract_type],
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": period,
    }
    if tender.duration_months is not None:
        section["contractPeriod"] = {"durationInDays": tender.duration_months * DAYS_PER_MONTH}
    documents = _documents(tender, context)
    if documents:
        section["documents"] = documents
    if lots:
        section["lots"] = lots
    section["suitability"] = {"sme": tender.sme_suitable}
    return {
        "ocid": process,
        "id": release_id(process, context),
        "date": when,
        "tag": ["tender"],
        "initiationType": "tender",
        "language": "en",
        "parties": [_party(context.buyer, tender)],
        "buyer": buyer,
        "tender": section,
    }


def build_package(
    tender: Tender, context: RenderContext, settings: SourceEastMidlandsSettings
) -> dict[str, Any]:
    """The release package (OCDS 1.1 release-package-schema.json) holding the one release."""
    release = build_release(tender, context, settings)
    publisher: dict[str, Any] = {"name": settings.publisher_name}
    if settings.publisher_uri:
        publisher["uri"] = settings.publisher_uri
    extensions = [LOCATION_EXTENSION, SUITABILITY_EXTENSION]
    if tender.lots:
        extensions.insert(0, LOTS_EXTENSION)
    return {
        # A URN rather than a URL: the portal assigns the notice's address only on receipt.
        "uri": f"urn:uuid:{uuid4_shaped('sem-package', release['id'])}",
        "version": "1.1",
        "extensions": extensions,
        "publishedDate": release["date"],
        "publisher": publisher,
        "releases": [release],
    }


def error_reasons(body: Any) -> list[str]:
    """The reasons of an `{"errors": [...]}` answer ('path: message')."""
    errors = body.get("errors") if isinstance(body, dict) else None
    reasons = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            message = str(error.get("message") or "(no message)")
            path = error.get("path")
            reasons.append(f"{path}: {message}" if path else message)
        else:
            reasons.append(str(error))
    return reasons


class SourceEastMidlandsChannel(HttpChannel):
    """Posts OCDS release packages to Source East Midlands and follows them to publication."""

    name = "source-east-midlands"
    title = "Source East Midlands"
    capabilities = Capabilities(deduplicates=True, polls=True)
    settings_model = SourceEastMidlandsSettings
    settings: SourceEastMidlandsSettings

    def __init__(self, settings: SourceEastMidlandsSettings, session: requests.Session | None = None) -> None:
        super().__init__(settings, session)

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The release package as deterministic UTF-8 JSON."""
        if notice.kind is not NoticeKind.CONTRACT:
            raise RenderError(f"source-east-midlands does not carry {notice.kind.value} notices yet")
        package = build_package(notice.tender, context, self.settings)
        return Rendered(body=dumps(package), media_type=MEDIA_TYPE, identity=package["releases"][0]["id"])

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """POST the package; a release id the portal has seen returns its current status."""
        response = self._call(
            "POST",
            RELEASES,
            data=rendered.body,
            headers={"Content-Type": f"{rendered.media_type}; charset=utf-8"},
        )
        self._raise_for_status(response)
        body = self._body(response)
        if response.status == 200 and not isinstance(body.get("status"), str):
            return self.poll(Receipt(remote_id=str(body["id"]), live=False))
        return self._receipt(response, body)

    def poll(self, receipt: Receipt) -> Receipt:
        """GET the release's status: pending, published (live) or rejected (raises)."""
        if not receipt.remote_id:
            raise OutcomeUnknown("source-east-midlands: there is no release id to ask about")
        response = self._call("GET", f"{RELEASES}/{quote(receipt.remote_id, safe='')}")
        self._raise_for_status(response)
        return self._receipt(response, self._body(response))

    def _call(self, method: str, path: str, **kwargs: Any) -> Response:
        headers = {
            "Accept": MEDIA_TYPE,
            "X-API-Key": self.settings.api_key.get_secret_value(),
            **kwargs.pop("headers", {}),
        }
        return self.request(method, path, headers=headers, **kwargs)

    def _raise_for_status(self, response: Response) -> None:
        if response.status >= 400:
            self.raise_for_status(response, error_reasons(response.json()))
        elif not 200 <= response.status < 300:
            raise OutcomeUnknown(
                f"source-east-midlands answered HTTP {response.status}, which its API never does",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )

    def _body(self, response: Response) -> dict[str, Any]:
        body = response.json()
        if not isinstance(body, dict) or not body.get("id"):
            raise OutcomeUnknown(
                f"source-east-midlands answered HTTP {response.status} without a release id",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        return body

    def _receipt(self, response: Response, body: dict[str, Any]) -> Receipt:
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        remote_id, status = str(body["id"]), body.get("status")
        if status == "rejected":
            listed = body.get("reasons")
            reasons = [str(r) for r in listed] if isinstance(listed, list) else []
            reasons = reasons or [str(body.get("reason") or "no reason given")]
            raise RejectedError(
                f"source-east-midlands rejected release {remote_id}: "
                + "; ".join(reasons[:MAX_SHOWN_ERRORS]),
                reasons=reasons,
                **common,
            )
        if status not in ("pending", "published"):
            raise OutcomeUnknown(f"source-east-midlands reported an unknown status {status!r}", **common)
        live = status == "published"
        return Receipt(
            remote_id=remote_id,
            live=live,
            url=str(body["url"]) if live and body.get("url") else None,
            status=status,
            published_at=_when(body.get("publishedAt")) if live else None,
            **common,
        )


def _when(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
