"""What the Find a Tender simulator checks in a received notice: the UK OCDS profile schema
(read by path from `channels/schemas/ocds-uk/`, never imported from the adapter), then the
rules of a UK4 tender notice, a revised UK4 and a UK12 procurement termination notice that a
schema cannot express (UK-NOTICES.md sections 1 and 9).

    tag                  notice        tender.status          previous notice
    tender               UK4           active                 none
    tenderUpdate         revised UK4   active                 held, same procurement, before
                                                              its submission deadline
    tenderCancellation   UK12          cancelled | withdrawn  held, same procurement
    award                UK6           complete | unsuccessful held, same procurement, not
                                                              terminated
    contract             UK7           complete               held, same procurement, not
                                                              terminated

A UK6 gives every lot's award: an awarded one names suppliers that are parties with the role
supplier, its value (net and gross) and contract period, and its standstill's end. A UK7 gives
each signed contract with the award it follows (`awardID`) and the day it was signed, not
before that award's standstill ended.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from syndicator.sandbox.sem import _format_checker, schema_errors

__all__ = [
    "check",
    "notice_document",
    "problem",
    "release_validator",
    "schema_errors",
    "tag_of",
    "version_of",
]

SCHEMA = Path(__file__).resolve().parents[2] / "channels" / "schemas" / "ocds-uk" / "release-schema.json"
NOTICES = {
    "tender": "UK4",
    "tenderUpdate": "UK4",
    "tenderCancellation": "UK12",
    "award": "UK6",
    "contract": "UK7",
}
KINDS = {
    "tender": "contract",
    "tenderUpdate": "change",
    "tenderCancellation": "cancellation",
    "award": "award",
    "contract": "contract-details",
}
STATUSES = {
    "tender": {"active"},
    "tenderUpdate": {"active"},
    "tenderCancellation": {"cancelled", "withdrawn"},
    "award": {"complete", "unsuccessful"},
    "contract": {"complete"},
}
FOLLOW_UPS = ("tenderUpdate", "tenderCancellation", "award", "contract")
LEGAL_BASES = ({"scheme": "UKPGA", "id": "2023/54"}, {"scheme": "UKSI", "id": "2015/102"})
AUTHORITY_TYPES = {
    "publicAuthorityCentralGovernment",
    "publicAuthoritySubCentralGovernment",
    "publicUndertaking",
    "privateUtility",
    "other",
}
VERSION = re.compile(r"-v(\d+)$")  # the notice document's id carries the tender version


def release_validator() -> Draft4Validator:
    """The UK profile's release schema (built once, at the sandbox's start)."""
    schema = json.loads(SCHEMA.read_text("utf-8"))
    return Draft4Validator(schema, format_checker=_format_checker())


def problem(path: str, message: str) -> dict[str, str]:
    """One entry of a validation report."""
    return {"path": path, "message": message}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def notice_document(release: dict[str, Any]) -> dict[str, Any] | None:
    """The document that says which notice this is (the one with a `noticeType`): on the tender
    for a UK4 or UK12, on the awards for a UK6, on the contracts for a UK7."""
    documents = list(_mapping(release.get("tender")).get("documents") or [])
    for section in ("awards", "contracts"):
        for entry in release.get(section) or []:
            documents += _mapping(entry).get("documents") or []
    return next((d for d in documents if isinstance(d, dict) and d.get("noticeType")), None)


def tag_of(release: dict[str, Any]) -> str | None:
    """The one notice tag the release carries, if exactly one."""
    tags = [t for t in release.get("tag") or [] if t in NOTICES]
    return tags[0] if len(tags) == 1 else None


def version_of(release: dict[str, Any]) -> int | None:
    """The tender version the notice carries (from its notice document's id), if stated."""
    document = notice_document(release) or {}
    found = VERSION.search(str(document.get("id") or ""))
    return int(found.group(1)) if found else None


def _when(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _buyer(release: dict[str, Any]) -> list[dict[str, str]]:
    buyer_id = _mapping(release.get("buyer")).get("id")
    party = next(
        (p for p in release.get("parties") or [] if isinstance(p, dict) and p.get("id") == buyer_id), None
    )
    if party is None or "buyer" not in (party.get("roles") or []):
        return [problem("buyer", "the buyer must be one of the parties, with the role buyer")]
    found = []
    if _mapping(party.get("identifier")).get("scheme") != "GB-PPON":
        found.append(problem("parties/identifier", "the buyer is identified by its PPON (scheme GB-PPON)"))
    classes = _mapping(party.get("details")).get("classifications") or []
    types = [c.get("id") for c in classes if isinstance(c, dict) and c.get("scheme") == "UK_CA_TYPE"]
    if len(types) != 1 or types[0] not in AUTHORITY_TYPES:
        found.append(problem("parties/details/classifications", "one UK_CA_TYPE classification is required"))
    return found


def notice_rules(release: dict[str, Any], now: datetime) -> list[dict[str, str]]:
    """The rules of the notice type, for a release that passed the schema."""
    tag = tag_of(release)
    if tag is None:
        return [problem("tag", f"exactly one of {', '.join(NOTICES)} is required")]
    tender = _mapping(release.get("tender"))
    found = _buyer(release)
    document = notice_document(release)
    if document is None or document.get("noticeType") != NOTICES[tag]:
        found.append(problem("tender/documents", f"a {tag} release is a {NOTICES[tag]} notice (noticeType)"))
    for name in ("id", "title", "description"):
        if not tender.get(name):
            found.append(problem(f"tender/{name}", "is required"))
    if tender.get("status") not in STATUSES[tag]:
        found.append(problem("tender/status", f"must be one of {sorted(STATUSES[tag])} for {tag}"))
    if tender.get("legalBasis") not in LEGAL_BASES:
        found.append(problem("tender/legalBasis", "must be UKPGA 2023/54 or UKSI 2015/102"))
    if not isinstance(tender.get("aboveThreshold"), bool):
        found.append(problem("tender/aboveThreshold", "must say whether the procurement is above threshold"))
    money = _mapping(tender.get("value"))
    net, gross = money.get("amount"), money.get("amountGross")
    if not isinstance(net, int | float) or not isinstance(gross, int | float) or gross < net:
        found.append(
            problem("tender/value", "amount (net) and amountGross (with VAT, not less) are required")
        )
    if money.get("currency") != "GBP":
        found.append(problem("tender/value/currency", "must be GBP"))
    items = tender.get("items") or []
    if not any(_mapping(_mapping(i).get("classification")).get("scheme") == "CPV" for i in items):
        found.append(problem("tender/items", "at least one item classified with a CPV code"))
    if tag == "award":
        found += award_rules(release)
    elif tag == "contract":
        found += contract_rules(release)
    elif tag != "tenderCancellation":
        deadline = _when(_mapping(tender.get("tenderPeriod")).get("endDate"))
        if deadline is None:
            found.append(problem("tender/tenderPeriod/endDate", "the submission deadline is required"))
        elif deadline <= now:
            found.append(problem("tender/tenderPeriod/endDate", "the submission deadline has passed"))
        if not tender.get("submissionMethod"):
            found.append(problem("tender/submissionMethod", "is required"))
    return found


def _money(value: Any, path: str) -> list[dict[str, str]]:
    money = _mapping(value)
    net, gross = money.get("amount"), money.get("amountGross")
    if not isinstance(net, int | float) or not isinstance(gross, int | float) or gross < net:
        return [problem(path, "amount (net) and amountGross (with VAT, not less) are required")]
    return [] if money.get("currency") == "GBP" else [problem(f"{path}/currency", "must be GBP")]


def award_rules(release: dict[str, Any]) -> list[dict[str, str]]:
    """A UK6: every award with its outcome; awarded ones with suppliers, value, period and the
    standstill's end."""
    awards = [_mapping(a) for a in release.get("awards") or []]
    if not awards:
        return [problem("awards", "a UK6 gives the outcome of every lot")]
    suppliers = {
        _mapping(p).get("id")
        for p in release.get("parties") or []
        if "supplier" in (_mapping(p).get("roles") or [])
    }
    found = []
    for n, entry in enumerate(awards):
        where = f"awards/{n}"
        if entry.get("status") not in ("pending", "active", "unsuccessful"):
            found.append(problem(f"{where}/status", "must be pending, active or unsuccessful"))
            continue
        if entry.get("status") == "unsuccessful":
            if not entry.get("description"):
                found.append(problem(f"{where}/description", "a lot not awarded says why"))
            continue
        named = [_mapping(s).get("id") for s in entry.get("suppliers") or []]
        if not named or not set(named) <= suppliers:
            found.append(problem(f"{where}/suppliers", "suppliers must be parties with the role supplier"))
        found += _money(entry.get("value"), f"{where}/value")
        if not _when(_mapping(entry.get("contractPeriod")).get("startDate")):
            found.append(problem(f"{where}/contractPeriod", "the contract period is required"))
        pending = entry.get("status") == "pending"  # a PA2023 UK6, before the contract
        if pending and not _when(_mapping(entry.get("standstillPeriod")).get("endDate")):
            found.append(problem(f"{where}/standstillPeriod/endDate", "the standstill's end is required"))
    return found


def contract_rules(release: dict[str, Any]) -> list[dict[str, str]]:
    """A UK7: each signed contract with its award, not signed before the standstill ended."""
    contracts = [_mapping(c) for c in release.get("contracts") or []]
    if not contracts:
        return [problem("contracts", "a UK7 gives the signed contract")]
    awards = {_mapping(a).get("id"): _mapping(a) for a in release.get("awards") or []}
    found = []
    for n, entry in enumerate(contracts):
        where = f"contracts/{n}"
        if entry.get("awardID") not in awards:
            found.append(problem(f"{where}/awardID", "must name an award of this release"))
        signed = _when(entry.get("dateSigned"))
        if signed is None:
            found.append(problem(f"{where}/dateSigned", "the day the contract was signed is required"))
        found += _money(entry.get("value"), f"{where}/value")
    return found


def signed_after_standstill(release: dict[str, Any], award: dict[str, Any]) -> list[dict[str, str]]:
    """A UK7's contracts are signed after the standstill its UK6 stated (PA2023 s.51)."""
    ends = {
        _mapping(a).get("id"): _when(_mapping(_mapping(a).get("standstillPeriod")).get("endDate"))
        for a in award.get("awards") or []
    }
    found = []
    for n, entry in enumerate(release.get("contracts") or []):
        signed, standstill = (
            _when(_mapping(entry).get("dateSigned")),
            ends.get(_mapping(entry).get("awardID")),
        )
        if signed is not None and standstill is not None and signed <= standstill:
            found.append(
                problem(
                    f"contracts/{n}/dateSigned", f"signed before the standstill ended ({standstill:%Y-%m-%d})"
                )
            )
    return found


def follow_up_rules(
    release: dict[str, Any], previous: dict[str, Any] | None, now: datetime
) -> list[dict[str, str]]:
    """A revised UK4, a UK12, a UK6 or a UK7 names a published notice this service holds, of the
    same procurement; a UK4 is not revised after that notice's submission deadline."""
    tag = tag_of(release)
    if tag not in FOLLOW_UPS:
        return []
    named = _mapping(release.get("previousNotice")).get("id")
    if previous is None:
        return [problem("previousNotice/id", f"no published notice {named!r} is held")]
    found = []
    if _mapping(previous.get("tender")).get("id") != _mapping(release.get("tender")).get("id"):
        found.append(problem("previousNotice/id", f"notice {named} is about another procurement"))
    if _mapping(previous.get("buyer")).get("id") != _mapping(release.get("buyer")).get("id"):
        found.append(problem("previousNotice/id", f"notice {named} belongs to another buyer"))
    if tag_of(previous) == "tenderCancellation":
        found.append(problem("previousNotice/id", f"notice {named} terminated the procurement already"))
    if tag == "contract" and tag_of(previous) == "award":
        found += signed_after_standstill(release, previous)
    deadline = _when(_mapping(_mapping(previous.get("tender")).get("tenderPeriod")).get("endDate"))
    if tag == "tenderUpdate" and deadline is not None and now >= deadline:
        found.append(
            problem("previousNotice/id", f"a UK4 cannot be edited after its submission deadline ({deadline})")
        )
    return found


def check(
    validator: Draft4Validator, release: Any, previous: dict[str, Any] | None, now: datetime
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(schema problems, notice rule problems) of a received release."""
    technical = schema_errors(validator, release)
    if technical or not isinstance(release, dict):
        return technical or [problem("", "the notice is not an OCDS release")], []
    return [], notice_rules(release, now) + follow_up_rules(release, previous, now)
