"""A local stand-in for TED's eNotices2 Publication API v2 (docs/channels/ted.md).

    POST /ted/api/v2/notice/notices/submit            Bearer key; multipart notice + metadata
         201 {"success": true, "validationReportUrl"}    accepted: SUBMITTED
         201 {"success": false, "validationReportUrl"}   XSD or business check failed:
                                                         stored as VALIDATION_FAILED
         400 {"message"}  missing part, bad metadata, unparsable XML, or the businessId exists
         401 bad key, 404 "No compatible SDK version found"
    POST /ted/api/v2/notice/notices/{businessId}/stop-publication-esentool
         200 the Notice, now STOPPED; 403 it is not SUBMITTED; 404 no such notice
    GET  /ted/api/v2/notice/notices/search-esentool?id=&versionId=   {totalSize, content}
    GET  /ted/api/v2/notice/notices/{businessId}/validation-report   SVRL
    GET  /ted/notice/{publicationId}                   public: the published notice (XML)

A notice is SUBMITTED until its publication delay has passed, then PUBLISHED with a
publication number such as `123456-2026`. A businessId (`{notice id}-{version}`) is accepted
once, whatever became of it; a higher version of the same notice id is a new notice, as on
TED. The notice is checked against the project's vendored eForms XSD of its root
(ContractNotice or ContractAwardNotice), read by path (this module stands in for a remote
system and never imports the adapter in `channels/`), plus the checks of TED's validation that
an XSD cannot express: among them, a change notice must name (BT-758) a notice of the same
procedure that TED holds.

What each received notice is (`/_sandbox/received` "notice") is read from the document, as a
reader of TED would: a ContractNotice without efac:Changes is a contract notice, with
efac:Changes a change, or a cancellation when its reason (BT-140) is `cancel`; a
ContractAwardNotice whose every lot closed without a winner (BT-142 `clos-nw`) is a
cancellation, any other an award; a stop-publication is a cancellation. An eForms notice does
not say which version of the buyer's record it carries, so "version" is null.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import threading
import time
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from syndicator.channel.xmlsafe import UnsafeXml, load_schema, parse
from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import Entry, Ledger

MAINDOC = Path(__file__).resolve().parents[2] / "channels" / "schemas" / "eforms-1.15.1" / "maindoc"
CN = "urn:oasis:names:specification:ubl:schema:xsd:ContractNotice-2"
CAN = "urn:oasis:names:specification:ubl:schema:xsd:ContractAwardNotice-2"
SCHEMAS = {  # root element -> its XSD
    f"{{{CN}}}ContractNotice": MAINDOC / "UBL-ContractNotice-2.3.xsd",
    f"{{{CAN}}}ContractAwardNotice": MAINDOC / "UBL-ContractAwardNotice-2.3.xsd",
}
API = "/api/v2/notice/notices/"
SUBMIT = API + "submit"
SEARCH = API + "search-esentool"
STOP = "/stop-publication-esentool"
PUBLIC = "/notice/"
SDK = "eforms-sdk-1.15"
NS = {
    "cn": CN,
    "can": CAN,
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
}
CHANGES = ".//efac:Changes"
CHANGED_NOTICE = f"{CHANGES}/efbc:ChangedNoticeIdentifier"  # BT-758
CHANGE_REASON = f"{CHANGES}/efac:ChangeReason/cbc:ReasonCode"  # BT-140
WINNER_STATUS = ".//efac:NoticeResult/efac:LotResult/cbc:TenderResultCode"  # BT-142
GONE = {"VALIDATION_FAILED", "STOPPED"}  # TED holds them, but as notices that never appeared
UUID4 = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}")
VERSION = re.compile(r"0[1-9]|[1-9][0-9]")
SDK_PATTERN = re.compile(r"eforms-sdk-[0-9]+\.[0-9]+")
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
SVRL = ElementMaker(namespace=SVRL_NS, nsmap={"svrl": SVRL_NS})


@functools.cache
def _schema(root: str) -> tuple[etree.XMLSchema, threading.Lock]:
    """The XSD of a root element, loaded once per process (an lxml schema keeps one error log)."""
    return load_schema(SCHEMAS[root]), threading.Lock()


def _message(status: int, text: str) -> SandboxResponse:
    """eNotices2's error document."""
    return SandboxResponse.json(status, {"message": text})


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def _text(root: etree._Element, path: str) -> str:
    return (root.findtext(path, namespaces=NS) or "").strip()


