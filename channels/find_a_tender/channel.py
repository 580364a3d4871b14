"""Find a Tender (the Central Digital Platform's notices) through its eSender API, or, for a
buyer whose own e-tendering tool publishes there, by adopting that tool's notice.

    publish (buyer fts_mode = "publish"), with the buyer's own CDP-Api-Key:
    POST {base}/api/latest/notice/submission/submit?async=1     notice=<base64>
      202 (or 200) NoticeInformation RECEIVED ------------> Receipt(not live)
      200 for a sender id (no_doc_ext) already held -------> its current state [simulator;
                                                             unconfirmed on the real service]
      400 {"error": "Access Denied"} ----------------------> AuthError
      400 other, 422 -------------------------------------> RejectedError(the error)
      401/403 -> AuthError  429 -> RateLimited  5xx -> TransientError
    GET {base}/api/2/notice/submission/info/{submission_id}
      RECEIVED, ... -> not live   PUBLISHED -> live: notice id, URL, OCID
      VALIDATION_FAILED, NOT_PUBLISHED, ... -> RejectedError(reports)   other -> OutcomeUnknown

    adopt (buyer fts_mode = "adopt"): nothing is sent in the buyer's name
    GET {public}/api/1.0/ocdsReleasePackages?updatedFrom=&stages=tender&limit=100&cursor=
      found -> live (notice id, URL, OCID)   not yet -> not live, looked for again on each
      status check   still not found `adopt_within` after dispatch -> RejectedError

Identities: ours is the release id (the delivery key; `no_doc_ext` on Find a Tender's side);
the remote id is `<submission id>@<buyer id>` because a status check needs the buyer's key and
is handed only the stored remote id; the publication id is the notice number `nnnnnn-yyyy`;
the URL is the notice's page. The OCID Find a Tender assigns is in the receipt's status.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import requests

from channels.find_a_tender.adopt import Found, Lookup, next_match
from channels.find_a_tender.keys import FindATenderSettings, key_for
from channels.find_a_tender.payload import MEDIA_TYPE as FORM
from channels.find_a_tender.payload import upload_body
from channels.find_a_tender.release import build_release
from channels.find_a_tender.submission import PUBLISHED, REFUSED, WAITING, publication, reasons
from channels.source_east_midlands import dumps
from syndicator.channel.base import (
    AuthError,
    Capabilities,
    OutcomeUnknown,
    Receipt,
    RejectedError,
    RenderContext,
    Rendered,
    RenderError,
    scrub,
)
from syndicator.channel.http import HttpChannel, Response
from syndicator.domain.clock import Clock, utcnow
from syndicator.domain.notices import Notice, NoticeKind

SUBMIT = "/api/latest/notice/submission/submit"
INFO = "/api/2/notice/submission/info/"  # v2 adds the OCIDs; v1 is deprecated
PACKAGES = "/api/1.0/ocdsReleasePackages"
MEDIA_TYPE = "application/json"
ACCESS_DENIED = "access denied"
PAGE_SIZE = 100  # the public API's largest page
MAX_SHOWN = 5
# The public API's `stages` filter per notice kind (UK-NOTICES.md section 9).
STAGES = {NoticeKind.AWARD: "award", NoticeKind.CONTRACT_DETAILS: "contract"}


class FindATenderChannel(HttpChannel):
    """UK4, revised UK4, UK12, UK6 and UK7 notices on Find a Tender: published, or adopted."""

    name: ClassVar[str] = "find-a-tender"
    title: ClassVar[str] = "Find a Tender"
    # De-duplication rests on Find a Tender keeping one submission per sender id (no_doc_ext,
    # our release id): the simulator does; the real service is unconfirmed (docs page).
    capabilities: ClassVar[Capabilities] = Capabilities(deduplicates=True, polls=True)
    notices: ClassVar[frozenset[NoticeKind]] = frozenset(NoticeKind)
    settings_model: ClassVar[type[FindATenderSettings]] = FindATenderSettings
    settings: FindATenderSettings

    def __init__(
        self, settings: FindATenderSettings, session: requests.Session | None = None, clock: Clock = utcnow
    ) -> None:
        super().__init__(settings, session)
        self.clock = clock

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """Our release id is the key; Find a Tender numbers the submission itself."""
        return key, None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """The release as deterministic JSON; in adopt mode, marked for looking up instead."""
        release = build_release(notice, context, self.settings.ocid_prefix)
        body = dumps(release)
        if context.buyer.fts_mode == "adopt":
            buyer = context.buyer
            identifiers = tuple(i for i in (buyer.ppon, *buyer.other_identifiers) if i)
            seen = sum(1 for ref in context.history if ref.kind is notice.kind)
            lookup = Lookup(notice.tender.reference, identifiers, notice.kind, context.dispatched_at, seen)
            try:
                target = lookup.token()
            except ValueError as exc:
                raise RenderError(f"find-a-tender cannot look this notice up: {exc}") from None
            return Rendered(body, MEDIA_TYPE, identity=release["id"], operation="adopt", target=target)
        # `target` names the buyer whose API key sends it (the body names it only by PPON,
        # which two buyers may share).
        return Rendered(
            body, MEDIA_TYPE, identity=release["id"], operation="publish", target=notice.tender.buyer
        )

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Submit with the buyer's key, or, in adopt mode, look the buyer's own notice up."""
        if rendered.operation == "adopt":
            lookup = Lookup.parse(rendered.target or "")
            if lookup is None:
                raise OutcomeUnknown(f"find-a-tender: {rendered.target!r} is not a lookup")
            return self._adopt(lookup)
        buyer = rendered.target or ""
        response = self.request(
            "POST",
            SUBMIT,
            params={"async": "1"},
            data=upload_body(rendered.body),
            headers={**self._auth(buyer), "Content-Type": FORM},
        )
        return self._receipt(self._information(response, buyer), buyer, response)

    def poll(self, receipt: Receipt) -> Receipt:
        """The submission's status, or in adopt mode another look for the buyer's notice."""
        remote_id = receipt.remote_id or ""
        lookup = Lookup.parse(remote_id)
        if lookup is not None:
            return self._adopt(lookup)
        submission, _, buyer = remote_id.partition("@")
        if not submission or not buyer:
            raise OutcomeUnknown(f"find-a-tender: {remote_id!r} is not <submission id>@<buyer id>")
        response = self.request("GET", INFO + quote(submission, safe=""), headers=self._auth(buyer))
        if response.status == 404:
            raise OutcomeUnknown(
                f"find-a-tender does not know submission {submission}",
                status_code=404,
                excerpt=self.excerpt(response),
            )
        return self._receipt(self._information(response, buyer), buyer, response)

    def url(self, path: str) -> str:
        """A path under the eSender API, or an absolute URL (the public API has its own root)."""
        return path if path.startswith(("https://", "http://")) else super().url(path)

    # -- publishing ---------------------------------------------------------------------------

    def _auth(self, buyer: str) -> dict[str, str]:
        return {"CDP-Api-Key": key_for(self.settings, buyer), "Accept": MEDIA_TYPE}

    def _information(self, response: Response, buyer: str) -> dict[str, Any]:
        """The NoticeInformation of a successful answer; errors mapped at this one place."""
        body = response.json()
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        error = body.get("error") if isinstance(body, dict) else None
        if response.status >= 400 and str(error or "").strip().lower() == ACCESS_DENIED:
            # The documented answer to a bad key is a 400, not a 401: credentials, not the notice.
            raise AuthError(f"find-a-tender denied the API key of buyer {buyer} (Access Denied)", **common)
        if response.status >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            listed = [str(m) for m in (error, message) if m] or [response.text().strip()[:500]]
            # an answer may echo what it was sent, the key included
            self.raise_for_status(response, [scrub(r, self.secret_values()) or "" for r in listed if r])
        if not 200 <= response.status < 300 or not isinstance(body, dict) or not body.get("submission_id"):
            # Find a Tender may hold the notice; a retry is safe (same sender id).
            raise OutcomeUnknown(
                f"find-a-tender answered HTTP {response.status} without a submission id", **common
            )
        return body

    def _receipt(self, info: dict[str, Any], buyer: str, response: Response) -> Receipt:
        submission = str(info["submission_id"])
        status = str(info.get("status") or "")
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        remote_id = f"{submission}@{buyer}"
        if status in WAITING:
            return Receipt(remote_id=remote_id, live=False, status=status, **common)
        if status == PUBLISHED:
            found = publication(info)
            if not found.url or not found.notice_id:  # published, numbers not out yet: ask again
                waiting = f"{status} (no notice number yet)"
                return Receipt(remote_id=remote_id, live=False, status=waiting, **common)
            return Receipt(
                remote_id=remote_id,
                live=True,
                url=found.url,
                status=f"{status}: {found.describe()}",
                published_at=found.published_at,
                publication_id=found.notice_id,
                **common,
            )
        if status in REFUSED:
            why = reasons(info) or [status]
            raise RejectedError(
                f"find-a-tender refused submission {submission} ({status}): " + "; ".join(why[:MAX_SHOWN]),
                reasons=why,
                **common,
            )
        shown = status or "no status"
        raise OutcomeUnknown(f"find-a-tender reports submission {submission} as {shown}", **common)

    # -- adopting -----------------------------------------------------------------------------

    def _adopt(self, lookup: Lookup) -> Receipt:
        found = next_match(self._releases(lookup), lookup)
        if found is not None:
            return self._adopted(lookup, found)
        waited = self.clock() - lookup.since
        if waited >= self.settings.adopt_within:
            raise RejectedError(
                f"not found on Find a Tender after {_duration(self.settings.adopt_within)}: no "
                f"{lookup.kind.value} notice of {lookup.reference} by {', '.join(lookup.identifiers)}",
                reasons=[f"no notice of {lookup.reference} by {' or '.join(lookup.identifiers)}"],
            )
        return Receipt(
            remote_id=lookup.token(),
            live=False,
            status=f"LOOKING: not on Find a Tender yet ({_duration(waited)} of "
            f"{_duration(self.settings.adopt_within)})",
        )

    def _adopted(self, lookup: Lookup, found: Found) -> Receipt:
        return Receipt(
            remote_id=lookup.token(),
            live=True,
            url=found.url,
            status=f"ADOPTED: notice {found.notice_id}, OCID {found.ocid}, release {found.release_id}",
            published_at=found.published_at,
            publication_id=found.notice_id,
        )

    def _releases(self, lookup: Lookup) -> Iterator[Any]:
        """Every release of the notice's stage (tender, award or contract) updated since the
        look-back, page by page (bounded)."""
        since = (lookup.since - self.settings.adopt_lookback).strftime("%Y-%m-%dT%H:%M:%S")
        stage = STAGES.get(lookup.kind, "tender")
        params: dict[str, str] = {"updatedFrom": since, "stages": stage, "limit": str(PAGE_SIZE)}
        address = self.settings.public_url.rstrip("/") + PACKAGES
        for _ in range(self.settings.adopt_pages):
            response = self.request("GET", address, params=params, headers={"Accept": MEDIA_TYPE})
            body = response.json()
            if response.status >= 400:
                error = body.get("error") if isinstance(body, dict) else None
                self.raise_for_status(response, [str(error)] if error else None)
            if not isinstance(body, dict) or not isinstance(body.get("releases"), list):
                raise OutcomeUnknown(
                    "find-a-tender's public API answered without releases",
                    status_code=response.status,
                    excerpt=self.excerpt(response),
                )
            yield from body["releases"]
            cursor = _cursor(body)
            if not cursor:
                return
            params["cursor"] = cursor


def _cursor(package: dict[str, Any]) -> str | None:
    """The next page's cursor, from the package's `links.next` URL."""
    links = package.get("links")
    following = links.get("next") if isinstance(links, dict) else None
    if not isinstance(following, str) or not following:
        return None
    found = parse_qs(urlsplit(following).query).get("cursor")
    return found[0] if found else None


def _duration(value: timedelta) -> str:
    """'3d', '2h', '90s': how config writes durations."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
