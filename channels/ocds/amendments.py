"""One entry of `tender.amendments` (release-schema.json definition Amendment): which release
this one amends, why, and what changed.

OCDS 1.1 asks for the values before and after an amendment to be in two releases of the same
contracting process, linked by `amendsReleaseID` (the release holding the values before) and
`releaseID` (this release, holding the values after); the deprecated `changes` array is not
used. `description` lists the changed fields in words, one per line, for people reading the
portal (OCDS: "a free text, or semi-structured, description of the changes made").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from syndicator.domain.notices import FieldChange

# A value longer than this is not quoted: both sides would be cut to the same opening words.
QUOTED = 120


def _line(change: FieldChange) -> str:
    long = max(len(change.before or ""), len(change.after or "")) > QUOTED
    if change.before is not None and change.after is not None and long:
        return f"{change.label}: changed"  # the release carries the new text in full
    return change.sentence()


def describe(changes: Sequence[FieldChange]) -> str | None:
    """'Submission deadline: 2027-01-15T12:00:00Z -> 2027-01-29T12:00:00Z', one line per change;
    a long text that changed is named, not quoted."""
    return "\n".join(_line(change) for change in changes) or None


def amendment(
    amendment_id: str,
    date: datetime,
    *,
    amends: str,
    release: str,
    rationale: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """{id, date, rationale?, description?, amendsReleaseID, releaseID}."""
    found: dict[str, Any] = {"id": amendment_id, "date": date}
    if rationale:
        found["rationale"] = rationale
    if description:
        found["description"] = description
    found["amendsReleaseID"] = amends
    found["releaseID"] = release
    return found
