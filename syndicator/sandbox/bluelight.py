"""A local stand-in for Bluelight's notice API (docs/channels/bluelight.md): Basic auth, every
document validated against the project's ctm-notice-1.xsd, one document per ExternalReference,
a notice or update Received until the channel's publication delay has passed, then Published
at a public URL this simulator serves; a withdrawal takes effect at once.

    POST /ctm/api/notices                    <TenderNotice>: 202 NoticeReceipt (a new NoticeId)
    POST /ctm/api/notices/{id}/updates       <TenderNoticeUpdate>: 202 NoticeReceipt
    POST /ctm/api/notices/{id}/cancellation  <TenderNoticeCancellation>: 200 NoticeReceipt Withdrawn
    POST /ctm/api/notices/{id}/award         <TenderNoticeAward>: 202 NoticeReceipt
    POST /ctm/api/notices/{id}/contracts     <TenderNoticeContractDetails>: 202 NoticeReceipt
                                             (a contract for a lot the notice's award awarded)
         any of them: 409 NoticeConflict (ExternalReference known) | 400/422 NoticeErrors |
         404 NoticeErrors not-found (no notice {id})
    GET  /ctm/api/notices/{id}               200 NoticeReceipt: the notice's latest version's status
    GET  /ctm/public/notices/{id}            the latest published document (no auth; 404 before
                                             publication, 410 with the withdrawal once withdrawn)

The ledger keeps one entry per document, its `notice` read from the root element and its
`version` from <Version>, as the real portal would. It reads the schema files by path and never
imports `channels/`: it plays the remote portal.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import re
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

from lxml import etree

from syndicator.channel.xmlsafe import UnsafeXml, load_schema, parse
from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import PUBLISHED, REJECTED, Entry, Ledger

SCHEMA = Path(__file__).resolve().parents[2] / "channels/schemas/bluelight/ctm-notice-1.xsd"
NOTICE_NS = "urn:emscu:syndicator:bluelight:ctm-notice:1"
RECEIPT_NS = "urn:emscu:syndicator:bluelight:ctm-receipt:1"
API = "/ctm/api/notices"
PUBLIC = "/ctm/public/notices/"
_UNDER = re.compile(r"/ctm/api/notices/([^/]+)/(updates|cancellation|award|contracts)")
STATUS = {PUBLISHED: "Published", REJECTED: "Rejected"}  # anything else is "Received"
MAX_ERRORS = 20
CONTRACT, CHANGE, CANCELLATION = "contract", "change", "cancellation"
AWARD, CONTRACT_DETAILS = "award", "contract-details"
ROOTS = {
    CONTRACT: "TenderNotice",
    CHANGE: "TenderNoticeUpdate",
    CANCELLATION: "TenderNoticeCancellation",
    AWARD: "TenderNoticeAward",
    CONTRACT_DETAILS: "TenderNoticeContractDetails",
}
ENDPOINTS = {
    CONTRACT: API,
    CHANGE: API + "/{id}/updates",
    CANCELLATION: API + "/{id}/cancellation",
    AWARD: API + "/{id}/award",
    CONTRACT_DETAILS: API + "/{id}/contracts",
}
BELOW = {"updates": CHANGE, "cancellation": CANCELLATION, "award": AWARD, "contracts": CONTRACT_DETAILS}
N = {"n": NOTICE_NS}
Problems = list[tuple[str | None, str]]


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _document(name: str, fields: list[tuple[str, str]]) -> bytes:
    root = etree.Element(f"{{{RECEIPT_NS}}}{name}", nsmap={None: RECEIPT_NS})
    for field, text in fields:
        etree.SubElement(root, f"{{{RECEIPT_NS}}}{field}").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def errors(
    status: int, code: str, problems: Sequence[tuple[str | None, str]], **headers: str
) -> SandboxResponse:
    """A <NoticeErrors> answer: one Error per (location, message)."""
    root = etree.Element(f"{{{RECEIPT_NS}}}NoticeErrors", nsmap={None: RECEIPT_NS})
    for location, message in problems[:MAX_ERRORS]:
        error = etree.SubElement(root, f"{{{RECEIPT_NS}}}Error")
        etree.SubElement(error, f"{{{RECEIPT_NS}}}Code").text = code
        if location:
            etree.SubElement(error, f"{{{RECEIPT_NS}}}Location").text = location
        etree.SubElement(error, f"{{{RECEIPT_NS}}}Message").text = message[:2000]
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return SandboxResponse.xml(status, body, **headers)


class BluelightSimulator(Simulator):
    """Bluelight's CTM notice API, as this project's contract defines it."""

    channel = "bluelight"
    prefix = "/bluelight"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        super().__init__(config, ledger)
        self._schema = load_schema(SCHEMA)
        self._lock = threading.Lock()  # guards the schema's error log and the id counter
        self._numbers = itertools.count(1)

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Route one request."""
        if request.method == "GET" and request.path.startswith(PUBLIC):
            return self._public(unquote(request.path[len(PUBLIC) :]))
        if not self._authorised(request.header("Authorization")):
            return errors(
                401,
                "unauthorised",
                [(None, "a valid Basic authorization is required")],
                **{"WWW-Authenticate": 'Basic realm="CTM API"'},
            )
        if request.path == API and request.method == "POST":
            return self._receive(request.body, CONTRACT, None)
        under = _UNDER.fullmatch(request.path)
        if under is not None and request.method == "POST":
            notice = BELOW[under[2]]
            return self._receive(request.body, notice, unquote(under[1]))
        if request.path.startswith(API + "/") and request.method == "GET":
            return self._status(unquote(request.path[len(API) + 1 :]))
        return errors(404, "not-found", [(None, f"no endpoint {request.method} {request.path}")])

    def reject(self, request: SandboxRequest, reason: str) -> SandboxResponse:
        """Refuse with a 422 <NoticeErrors>, as the portal does."""
        return errors(422, "business-rule", [(None, reason)])

    def refuse_credentials(self, request: SandboxRequest, status: int) -> SandboxResponse:
        """The portal's <NoticeErrors> for a refused login (401) or a forbidden operation (403)."""
        if status == 401:
            return errors(
                401,
                "unauthorised",
                [(None, "a valid Basic authorization is required (injected fault)")],
                **{"WWW-Authenticate": 'Basic realm="CTM API"'},
            )
        return errors(403, "forbidden", [(None, "this account may not publish notices (injected fault)")])

    def _authorised(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # compare both in constant time, without short-circuiting on the user name
        user_ok = hmac.compare_digest(user.encode(), self.config.bluelight_username.encode())
        password_ok = hmac.compare_digest(password.encode(), self.config.bluelight_password.encode())
        return user_ok and password_ok

    def _receive(self, body: bytes, notice: str, remote_id: str | None) -> SandboxResponse:
        try:
            root = parse(body)
        except UnsafeXml as exc:
            return errors(400, "malformed", [(None, str(exc))])
        with self._lock:
            valid = self._schema.validate(root.getroottree())
            problems: Problems = [(f"line {e.line}", e.message) for e in self._schema.error_log]
        if not valid:
            return errors(422, "schema", problems)
        if root.tag != f"{{{NOTICE_NS}}}{ROOTS[notice]}":
            where = ENDPOINTS[notice].replace("{id}", remote_id or "")
            got = etree.QName(root).localname
            return errors(422, "business-rule", [(None, f"{where} takes a {ROOTS[notice]}, not a {got}")])
        problems = _content_rules(root)
        if problems:
            return errors(422, "business-rule", problems)
        reference = root.findtext("n:ExternalReference", namespaces=N) or ""
        with self._lock:  # the checks against the notice and the store are one step
            known = self.ledger.find(self.channel, reference)
            if known is not None:
                self.ledger.repeat(known)
                return self._conflict(known)
            current = self.ledger.by_remote_id(self.channel, remote_id) if remote_id else None
            if remote_id is not None and current is None:
                return errors(404, "not-found", [(None, f"no notice {remote_id}")])
            problems = _notice_rules(root, notice, current)
            if not problems and notice == CONTRACT_DETAILS and current is not None:
                problems = _contract_rules(root, self._award_of(current))
            if problems:
                return errors(422, "business-rule", problems)
            entry = self._store(root, body, notice, reference, current)
        if notice == CANCELLATION:
            return SandboxResponse.xml(200, self._receipt(entry))
        location = f"{self.prefix}{API}/{entry.remote_id}"
        return SandboxResponse.xml(202, self._receipt(entry), Location=location)

    def _store(
        self, root: etree._Element, body: bytes, notice: str, reference: str, current: Entry | None
    ) -> Entry:
        now = time.time()
        if current is None:
            remote_id = f"BL-{datetime.fromtimestamp(now, UTC).year}-{next(self._numbers):06d}"
        else:
            remote_id = current.remote_id
        entry, _ = self.ledger.add(
            Entry(
                channel=self.channel,
                key=reference,
                remote_id=remote_id,
                tender_reference=root.findtext("n:BuyerReference", namespaces=N),
                body=body,
                extension="xml",
                first_received_at=now,
                # A withdrawal takes the notice down at once; a notice or update is published
                # after the portal's delay.
                publish_at=now if notice == CANCELLATION else now + self.config.delay(self.channel),
                url=f"{self.config.base_url()}{self.prefix}{PUBLIC}{quote(remote_id, safe='')}",
                meta={"replaces": current.key} if current is not None else {},
                notice=notice,
                version=int(root.findtext("n:Version", namespaces=N) or 0),
            )
        )
        return entry

    def _conflict(self, entry: Entry) -> SandboxResponse:
        body = _document(
            "NoticeConflict",
            [
                ("NoticeId", entry.remote_id),
                ("ExternalReference", entry.key),
                ("Message", "a notice with this ExternalReference exists already"),
            ],
        )
        return SandboxResponse.xml(409, body, Location=f"{self.prefix}{API}/{entry.remote_id}")

    def _status(self, remote_id: str) -> SandboxResponse:
        entry = self.ledger.by_remote_id(self.channel, remote_id)
        if entry is None:
            return errors(404, "not-found", [(None, f"no notice {remote_id}")])
        return SandboxResponse.xml(200, self._receipt(entry))

    def _award_of(self, entry: Entry | None) -> etree._Element | None:
        """The latest award document of the notice, going back from `entry`."""
        while entry is not None and entry.notice != AWARD:
            earlier = entry.meta.get("replaces")
            entry = self.ledger.find(self.channel, earlier) if earlier else None
        return parse(entry.body) if entry is not None else None

    def _published(self, entry: Entry | None) -> Entry | None:
        """The latest published version of the notice, going back from `entry`."""
        while entry is not None and (entry.notice == CANCELLATION or entry.status() != PUBLISHED):
            earlier = entry.meta.get("replaces")
            entry = self.ledger.find(self.channel, earlier) if earlier else None
        return entry

    def _receipt(self, entry: Entry) -> bytes:
        """Where the notice stands, `entry` being its latest document."""
        withdrawn = entry.notice == CANCELLATION
        status = "Withdrawn" if withdrawn else STATUS.get(entry.status(), "Received")
        fields = [
            ("NoticeId", entry.remote_id),
            ("ExternalReference", entry.key),
            ("Status", status),
            ("Version", str(entry.version)),
            ("ReceivedAt", _stamp(entry.first_received_at)),
        ]
        published = self._published(entry)
        if published is not None and status in ("Published", "Withdrawn"):
            fields.append(("PublishedAt", _stamp(published.publish_at)))
        if withdrawn:
            fields.append(("WithdrawnAt", _stamp(entry.first_received_at)))
        if status in ("Published", "Withdrawn"):
            fields.append(("Url", entry.url or ""))
        if status == "Rejected":
            fields.append(("Reason", entry.rejected or "rejected"))
        return _document("NoticeReceipt", fields)

    def _public(self, remote_id: str) -> SandboxResponse:
        latest = self.ledger.by_remote_id(self.channel, remote_id)
        if latest is not None and latest.notice == CANCELLATION:
            return SandboxResponse.xml(410, latest.body)  # the withdrawal: what, when and why
        published = self._published(latest)
        if published is None:
            return errors(404, "not-found", [(None, f"no published notice {remote_id}")])
        return SandboxResponse.xml(200, published.body)


def _content_rules(root: etree._Element) -> Problems:
    """The portal's rule on a notice's content that XSD 1.0 cannot state."""
    if root.find("n:Title", N) is None:  # a cancellation, award or contract carries no advert
        return []
    if (
        root.find("n:SubmissionDeadline", N) is None
        and root.findtext("n:Procedure", namespaces=N) != "framework-call-off"
    ):
        return [
            (
                "SubmissionDeadline",
                "a submission deadline is required unless the procedure is a framework call-off",
            )
        ]
    return []


def _notice_rules(root: etree._Element, notice: str, current: Entry | None) -> Problems:
    """An update, withdrawal, award or contract applies to the notice it is posted under, of
    the same tender, not yet withdrawn; an update carries a later version than the portal holds."""
    if current is None:
        return []
    named = root.findtext("n:NoticeId", namespaces=N)
    if named != current.remote_id:
        return [("NoticeId", f"{named} is not the notice {current.remote_id} it was posted under")]
    if current.notice == CANCELLATION:
        return [(None, f"notice {current.remote_id} was withdrawn")]
    reference = root.findtext("n:BuyerReference", namespaces=N)
    if reference != current.tender_reference:
        return [
            ("BuyerReference", f"notice {current.remote_id} is {current.tender_reference}, not {reference}")
        ]
    version = int(root.findtext("n:Version", namespaces=N) or 0)
    if notice == CHANGE and current.version is not None and version <= current.version:
        return [
            (
                "Version",
                f"notice {current.remote_id} is at version {current.version}; "
                "an update must carry a later one",
            )
        ]
    return []


def _contract_rules(root: etree._Element, award: etree._Element | None) -> Problems:
    """A contract follows the award of its lot: the notice was awarded, and each contract's
    lot (none: the undivided tender's) was awarded in it."""
    if award is None:
        return [(None, "the notice has no award; post the award before its contracts")]
    awarded = {
        result.findtext("n:LotNumber", namespaces=N)
        for result in award.iterfind("n:LotResults/n:LotResult", N)
        if result.find("n:Awarded", N) is not None
    }
    problems: Problems = []
    for contract in root.iterfind("n:Contracts/n:Contract", N):
        number = contract.findtext("n:LotNumber", namespaces=N)
        if number not in awarded:
            label = f"lot {number}" if number else "the contract"
            problems.append(("Contracts/Contract/LotNumber", f"{label} was not awarded"))
    return problems
