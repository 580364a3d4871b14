"""A local stand-in for Source East Midlands' OCDS release API
(docs/channels/source-east-midlands.md): `X-API-Key` auth, every package validated against the
vendored OCDS 1.1.5 schemas, exactly one release per package, one notice per release id,
pending until the channel's publication delay has passed, then published at a public URL this
simulator serves.

    POST /ocds/releases                 202 {"id", "status": "pending"} | 200 (seen before)
                                        | 400 / 422 {"errors": [{"path", "message"}]}
    GET  /ocds/releases/{id}            200 {"id", "status", "url"?, "reason"?}
    GET  /ocds/public/releases/{id}     the published release package (no key; 404 before)
    GET  /ocds/public/records/{ocid}    the tender as the public sees it: its status (cancelled
                                        once a cancellation is published) and its releases

What the portal makes of a release, from the release alone (as the real one would):

    tag  tender ............................... a contract notice (opens a contracting process)
         tenderAmendment, tenderUpdate ........ a change notice     } of an ocid it holds, with a
         tenderCancellation ................... a cancellation      } tender.amendments[] entry
                                                                     for this release, amending
                                                                     a release it holds
         award ................................ an award notice: awards[] (of an ocid it holds)
         contract ............................. contract details: contracts[] whose awardID is
                                                an award of a held award release of that ocid
    id   {ocid}-v{version}-... ................ the tender version the release carries

It reads the schema files by path and never imports `channels/`: it plays the remote portal.
"""

from __future__ import annotations

import hmac
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import PUBLISHED, REJECTED, Entry, Ledger

SCHEMAS = Path(__file__).resolve().parents[2] / "channels" / "schemas" / "ocds-1.1.5"
API = "/ocds/releases"
PUBLIC = "/ocds/public/releases/"
RECORDS = "/ocds/public/records/"
# The release tags the portal takes, and the notice each one is.
NOTICES = {
    "tender": "contract",
    "tenderAmendment": "change",
    "tenderUpdate": "change",
    "tenderCancellation": "cancellation",
    "award": "award",
    "contract": "contract-details",
}
ONE_RELEASE = "send exactly one release, tagged " + ", ".join(f'"{t}"' for t in NOTICES) + ", per request"
STATUS = {PUBLISHED: "published", REJECTED: "rejected"}  # anything else is "pending"
MAX_ERRORS = 20
# RFC 3339 section 5.6 date-time; the value is then checked for real dates and times.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _format_checker() -> FormatChecker:
    """date-time and uri checks without jsonschema's optional extras, so results never
    depend on what else happens to be installed."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.fullmatch(value):
            raise ValueError("not an RFC 3339 date-time with a UTC offset")
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not urlsplit(value).scheme or any(c.isspace() for c in value):
            raise ValueError("not an absolute URI")
        return True

    return checker


def package_validator() -> Draft4Validator:
    """The OCDS 1.1.5 release package validator; the package schema's reference to the
    release schema's canonical URL resolves to the vendored file, never the network."""
    release = json.loads((SCHEMAS / "release-schema.json").read_text("utf-8"))
    package = json.loads((SCHEMAS / "release-package-schema.json").read_text("utf-8"))
    resource = Resource.from_contents(release, default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(release["id"], resource)
    return Draft4Validator(package, registry=registry, format_checker=_format_checker())


def _where(error: ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path)


def schema_errors(validator: Draft4Validator, document: Any) -> list[dict[str, str]]:
    """Every way `document` breaks the validator's schema, in document order."""
    found = sorted(
        validator.iter_errors(document),
        key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.absolute_path],
    )
    return [{"path": _where(e), "message": e.message[:500]} for e in found]


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def errors(status: int, problems: list[dict[str, str]]) -> SandboxResponse:
    """The portal's refusal: `{"errors": [{"path", "message"}]}`."""
    return SandboxResponse.json(status, {"errors": problems[:MAX_ERRORS]})