def _form(request: SandboxRequest) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name (the stdlib MIME parser does the work)."""
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return {}
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = payload
    return parts


def notice_kind(root: etree._Element) -> str:
    """What the notice does in the procurement's life, read from the document alone."""
    if root.tag == f"{{{CAN}}}ContractAwardNotice":
        statuses = [(status.text or "").strip() for status in root.findall(WINNER_STATUS, NS)]
        return "cancellation" if statuses and set(statuses) == {"clos-nw"} else "award"
    if root.find(CHANGES, NS) is None:
        return "contract"
    return "cancellation" if _text(root, CHANGE_REASON) == "cancel" else "change"


def check(root: etree._Element) -> list[str]:
    """What TED's validation would refuse: XSD errors, then checks the XSD cannot make."""
    if root.tag not in SCHEMAS:
        return [f"XSD: {root.tag} is not a notice this service accepts"]
    schema, lock = _schema(root.tag)
    with lock:
        if not schema.validate(root):
            return [f"XSD line {e.line}: {e.message}" for e in schema.error_log][:20]
    problems = []
    if not _text(root, ".//efac:NoticeSubType/cbc:SubTypeCode"):
        problems.append("OPP-070: the notice subtype is missing")
    identifiers = (("BT-701 notice id", "cbc:ID"), ("BT-04 procedure id", "cbc:ContractFolderID"))
    for label, path in identifiers:
        if not UUID4.fullmatch(_text(root, path)):
            problems.append(f"{label} {_text(root, path)!r} is not a lower-case UUID v4")
    if not VERSION.fullmatch(_text(root, "cbc:VersionID")):
        problems.append(f"BT-757 version {_text(root, 'cbc:VersionID')!r} is not 01-99")
    if _text(root, "cbc:CustomizationID") != SDK:
        problems.append(f"OPT-002 {_text(root, 'cbc:CustomizationID')!r} is not {SDK}")
    lots = root.findall("cac:ProcurementProjectLot", NS)
    if not lots:
        problems.append("BT-137: a contract notice has at least one lot")
    deadline = "cac:TenderingProcess/cac:TenderSubmissionDeadlinePeriod/cbc:EndDate"
    open_procedure = _text(root, "cac:TenderingProcess/cbc:ProcedureCode") == "open"
    contract_notice = root.tag == f"{{{CN}}}ContractNotice"
    if contract_notice and open_procedure and any(not _text(lot, deadline) for lot in lots):
        problems.append("BT-131: an open procedure needs a tender deadline in every lot")
    return problems


