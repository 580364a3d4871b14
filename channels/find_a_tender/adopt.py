"""Adopt mode: find the notice a buyer's own e-tendering tool published on Find a Tender,
instead of publishing a second one (UK-NOTICES.md section 9, "Risk: double publication").

    GET {public}/api/1.0/ocdsReleasePackages?updatedFrom=&stages=tender&limit=100&cursor=
      releases whose tender.id is the tender's reference, whose buyer carries one of the
      buyer's identifiers (its PPON and older ones such as GB-FTS-...), tagged as the notice
      kind is published (UK4: tender; revised UK4: tenderUpdate/tenderAmendment; UK12:
      tenderCancellation), with a notice document (noticeType) whose URL gives the notice id

What to look for travels as a `Lookup`, written into the receipt's remote id as
`adopt?reference=...&buyer=...&kind=...&since=...` because a status check is handed only the
remote id and URL the engine stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from channels.find_a_tender.submission import moment, notice_id
from channels.source_east_midlands import instant
from syndicator.domain.notices import NoticeKind

PREFIX = "adopt?"
PUBLISHED_TAGS = {
    NoticeKind.CONTRACT: frozenset({"tender"}),
    NoticeKind.CHANGE: frozenset({"tenderUpdate", "tenderAmendment"}),
    NoticeKind.CANCELLATION: frozenset({"tenderCancellation"}),
}
NOTICE_TYPES = {NoticeKind.CONTRACT: "UK4", NoticeKind.CHANGE: "UK4", NoticeKind.CANCELLATION: "UK12"}


@dataclass(frozen=True)
class Lookup:
    """What adopt mode looks for, and since when."""

    reference: str
    identifiers: tuple[str, ...]  # the buyer's PPON and older identifiers, e.g. GB-FTS-135781
    kind: NoticeKind
    since: datetime  # when we started looking (the dispatch time): the deadline counts from it
    skip: tuple[str, ...] = ()  # notice ids this destination already carries (earlier notices)

    def token(self) -> str:
        """The remote id of a notice still being looked for."""
        pairs = [("reference", self.reference), *(("buyer", i) for i in self.identifiers)]
        pairs += [("kind", self.kind.value), ("since", instant(self.since))]
        pairs += [("skip", notice) for notice in self.skip]
        return PREFIX + urlencode(pairs)

    @classmethod
    def parse(cls, token: str) -> Lookup | None:
        """The lookup a remote id stands for, or None when it is not one."""
        if not token.startswith(PREFIX):
            return None
        fields = parse_qs(token.removeprefix(PREFIX), keep_blank_values=True)
        since = moment((fields.get("since") or [""])[0])
        try:
            kind = NoticeKind((fields.get("kind") or [""])[0])
        except ValueError:
            return None
        if since is None or not fields.get("reference") or not fields.get("buyer"):
            return None
        return cls(fields["reference"][0], tuple(fields["buyer"]), kind, since, tuple(fields.get("skip", [])))


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
    for document in tender.get("documents") or []:
        if not isinstance(document, dict) or document.get("noticeType") != NOTICE_TYPES[lookup.kind]:
            continue
        number = notice_id(document.get("url"))
        if number and number not in lookup.skip:
            return Found(
                notice_id=number,
                url=str(document["url"]),
                ocid=str(release.get("ocid") or ""),
                release_id=str(release.get("id") or ""),
                published_at=moment(document.get("datePublished") or release.get("date")),
            )
    return None


def first_match(releases: Iterable[Any], lookup: Lookup) -> Found | None:
    """The first release (in the API's order, oldest first) that is the notice looked for."""
    for release in releases:
        found = match(release, lookup)
        if found is not None:
            return found
    return None