class SemSimulator(Simulator):
    """Source East Midlands' OCDS release API."""

    channel = "source-east-midlands"
    prefix = "/sem"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        super().__init__(config, ledger)
        # built once, at start: a broken schema copy fails the sandbox's start, not a request
        self._validator = package_validator()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Route one request."""
        if request.method == "GET" and request.path.startswith(PUBLIC):
            return self._public(unquote(request.path[len(PUBLIC) :]))
        if request.method == "GET" and request.path.startswith(RECORDS):
            return self._record(unquote(request.path[len(RECORDS) :]))
        key = (request.header("X-API-Key") or "").encode()
        if not hmac.compare_digest(key, self.config.sem_api_key.encode()):
            return errors(401, [{"path": "", "message": "a valid X-API-Key header is required"}])
        if request.path == API and request.method == "POST":
            return self._receive(request.body)
        if request.path.startswith(API + "/") and request.method == "GET":
            return self._status(unquote(request.path[len(API) + 1 :]))
        return errors(404, [{"path": "", "message": f"no endpoint {request.method} {request.path}"}])

    def reject(self, request: SandboxRequest, reason: str) -> SandboxResponse:
        """Refuse with a 422 and the portal's error list."""
        return errors(422, [{"path": "", "message": reason}])

    def refuse_credentials(self, request: SandboxRequest, status: int) -> SandboxResponse:
        """The portal's error list: a refused API key (401) or a key without publishing rights (403)."""
        message = {
            401: "a valid X-API-Key header is required (injected fault)",
            403: "this API key may not publish releases (injected fault)",
        }[status]
        return errors(status, [{"path": "", "message": message}])

    def _receive(self, body: bytes) -> SandboxResponse:
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return errors(400, [{"path": "", "message": f"the body is not UTF-8 JSON: {exc}"}])
        problems = schema_errors(self._validator, document)
        if problems:
            return errors(422, problems)
        releases = document["releases"]
        if len(releases) != 1 or len(releases[0]["tag"]) != 1 or releases[0]["tag"][0] not in NOTICES:
            return errors(422, [{"path": "releases", "message": ONE_RELEASE}])
        release = releases[0]
        version = _version(release)
        if version is None:
            form = f"a release id is {release['ocid']}-v<tender version>-...: the version is read there"
            return errors(422, [_problem("releases/0/id", form)])
        with self._lock:  # one step, so a racing twin is a repeat, never checked against its double
            known = self.ledger.find(self.channel, release["id"])
            if known is not None:
                self.ledger.repeat(known)
                return SandboxResponse.json(200, self._state(known))
            problem = self._refers_to_what_it_holds(release, version)
            if problem is not None:
                return errors(422, [problem])
            now = time.time()
            remote_id = f"SEM-{next(self._numbers):06d}"
            tender = release.get("tender") or {}
            amends = _amendment(release)
            entry, new = self.ledger.add(
                Entry(
                    channel=self.channel,
                    key=release["id"],
                    remote_id=remote_id,
                    tender_reference=str(tender["id"]) if "id" in tender else None,
                    body=body,
                    extension="json",
                    first_received_at=now,
                    publish_at=now + self.config.delay(self.channel),
                    url=f"{self.config.base_url()}{self.prefix}{PUBLIC}{quote(remote_id, safe='')}",
                    meta={
                        "ocid": release["ocid"],
                        "tag": release["tag"][0],
                        "amends": amends[1].get("amendsReleaseID") if amends else None,
                    },
                    notice=NOTICES[release["tag"][0]],
                    version=version,
                )
            )
        if not new:  # cannot happen under the lock; answered as a repeat all the same
            return SandboxResponse.json(200, self._state(entry))
        return SandboxResponse.json(202, self._state(entry), Location=f"{self.prefix}{API}/{remote_id}")

    def _held(self, ocid: str) -> dict[str, Entry]:
        """The releases of `ocid` the portal holds (received, not refused), by release id."""
        entries = self.ledger.entries(self.channel)
        return {e.key: e for e in entries if e.meta.get("ocid") == ocid and e.rejected is None}

    def _refers_to_what_it_holds(self, release: dict[str, Any], version: int) -> dict[str, str] | None:
        """Why the portal cannot take this release into the process it names, or None."""
        ocid, tag = release["ocid"], release["tag"][0]
        held = self._held(ocid)
        if any(e.notice == "cancellation" for e in held.values()):
            return _problem("releases/0/ocid", f"{ocid} is cancelled: it takes no further release")
        if tag == "tender":
            return None
        if not held:
            return _problem("releases/0/ocid", f"no release of {ocid} is held: send its tender first")
        if tag in ("award", "contract"):
            return _awarding(release, tag, held)
        found = _amendment(release)
        if found is None:
            wanted = f"a tender.amendments entry whose releaseID is {release['id']}"
            return _problem("releases/0/tender/amendments", f"a {tag} release needs {wanted}")
        index, entry = found
        amended = held.get(str(entry.get("amendsReleaseID")))
        if amended is None:
            return _problem(
                f"releases/0/tender/amendments/{index}/amendsReleaseID",
                f"no release {entry.get('amendsReleaseID')} of {ocid} is held: it cannot be amended",
            )
        cancelling = tag == "tenderCancellation"
        if cancelling and (release.get("tender") or {}).get("status") != "cancelled":
            return _problem("releases/0/tender/status", 'a tenderCancellation release has status "cancelled"')
        # A change carries a newer version than the release it amends; a cancellation the same or newer.
        before = amended.version or 0
        if version < before or (version == before and not cancelling):
            message = f"version {version} does not follow version {before} of the release it amends"
            return _problem("releases/0/id", message)
        return None

    def _state(self, entry: Entry) -> dict[str, Any]:
        status = STATUS.get(entry.status(), "pending")
        state: dict[str, Any] = {
            "id": entry.remote_id,
            "releaseId": entry.key,
            "ocid": entry.meta.get("ocid"),
            "status": status,
            "receivedAt": _stamp(entry.first_received_at),
        }
        if status == "published":
            state.update(publishedAt=_stamp(entry.publish_at), url=entry.url)
        if status == "rejected":
            state["reason"] = entry.rejected or "rejected"
        return state

    def _status(self, remote_id: str) -> SandboxResponse:
        entry = self.ledger.by_remote_id(self.channel, remote_id)
        if entry is None:
            return errors(404, [{"path": "", "message": f"no release {remote_id}"}])
        return SandboxResponse.json(200, self._state(entry))

    def _record(self, ocid: str) -> SandboxResponse:
        """The tender as the public sees it: its published releases, and its status from the
        latest of them (a published cancellation shows the tender cancelled)."""
        published = sorted(
            (e for e in self._held(ocid).values() if e.status() == PUBLISHED), key=lambda e: e.publish_at
        )
        if not published:
            return errors(404, [{"path": "", "message": f"no published release of {ocid}"}])
        latest = json.loads(published[-1].body)["releases"][0]
        releases = [
            {
                "id": e.remote_id,
                "releaseId": e.key,
                "tag": e.meta.get("tag"),
                "version": e.version,
                "publishedAt": _stamp(e.publish_at),
                "url": e.url,
            }
            for e in published
        ]
        return SandboxResponse.json(
            200, {"ocid": ocid, "status": latest["tender"].get("status"), "releases": releases}
        )

    def _public(self, remote_id: str) -> SandboxResponse:
        entry = self.ledger.by_remote_id(self.channel, remote_id)
        if entry is None or entry.status() != PUBLISHED:
            return errors(404, [{"path": "", "message": f"no published release {remote_id}"}])
        return SandboxResponse(200, entry.body, "application/json; charset=utf-8")


