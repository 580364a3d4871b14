"""A local stand-in for Crystal, EMSCU's e-tendering system (docs/channels/crystal.md).

    POST /crystal/api/v1/opportunities                    a new opportunity (opportunity-1)
         201 {"id": "CRY-000001", "url", "status": "live", "version"}   first time a key is seen
    PUT  /crystal/api/v1/opportunities/{id}               a new version of it (opportunity-1 +
         200 {"id", "url", "status": "live", "version"}    amendment), live at once
    POST /crystal/api/v1/opportunities/{id}/cancellation  withdraw it (cancellation-1)
         200 {"id", "url", "status": "withdrawn", "version"}
    POST /crystal/api/v1/opportunities/{id}/award         award it (award-1), shown at once
         200 {"id", "url", "status": "awarded", "version"}
    POST /crystal/api/v1/opportunities/{id}/contracts     a contract signed (contract-1)
         200 {"id", "url", "status": "awarded", "version"}  after an award of its lots
    any of them again with a known Idempotency-Key: 200 and the first answer, nothing new
    400 no Idempotency-Key / not JSON, 401 bad token, 404 no opportunity {id}, 405 wrong method,
    415 not JSON, 422 schema errors or a business rule (see `_rules`)
    GET  /crystal/opportunities/{id}        public: the current version as JSON; 410 once withdrawn
    GET  /crystal/opportunities/{id}/award  public: {"award", "contracts"}; 404 before an award

Crystal publishes synchronously, so an accepted request takes effect at once. A refused one is
not remembered: a corrected re-send with the same key is a first send. The ledger keeps one
entry per request that took effect, its `notice` worked out from the endpoint and its
`version` read from the body, as the real system would. Bodies are checked against the
project's own schema files, read by path: this module stands in for a remote system and never
imports the adapter in `channels/`.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from syndicator.sandbox.base import SandboxRequest, SandboxResponse, Simulator
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.ledger import Entry, Ledger

SCHEMAS = Path(__file__).resolve().parents[2] / "channels" / "schemas"
SCHEMA_PATH = SCHEMAS / "crystal" / "opportunity-1.schema.json"
CANCELLATION_SCHEMA_PATH = SCHEMAS / "crystal" / "cancellation-1.schema.json"
AWARD_SCHEMA_PATH = SCHEMAS / "crystal" / "award-1.schema.json"
CONTRACT_SCHEMA_PATH = SCHEMAS / "crystal" / "contract-1.schema.json"
OPPORTUNITIES = "/api/v1/opportunities"
_ONE = re.compile(r"/api/v1/opportunities/([^/]+)(?:/(cancellation|award|contracts))?")
PUBLIC = "/opportunities/"
_AWARD_PAGE = re.compile(r"/opportunities/([^/]+)/award")
CONTRACT, CHANGE, CANCELLATION = "contract", "change", "cancellation"
AWARD, CONTRACT_DETAILS = "award", "contract-details"
# the notice each path below an opportunity carries, and the method it takes
BELOW = {
    None: (CHANGE, "PUT"),
    "cancellation": (CANCELLATION, "POST"),
    "award": (AWARD, "POST"),
    "contracts": (CONTRACT_DETAILS, "POST"),
}
OPPORTUNITY_NOTICES = (CONTRACT, CHANGE)  # the documents that are the opportunity itself
Problem = tuple[str, str]


def _errors(status: int, *problems: Problem, **headers: str) -> SandboxResponse:
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


def _validator(path: Path) -> Draft202012Validator:
    schema = json.loads(path.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


class CrystalSimulator(Simulator):
    """Crystal's opportunities API: authenticated, schema-validated, de-duplicated by key."""

    channel = "crystal"
    prefix = "/crystal"

    def __init__(self, config: SandboxConfig, ledger: Ledger) -> None:
        super().__init__(config, ledger)
        self._validator = _validator(SCHEMA_PATH)
        self._by_notice = {
            CANCELLATION: _validator(CANCELLATION_SCHEMA_PATH),
            AWARD: _validator(AWARD_SCHEMA_PATH),
            CONTRACT_DETAILS: _validator(CONTRACT_SCHEMA_PATH),
        }
        self._lock = threading.Lock()  # key lookup, checks, numbering and storing as one step
        self._issued = 0

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        """Route one request to Crystal's API."""
        if request.path == OPPORTUNITIES:
            if request.method != "POST":
                return _errors(405, ("(method)", f"{request.method} is not allowed"), Allow="POST")
            return self._receive(request, CONTRACT, None)
        one = _ONE.fullmatch(request.path)
        if one is not None:
            notice, allowed = BELOW[one[2]]
            if request.method != allowed:
                return _errors(405, ("(method)", f"{request.method} is not allowed"), Allow=allowed)
            return self._receive(request, notice, unquote(one[1]))
        award_page = _AWARD_PAGE.fullmatch(request.path)
        if award_page is not None and request.method == "GET":
            return self._show_award(unquote(award_page[1]))
        if request.path.startswith(PUBLIC) and request.method == "GET":
            return self._show(unquote(request.path.removeprefix(PUBLIC)))
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

    def problems(self, document: Any, notice: str = CONTRACT) -> list[Problem]:
        """Every schema violation as (field, message), in a stable order."""
        validator = self._by_notice.get(notice, self._validator)
        return sorted((_field(e), e.message) for e in validator.iter_errors(document))

    def _authorised(self, request: SandboxRequest) -> bool:
        expected = f"Bearer {self.config.crystal_token}".encode()
        given = (request.header("Authorization") or "").encode()
        return hmac.compare_digest(given, expected)

    def _receive(self, request: SandboxRequest, notice: str, remote_id: str | None) -> SandboxResponse:
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
        asked = f"{request.method} {request.path}"
        with self._lock:
            existing = self.ledger.find(self.channel, key)
            if existing is not None:
                if existing.meta.get("request") != asked:
                    # A key names one request; reusing it for another is a client bug.
                    return _errors(422, ("Idempotency-Key", f"was used for {existing.meta.get('request')}"))
                self.ledger.repeat(existing)
                return self._answer(200, existing)
            current = self.ledger.by_remote_id(self.channel, remote_id) if remote_id else None
            if remote_id and current is None:
                return _errors(404, ("id", f"no opportunity {remote_id}"))
            problems = self.problems(document, notice) or _rules(notice, document, current)
            if not problems and notice == CONTRACT_DETAILS and remote_id:
                problems = _contract_rules(document, self._latest(remote_id, AWARD), remote_id)
            if problems:
                return _errors(422, *problems)
            entry = self._store(notice, key, asked, document, request.body, remote_id)
        if notice == CONTRACT:
            return self._answer(201, entry, Location=entry.url or "")
        return self._answer(200, entry)

    def _store(
        self, notice: str, key: str, asked: str, document: Any, body: bytes, remote_id: str | None
    ) -> Entry:
        if remote_id is None:
            self._issued += 1
            remote_id = f"CRY-{self._issued:06d}"
        now = time.time()
        buyer = document["buyer"]
        entry = Entry(
            channel=self.channel,
            key=key,
            remote_id=remote_id,
            tender_reference=document["reference"],
            body=body,
            extension="json",
            first_received_at=now,
            publish_at=now,  # Crystal publishes synchronously: live in the same request
            url=f"{self.config.base_url()}{self.prefix}{PUBLIC}{remote_id}",
            meta={
                "buyer": buyer if isinstance(buyer, str) else buyer["id"],
                "idempotency_key": key,
                "request": asked,
            },
            notice=notice,
            version=document["version"],
        )
        self.ledger.add(entry)
        return entry

    def _answer(self, status: int, entry: Entry, **headers: str) -> SandboxResponse:
        state = {CANCELLATION: "withdrawn", AWARD: "awarded", CONTRACT_DETAILS: "awarded"}.get(
            entry.notice, "live"
        )
        answer = {"id": entry.remote_id, "url": entry.url, "status": state, "version": entry.version}
        return SandboxResponse.json(status, answer, **headers)

    def _show(self, remote_id: str) -> SandboxResponse:
        """The public page: the opportunity's current version, or 410 once it is withdrawn."""
        entry = self.ledger.by_remote_id(self.channel, remote_id)
        if entry is None:
            return _errors(404, ("id", f"no opportunity {remote_id}"))
        if entry.notice == CANCELLATION:
            withdrawal = json.loads(entry.body)
            return SandboxResponse.json(
                410,
                {
                    "id": remote_id,
                    "status": "withdrawn",
                    "reference": withdrawal["reference"],
                    "version": withdrawal["version"],
                    "reason": withdrawal["reason"],
                    "withdrawn_at": withdrawal["withdrawn_at"],
                },
            )
        if entry.notice not in OPPORTUNITY_NOTICES:  # awarded: the advert stays as it last stood
            entry = self._latest(remote_id, *OPPORTUNITY_NOTICES) or entry
        return SandboxResponse(200, entry.body, "application/json; charset=utf-8")

    def _show_award(self, remote_id: str) -> SandboxResponse:
        """The public award page: the latest award and every contract signed since, or 404."""
        award = self._latest(remote_id, AWARD)
        if award is None:
            return _errors(404, ("id", f"opportunity {remote_id} has no award"))
        contracts = [
            json.loads(e.body)
            for e in self.ledger.entries(self.channel)
            if e.remote_id == remote_id and e.notice == CONTRACT_DETAILS
        ]
        return SandboxResponse.json(200, {"award": json.loads(award.body), "contracts": contracts})

    def _latest(self, remote_id: str, *notices: str) -> Entry | None:
        """The latest request of one of `notices` that took effect on opportunity `remote_id`."""
        found = [
            e for e in self.ledger.entries(self.channel) if e.remote_id == remote_id and e.notice in notices
        ]
        return found[-1] if found else None


