"""A local stand-in for Bluelight's notice API (docs/channels/bluelight.md): Basic auth, the
notice validated against the project's ctm-notice-1.xsd, one notice per ExternalReference,
Received until the channel's publication delay has passed, then Published at a public URL
this simulator serves.

    POST /ctm/api/notices              202 NoticeReceipt | 409 NoticeConflict | 400/422 NoticeErrors
    GET  /ctm/api/notices/{id}         200 NoticeReceipt (Received | Published | Rejected)
    GET  /ctm/public/notices/{id}      the published notice itself (no auth; 404 before publication)

It reads the schema files by path and never imports `channels/`: it plays the remote portal.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
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
STATUS = {PUBLISHED: "Published", REJECTED: "Rejected"}  # anything else is "Received"
MAX_ERRORS = 20


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
            return self._receive(request.body)
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

    def _receive(self, body: bytes) -> SandboxResponse:
        try:
            root = parse(body)
        except UnsafeXml as exc:
            return errors(400, "malformed", [(None, str(exc))])
        with self._lock:
            valid = self._schema.validate(root.getroottree())
            problems = [(f"line {e.line}", e.message) for e in self._schema.error_log]
        if not valid:
            return errors(422, "schema", problems)
        ns = {"n": NOTICE_NS}
        if (
            root.find("n:SubmissionDeadline", ns) is None
            and root.findtext("n:Procedure", namespaces=ns) != "framework-call-off"
        ):
            return errors(
                422,
                "business-rule",
                [
                    (
                        "SubmissionDeadline",
                        "a submission deadline is required unless the procedure is a framework call-off",
                    )
                ],
            )
        reference = root.findtext("n:ExternalReference", namespaces=ns) or ""
        known = self.ledger.find(self.channel, reference)
        if known is not None:
            self.ledger.repeat(known)
            return self._conflict(known)
        now = time.time()
        with self._lock:
            number = next(self._numbers)
        remote_id = f"BL-{datetime.fromtimestamp(now, UTC).year}-{number:06d}"
        entry, new = self.ledger.add(
            Entry(
                channel=self.channel,
                key=reference,
                remote_id=remote_id,
                tender_reference=root.findtext("n:BuyerReference", namespaces=ns),
                body=body,
                extension="xml",
                first_received_at=now,
                publish_at=now + self.config.delay(self.channel),
                url=f"{self.config.base_url()}{self.prefix}{PUBLIC}{quote(remote_id, safe='')}",
            )
        )
        if not new:  # a concurrent twin got there first; add() counted this receipt
            return self._conflict(entry)
        return SandboxResponse.xml(202, self._receipt(entry), Location=f"{self.prefix}{API}/{remote_id}")

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

    def _receipt(self, entry: Entry) -> bytes:
        status = STATUS.get(entry.status(), "Received")
        fields = [
            ("NoticeId", entry.remote_id),
            ("ExternalReference", entry.key),
            ("Status", status),
            ("ReceivedAt", _stamp(entry.first_received_at)),
        ]
        if status == "Published":
            fields += [("PublishedAt", _stamp(entry.publish_at)), ("Url", entry.url or "")]
        if status == "Rejected":
            fields.append(("Reason", entry.rejected or "rejected"))
        return _document("NoticeReceipt", fields)

    def _public(self, remote_id: str) -> SandboxResponse:
        entry = self.ledger.by_remote_id(self.channel, remote_id)
        if entry is None or entry.status() != PUBLISHED:
            return errors(404, "not-found", [(None, f"no published notice {remote_id}")])
        return SandboxResponse.xml(200, entry.body)
