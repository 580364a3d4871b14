"""A local stand-in for Source East Midlands' OCDS release API
(docs/channels/source-east-midlands.md): `X-API-Key` auth, every package validated against the
vendored OCDS 1.1.5 schemas, exactly one release tagged "tender", one notice per release id,
pending until the channel's publication delay has passed, then published at a public URL this
simulator serves.

    POST /ocds/releases                 202 {"id", "status": "pending"} | 200 (seen before)
                                        | 400 / 422 {"errors": [{"path", "message"}]}
    GET  /ocds/releases/{id}            200 {"id", "status", "url"?, "reason"?}
    GET  /ocds/public/releases/{id}     the published release package (no key; 404 before)

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
        if len(releases) != 1 or "tender" not in releases[0]["tag"]:
            return errors(
                422,
                [
                    {
                        "path": "releases",
                        "message": 'send exactly one release, tagged "tender", per request',
                    }
                ],
            )
        release = releases[0]
        known = self.ledger.find(self.channel, release["id"])
        if known is not None:
            self.ledger.repeat(known)
            return SandboxResponse.json(200, self._state(known))
        now = time.time()
        with self._lock:
            remote_id = f"SEM-{next(self._numbers):06d}"
        tender = release.get("tender") or {}
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
                meta={"ocid": release["ocid"]},
            )
        )
        if not new:  # a concurrent twin got there first; add() counted this receipt
            return SandboxResponse.json(200, self._state(entry))
        return SandboxResponse.json(202, self._state(entry), Location=f"{self.prefix}{API}/{remote_id}")

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

    def _public(self, remote_id: str) -> SandboxResponse:
        entry = self.ledger.by_remote_id(self.channel, remote_id)
        if entry is None or entry.status() != PUBLISHED:
            return errors(404, [{"path": "", "message": f"no published release {remote_id}"}])
        return SandboxResponse(200, entry.body, "application/json; charset=utf-8")