def _rules(notice: str, document: Any, current: Entry | None) -> list[Problem]:
    """Crystal's rules beyond the schema: a new opportunity carries no amendment, an update
    carries one and a later version, and no later notice (update, withdrawal, award, contract)
    applies to another tender or a withdrawn one."""
    amended = document.get("amendment") is not None
    if notice == CONTRACT:
        return [("amendment", "must be null on a new opportunity; amend one with PUT")] if amended else []
    assert current is not None  # the caller answered 404 otherwise
    if notice == CHANGE and not amended:
        return [("amendment", "is required when an opportunity is amended")]
    if current.notice == CANCELLATION:
        return [("id", f"opportunity {current.remote_id} was withdrawn")]
    if document["reference"] != current.tender_reference:
        return [
            (
                "reference",
                f"opportunity {current.remote_id} is {current.tender_reference}, not {document['reference']}",
            )
        ]
    if notice == CHANGE and current.version is not None and document["version"] <= current.version:
        return [
            (
                "version",
                f"opportunity {current.remote_id} is at version {current.version}; "
                "an update must carry a later one",
            )
        ]
    return []


def _contract_rules(document: Any, award: Entry | None, remote_id: str) -> list[Problem]:
    """A contract follows the award of its lot: each contract's lot was awarded."""
    if award is None:
        return [("id", f"opportunity {remote_id} has no award; award it before its contracts")]
    awarded = {lot["lot"] for lot in json.loads(award.body)["lots"] if lot["outcome"] == "awarded"}
    return [
        (f"contracts[{i}].lot", f"{'lot ' + str(c['lot']) if c['lot'] else 'the contract'} was not awarded")
        for i, c in enumerate(document["contracts"])
        if c["lot"] not in awarded
    ]
