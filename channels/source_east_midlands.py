"""Source East Midlands, the regional opportunities portal: one OCDS 1.1 release package per
notice, JSON over HTTPS with an `X-API-Key` header (docs/channels/source-east-midlands.md).
The release itself is built from `channels.ocds`; this module holds what is the portal's own:
its settings, how release ids are formed, its endpoints and its answers.

    render: Notice -> release package {uri, version "1.1", publishedDate, publisher, releases: [
            one release: tag "tender" (contract), "tenderAmendment" / "tenderUpdate" (change,
            update for a correction), "tenderCancellation" (cancellation), "award" (award:
            awards[] per lot, suppliers as parties), "contract" (contract details: contracts[]
            of the signed part)]}, deterministic bytes

    POST {base}/ocds/releases
      202 {"id", "status": "pending"} ------> Receipt(live=False, remote_id=id)
      200 {"id", "status", "url"?} ---------> a release id seen before: its current status
      400 / 422 {"errors": [...]} ----------> RejectedError(reasons)
      401 / 403 -> AuthError   429 -> RateLimited   5xx -> TransientError
    GET {base}/ocds/releases/{id}
      pending -> not live   published -> live, url   rejected -> RejectedError(reason)

The portal de-duplicates by release id, which is derived from our idempotency key and names
the tender version it carries: `{ocid}-v{version}-{kind}-{12 hex digits of the key}`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from pydantic import Field, SecretStr

from channels.ocds import awards as awarding
from channels.ocds.amendments import amendment, describe
from channels.ocds.codelists import PartyRole, TenderStatus
from channels.ocds.documents import primary_notice, tender_documents
from channels.ocds.parties import party, reference
from channels.ocds.release import (
    BID_EXTENSION,
    LOCATION_EXTENSION,
    LOTS_EXTENSION,
    PARTY_SCALE_EXTENSION,
    SUITABILITY_EXTENSION,
    mint_ocid,
    package,
    publisher,
    release,
    tag,
)
from channels.ocds.schema import schema
from channels.ocds.serialize import dumps
from channels.ocds.tender import section
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
from syndicator.domain.keys import uuid4_shaped
from syndicator.domain.notices import Notice, NoticeKind

MEDIA_TYPE = "application/json"
RELEASES = "/ocds/releases"
MAX_SHOWN_ERRORS = 5
NAME = "source-east-midlands"
# The notices that amend a release the portal holds (tender.amendments[].amendsReleaseID).
AMENDING = frozenset({NoticeKind.CHANGE, NoticeKind.CANCELLATION})
# The notices about the award: an `award` release (awards[] of every lot) and a `contract`
# release (contracts[] of the signed part), both carrying the awarded version's tender section.
AWARDING = frozenset({NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS})


class SourceEastMidlandsSettings(HttpSettings):
    """Where the portal is, our API key, and how our releases identify themselves."""

    api_key: SecretStr
    # The prefix registered with the OCDS helpdesk: every ocid we mint starts with it.
    ocid_prefix: str = Field(pattern=r"^ocds-[a-z0-9]{6}$")
    publisher_name: str = Field(
        default="East Midlands Strategic Commercial Unit (EMSCU)", min_length=1, max_length=200
    )
    publisher_uri: str | None = Field(default=None, pattern=r"^https://\S+$")


def ocid(prefix: str, buyer: str, reference: str) -> str:
    """The contracting process id of a tender on this portal (`channels.ocds.release.mint_ocid`)."""
    return mint_ocid(prefix, buyer, reference)


def release_id(process: str, version: int, kind: NoticeKind, key: str, revision: int = 1) -> str:
    """`{ocid}-v{version}-{kind}-{hash}`, `-r{revision}` from the second revision on: derived
    from our key (the portal de-duplicates by it), naming the tender version it carries (the
    portal reads it from here) and the notice kind. A corrected re-send after a refusal is a new
    release."""
    suffix = "" if revision <= 1 else f"-r{revision}"
    return f"{process}-v{version}-{kind.value}-{key.replace('-', '')[:12]}{suffix}"


def _amended(notice: Notice, context: RenderContext, this: str) -> dict[str, Any]:
    """The tender.amendments[] entry of a change or cancellation: the release it amends is the
    latest this portal carries (`context.previous`), by the release id stored as its identity."""
    previous = context.previous
    amends = f"{NAME}: a {notice.kind.value} notice amends the latest release the portal holds"
    if previous is None:
        raise RenderError(f"{amends}, but it holds no notice of this procurement")
    if not previous.identity:
        what = f"{previous.kind.value} notice v{previous.version}"
        raise RenderError(f"{amends}, but the release id of its {what} is not known")
    when = context.dispatched_at
    description = describe(notice.changes)
    if notice.kind is NoticeKind.CANCELLATION:
        when = notice.withdrawn_at or when
        description = "The procurement was withdrawn: the tender is cancelled."
    return amendment(
        f"{notice.kind.value}-v{notice.version}",
        when,
        amends=previous.identity,
        release=this,
        rationale=notice.reason,
        description=description,
    )


def build_release(
    notice: Notice, context: RenderContext, settings: SourceEastMidlandsSettings
) -> dict[str, Any]:
    """The one release of the package: the version's full tender section, tagged by kind; an
    award or contract details notice adds its awards or contracts (`channels.ocds.awards`)."""
    tender = notice.tender
    process = ocid(settings.ocid_prefix, tender.buyer, tender.reference)
    this = release_id(process, notice.version, notice.kind, context.key, context.revision)
    # The tender period began with the first notice: a change does not move its start.
    first = context.first(NoticeKind.CONTRACT)
    opened = first.dispatched_at if first is not None and first.dispatched_at else context.dispatched_at
    documents = tender_documents(tender)
    # The primary's notice this one follows: the tender's for an advert or change; the award's
    # (or contract's) own documents for an award or contract details notice.
    followed = [primary_notice(context.follows)] if context.follows is not None else []
    if notice.kind not in AWARDING:
        documents.extend(followed)
    award = awarding.required(notice.award, notice.kind.value) if notice.kind in AWARDING else None
    status = TenderStatus.ACTIVE
    if notice.kind is NoticeKind.CANCELLATION:
        status = TenderStatus.CANCELLED
    elif award is not None:
        status = awarding.tender_status(award)
    body = section(
        tender,
        buyer=context.buyer,
        vat_rate=context.vat_rate,
        opened=opened,
        status=status,
        documents=documents,
    )
    body["suitability"] = {"sme": tender.sme_suitable}  # Suitability extension
    if notice.kind in AMENDING:
        body["amendments"] = [_amended(notice, context, this)]
    parties = [party(context.buyer, [PartyRole.BUYER, PartyRole.PROCURING_ENTITY], contact=tender.contact)]
    extra: dict[str, Any] = {}
    if award is not None:
        awarding.mark_lots(body, award)
        common: dict[str, Any] = {"vat_rate": context.vat_rate, "documents": followed}
        if notice.kind is NoticeKind.AWARD:
            parties += awarding.supplier_parties(award)
            extra["bids"] = awarding.bid_statistics(award)
            extra["awards"] = awarding.awards(award, tender, standstill_ends=notice.standstill_ends, **common)
        else:
            extra["contracts"] = awarding.contracts(award, notice.signed_lots(), tender, **common)
    return release(
        ocid=process,
        release_id=this,
        date=context.dispatched_at,
        tags=[tag(notice)],
        parties=parties,
        buyer=reference(context.buyer),
        tender=body,
        **extra,
    )


def build_package(
    notice: Notice, context: RenderContext, settings: SourceEastMidlandsSettings
) -> dict[str, Any]:
    """The release package (OCDS 1.1 release-package-schema.json) holding the one release."""
    one = build_release(notice, context, settings)
    extensions = [LOCATION_EXTENSION, SUITABILITY_EXTENSION]
    if notice.tender.lots:
        extensions.insert(0, LOTS_EXTENSION)
    if "bids" in one:
        extensions.append(BID_EXTENSION)
    if any("details" in p for p in one["parties"]):
        extensions.append(PARTY_SCALE_EXTENSION)
    return package(
        [one],
        # A URN rather than a URL: the portal assigns the notice's address only on receipt.
        uri=f"urn:uuid:{uuid4_shaped('sem-package', one['id'])}",
        published=context.dispatched_at,
        by=publisher(settings.publisher_name, settings.publisher_uri),
        extensions=extensions,
    )


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

    name = NAME
    title = "Source East Midlands"
    capabilities = Capabilities(deduplicates=True, polls=True)
    notices: ClassVar[frozenset[NoticeKind]] = frozenset(
        {
            NoticeKind.CONTRACT,
            NoticeKind.CHANGE,
            NoticeKind.CANCELLATION,
            NoticeKind.AWARD,
            NoticeKind.CONTRACT_DETAILS,
        }
    )
    settings_model = SourceEastMidlandsSettings
    settings: SourceEastMidlandsSettings

    def __init__(self, settings: SourceEastMidlandsSettings, session: requests.Session | None = None) -> None:
        super().__init__(settings, session)

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """Neither can be told from the key alone: the release id starts with the ocid (our
        configured prefix) and names the tender version; the portal numbers its own ids."""
        return None, None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The release package as deterministic UTF-8 JSON, refused here if it breaks OCDS 1.1.5."""
        if notice.kind not in self.notices:
            raise RenderError(f"{NAME} does not carry {notice.kind.value} notices")
        document = build_package(notice, context, self.settings)
        body = dumps(document)
        schema().check_package(json.loads(body), NAME)
        return Rendered(body=body, media_type=MEDIA_TYPE, identity=document["releases"][0]["id"])

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
