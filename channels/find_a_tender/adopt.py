"""Adopt mode: find the notice a buyer's own e-tendering tool published on Find a Tender,
instead of publishing a second one (UK-NOTICES.md section 9, "Risk: double publication").

    GET {public}/api/1.0/ocdsReleasePackages?updatedFrom=&stages=tender&limit=100&cursor=
      releases whose tender.id is the tender's reference, whose buyer carries one of the
      buyer's identifiers (its PPON and older ones such as GB-FTS-...), tagged as the notice
      kind is published (UK4: tender; revised UK4: tenderUpdate/tenderAmendment; UK12:
      tenderCancellation), with a notice document (noticeType) whose URL gives the notice id

What to look for travels as a `Lookup`, written into the receipt's remote id (at most 200
characters, the column's size) as `adopt?r=<reference>&k=<kind>&n=<seen>&t=<since>&b=<id>...`,
because a status check is handed only the remote id and URL the engine stored. `n` counts the
notices of that kind this destination already carries: the look-up adopts the next one (the
second revision of a UK4 after the first), so earlier ones are never adopted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from channels.find_a_tender.submission import moment, notice_id
from syndicator.domain.notices import NoticeKind

PREFIX = "adopt?"
MAX_TOKEN = 200  # DeliveryRow.remote_id
STAMP = "%Y%m%dT%H%M%SZ"
PUBLISHED_TAGS = {
    NoticeKind.CONTRACT: frozenset({"tender"}),
    NoticeKind.CHANGE: frozenset({"tenderUpdate", "tenderAmendment"}),
    NoticeKind.CANCELLATION: frozenset({"tenderCancellation"}),
    NoticeKind.AWARD: frozenset({"award", "awardUpdate"}),
    NoticeKind.CONTRACT_DETAILS: frozenset({"contract", "contractUpdate"}),
}
NOTICE_TYPES = {
    NoticeKind.CONTRACT: "UK4",
    NoticeKind.CHANGE: "UK4",
    NoticeKind.CANCELLATION: "UK12",
    NoticeKind.AWARD: "UK6",
    NoticeKind.CONTRACT_DETAILS: "UK7",
}


@dataclass(frozen=True)
class Lookup:
    """What adopt mode looks for, and since when."""

    reference: str
    identifiers: tuple[str, ...]  # the buyer's PPON and older identifiers, e.g. GB-FTS-135781
    kind: NoticeKind
    since: datetime  # when we started looking (the dispatch time): the deadline counts from it
    seen: int = 0  # notices of this kind the destination already carries: adopt the next one

    def token(self) -> str:
        """The remote id of a notice still being looked for; identifiers after the first (the
        PPON) are left out when the whole would not fit the remote id's column."""
        head = [("r", self.reference), ("k", self.kind.value), ("n", str(self.seen))]
        head.append(("t", self.since.astimezone(UTC).strftime(STAMP)))
        for count in range(len(self.identifiers), 0, -1):
            token = PREFIX + urlencode([*head, *(("b", i) for i in self.identifiers[:count])])
            if len(token) <= MAX_TOKEN:
                return token
        raise ValueError(f"the look-up for {self.reference!r} does not fit in {MAX_TOKEN} characters")

    @classmethod
    def parse(cls, token: str) -> Lookup | None:
        """The lookup a remote id stands for, or None when it is not one."""
        if not token.startswith(PREFIX):
            return None
        fields = parse_qs(token.removeprefix(PREFIX), keep_blank_values=True)
        first = {name: values[0] for name, values in fields.items()}
        try:
            kind = NoticeKind(first.get("k", ""))
            since = datetime.strptime(first.get("t", ""), STAMP).replace(tzinfo=UTC)
            seen = int(first.get("n", "0"))
        except ValueError:
            return None
        if not first.get("r") or not fields.get("b") or kind not in PUBLISHED_TAGS:
            return None
        return cls(first["r"], tuple(fields["b"]), kind, since, seen)


@dataclass(frozen=True)
class Found:
    """A published notice that is the one looked for."""

    notice_id: str
    url: str
    ocid: str
    release_id: str
    published_at: datetime | None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _identifiers(release: dict[str, Any]) -> set[str]:
    """Every identifier the release gives its buyer ('GB-PPON-...', 'GB-FTS-...')."""
    buyer = _mapping(release.get("buyer"))
    found = {str(buyer.get("id"))} if buyer.get("id") else set()
    for party in release.get("parties") or []:
        if not isinstance(party, dict):
            continue
        if party.get("id") != buyer.get("id") and "buyer" not in (party.get("roles") or []):
            continue
        found.add(str(party.get("id")))
        listed = [party.get("identifier"), *(party.get("additionalIdentifiers") or [])]
        for ident in listed:
            if isinstance(ident, dict) and ident.get("scheme") and ident.get("id"):
                found.add(f"{ident['scheme']}-{ident['id']}")
    return found


def notice_documents(release: dict[str, Any]) -> list[dict[str, Any]]:
    """The documents that may say which notice a release is: the tender's (UK4, UK12), the
    awards' (UK6) and the contracts' (UK7)."""
    found = list(_mapping(release.get("tender")).get("documents") or [])
    for section in ("awards", "contracts"):
        for entry in release.get(section) or []:
            found += _mapping(entry).get("documents") or []
    return [document for document in found if isinstance(document, dict)]


def match(release: Any, lookup: Lookup) -> Found | None:
    """The notice in `release` when it is the one looked for."""
    if not isinstance(release, dict):
        return None
    tender = _mapping(release.get("tender"))
    if tender.get("id") != lookup.reference:
        return None
    if not set(release.get("tag") or []) & PUBLISHED_TAGS[lookup.kind]:
        return None
    if not _identifiers(release) & set(lookup.identifiers):
        return None
    for document in notice_documents(release):
        if document.get("noticeType") != NOTICE_TYPES[lookup.kind]:
            continue
        number = notice_id(document.get("url"))
        if number:
            return Found(
                notice_id=number,
                url=str(document["url"]),
                ocid=str(release.get("ocid") or ""),
                release_id=str(release.get("id") or ""),
                published_at=moment(document.get("datePublished") or release.get("date")),
            )
    return None


def next_match(releases: Iterable[Any], lookup: Lookup) -> Found | None:
    """The notice looked for: in the API's order (oldest first), the first matching notice
    after the `seen` ones this destination already carries (a notice listed twice counts once)."""
    numbers: list[str] = []
    for release in releases:
        found = match(release, lookup)
        if found is None or found.notice_id in numbers:
            continue
        if len(numbers) == lookup.seen:
            return found
        numbers.append(found.notice_id)
    return None
