"""A release and the release package that carries it (release-schema.json,
release-package-schema.json), the contracting process id (ocid), and which release tag a
notice is.

    package {uri, version "1.1", extensions, publishedDate, publisher, releases: [
      release {ocid, id, date, tag, initiationType "tender", language, parties, buyer, tender,
               bids?, awards?, contracts?}]}

Every release about one procurement shares its ocid; each release has its own id, unique within
the ocid. How a channel forms release ids (and what its portal de-duplicates by) is the
channel's contract, so it is not decided here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from channels.ocds.codelists import InitiationType, ReleaseTag
from syndicator.domain.notices import Notice, NoticeKind

_EXTENSIONS = "https://raw.githubusercontent.com/open-contracting-extensions"
LOTS_EXTENSION = f"{_EXTENSIONS}/ocds_lots_extension/v1.1.5/extension.json"
LOCATION_EXTENSION = f"{_EXTENSIONS}/ocds_location_extension/v1.1.5/extension.json"
SUITABILITY_EXTENSION = f"{_EXTENSIONS}/ocds_suitability_extension/master/extension.json"
# Award and contract releases: tenders received (bids.statistics) and suppliers' scale.
BID_EXTENSION = f"{_EXTENSIONS}/ocds_bid_extension/v1.1.5/extension.json"
PARTY_SCALE_EXTENSION = f"{_EXTENSIONS}/ocds_partyDetails_scale_extension/master/extension.json"

# The OCDS reading of each notice kind (releaseTag.csv): a change is an amendment of the
# tender, unless it corrects an error in the notice (then an update: the tender itself did not
# change). Find a Tender tags every edited UK4 `tenderUpdate` (UK-NOTICES.md section 9): a
# channel whose portal reads tags differently maps kinds itself.
TAGS = {
    NoticeKind.CONTRACT: ReleaseTag.TENDER,
    NoticeKind.CHANGE: ReleaseTag.TENDER_AMENDMENT,
    NoticeKind.CANCELLATION: ReleaseTag.TENDER_CANCELLATION,
    NoticeKind.AWARD: ReleaseTag.AWARD,
    NoticeKind.CONTRACT_DETAILS: ReleaseTag.CONTRACT,
}


def tag(notice: Notice) -> ReleaseTag:
    """The release tag of a notice (see TAGS)."""
    if notice.kind is NoticeKind.CHANGE and notice.correction:
        return ReleaseTag.TENDER_UPDATE
    return TAGS[notice.kind]


def mint_ocid(prefix: str, buyer: str, reference: str) -> str:
    """The contracting process id we mint under our registered prefix: the same for every
    release about one tender.

    Buyer ids never contain '_' and references never contain '~', so joining with '_' and
    writing '/' as '~' (both URL-unreserved, RFC 3986 2.3) keeps distinct tenders distinct."""
    return f"{prefix}-{buyer}_{reference.replace('/', '~')}"


def release(
    *,
    ocid: str,
    release_id: str,
    date: datetime,
    tags: Sequence[ReleaseTag],
    parties: Sequence[dict[str, Any]],
    buyer: dict[str, Any],
    tender: dict[str, Any],
    language: str = "en",
    bids: dict[str, Any] | None = None,
    awards: Sequence[dict[str, Any]] = (),
    contracts: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One release about a tender (initiationType "tender", the only code OCDS 1.1 has), with
    the bids, awards and contracts an award or contract release adds."""
    found: dict[str, Any] = {
        "ocid": ocid,
        "id": release_id,
        "date": date,
        "tag": [str(t) for t in tags],
        "initiationType": str(InitiationType.TENDER),
        "language": language,
        "parties": list(parties),
        "buyer": buyer,
        "tender": tender,
    }
    if bids is not None:
        found["bids"] = bids
    if awards:
        found["awards"] = list(awards)
    if contracts:
        found["contracts"] = list(contracts)
    return found


def publisher(name: str, uri: str | None = None) -> dict[str, Any]:
    """The package's publisher."""
    return {"name": name, "uri": uri} if uri else {"name": name}


def package(
    releases: Sequence[dict[str, Any]],
    *,
    uri: str,
    published: datetime,
    by: dict[str, Any],
    extensions: Sequence[str] = (),
) -> dict[str, Any]:
    """A release package (OCDS 1.1) holding `releases`, listing the extensions their fields use."""
    return {
        "uri": uri,
        "version": "1.1",
        "extensions": list(extensions),
        "publishedDate": published,
        "publisher": by,
        "releases": list(releases),
    }