def _problem(path: str, message: str) -> dict[str, str]:
    return {"path": path, "message": message}


def _awarding(release: dict[str, Any], tag: str, held: dict[str, Entry]) -> dict[str, str] | None:
    """Why an award or contract release cannot be taken: an award release lists its awards; a
    contract release lists contracts, each naming (`awardID`) an award of an award release the
    portal holds for the same ocid."""
    if tag == "award":
        if not release.get("awards"):
            return _problem("releases/0/awards", "an award release lists one or more awards")
        return None
    listed = release.get("contracts") or []
    if not listed:
        return _problem("releases/0/contracts", "a contract release lists one or more contracts")
    awarded = {
        str(a.get("id"))
        for e in held.values()
        if e.notice == "award"
        for a in json.loads(e.body)["releases"][0].get("awards") or []
        if isinstance(a, dict)
    }
    for index, contract in enumerate(listed):
        if str(contract.get("awardID")) not in awarded:
            return _problem(
                f"releases/0/contracts/{index}/awardID",
                f"no award {contract.get('awardID')} of {release['ocid']} is held: send the award first",
            )
    return None


def _version(release: dict[str, Any]) -> int | None:
    """The tender version a release carries, from its id `{ocid}-v{version}-...`."""
    found = re.match(r"-v([1-9][0-9]{0,5})-", release["id"][len(release["ocid"]) :])
    return int(found.group(1)) if found and release["id"].startswith(release["ocid"]) else None


def _amendment(release: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The tender.amendments entry about this release (its releaseID), with its index."""
    listed = (release.get("tender") or {}).get("amendments") or []
    return next(
        ((i, a) for i, a in enumerate(listed) if isinstance(a, dict) and a.get("releaseID") == release["id"]),
        None,
    )
