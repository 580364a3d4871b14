"""TED (the Official Journal's supplement) through the eNotices2 Publication API v2: an eForms
contract notice, validated against the official XSD before it leaves, submitted once per
businessId, then polled until the Publications Office publishes it (once a working day).

    POST {base}/api/v2/notice/notices/submit           multipart: notice (XML), metadata (JSON)
      201 {"success": true}  -----------------------> Receipt(SUBMITTED, not live)
      201 {"success": false, validationReportUrl} --> RejectedError (VALIDATION_FAILED)
      400 "... already exists" ---------------------> search, then the receipt of its status
      400 other, 404 (no compatible SDK) -----------> RejectedError
      401, 403 (no eNotices2 account) -------------> AuthError
      409 (concurrent update) ---------------------> TransientError
      429 -----------------------------------------> RateLimited
      5xx (CVS unavailable) -----------------------> TransientError
    GET {base}/api/v2/notice/notices/search-esentool?id=&versionId=
      PUBLISHED -> live; SUBMITTED, PUBLISHING -> not yet; NOT_PUBLISHED, STOPPED,
      VALIDATION_FAILED -> RejectedError; no such notice -> OutcomeUnknown

businessId = `{BT-701}-{BT-757}`: the notice id is derived from the delivery key, so every
attempt of a delivery presents the same businessId and TED accepts it at most once. A notice
refused by TED is re-sent with the next version (RenderContext.revision).
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree
from pydantic import SecretStr, field_validator

from channels.ted_notice import XPATH_NS, build_notice, notice_id
from syndicator.channel.base import (
    Capabilities,
    OutcomeUnknown,
    Receipt,
    RejectedError,
    RenderContext,
    Rendered,
    RenderError,
    TransientError,
    scrub,
)
from syndicator.channel.http import HttpChannel, HttpSettings, Response
from syndicator.channel.xmlsafe import UnsafeXml, load_schema, parse
from syndicator.domain.notices import Notice, NoticeKind

SCHEMA_DIR = Path(__file__).parent / "schemas" / "eforms-1.15.1"
CONTRACT_NOTICE_XSD = SCHEMA_DIR / "maindoc" / "UBL-ContractNotice-2.3.xsd"
SUBMIT_PATH = "/api/v2/notice/notices/submit"
SEARCH_PATH = "/api/v2/notice/notices/search-esentool"
TED_NOTICE_URL = "https://ted.europa.eu/en/notice/-/detail/{publication_id}"
MAX_SCHEMA_ERRORS = 5

WAITING = {"SUBMITTED", "PUBLISHING"}  # accepted; OP's daily export has not published it yet
REFUSED = {"NOT_PUBLISHED", "STOPPED", "VALIDATION_FAILED"}  # final: needs a new version


@dataclass(frozen=True)
class SchemaCheck:
    """The eForms contract-notice XSD, with a lock: an lxml schema keeps one error log."""

    schema: etree.XMLSchema
    lock: threading.Lock

    def errors(self, document: etree._Element) -> list[str]:
        """Every XSD violation, as 'line N: message'."""
        with self.lock:
            if self.schema.validate(document):
                return []
            return [f"line {error.line}: {error.message}" for error in self.schema.error_log]


@functools.cache
def contract_notice_schema() -> SchemaCheck:
    """The vendored eForms SDK 1.15.1 ContractNotice XSD, loaded once per process."""
    return SchemaCheck(load_schema(CONTRACT_NOTICE_XSD), threading.Lock())


class TedSettings(HttpSettings):
    """The eNotices2 account: API key (TED Developer Portal) and the notice author."""

    api_key: SecretStr
    author_email: str
    author_language: str = "en"  # the language OP writes status e-mails in
    # Where a published notice can be read; `{publication_id}` is TED's publication number
    # (e.g. 123456-2026) and `{base_url}` this profile's base_url (for the sandbox).
    public_notice_url: str = TED_NOTICE_URL

    @field_validator("author_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if "@" not in value or any(c.isspace() for c in value):
            raise ValueError("must be the e-mail address of the notice author")
        return value

    @field_validator("public_notice_url")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            filled = value.format(publication_id="1-2026", base_url="http://sandbox")
        except (KeyError, IndexError, ValueError) as exc:
            allowed = "only {publication_id} and {base_url} may be used"
            raise ValueError(f"{allowed}: {exc}") from None
        if filled == value:
            raise ValueError("must contain {publication_id}")
        return value


class TedChannel(HttpChannel):
    """eForms contract notices to TED through eNotices2."""

    name: ClassVar[str] = "ted"
    title: ClassVar[str] = "Tenders Electronic Daily (TED)"
    capabilities: ClassVar[Capabilities] = Capabilities(deduplicates=True, polls=True)
    settings_model: ClassVar[type[TedSettings]] = TedSettings
    settings: TedSettings

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """BT-701 (derived from the key) and the businessId of its first version."""
        identity = notice_id(key)
        return identity, f"{identity}-01"

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The contract notice, refused here if it breaks the eForms XSD."""
        if notice.kind is not NoticeKind.CONTRACT:
            raise RenderError(f"ted does not carry {notice.kind.value} notices yet")
        body = build_notice(notice.tender, context)
        errors = contract_notice_schema().errors(parse(body))
        if errors:
            shown = "; ".join(errors[:MAX_SCHEMA_ERRORS])
            raise RenderError(f"the notice breaks the eForms 1.15 XSD ({len(errors)} errors): {shown}")
        return Rendered(body=body, media_type="application/xml", identity=notice_id(context.key))

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Submit to eNotices2; a businessId TED already holds is looked up, not re-sent."""
        notice_id, version = notice_identity(rendered.body)
        business_id = f"{notice_id}-{version}"
        metadata = {
            "noticeAuthorEmail": self.settings.author_email,
            "noticeAuthorLocale": self.settings.author_language,
        }
        files = {
            "notice": (f"{business_id}.xml", rendered.body, "application/xml"),
            "metadata": (None, json.dumps(metadata).encode("utf-8"), "application/json"),
        }
        response = self.request("POST", SUBMIT_PATH, headers=self._auth(), files=files)
        if response.status == 400 and "already exists" in _message(response).lower():
            return self._lookup(notice_id, version, response)
        self._raise_for_status(response)
        answer = response.json()
        if not isinstance(answer, dict) or "success" not in answer:
            # A 2xx we cannot read: TED may hold the notice. A retry is safe (same businessId).
            raise OutcomeUnknown(
                f"ted answered HTTP {response.status} without a submission result",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        if answer["success"] is not True:
            report = answer.get("validationReportUrl") or "(no report URL given)"
            raise RejectedError(
                f"ted rejected notice {business_id}: VALIDATION_FAILED, see {report}",
                reasons=[f"VALIDATION_FAILED: validation report {report}"],
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        return Receipt(
            remote_id=business_id,
            live=False,
            status="SUBMITTED",
            status_code=response.status,
            excerpt=self.excerpt(response),
        )

    def poll(self, receipt: Receipt) -> Receipt:
        """Ask eNotices2 for the notice's status."""
        if not receipt.remote_id or "-" not in receipt.remote_id:
            raise OutcomeUnknown(f"{receipt.remote_id!r} is not a TED businessId")
        notice_id, version = receipt.remote_id.rsplit("-", 1)
        return self._lookup(notice_id, version, None)

    # -- helpers ------------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_key.get_secret_value()}"}

    def _raise_for_status(self, response: Response) -> None:
        if response.status == 409:  # another request is updating this notice right now
            raise TransientError(
                "ted is updating this notice concurrently (HTTP 409)",
                status_code=409,
                excerpt=self.excerpt(response),
            )
        message = scrub(_message(response), self.secret_values())  # a body may echo the key
        self.raise_for_status(response, [message] if message else None)

    def _lookup(self, notice_id: str, version: str, submitted: Response | None) -> Receipt:
        """The receipt for the notice TED holds under this businessId."""
        business_id = f"{notice_id}-{version}"
        response = self.request(
            "GET", SEARCH_PATH, headers=self._auth(), params={"id": notice_id, "versionId": version}
        )
        self._raise_for_status(response)
        answer = response.json()
        content = answer.get("content") if isinstance(answer, dict) else None
        found = [
            n
            for n in content or []
            if isinstance(n, dict) and n.get("id") == notice_id and n.get("versionId") == version
        ]
        if not found:
            raise OutcomeUnknown(
                f"ted does not list notice {business_id}",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        return self._receipt(business_id, found[0], submitted or response)

    def _receipt(self, business_id: str, notice: dict[str, Any], response: Response) -> Receipt:
        status = str(notice.get("status", ""))
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        if status in WAITING:
            return Receipt(remote_id=business_id, live=False, status=status, **common)
        if status == "PUBLISHED":
            publication_id = notice.get("publicationId")
            url = None
            if isinstance(publication_id, str) and publication_id:
                url = self.settings.public_notice_url.format(
                    publication_id=publication_id, base_url=self.settings.base_url.rstrip("/")
                )
            return Receipt(
                remote_id=business_id,
                live=True,
                url=url,
                status=status,
                published_at=_moment(notice.get("publicationDate")),
                **common,
            )
        if status in REFUSED:
            raise RejectedError(
                f"ted holds notice {business_id} as {status}; send a new version",
                reasons=[f"TED status {status}"],
                **common,
            )
        shown = status or "no status"
        raise OutcomeUnknown(f"ted reports notice {business_id} as {shown}", **common)


def notice_identity(body: bytes) -> tuple[str, str]:
    """(BT-701 notice id, BT-757 version) of a rendered notice."""
    try:
        root = parse(body)
    except UnsafeXml as exc:
        raise RenderError(f"not a TED notice: {exc}") from None
    notice_id = root.findtext("cbc:ID", namespaces=XPATH_NS)
    version = root.findtext("cbc:VersionID", namespaces=XPATH_NS)
    if not notice_id or not version:
        raise RenderError("not a TED notice: it has no notice id (BT-701) or version (BT-757)")
    return notice_id.strip(), version.strip()


def _message(response: Response) -> str:
    """The error message of an eNotices2 answer (JSON `message`, or the plain text)."""
    answer = response.json()
    if isinstance(answer, dict):
        for field in ("message", "error", "detail", "title"):
            if isinstance(answer.get(field), str):
                return str(answer[field])
        return ""
    return response.text().strip()[:500] if response.status >= 400 else ""


def _moment(value: Any) -> datetime | None:
    """TED's publicationDate (a date, or a date and time) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
