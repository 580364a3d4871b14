"""A local stand-in for Crystal, EMSCU's e-tendering system (docs/channels/crystal.md).

    POST /crystal/api/v1/opportunities     Bearer token, Idempotency-Key, opportunity-1 JSON
         201 {"id": "CRY-000001", "url", "status": "live"}   first time a key is seen
         200 the same document                              the key again (nothing new published)
         400 no Idempotency-Key / not JSON, 401 bad token, 415 not JSON, 422 schema errors
    GET  /crystal/opportunities/{id}        public: the published opportunity as JSON

Crystal publishes synchronously, so an accepted opportunity is live at once. A refused one
(400/422) is not remembered: a corrected re-send with the same key is a first send. The body
is checked against the project's own schema file, read by path: this module stands in for a
remote system and never imports the adapter in `channels/`.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import Entry, Ledger

SCHEMAS = Path(__file__).resolve().parents[2] / "channels" / "schemas"
SCHEMA_PATH = SCHEMAS / "crystal" / "opportunity-1.schema.json"
OPPORTUNITIES = "/api/v1/opportunities"
PUBLIC = "/opportunities/"


def _errors(status: int, *problems: tuple[str, str], **headers: str) -> SandboxResponse:
    """Crystal's error document: `{"errors": [{"field", "message"}]}`."""
    return SandboxResponse.json(
        status, {"errors": [{"field": f, "message": m} for f, m in problems]}, **headers
    )


def _field(error: ValidationError) -> str:
    """A JSON path such as `lots[0].title`, or `(body)` for the document itself."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


class CrystalSimulator(Simulator):
    """Crystal's opportunities API: authenticated, schema-validated, de-duplicated by key."""

    channel = "crystal"
    prefix = "/crystal"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        super().__init__(config, ledger)
        schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
        Draft202012Validator.check_schema(schema)
        self._validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        self._lock = threading.Lock()  # key lookup, numbering and storing happen as one step
        self._issued = 0

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Route one request to Crystal's API."""
        if request.path == OPPORTUNITIES:
            if request.method != "POST":
                return _errors(405, ("(method)", f"{request.method} is not allowed"), Allow="POST")
            return self._create(request)
        if request.path.startswith(PUBLIC) and request.method == "GET":
            return self._show(request.path.removeprefix(PUBLIC))
        return _errors(404, ("(path)", f"no resource at {request.path}"))

    def reject(self, request: SandboxRequest, reason: str) -> SandboxResponse:
        """A 422 in Crystal's error format (the `reject-422` fault)."""
        return _errors(422, ("(body)", reason))

    def refuse_credentials(self, request: SandboxRequest, status: int) -> SandboxResponse:
        """Crystal's 401 for a bad token, or 403 for a token without the publish permission."""
        if status == 401:
            return _errors(
                401,
                ("Authorization", "a valid bearer token is required (injected fault)"),
                **{"WWW-Authenticate": 'Bearer realm="crystal"'},
            )
        return _errors(403, ("Authorization", "this token may not publish opportunities (injected fault)"))

    def problems(self, document: Any) -> list[tuple[str, str]]:
        """Every schema violation as (field, message), in a stable order."""
        found = [(_field(e), e.message) for e in self._validator.iter_errors(document)]
        return sorted(found)

    def _authorised(self, request: SandboxRequest) -> bool:
        expected = f"Bearer {self.config.crystal_token}".encode()
        given = (request.header("Authorization") or "").encode()
        return hmac.compare_digest(given, expected)

    def _create(self, request: SandboxRequest) -> SandboxResponse:
        if not self._authorised(request):
            return _errors(
                401,
                ("Authorization", "a valid bearer token is required"),
                **{"WWW-Authenticate": 'Bearer realm="crystal"'},
            )
        key = (request.header("Idempotency-Key") or "").strip()
        if not key or len(key) > 255:
            return _errors(400, ("Idempotency-Key", "is required (1 to 255 characters)"))
        if "application/json" not in (request.header("Content-Type") or ""):
            return _errors(415, ("Content-Type", "must be application/json"))
        try:
            document = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return _errors(400, ("(body)", f"is not UTF-8 JSON: {exc}"))
        with self._lock:
            existing = self.ledger.find(self.channel, key)
            if existing is not None:
                self.ledger.repeat(existing)
                return self._created(200, existing)
            problems = self.problems(document)
            if problems:
                return _errors(422, *problems)
            self._issued += 1
            remote_id = f"CRY-{self._issued:06d}"
            now = time.time()
            entry = Entry(
                channel=self.channel,
                key=key,
                remote_id=remote_id,
                tender_reference=document["reference"],
                body=request.body,
                extension="json",
                first_received_at=now,
                publish_at=now,  # Crystal publishes synchronously: live in the same request
                url=f"{self.config.base_url()}{self.prefix}{PUBLIC}{remote_id}",
                meta={"buyer": document["buyer"]["id"], "idempotency_key": key},
            )
            self.ledger.add(entry)
        return self._created(201, entry, Location=entry.url or "")

    def _created(self, status: int, entry: Entry, **headers: str) -> SandboxResponse:
        return SandboxResponse.json(
            status, {"id": entry.remote_id, "url": entry.url, "status": "live"}, **headers
        )

    def _show(self, remote_id: str) -> SandboxResponse:
        entry = self.ledger.by_remote_id(self.channel, remote_id)
        if entry is None:
            return _errors(404, ("id", f"no opportunity {remote_id}"))
        return SandboxResponse(200, entry.body, "application/json; charset=utf-8")
