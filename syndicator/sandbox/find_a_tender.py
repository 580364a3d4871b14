"""A local stand-in for Find a Tender (docs/channels/find-a-tender.md): the eSender submission
API and the public OCDS read API, under `/find-a-tender`.

    POST /api/{1|latest}/notice/submission/submit[?async=1]   CDP-Api-Key; notice=<base64>
         202 (async) / 200 NoticeInformation RECEIVED          a new notice
         200 NoticeInformation                                  a sender id (no_doc_ext) it holds
         400 {"status": 400, "error": "Access Denied"}         unknown key
         400 {"status": 400, "error": "Bad Request"}           no `notice`, not base64 JSON
    GET  /api/{1|2}/notice/submission/info/{submission_id}    the submitter's key only
         RECEIVED -> PUBLISHED (after the channel's delay) with publication_info
         (notice id nnnnnn-yyyy, URL, OCID); VALIDATION_FAILED with the reports
    GET  /api/1.0/ocdsReleasePackages[?updatedFrom&updatedTo&stages&limit&cursor]   public
    GET  /api/1.0/ocdsReleasePackages/{ocid | notice id}                            public
    GET  /Notice/{notice id}                                   the published notice (JSON)
    POST /_sandbox/find-a-tender/notices                       load published notices (the
                                                               buyers' own tools'), for adopt mode

The notice is the base64 of an OCDS release (the upload XSD is not public; the adapter's swap
point). It is checked against the UK profile and the UK4/UK12 rules (`fts_rules`). A revised
UK4 or UK12 takes the OCID of the notice it names; a first UK4 gets a new one.
"""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import json
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

from syndicator.sandbox import fts_rules
from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import PUBLISHED, REJECTED, Entry, Ledger