class TedSimulator(Simulator):
    """eNotices2: authenticated, validated, one notice per businessId, published after a delay."""

    channel = "ted"
    prefix = "/ted"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        super().__init__(config, ledger)
        for root in SCHEMAS:  # load now, so a broken schema file stops the sandbox at start
            _schema(root)
        self._lock = threading.Lock()  # lookup and storing of a businessId happen as one step

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Route one request to eNotices2."""
        if request.path.startswith(PUBLIC) and request.method == "GET":
            return self._public(request.path.removeprefix(PUBLIC))
        if not request.path.startswith(API):
            return _message(404, f"no resource at {request.path}")
        if not self._authorised(request):
            return _message(401, "Invalid or missing API key")
        if request.path == SUBMIT and request.method == "POST":
            return self._submit(request)
        if request.path == SEARCH and request.method == "GET":
            return self._search(request.query)
        if request.path.endswith(STOP) and request.method == "POST":
            return self._stop(request.path.removeprefix(API).removesuffix(STOP))
        if request.path.endswith("/validation-report") and request.method == "GET":
            return self._report(request.path.removeprefix(API).removesuffix("/validation-report"))
        return _message(404, f"no resource at {request.method} {request.path}")

    def reject(self, request: SandboxRequest, reason: str) -> SandboxResponse:
        """TED's refusal: 201 with success false; the notice is kept as VALIDATION_FAILED.
        Any other request (a stop-publication) is refused with 400 and TED's message form."""
        if request.path != SUBMIT:
            return _message(400, reason)
        notice = _form(request).get("notice", b"")
        try:
            root = parse(notice)
        except UnsafeXml:
            return self._refused("unknown")
        business_id = f"{_text(root, 'cbc:ID')}-{_text(root, 'cbc:VersionID')}"
        with self._lock:
            self._store(business_id, root, notice, {}, [reason])
        return self._refused(business_id)

    def refuse_credentials(self, request: SandboxRequest, status: int) -> SandboxResponse:
        """eNotices2's message: a refused API key (401) or an account without eSender rights (403)."""
        if status == 401:
            return _message(401, "Invalid or missing API key (injected fault)")
        return _message(403, "This account is not allowed to submit notices (injected fault)")

    # -- endpoints ----------------------------------------------------------------------------

    def _authorised(self, request: SandboxRequest) -> bool:
        given = (request.header("authorization") or "").encode("utf-8")
        wanted = f"Bearer {self.config.ted_api_key}".encode()
        return hmac.compare_digest(given, wanted)

    def _submit(self, request: SandboxRequest) -> SandboxResponse:
        parts = _form(request)
        for name in ("notice", "metadata"):
            if name not in parts:
                return _message(400, f"Required part '{name}' is not present")
        try:
            metadata = json.loads(parts["metadata"])
        except ValueError:
            return _message(400, "The metadata part is not JSON")
        if not isinstance(metadata, dict) or "@" not in str(metadata.get("noticeAuthorEmail", "")):
            return _message(400, "metadata.noticeAuthorEmail is required")
        try:
            root = parse(parts["notice"])
        except UnsafeXml as exc:
            return _message(400, f"The notice cannot be parsed: {exc}")
        sdk = _text(root, "cbc:CustomizationID")
        if SDK_PATTERN.fullmatch(sdk) and sdk != SDK:
            return _message(404, f"No compatible SDK version found for {sdk}")
        notice_id, version = _text(root, "cbc:ID"), _text(root, "cbc:VersionID")
        if not notice_id or not version:
            return _message(400, "The notice has no identifier (BT-701) or version (BT-757)")
        business_id = f"{notice_id}-{version}"
        problems = check(root)
        with self._lock:
            existing = self.ledger.find(self.channel, business_id)
            if existing is not None:
                self.ledger.repeat(existing)
                return _message(400, "Notice with the same noticeId and versionId already exists")
            problems += [] if problems else self._references(root)
            self._store(business_id, root, parts["notice"], metadata, problems)
        if problems:
            return self._refused(business_id)
        return SandboxResponse.json(
            201, {"success": True, "validationReportUrl": self._report_url(business_id)}
        )

    def _references(self, root: etree._Element) -> list[str]:
        """A change notice changes a notice TED holds, of the same procedure (BT-758, BT-04).

        Stricter than TED, on purpose: an award notice must conclude a procedure this
        service holds a notice of. TED accepts award notices of procedures it never
        advertised; here every award or no-award notice follows our own contract notice,
        so an unknown procedure id is a wrong reference and must fail like one."""
        procedure = _text(root, "cbc:ContractFolderID")
        changed = _text(root, CHANGED_NOTICE)
        if changed:
            target = self.ledger.find(self.channel, changed)
            if target is None or target.rejected in GONE:
                return [f"BT-758: the changed notice {changed} is not a notice TED holds"]
            if target.meta.get("procedure_id") != procedure:
                return [f"BT-04: the changed notice {changed} belongs to another procedure"]
        elif root.tag == f"{{{CAN}}}ContractAwardNotice":
            held = [
                entry
                for entry in self._notices()
                if entry.meta.get("procedure_id") == procedure and entry.rejected not in GONE
            ]
            if not held:
                return [f"BT-04: TED holds no notice of procedure {procedure}"]
        return []

    def _stop(self, business_id: str) -> SandboxResponse:
        """stop-publication: a SUBMITTED notice becomes STOPPED and is never published."""
        with self._lock:
            entry = self.ledger.find(self.channel, business_id)
            if entry is None or "notice_id" not in entry.meta:
                return _message(404, f"Notice {business_id} not found")
            status = self._notice(entry)["status"]
            if status != "SUBMITTED":
                return _message(403, f"Notice {business_id} is {status}, not SUBMITTED")
            self.ledger.update(entry, rejected="STOPPED")
            now = time.time()
            stop = f"{business_id}/stop-publication"
            self.ledger.add(
                Entry(
                    channel=self.channel,
                    key=stop,
                    remote_id=stop,
                    tender_reference=entry.tender_reference,
                    body=json.dumps({"stop-publication": business_id}).encode("utf-8"),
                    extension="json",
                    first_received_at=now,
                    publish_at=now,  # in effect at once
                    meta={"stopped": business_id, "procedure_id": entry.meta["procedure_id"]},
                    notice="cancellation",
                )
            )
        return SandboxResponse.json(200, self._notice(entry))

    def _store(
        self,
        business_id: str,
        root: etree._Element,
        body: bytes,
        metadata: dict[str, Any],
        problems: list[str],
    ) -> None:
        now = time.time()
        publish_at = now + self.config.delay(self.channel)
        number = int(hashlib.sha256(business_id.encode()).hexdigest()[:8], 16) % 900_000 + 100_000
        publication_id = f"{number}-{time.gmtime(publish_at).tm_year}"
        self.ledger.add(
            Entry(
                channel=self.channel,
                key=business_id,
                remote_id=business_id,
                tender_reference=_text(root, "cac:ProcurementProject/cbc:ID") or None,
                body=body,
                extension="xml",
                first_received_at=now,
                publish_at=publish_at,
                url=f"{self.config.base_url()}{self.prefix}{PUBLIC}{publication_id}",
                rejected="VALIDATION_FAILED" if problems else None,
                notice=notice_kind(root),
                version=None,  # an eForms notice does not say which version of the record it is
                meta={
                    "notice_id": _text(root, "cbc:ID"),
                    "version": _text(root, "cbc:VersionID"),
                    "procedure_id": _text(root, "cbc:ContractFolderID"),
                    "notice_type": _text(root, "cbc:NoticeTypeCode"),
                    "notice_author": str(metadata.get("noticeAuthorEmail", "")),
                    "publication_id": publication_id,
                    "errors": problems,
                },
            )
        )

    def _refused(self, business_id: str) -> SandboxResponse:
        """201 with success false: the reasons are in the validation report, as on TED."""
        return SandboxResponse.json(
            201, {"success": False, "validationReportUrl": self._report_url(business_id)}
        )

    def _report_url(self, business_id: str) -> str:
        return f"{self.config.base_url()}{self.prefix}{API}{business_id}/validation-report"

    def _notice(self, entry: Entry) -> dict[str, Any]:
        """The eNotices2 Notice document of a stored entry."""
        published = entry.rejected is None and time.time() >= entry.publish_at
        status = entry.rejected or ("PUBLISHED" if published else "SUBMITTED")
        return {
            "id": entry.meta["notice_id"],
            "versionId": entry.meta["version"],
            "procedureId": entry.meta["procedure_id"],
            "status": status,
            "submittedAt": _iso(entry.first_received_at),
            "updatedAt": _iso(entry.publish_at if published else entry.first_received_at),
            "expectedPublicationDate": None if entry.rejected else _iso(entry.publish_at),
            "publicationId": entry.meta["publication_id"] if published else None,
            "publicationDate": _iso(entry.publish_at) if published else None,
            "noticeType": entry.meta.get("notice_type") or None,
            "legalBasis": "32014L0024",
            "languages": ["ENG"],
            "noticeAuthor": entry.meta["notice_author"],
        }

    def _notices(self) -> list[Entry]:
        """Every notice received (the ledger also records stop-publications)."""
        return [entry for entry in self.ledger.entries(self.channel) if "notice_id" in entry.meta]

    def _search(self, query: dict[str, str]) -> SandboxResponse:
        found = [
            self._notice(entry)
            for entry in self._notices()
            if ("id" not in query or entry.meta.get("notice_id") == query["id"])
            and ("versionId" not in query or entry.meta.get("version") == query["versionId"])
        ]
        if "statuses" in query:
            wanted = set(query["statuses"].split(","))
            found = [notice for notice in found if notice["status"] in wanted]
        return SandboxResponse.json(200, {"totalSize": len(found), "content": found})

    def _report(self, business_id: str) -> SandboxResponse:
        entry = self.ledger.find(self.channel, business_id)
        if entry is None:
            return _message(404, f"Notice {business_id} not found")
        failed = [
            SVRL("failed-assert", SVRL.text(problem), role="ERROR", location="/*")
            for problem in entry.meta.get("errors", [])
        ]
        report = SVRL("schematron-output", *failed, title=f"Validation of {business_id}")
        body = etree.tostring(report, xml_declaration=True, encoding="UTF-8")
        return SandboxResponse.xml(200, body)

    def _public(self, publication_id: str) -> SandboxResponse:
        for entry in self._notices():
            published = entry.rejected is None and time.time() >= entry.publish_at
            if published and entry.meta.get("publication_id") == publication_id:
                return SandboxResponse.xml(200, entry.body)
        return _message(404, f"No published notice {publication_id}")
