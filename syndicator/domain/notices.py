"""Notices: what a procurement publishes over its life, and what a channel is asked to render.

    contract notice v1 --> change notice v2 --> change notice v3 ... --> award --> contract details
            \\______________________ cancellation (withdrawal) ______/

A tender has versions (the record as submitted, then each amendment). A notice carries one
version: its content is rendered from that version's record alone (plus the award record for
award notices), so a notice re-sent later is byte-identical. A delivery is one notice to one
destination; `NoticeRef` is how a later notice refers to an earlier one (its receipts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from syndicator.domain.tender import Tender

if TYPE_CHECKING:
    from syndicator.domain.award import Award


class NoticeKind(StrEnum):
    """What a notice does in the life of a procurement."""

    CONTRACT = "contract"  # the advert: invitation to tender (TED subtype 16, FTS UK4)
    CHANGE = "change"  # an amendment or correction of the advert (TED change notice, revised UK4)
    CANCELLATION = "cancellation"  # the procurement is withdrawn (TED cancel, FTS UK12)
    AWARD = "award"  # the contract award (TED subtype 29, FTS UK6)
    CONTRACT_DETAILS = "contract-details"  # the signed contract (FTS UK7, OCDS contract release)


# Notices that wait for the primary destination's notice of the same kind and version (PCR 2015
# reg 52: national advertising may not appear before the official journal's notice). A
# withdrawal is not advertising: it takes the advert down everywhere at once.
FOLLOWS_PRIMARY = frozenset(
    {NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS}
)


@dataclass(frozen=True)
class Carrier:
    """What a destination's channel declares: the notice kinds it carries, and whether a
    cancellation can stop a notice it accepted but has not published."""

    notices: frozenset[NoticeKind]
    stops_unpublished: bool = False
    award_after_signature: bool = False  # its award notice waits until every contract is signed


class ChangeKind(StrEnum):
    """Why a new version of a tender exists."""

    UPDATE = "update"  # the procurement changed (TED `update-add`, OCDS `tenderAmendment`)
    CORRECTION = "correction"  # an error in the advert is corrected (TED `cor-buy`, OCDS `tenderUpdate`)


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions of a tender record."""

    path: str  # machine form: "submission_deadline", "lots[number=2].title", "lots[number=3]"
    label: str  # human form: "Submission deadline", "Lot 2 title", "Lot 3"
    before: str | None  # None: the field or lot was added
    after: str | None  # None: the field or lot was removed

    def sentence(self) -> str:
        """'Submission deadline: 2027-01-08T12:00:00Z -> 2027-01-22T12:00:00Z'."""
        if self.before is None:
            return f"{self.label}: added ({_short(self.after)})"
        if self.after is None:
            return f"{self.label}: removed (was {_short(self.before)})"
        return f"{self.label}: {_short(self.before)} -> {_short(self.after)}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"field": self.path, "label": self.label, "before": self.before, "after": self.after}


def _short(text: str | None, limit: int = 120) -> str:
    value = " ".join((text or "").split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True)
class NoticeRef:
    """An earlier notice of the same procurement, as a later notice refers to it: the receipts
    the channel gave (remote id, URL, publication id) and when it was sent and published."""

    destination: str
    kind: NoticeKind
    version: int
    state: str
    key: str
    identity: str | None = None  # what we called it on the wire (TED notice id, release id, ...)
    remote_id: str | None = None  # what the channel called it (TED businessId, SEM-000001, ...)
    url: str | None = None
    publication_id: str | None = None  # the official number (TED 123456-2026, FTS 012345-2026)
    dispatched_at: datetime | None = None  # when the channel accepted it
    published_at: datetime | None = None
    title: str = ""  # the destination's name as people know it ("Tenders Electronic Daily (TED)")

    @property
    def live(self) -> bool:
        """Published on the channel."""
        return self.state == "published"

    @property
    def public_reference(self) -> str | None:
        """How a reader finds it: the publication number, else our identity, else the channel's id."""
        return self.publication_id or self.identity or self.remote_id


@dataclass(frozen=True)
class Notice:
    """The content of one notice: its kind, the tender version it carries, and for a change or
    cancellation why it was made (and, for a change, what differs from the version the
    destination carries)."""

    kind: NoticeKind
    tender: Tender
    version: int = 1
    reason: str | None = None
    correction: bool = False
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)
    withdrawn_at: datetime | None = None
    # Award and contract details notices: the award decision, the part (a contract details notice
    # is about one signed contract: "lot-2", or "whole" for an undivided tender), and the
    # standstill once the award notice is published (its last day).
    award: Award | None = None
    part: str | None = None
    standstill_ends: date | None = None

    def signed_lots(self) -> list[int | None]:
        """The lots a contract details notice is about (from `part`)."""
        if self.part is None or self.award is None:
            return []
        if self.part == "whole":
            return [None]
        return [int(self.part.removeprefix("lot-"))]

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("notice versions start at 1")