SUBMIT = ("/api/1/notice/submission/submit", "/api/latest/notice/submission/submit")
INFO = ("/api/1/notice/submission/info/", "/api/2/notice/submission/info/")
PACKAGES = "/api/1.0/ocdsReleasePackages"
NOTICE = "/Notice/"
OCID_PREFIX = "ocds-h6vhtk-"
STAGES = {"planning": "planning", "tender": "tender", "award": "award", "contract": "award"}
MAX_PAGE = 100


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _error(status: int, error: str, message: str) -> SandboxResponse:
    """Find a Tender's error document (the documented Access Denied shape)."""
    return SandboxResponse.json(status, {"status": status, "error": error, "message": message})


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class FindATenderSimulator(Simulator):
    """Find a Tender's eSender and public OCDS APIs."""

    channel = "find-a-tender"
    prefix = "/find-a-tender"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        super().__init__(config, ledger)
        self._validator = fts_rules.release_validator()  # a broken schema copy stops the start
        self._lock = threading.Lock()
        self._submissions = itertools.count(1)
        self._numbers = itertools.count(1)
        self._loaded: list[tuple[float, dict[str, Any]]] = []  # (published at, release)

    # -- routing ------------------------------------------------------------------------------

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Route one request."""
        path = request.path
        if request.method == "GET" and path.startswith(NOTICE):
            return self._by_id(unquote(path.removeprefix(NOTICE)))
        if request.method == "GET" and path == PACKAGES:
            return self._packages(request.query)
        if request.method == "GET" and path.startswith(PACKAGES + "/"):
            return self._by_id(unquote(path.removeprefix(PACKAGES + "/")))
        owner = self._owner(request)
        if path in SUBMIT and request.method == "POST":
            return self._submit(request, owner) if owner else self._denied()
        if path.startswith(INFO) and request.method == "GET":
            submission = unquote(path.rsplit("/", 1)[-1])
            return self._info(submission, owner, path.startswith(INFO[1])) if owner else self._denied()
        return _error(404, "Not Found", f"no resource at {request.method} {path}")

    def reject(self, request: SandboxRequest, reason: str) -> SandboxResponse:
        """A refusal before anything is stored."""
        return _error(400, "Bad Request", reason)

    def refuse_credentials(self, request: SandboxRequest, status: int) -> SandboxResponse:
        """A refused key (401) or a key not allowed to act for the organisation (403)."""
        if status == 401:
            return _error(401, "Unauthorized", "the CDP-Api-Key was refused (injected fault)")
        return _error(403, "Forbidden", "this API key may not publish for the organisation (injected fault)")

    def control(self, method: str, path: str, query: dict[str, str], body: bytes) -> SandboxResponse | None:
        """`/_sandbox/find-a-tender/notices`: POST loads published notices, DELETE forgets them."""
        if path != "notices":
            return None
        if method == "DELETE":
            with self._lock:
                self._loaded.clear()
            return SandboxResponse.json(200, {"loaded": []})
        if method != "POST":
            return None
        return self._load(body)

    # -- submission API -----------------------------------------------------------------------

    def _owner(self, request: SandboxRequest) -> str | None:
        """Whose key this is (each buyer has its own); None for no or an unknown key."""
        given = request.header("CDP-Api-Key") or ""
        return next((name for name, key in self.config.fts_api_keys.items() if given and key == given), None)

    def _denied(self) -> SandboxResponse:
        return _error(400, "Access Denied", "the CDP-Api-Key header does not hold a valid API key")

    def _submit(self, request: SandboxRequest, owner: str) -> SandboxResponse:
        form = parse_qs(request.body.decode("latin-1"))
        if "notice" not in form:
            return _error(400, "Bad Request", "the form field 'notice' is required")
        try:
            body = base64.b64decode(form["notice"][0], validate=True)
            release = json.loads(body.decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            return _error(400, "Bad Request", f"the notice is not base64 of a UTF-8 document: {exc}")
        sender_id = str(_mapping(release).get("id") or "")
        if not sender_id:
            return _error(400, "Bad Request", "the notice has no identifier of its sender (release id)")
        synchronous = request.query.get("async") != "1"
        with self._lock:
            known = self.ledger.find(self.channel, sender_id)
            if known is not None:
                self.ledger.repeat(known)
                return SandboxResponse.json(200, self._information(known))
            entry = self._receive(release, body, sender_id, owner)
        status = 200 if synchronous else 202
        return SandboxResponse.json(status, self._information(entry, received=not synchronous))

    def _receive(self, release: Any, body: bytes, sender_id: str, owner: str) -> Entry:
        """Check and store a new notice (under the lock): numbered, published after the delay."""
        now = time.time()
        moment = datetime.fromtimestamp(now, UTC)
        named = str(_mapping(_mapping(release).get("previousNotice")).get("id") or "")
        previous = self._published_notice(named) if named else None
        technical, rules = fts_rules.check(self._validator, release, previous, moment)
        tag = fts_rules.tag_of(release) if isinstance(release, dict) else None
        publish_at = now + self.config.delay(self.channel)
        number = self._next_number()
        ocid = str(previous["ocid"]) if previous and tag != "tender" else self._ocid(number)
        entry, _ = self.ledger.add(
            Entry(
                channel=self.channel,
                key=sender_id,
                remote_id=f"{moment:%Y%m%d}-{next(self._submissions):06d}",
                tender_reference=str(_mapping(_mapping(release).get("tender")).get("id") or "") or None,
                body=body,
                extension="json",
                first_received_at=now,
                publish_at=publish_at,
                url=f"{self.config.base_url()}{self.prefix}{NOTICE}{number}",
                rejected="VALIDATION_FAILED" if technical or rules else None,
                notice=fts_rules.KINDS.get(tag or "", "contract"),
                version=fts_rules.version_of(release) if isinstance(release, dict) else None,
                meta={
                    "owner": owner,
                    "notice_id": number,
                    "ocid": ocid,
                    "ref_submission_id": self._submission_of(named),
                    "technical": technical,
                    "rules": rules,
                    "release": release,
                },
            )
        )
        return entry

    def _next_number(self) -> str:
        taken = {self._number_of(release) for _, release in self._loaded}
        year = datetime.now(UTC).year
        while True:
            number = f"{next(self._numbers):06d}-{year}"
            if number not in taken:
                return number

    def _ocid(self, number: str) -> str:
        # A new procurement id per first UK4: six hex digits, as Find a Tender's OCIDs have.
        serial, year = number.split("-")
        return f"{OCID_PREFIX}{(int(year) % 16) << 20 | int(serial):06x}"

    def _submission_of(self, notice_id: str) -> str | None:
        for entry in self.ledger.entries(self.channel):
            if entry.meta.get("notice_id") == notice_id:
                return entry.remote_id
        return None

    def _information(self, entry: Entry, *, received: bool = False) -> dict[str, Any]:
        """NoticeInformation (`received`: the asynchronous answer, before any processing)."""
        status = entry.status()
        failed = status == REJECTED and not received
        published = status == PUBLISHED and not received
        info: dict[str, Any] = {
            "submission_id": entry.remote_id,
            "received_at": _stamp(entry.first_received_at),
            "status": "VALIDATION_FAILED" if failed else "PUBLISHED" if published else "RECEIVED",
            "reason_code": ("SCHEMA" if entry.meta["technical"] else "NOTICE_RULES") if failed else None,
            "status_updated_at": _stamp(entry.publish_at if published else entry.first_received_at),
            "no_doc_ext": entry.key,
            "ref_submission_id": entry.meta["ref_submission_id"],
            "publication_info": None,
            "technical_validation_report": {
                "valid": not entry.meta["technical"],
                "errors": entry.meta["technical"],
            },
            "validation_rules_report": {"valid": not entry.meta["rules"], "errors": entry.meta["rules"]},
            "quality_control_report": {"valid": True, "errors": []},
        }
        if received:
            info.update(
                technical_validation_report=None, validation_rules_report=None, quality_control_report=None
            )
        if published:
            serial, year = str(entry.meta["notice_id"]).split("-")
            info["publication_info"] = {
                "no_doc_ojs": f"{year}/S 000-{serial}",
                "publication_date": _stamp(entry.publish_at),
                "truk_links": {"EN": entry.url},
                "ocids": [entry.meta["ocid"]],
            }
        return info

    def _info(self, submission: str, owner: str, with_ocids: bool) -> SandboxResponse:
        entry = self.ledger.by_remote_id(self.channel, submission)
        if entry is None or entry.meta.get("owner") != owner:  # a key sees its own submissions
            return _error(404, "Not Found", f"no submission {submission}")
        info = self._information(entry)
        if not with_ocids and info["publication_info"]:
            info["publication_info"].pop("ocids")  # v1 has no OCIDs
        return SandboxResponse.json(200, info)

    # -- the public OCDS API ------------------------------------------------------------------

    def _published(self) -> list[tuple[float, dict[str, Any]]]:
        """Every published notice as Find a Tender publishes it, oldest first."""
        found = list(self._loaded)
        for entry in self.ledger.entries(self.channel):
            if entry.status() == PUBLISHED:
                found.append((entry.publish_at, self._as_published(entry)))
        return sorted(found, key=lambda pair: (pair[0], str(pair[1].get("id"))))

    def _as_published(self, entry: Entry) -> dict[str, Any]:
        """The received release in Find a Tender's published form: its OCID, its release id,
        and the notice document pointing at the notice's page."""
        release = copy.deepcopy(entry.meta["release"])
        number, ocid, when = entry.meta["notice_id"], entry.meta["ocid"], _stamp(entry.publish_at)
        release.pop("previousNotice", None)
        release.update(ocid=ocid, id=f"{ocid}-{number}", date=when)
        document = fts_rules.notice_document(release)  # on the tender, an award or a contract
        if document is not None:
            document.update(id=number, url=entry.url, datePublished=when, format="text/html")
        return dict(release)

    def _published_notice(self, number: str) -> dict[str, Any] | None:
        return next((r for _, r in self._published() if self._number_of(r) == number), None)

    @staticmethod
    def _number_of(release: dict[str, Any]) -> str | None:
        document = fts_rules.notice_document(release) or {}
        url = str(document.get("url") or "")
        return url.rsplit(NOTICE, 1)[-1] if NOTICE in url else None

    def _package(self, releases: list[dict[str, Any]], links: dict[str, str] | None = None) -> dict[str, Any]:
        package: dict[str, Any] = {
            "uri": f"{self.config.base_url()}{self.prefix}{PACKAGES}",
            "version": "1.1",
            "publishedDate": _stamp(time.time()),
            "publisher": {"name": "Find a Tender", "uri": "https://www.find-tender.service.gov.uk"},
            "releases": releases,
        }
        if links:
            package["links"] = links
        return package

    def _packages(self, query: dict[str, str]) -> SandboxResponse:
        def after(text: str | None) -> float | None:
            if not text:
                return None
            try:
                return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
            except ValueError:
                return None

        since, until = after(query.get("updatedFrom")), after(query.get("updatedTo"))
        stages = {s for s in (query.get("stages") or "").split(",") if s}
        try:
            limit = min(MAX_PAGE, max(1, int(query.get("limit") or MAX_PAGE)))
            offset = int(query.get("cursor") or 0)
        except ValueError:
            return _error(400, "Bad Request", "limit and cursor must be numbers")
        chosen = [
            release
            for at, release in self._published()
            if (since is None or at >= since)
            and (until is None or at <= until)
            and (not stages or any(_stage(tag) in stages for tag in release.get("tag") or []))
        ]
        page = chosen[offset : offset + limit]
        links = None
        if offset + limit < len(chosen):
            following = {**query, "cursor": str(offset + limit)}
            links = {"next": f"{self.config.base_url()}{self.prefix}{PACKAGES}?{urlencode(following)}"}
        return SandboxResponse.json(200, self._package(page, links))

    def _by_id(self, wanted: str) -> SandboxResponse:
        found = [
            release
            for _, release in self._published()
            if release.get("ocid") == wanted or self._number_of(release) == wanted
        ]
        if not found:
            return _error(404, "Not Found", f"no published notice or procurement {wanted}")
        return SandboxResponse.json(200, self._package(found))

    def _load(self, body: bytes) -> SandboxResponse:
        """Load notices published by someone else (a buyer's own e-tendering tool)."""
        try:
            given = json.loads(body or b"null")
        except ValueError:
            return SandboxResponse.json(400, {"error": "send a release, a list of releases or a package"})
        releases = given.get("releases") if isinstance(given, dict) and "releases" in given else given
        releases = releases if isinstance(releases, list) else [releases]
        loaded = []
        for release in releases:
            problems = fts_rules.schema_errors(self._validator, release)
            if problems or not isinstance(release, dict) or fts_rules.notice_document(release) is None:
                shown = problems or [fts_rules.problem("tender/documents", "a notice document is required")]
                return SandboxResponse.json(400, {"error": "not a published notice", "problems": shown})
            with self._lock:
                number = self._number_of(release) or self._next_number()
                document = fts_rules.notice_document(release) or {}
                document.setdefault("url", f"{self.config.base_url()}{self.prefix}{NOTICE}{quote(number)}")
                self._loaded.append((time.time(), release))
            loaded.append(
                {
                    "ocid": release.get("ocid"),
                    "id": release.get("id"),
                    "notice_id": number,
                    "url": document["url"],
                }
            )
        return SandboxResponse.json(201, {"loaded": loaded})


def _stage(tag: str) -> str:
    """The stage a release tag belongs to (tenderUpdate -> tender)."""
    return next((stage for prefix, stage in STAGES.items() if tag.startswith(prefix)), tag)
