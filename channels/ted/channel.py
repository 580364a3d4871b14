"""TED (the Official Journal's supplement) through the eNotices2 Publication API v2: eForms
contract, change, cancellation and award notices, each validated against the official XSD of its
root before it leaves, submitted once per businessId, then polled until the Publications
Office publishes it (once a working day).

    notice kind     what is sent                                      built in
    contract        subtype 16 contract notice                        contract.py
    change          subtype 16 change notice (efac:Changes)           change.py
    cancellation    stop-publication, a `cancel` change notice, or    withdrawal.py chooses;
                    a subtype 29 award notice with no winner          change.py, award.py
    award           subtype 29 contract award notice (winners,        award.py, results.py
                    or why a lot has none)

    POST {base}/api/v2/notice/notices/submit           multipart: notice (XML), metadata (JSON)
      201 {"success": true}  -----------------------> Receipt(SUBMITTED, not live)
      201 {"success": false, validationReportUrl} --> RejectedError (VALIDATION_FAILED)
      400 "... already exists" ---------------------> search, then the receipt of its status
      400 other, 404 (no compatible SDK) -----------> RejectedError
      401, 403 (no eNotices2 account) -------------> AuthError
      409 (concurrent update) ---------------------> TransientError
      429 -----------------------------------------> RateLimited
      5xx (CVS unavailable) -----------------------> TransientError
    POST {base}/api/v2/notice/notices/{businessId}/stop-publication-esentool
      200 (the Notice, STOPPED) -------------------> Receipt(STOPPED, live: the withdrawal is done)
      403 (not SUBMITTED) -> search: STOPPED ------> Receipt(STOPPED) (a repeat of our stop)
                             PUBLISHING, PUBLISHED > TransientError (re-rendered as a cancel)
      423 (locked) --------------------------------> TransientError
    GET {base}/api/v2/notice/notices/search-esentool?id=&versionId=
      PUBLISHED -> live (publication number, URL); SUBMITTED, PUBLISHING -> not yet;
      NOT_PUBLISHED, STOPPED, VALIDATION_FAILED -> RejectedError; not listed -> OutcomeUnknown

businessId = `{BT-701}-{BT-757}`: the notice id is derived from the delivery key, so every
attempt of a delivery presents the same businessId and TED accepts it at most once. A notice
refused by TED is re-sent with the next version (RenderContext.revision).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import SecretStr, field_validator

from channels.ted.award import build_award_notice, build_no_award
from channels.ted.change import build_cancel, build_change
from channels.ted.contract import build_notice
from channels.ted.identifiers import business_id, notice_id, split_business_id
from channels.ted.schemas import validated
from channels.ted.ubl import XPATH_NS
from channels.ted.withdrawal import Withdrawal, withdrawal
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
from syndicator.channel.xmlsafe import UnsafeXml, parse
from syndicator.domain.notices import Notice, NoticeKind

API = "/api/v2/notice/notices/"
SUBMIT_PATH = API + "submit"
SEARCH_PATH = API + "search-esentool"
STOP_PATH = API + "{business_id}/stop-publication-esentool"
TED_NOTICE_URL = "https://ted.europa.eu/en/notice/-/detail/{publication_id}"
STOP = "stop"  # Rendered.operation of a stop-publication

WAITING = {"SUBMITTED", "PUBLISHING"}  # accepted; OP's daily export has not published it yet
REFUSED = {"NOT_PUBLISHED", "STOPPED", "VALIDATION_FAILED"}  # final: needs a new version


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
    """eForms notices to TED through eNotices2."""

    name: ClassVar[str] = "ted"
    title: ClassVar[str] = "Tenders Electronic Daily (TED)"
    # stops_unpublished: a cancellation stops a notice TED accepted but has not published.
    capabilities: ClassVar[Capabilities] = Capabilities(
        deduplicates=True, polls=True, stops_unpublished=True, award_after_signature=True
    )
    notices: ClassVar[frozenset[NoticeKind]] = frozenset(
        {NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.CANCELLATION, NoticeKind.AWARD}
    )
    settings_model: ClassVar[type[TedSettings]] = TedSettings
    settings: TedSettings

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """BT-701 (derived from the key) and the businessId of its first version."""
        identity = notice_id(key)
        return identity, business_id(identity, "01")

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The notice for TED, refused here if it breaks the eForms XSD of its root."""
        if notice.kind is NoticeKind.CONTRACT:
            body = build_notice(notice.tender, context)
        elif notice.kind is NoticeKind.CHANGE:
            body = build_change(notice, context)
        elif notice.kind is NoticeKind.CANCELLATION:
            form = withdrawal(notice, context)
            if form is Withdrawal.STOP:
                return _stop_request(context)
            body = (build_cancel if form is Withdrawal.CANCEL else build_no_award)(notice, context)
        elif notice.kind is NoticeKind.AWARD:
            body = build_award_notice(notice, context)
        else:
            raise RenderError(f"ted does not carry {notice.kind.value} notices")
        return Rendered(body=validated(body), media_type="application/xml", identity=notice_id(context.key))

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Submit to eNotices2 (or stop a notice it holds); a businessId TED already holds is
        looked up, not re-sent."""
        if rendered.operation == STOP:
            return self._stop(rendered)
        notice, version = notice_identity(rendered.body)
        if rendered.identity is not None and rendered.identity != notice:
            raise RenderError(f"the notice says it is {notice}, but was rendered as {rendered.identity}")
        business = business_id(notice, version)
        metadata = {
            "noticeAuthorEmail": self.settings.author_email,
            "noticeAuthorLocale": self.settings.author_language,
        }
        files = {
            "notice": (f"{business}.xml", rendered.body, "application/xml"),
            "metadata": (None, json.dumps(metadata).encode("utf-8"), "application/json"),
        }
        response = self.request("POST", SUBMIT_PATH, headers=self._auth(), files=files)
        if response.status == 400 and "already exists" in _message(response).lower():
            return self._lookup(notice, version, response)
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
                f"ted rejected notice {business}: VALIDATION_FAILED, see {report}",
                reasons=[f"VALIDATION_FAILED: validation report {report}"],
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        return Receipt(
            remote_id=business,
            live=False,
            status="SUBMITTED",
            status_code=response.status,
            excerpt=self.excerpt(response),
        )

    def poll(self, receipt: Receipt) -> Receipt:
        """Ask eNotices2 for the notice's status."""
        try:
            notice, version = split_business_id(receipt.remote_id or "")
        except ValueError:
            raise OutcomeUnknown(f"{receipt.remote_id!r} is not a TED businessId") from None
        return self._lookup(notice, version, None)

    # -- stop-publication ----------------------------------------------------------------------

    def _stop(self, rendered: Rendered) -> Receipt:
        """Stop the publication of a notice TED holds as SUBMITTED (FACTS.md section 5)."""
        target = rendered.target or ""
        try:
            notice, version = split_business_id(target)
        except ValueError:
            raise RenderError(f"a stop-publication needs a TED businessId, not {target!r}") from None
        response = self.request("POST", STOP_PATH.format(business_id=target), headers=self._auth())
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        if response.status == 200:
            answer = response.json()
            status = answer.get("status") if isinstance(answer, dict) else None
            return Receipt(remote_id=target, live=True, status=str(status or "STOPPED"), **common)
        if response.status == 403:
            # Not SUBMITTED (any more). Our own stop, repeated after a lost answer, finds it
            # STOPPED; a notice OP's export has taken cannot be stopped, only cancelled once
            # published: the next attempt renders again and sends the cancellation notice.
            current = self._status(notice, version)
            if current == "STOPPED":
                return Receipt(remote_id=target, live=True, status="STOPPED", **common)
            if current in {"SUBMITTED", "PUBLISHING", "PUBLISHED"}:
                raise TransientError(
                    f"ted can no longer stop {target} ({current}); it is withdrawn by a "
                    "cancellation notice once published",
                    **common,
                )
            raise RejectedError(
                f"ted holds {target} as {current or 'unknown'}; there is no publication to stop",
                reasons=[f"TED status {current or 'not listed'}"],
                **common,
            )
        if response.status == 423:
            raise TransientError(f"ted has locked {target} (HTTP 423); trying again later", **common)
        self._raise_for_status(response)
        raise OutcomeUnknown(f"ted answered HTTP {response.status} to stop-publication", **common)

    def _status(self, notice: str, version: str) -> str | None:
        found, _ = self._search(notice, version)
        return str(found[0].get("status", "")) if found else None

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

    def _search(self, notice: str, version: str) -> tuple[list[dict[str, Any]], Response]:
        """The Notice documents eNotices2 lists under this businessId, and its answer."""
        response = self.request(
            "GET", SEARCH_PATH, headers=self._auth(), params={"id": notice, "versionId": version}
        )
        self._raise_for_status(response)
        answer = response.json()
        content = answer.get("content") if isinstance(answer, dict) else None
        found = [
            n
            for n in content or []
            if isinstance(n, dict) and n.get("id") == notice and n.get("versionId") == version
        ]
        return found, response

    def _lookup(self, notice: str, version: str, submitted: Response | None) -> Receipt:
        """The receipt for the notice TED holds under this businessId."""
        business = business_id(notice, version)
        found, response = self._search(notice, version)
        if not found:
            raise OutcomeUnknown(
                f"ted does not list notice {business}",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        return self._receipt(business, found[0], submitted or response)

    def _receipt(self, business: str, notice: dict[str, Any], response: Response) -> Receipt:
        status = str(notice.get("status", ""))
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        if status in WAITING:
            return Receipt(remote_id=business, live=False, status=status, **common)
        if status == "PUBLISHED":
            publication_id = notice.get("publicationId")
            url = None
            if isinstance(publication_id, str) and publication_id:
                url = self.settings.public_notice_url.format(
                    publication_id=publication_id, base_url=self.settings.base_url.rstrip("/")
                )
            return Receipt(
                remote_id=business,
                live=True,
                url=url,
                status=status,
                published_at=_moment(notice.get("publicationDate")),
                # Later notices quote it (e.g. a national advert following the TED notice).
                publication_id=publication_id if isinstance(publication_id, str) and publication_id else None,
                **common,
            )
        if status in REFUSED:
            raise RejectedError(
                f"ted holds notice {business} as {status}; send a new version",
                reasons=[f"TED status {status}"],
                **common,
            )
        shown = status or "no status"
        raise OutcomeUnknown(f"ted reports notice {business} as {shown}", **common)


def _stop_request(context: RenderContext) -> Rendered:
    """The stop-publication of the notice TED holds as SUBMITTED: no body, the operation and
    its target (the businessId eNotices2 knows it by)."""
    previous = context.previous
    target = previous.remote_id if previous is not None else None
    try:
        split_business_id(target or "")
    except ValueError:
        raise RenderError(f"the notice to stop has no TED businessId ({target!r})") from None
    return Rendered(body=b"", media_type="application/json", operation=STOP, target=target)


def notice_identity(body: bytes) -> tuple[str, str]:
    """(BT-701 notice id, BT-757 version) of a rendered notice."""
    try:
        root = parse(body)
    except UnsafeXml as exc:
        raise RenderError(f"not a TED notice: {exc}") from None
    notice = root.findtext("cbc:ID", namespaces=XPATH_NS)
    version = root.findtext("cbc:VersionID", namespaces=XPATH_NS)
    if not notice or not version:
        raise RenderError("not a TED notice: it has no notice id (BT-701) or version (BT-757)")
    return notice.strip(), version.strip()


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
