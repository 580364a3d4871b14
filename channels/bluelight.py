"""Bluelight, the EU-Supply CTM portal the forces' commissioners publish tenders on: XML over
HTTPS with HTTP Basic auth, under the contract in docs/channels/bluelight.md (the portal
publishes no API description; `schemas/bluelight/*.xsd` are the project's definition).

    render (ctm-notice-1.xsd, validated before it is returned):
      contract      <TenderNotice>              POST {base}/ctm/api/notices
      change        <TenderNoticeUpdate>        POST {base}/ctm/api/notices/{id}/updates
      cancellation  <TenderNoticeCancellation>  POST {base}/ctm/api/notices/{id}/cancellation
      award         <TenderNoticeAward>         POST {base}/ctm/api/notices/{id}/award
      contract det. <TenderNoticeContractDetails>
                                                POST {base}/ctm/api/notices/{id}/contracts
    ({id}: the portal's NoticeId of the notice, from the earlier notice's receipt)

      202 <NoticeReceipt> Received ----------> Receipt(live=False, remote_id=NoticeId)
      200 <NoticeReceipt> Withdrawn ---------> Receipt(live=True)          (cancellation)
      409 <NoticeConflict> NoticeId ---------> GET the notice; its status is the receipt
      400 / 404 / 422 <NoticeErrors> --------> RejectedError(reasons)   (404: no notice {id})
      401 / 403 -> AuthError   429 -> RateLimited   5xx -> TransientError
    GET {base}/ctm/api/notices/{id}   (the status of the notice's latest version)
      Received -> not live   Published, Withdrawn -> live, Url   Rejected -> RejectedError

The portal keeps one document per ExternalReference, our idempotency key, so a repeat after a
lost answer never publishes twice; an update, withdrawal, award or contract keeps the notice's
id, and is Received until the portal publishes it (a withdrawal at once).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from lxml import etree
from pydantic import Field, SecretStr

from channels.bluelight_notice import ROOTS, build_notice, external_reference, notice_target
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
from syndicator.channel.xmlsafe import UnsafeXml, load_schema, parse
from syndicator.domain.notices import Notice, NoticeKind

SCHEMAS = Path(__file__).resolve().parent / "schemas" / "bluelight"
NOTICE_XSD = SCHEMAS / "ctm-notice-1.xsd"
RECEIPT_NS = "urn:emscu:syndicator:bluelight:ctm-receipt:1"
MEDIA_TYPE = "application/xml"
NOTICES = "/ctm/api/notices"
# Rendered.operation; None is a new notice
UPDATE, CANCEL, AWARD, CONTRACTS = "update", "cancel", "award", "contracts"
PATHS = {UPDATE: "updates", CANCEL: "cancellation", AWARD: "award", CONTRACTS: "contracts"}  # below {id}/
OPERATIONS = {
    NoticeKind.CHANGE: UPDATE,
    NoticeKind.CANCELLATION: CANCEL,
    NoticeKind.AWARD: AWARD,
    NoticeKind.CONTRACT_DETAILS: CONTRACTS,
}
MAX_SHOWN_ERRORS = 5


class BluelightSettings(HttpSettings):
    """Where the portal is and the integration account it knows us by."""

    username: str = Field(min_length=1)
    password: SecretStr


def _text(root: etree._Element, name: str) -> str | None:
    found = root.find(f"{{{RECEIPT_NS}}}{name}")
    return found.text.strip() if found is not None and found.text else None


def error_reasons(root: etree._Element) -> list[str]:
    """The reasons of a <NoticeErrors> document ('location: message')."""
    reasons = []
    for error in root.iter(f"{{{RECEIPT_NS}}}Error"):
        message = _text(error, "Message") or "(no message)"
        location = _text(error, "Location")
        reasons.append(f"{location}: {message}" if location else message)
    return reasons


class BluelightChannel(HttpChannel):
    """Posts tender notices to Bluelight and follows them until they are published."""

    name = "bluelight"
    title = "Bluelight e-tendering (EU-Supply CTM)"
    capabilities = Capabilities(deduplicates=True, polls=True)
    notices = frozenset(ROOTS)
    settings_model = BluelightSettings
    settings: BluelightSettings

    def __init__(self, settings: BluelightSettings, session: requests.Session | None = None) -> None:
        super().__init__(settings, session)
        self._schema = load_schema(NOTICE_XSD)
        # lxml keeps a schema's error log on the schema object: validate one notice at a time.
        self._schema_lock = threading.Lock()

    # -- render ----------------------------------------------------------------------------

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """Our key is the notice's identity on the wire; the channel picks its own id."""
        return key, None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The notice's document, valid against ctm-notice-1.xsd, and for a later notice
        (change, cancellation, award, contract details) the operation and the NoticeId it
        applies to."""
        if notice.kind not in self.notices:
            raise RenderError(f"bluelight does not carry {notice.kind.value} notices")
        operation = OPERATIONS.get(notice.kind)
        target = notice_target(context) if operation else None
        try:
            root = build_notice(notice, context, target)
        except ValueError as exc:  # lxml refuses text that XML cannot carry
            raise RenderError(f"bluelight cannot carry this tender: {exc}") from exc
        with self._schema_lock:
            valid = self._schema.validate(root.getroottree())
            errors = [f"line {e.line}: {e.message}" for e in self._schema.error_log]
        if not valid:
            shown = "; ".join(errors[:MAX_SHOWN_ERRORS])
            raise RenderError(f"the notice is not valid against {NOTICE_XSD.name}: {shown}")
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return Rendered(
            body=body,
            media_type=MEDIA_TYPE,
            identity=external_reference(context),
            operation=operation,
            target=target,
        )

    # -- submit and poll -------------------------------------------------------------------

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """POST the document; a repeat of a known ExternalReference returns the notice's status."""
        response = self._call(
            "POST",
            _path(rendered),
            data=rendered.body,
            headers={"Content-Type": f"{rendered.media_type}; charset=utf-8"},
        )
        if response.status == 409:
            conflict = self._document(response)
            notice_id = _text(conflict, "NoticeId") if conflict is not None else None
            if not notice_id:
                raise OutcomeUnknown(
                    "bluelight holds a notice with this ExternalReference but did not say which",
                    status_code=409,
                    excerpt=self.excerpt(response),
                )
            return self.poll(Receipt(remote_id=notice_id, live=False))
        self._raise_for_status(response)
        return self._receipt(response)

    def poll(self, receipt: Receipt) -> Receipt:
        """GET the status of the notice's latest version: Received, Published or Withdrawn
        (live), or Rejected (raises)."""
        if not receipt.remote_id:
            raise OutcomeUnknown("bluelight: there is no notice id to ask about")
        response = self._call("GET", f"{NOTICES}/{quote(receipt.remote_id, safe='')}")
        self._raise_for_status(response)
        return self._receipt(response)

    def _call(self, method: str, path: str, **kwargs: Any) -> Response:
        headers = {"Accept": MEDIA_TYPE, **kwargs.pop("headers", {})}
        auth = (self.settings.username, self.settings.password.get_secret_value())
        return self.request(method, path, headers=headers, auth=auth, **kwargs)

    def _document(self, response: Response) -> etree._Element | None:
        try:
            return parse(response.body, limit=self.settings.max_response_bytes)
        except UnsafeXml:
            return None

    def _raise_for_status(self, response: Response) -> None:
        if response.status >= 400:
            root = self._document(response)
            self.raise_for_status(response, error_reasons(root) if root is not None else [])
        elif not 200 <= response.status < 300:
            raise OutcomeUnknown(
                f"bluelight answered HTTP {response.status}, which its API never does",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )

    def _receipt(self, response: Response) -> Receipt:
        """Map a <NoticeReceipt> to a Receipt (Rejected raises RejectedError)."""
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        root = self._document(response)
        if root is None or root.tag != f"{{{RECEIPT_NS}}}NoticeReceipt":
            raise OutcomeUnknown(
                f"bluelight answered HTTP {response.status} without a readable NoticeReceipt",
                **common,
            )
        notice_id, status = _text(root, "NoticeId"), _text(root, "Status")
        if status == "Rejected":
            reasons = [r.text.strip() for r in root.iter(f"{{{RECEIPT_NS}}}Reason") if r.text]
            summary = "; ".join(reasons[:MAX_SHOWN_ERRORS]) or "no reason given"
            raise RejectedError(
                f"bluelight rejected notice {notice_id}: {summary}", reasons=reasons, **common
            )
        if status not in ("Received", "Published", "Withdrawn"):
            raise OutcomeUnknown(f"bluelight reported an unknown status {status!r}", **common)
        published_at = _when(_text(root, "WithdrawnAt" if status == "Withdrawn" else "PublishedAt"))
        # Withdrawn: the notice's last request (a withdrawal) has taken effect on the portal.
        live = status != "Received"
        return Receipt(
            remote_id=notice_id,
            live=live,
            url=_text(root, "Url") if live else None,
            status=status,
            published_at=published_at if live else None,
            **common,
        )


def _path(rendered: Rendered) -> str:
    """Where the document is posted: a new notice, or below the notice it applies to."""
    if rendered.operation is None:
        return NOTICES
    if not rendered.target or rendered.operation not in PATHS:
        raise RenderError(f"bluelight cannot send operation {rendered.operation!r} to {rendered.target!r}")
    return f"{NOTICES}/{quote(rendered.target, safe='')}/{PATHS[rendered.operation]}"


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
