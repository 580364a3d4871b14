"""The Contracts Finder adapter: the notice kinds it carries and the operations it performs.

    POST {base}/Token                                   Basic client id:secret, grant_type=client_credentials
         200 {access_token, expires_in, token_type: bearer}   cached until shortly before it expires
         400/401 {error} -> AuthError                   403 + rate-limit page -> RateLimited(300 s)

    contract notice:
    POST {base}/api/rest/2/create_draft_notice/json     bearer; the Notice -> its GUID
         400 -> GET {base}/Draft/Notices/Lookup/{Identifier}: found -> a repeat, carry on with it;
                not found -> RejectedError(ServiceResponse errors)
    GET  {base}/api/rest/2/get_published_notice/json/{id}   (only for a draft found by Lookup:
         already published -> the receipt, nothing is published twice)
    POST {base}/api/rest/2/publish_draft_notice/json    bearer; {noticeId}
    GET  {base}/api/rest/2/get_published_notice/json/{id}   no token (public); read back:
         IsPublished -> Receipt(live=True); 404 -> Receipt(live=False), polled

    cancellation:
    GET  get_published_notice (already withdrawn -> the receipt) then
    POST {base}/Published/Notice/Withdraw/2             bearer; {noticeId, withdrawalReason}
    GET  get_published_notice: WithdrawnDate set -> Receipt(live=True, status="withdrawn")

    award (PCR 2015 reg 112: the award of an advertised contract is published on Contracts Finder):
    GET  get_published_notice (already awarded -> the receipt; withdrawn -> RejectedError) then
    POST {base}/api/rest/2/award_notice/json            bearer; {noticeId, awardedDate, awardedValue,
                                                        description, awardDetails} [unconfirmed]
    GET  get_published_notice: awardedDate set -> Receipt(live=True, status="awarded")

    any request: the token, the rate limit and the error mapping of `api.py`

The contract is docs/channels/contracts-finder.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

from channels.contracts_finder import answers
from channels.contracts_finder.answers import Published
from channels.contracts_finder.api import MEDIA_TYPE, ContractsFinderApi, ContractsFinderSettings
from channels.contracts_finder.jsontext import encode
from channels.contracts_finder.notice import (
    award_request,
    awarded_notice,
    check_regime,
    contract_notice,
    identifier,
    withdrawal,
    withdrawn_notice,
)
from syndicator.channel.base import (
    Capabilities,
    OutcomeUnknown,
    Receipt,
    RejectedError,
    RenderContext,
    Rendered,
    RenderError,
)
from syndicator.channel.http import Response
from syndicator.domain.notices import Notice, NoticeKind

# `{MimeType}` in the version 2 paths; "json" is our reading of the documentation [unconfirmed].
MIME = "json"
CREATE = f"api/rest/2/create_draft_notice/{MIME}"
PUBLISH = f"api/rest/2/publish_draft_notice/{MIME}"
READ = f"api/rest/2/get_published_notice/{MIME}/{{id}}"
LOOKUP = "Draft/Notices/Lookup/{identifier}"  # version 1: deprecated but supported
WITHDRAW = "Published/Notice/Withdraw/2"
WITHDRAW_OPERATION = "withdraw"
# The award of a published notice. The v2 method's name is our reading of the documentation's
# "award a published notice" [unconfirmed]; see docs/channels/contracts-finder.md.
AWARD = f"api/rest/2/award_notice/{MIME}"
AWARD_OPERATION = "award"


class ContractsFinderChannel(ContractsFinderApi):
    """Publishes opportunities on Contracts Finder (draft, then publish), withdraws them and
    publishes their awards."""

    name: ClassVar[str] = "contracts-finder"
    title: ClassVar[str] = "Contracts Finder"
    # De-duplicates: the Identifier is unique per organisation and derived from our key, and a
    # repeat finds the first draft instead of creating a second. Polls: a published notice is
    # read back; one not yet readable is asked about again.
    capabilities: ClassVar[Capabilities] = Capabilities(deduplicates=True, polls=True)
    # No change notices: the documented API has no method to amend a published notice. No
    # contract details: Contracts Finder's award is the whole post-award record of a PCR notice.
    notices: ClassVar[frozenset[NoticeKind]] = frozenset(
        {NoticeKind.CONTRACT, NoticeKind.CANCELLATION, NoticeKind.AWARD}
    )
    settings_model: ClassVar[type[ContractsFinderSettings]] = ContractsFinderSettings
    settings: ContractsFinderSettings

    # -- render ----------------------------------------------------------------------------

    @classmethod
    def names(cls, key: str) -> tuple[str | None, str | None]:
        """Neither follows from the key alone: the Identifier also holds the buyer's reference
        and the tender version, and Contracts Finder assigns the GUID."""
        return None, None

    def render(self, notice: Notice, context: RenderContext) -> Rendered:
        """A contract notice as the Notice JSON; a cancellation as a WithdrawNoticeRequest; an
        award as the award of the published contract notice."""
        check_regime(context)
        tender = notice.tender
        if notice.kind is NoticeKind.CONTRACT:
            identity = identifier(tender.reference, notice.version, context.key, context.revision)
            document = contract_notice(tender, context, identity, self.settings.region)
            return Rendered(encode(document).encode("utf-8"), MEDIA_TYPE, identity=identity)
        if notice.kind is NoticeKind.CANCELLATION:
            ref = withdrawn_notice(context)
            # The withdrawn notice's Identifier as it was sent; rebuilt for a first send (revision
            # 1) when the record predates stored identities.
            identity = ref.identity or identifier(tender.reference, ref.version, ref.key)
            document = withdrawal(notice, ref)
            return Rendered(
                encode(document).encode("utf-8"),
                MEDIA_TYPE,
                identity=identity,
                operation=WITHDRAW_OPERATION,
                target=ref.remote_id,
            )
        if notice.kind is NoticeKind.AWARD:
            ref = awarded_notice(context)
            # Like a withdrawal, the award is about the published notice: its Identifier and GUID.
            identity = ref.identity or identifier(tender.reference, ref.version, ref.key)
            document = award_request(notice, context, ref)
            return Rendered(
                encode(document).encode("utf-8"),
                MEDIA_TYPE,
                identity=identity,
                operation=AWARD_OPERATION,
                target=ref.remote_id,
            )
        raise RenderError(
            f"{self.name} does not carry {notice.kind.value} notices: its API has no way to "
            "publish one (docs/channels/contracts-finder.md)"
        )

    # -- submit and poll -------------------------------------------------------------------

    def submit(self, rendered: Rendered, key: str) -> Receipt:
        """Create and publish the notice, or withdraw the published one."""
        if rendered.operation == WITHDRAW_OPERATION:
            return self._withdraw(rendered)
        if rendered.operation == AWARD_OPERATION:
            return self._award(rendered)
        if rendered.operation is not None:
            raise RenderError(f"{self.name} has no operation {rendered.operation!r}")
        if not rendered.identity:
            raise RenderError(f"{self.name} needs the notice's Identifier to send it")
        notice_id, existed = self._create(rendered, rendered.identity)
        if existed:
            state, response = self._read(notice_id)
            if state is not None and state.is_published:
                return self._receipt(state, rendered.identity, response)
        self._publish(notice_id)
        state, response = self._read(notice_id)
        if state is None:  # published, but not readable yet: poll it
            return Receipt(notice_id, False, status="publishing", status_code=response.status)
        return self._receipt(state, rendered.identity, response)

    def poll(self, receipt: Receipt) -> Receipt:
        """Read a published notice back; not readable yet is not live yet."""
        notice_id = answers.guid(receipt.remote_id)
        if notice_id is None:
            raise OutcomeUnknown(f"{self.name}: there is no notice id to ask about")
        state, response = self._read(notice_id)
        if state is None:
            return Receipt(notice_id, False, status="not published", status_code=response.status)
        return self._receipt(state, None, response)

    def _create(self, rendered: Rendered, identity: str) -> tuple[str, bool]:
        """The draft's GUID, and whether it existed before this attempt."""
        response = self._send("POST", CREATE, body=rendered.body, side_effect=True)
        if response.status < 300:
            notice_id = answers.created_id(response)
            if notice_id is None:
                raise OutcomeUnknown(
                    f"{self.name} answered HTTP {response.status} without the draft's id",
                    status_code=response.status,
                    excerpt=self.excerpt(response),
                )
            return notice_id, False
        if response.status == 400:
            # The Identifier is unique per organisation, so a draft made by an earlier attempt
            # (whose answer was lost) makes this one fail; whatever the refusal says, ask.
            found = self._lookup(identity)
            if len(found) == 1:
                return found[0], True
            if len(found) > 1:
                raise RejectedError(
                    f"{self.name} holds {len(found)} notices with Identifier {identity}: "
                    "a person must choose",
                    status_code=response.status,
                    excerpt=self.excerpt(response),
                )
        raise self._failure(response)

    def _lookup(self, identity: str) -> list[str]:
        """The GUIDs of the notices whose Identifier is exactly `identity`."""
        path = LOOKUP.format(identifier=quote(identity, safe=""))
        response = self._send("GET", path, side_effect=False)
        if response.status == 404:
            return []
        if response.status >= 300:
            raise self._failure(response)
        return answers.looked_up(response, identity)

    def _publish(self, notice_id: str) -> None:
        body = encode({"noticeId": notice_id}).encode("utf-8")
        response = self._send("POST", PUBLISH, body=body, side_effect=True)
        if response.status < 300:
            return
        if response.status == 400:  # refused: unless a concurrent attempt published it first
            state, _ = self._read(notice_id)
            if state is not None and state.is_published:
                return
        raise self._failure(response)

    def _read(self, notice_id: str) -> tuple[Published | None, Response]:
        """The published notice (None: not published, or no such notice: HTTP 404)."""
        response = self._send(
            "GET", READ.format(id=quote(notice_id, safe="")), side_effect=False, token=False
        )
        if response.status == 404:
            return None, response
        if response.status >= 300:
            raise self._failure(response)
        state = answers.published(response)
        if state is None or state.notice_id != notice_id:
            raise OutcomeUnknown(
                f"{self.name} answered the read-back of notice {notice_id} without that notice",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        return state, response

    def _receipt(self, state: Published, identity: str | None, response: Response) -> Receipt:
        """A contract notice's receipt from its read-back."""
        common: dict[str, Any] = {"status_code": response.status, "excerpt": self.excerpt(response)}
        if identity is not None and state.identifier not in (None, identity):
            raise OutcomeUnknown(
                f"{self.name} notice {state.notice_id} carries Identifier "
                f"{state.identifier!r}, not {identity!r}",
                **common,
            )
        if state.withdrawn:
            raise RejectedError(
                f"{self.name} notice {state.notice_id} has been withdrawn"
                + (f" ({state.withdrawn_reason})" if state.withdrawn_reason else "")
                + ": a re-push sends it again under a new Identifier",
                reasons=[state.withdrawn_reason or "withdrawn"],
                **common,
            )
        if not state.is_published:
            return Receipt(state.notice_id, False, status="draft", **common)
        return Receipt(
            state.notice_id,
            True,
            url=self._public_url(state.notice_id),
            status="published",
            published_at=state.published_at,
            **common,
        )

    def _withdraw(self, rendered: Rendered) -> Receipt:
        """Withdraw the published notice; one already withdrawn is a success (a repeat)."""
        notice_id, body = self._target(rendered, "withdraw")
        state, response = self._read(notice_id)
        if state is None or not state.is_published:
            raise RejectedError(
                f"{self.name} notice {notice_id} is not published, so it cannot be withdrawn "
                "(an unpublished draft can only be deleted, on Contracts Finder itself)",
                status_code=response.status,
            )
        if not state.withdrawn:
            state, response = self._post_once(
                WITHDRAW, notice_id, body, lambda s: s.withdrawn, "the withdrawal", "withdrawn"
            )
        return Receipt(
            notice_id,
            True,
            url=self._public_url(notice_id),
            status="withdrawn",
            status_code=response.status,
            excerpt=self.excerpt(response),
            published_at=state.withdrawn_at,
        )

    def _post_once(
        self, path: str, notice_id: str, body: bytes, done: Callable[[Published], bool], what: str, shown: str
    ) -> tuple[Published, Response]:
        """POST a withdrawal or award of a published notice, then read the notice back until it
        shows it. A 400 whose read-back already shows it done is a concurrent attempt's success,
        not a failure; an accepted request the read-back does not show is an unknown outcome."""
        answer = self._send("POST", path, body=body, side_effect=True)
        if answer.status >= 300:
            again, _ = self._read(notice_id) if answer.status == 400 else (None, answer)
            if again is None or not done(again):
                raise self._failure(answer)
        state, response = self._read(notice_id)
        if state is None or not done(state):
            raise OutcomeUnknown(
                f"{self.name} accepted {what} of notice {notice_id}, but reading it back does not "
                f"show it {shown}",
                status_code=response.status,
                excerpt=self.excerpt(response),
            )
        return state, response

    def _target(self, rendered: Rendered, verb: str) -> tuple[str, bytes]:
        """The GUID of the published notice a withdrawal or award is about, and the body naming
        it: when the GUID was not on record at render, the notice is found by its Identifier
        and the body sent with `noticeId` filled in."""
        notice_id = answers.guid(rendered.target)
        if notice_id is not None:
            return notice_id, rendered.body
        if not rendered.identity:
            raise RenderError(f"{self.name} needs the GUID or Identifier of the notice to {verb}")
        found = self._lookup(rendered.identity)
        if len(found) != 1:
            raise RejectedError(
                f"{self.name} holds {len(found) or 'no'} notice(s) with Identifier "
                f"{rendered.identity!r} to {verb}: a person must settle it"
            )
        document = json.loads(rendered.body, parse_float=Decimal)  # money stays exact
        document["noticeId"] = found[0]
        return found[0], encode(document).encode("utf-8")

    def _award(self, rendered: Rendered) -> Receipt:
        """Publish the award of the published notice; one already awarded is a success (a
        repeat: the award is read back, never sent twice)."""
        notice_id, body = self._target(rendered, "award")
        state, response = self._read(notice_id)
        if state is None or not state.is_published or state.withdrawn:
            raise RejectedError(
                f"{self.name} notice {notice_id} is "
                + ("withdrawn" if state is not None and state.withdrawn else "not published")
                + ", so no award can be published against it",
                status_code=response.status,
            )
        if state.awarded_at is None:
            state, response = self._post_once(
                AWARD, notice_id, body, lambda s: s.awarded_at is not None, "the award", "awarded"
            )
        return Receipt(
            notice_id,
            True,
            url=self._public_url(notice_id),
            status="awarded",
            status_code=response.status,
            excerpt=self.excerpt(response),
            # `awardedDate` is read as "awarded", not as when: it may be the decision's day
            # [unconfirmed], so the engine keeps its own time of publication.
            published_at=None,
        )
