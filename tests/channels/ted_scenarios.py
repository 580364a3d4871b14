"""The procurement lives the TED tests render: an earlier version of each routed example (so a
change notice has something to describe), a job for its change notice and for each of the three
forms a cancellation takes on TED, and the golden files they are compared with.

    change                        v1 published on TED -> change notice of v2
    cancellation (cancel)         v1 published, every deadline ahead -> BT-140 `cancel`
    cancellation (after deadline) v1 published, the deadline passed  -> subtype 29, no winner
    cancellation (stop)           v1 accepted, not published yet     -> stop-publication
    award                         v1 published, every lot awarded and signed -> subtype 29
    award (one lot not awarded)   the same, lot 1 (or the whole) closed without a winner
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from channels.ted.channel import STOP_PATH
from syndicator.channel.base import Rendered
from syndicator.channel.xmlsafe import canonical
from syndicator.config.settings import Config
from syndicator.domain.award import Award
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from tests.channels.awards import award_of
from tests.conftest import render_job

GOLDEN = Path(__file__).parent / "golden" / "ted"
REASONS = {  # the reason a person gave, per example (one of them a correction)
    "anpr-cameras": ("The submission deadline is extended by two weeks at bidders' request.", False),
    "it-managed-service": ("Lot 2's title was stated wrongly; the deadline is corrected.", True),
}
WITHDRAWAL = "The forces' requirement is now met by the national framework."
FORMS = ("cancel", "after-deadline", "stop")


def earlier(tender: Tender) -> Tender:
    """The version before `tender`: its deadline two weeks earlier, and lot 2 (if any) titled
    differently."""
    assert tender.submission_deadline is not None
    data = tender.model_dump(mode="json")
    data["submission_deadline"] = (tender.submission_deadline - timedelta(days=14)).isoformat()
    for lot in data.get("lots") or []:
        if lot["number"] == 2:
            lot["title"] = "Evidence software and storage"
    return Tender.model_validate(data)


def change_job(config: Config, name: str, tender: Tender) -> Job:
    """The change notice of `tender` following the contract notice of its earlier version."""
    reason, correction = REASONS.get(name, ("Details updated.", False))
    return render_job(
        config,
        tender,
        "ted",
        kind=NoticeKind.CHANGE,
        previous=earlier(tender),
        reason=reason,
        correction=correction,
    )


def cancellation_job(config: Config, tender: Tender, form: str, reason: str = WITHDRAWAL) -> Job:
    """The cancellation of `tender` in one of FORMS: the contract notice on TED is published
    (cancel, after-deadline: dispatched a day after the deadline) or only accepted (stop)."""
    job = render_job(config, tender, "ted", kind=NoticeKind.CANCELLATION, reason=reason)
    context = job.context
    if form == "after-deadline":
        assert tender.submission_deadline is not None
        context = replace(context, dispatched_at=tender.submission_deadline + timedelta(days=1))
    elif form == "stop":
        *older, latest = context.history
        context = replace(context, history=(*older, replace(latest, state="submitted", published_at=None)))
    else:
        assert form == "cancel", form
    return Job(job.notice, context)


def not_awarded(award: Award, reason: str = "all-rejected") -> Award:
    """`award` with its first lot (or the whole) not awarded, for `reason`."""
    data = award.model_dump(mode="json")
    first = data["lots"][0]
    first.update(
        {"outcome": "not-awarded", "reason": reason, "suppliers": [], "value": None, "contract": None}
    )
    return Award.model_validate(data)


def award_job(config: Config, tender: Tender, award: Award | None = None) -> Job:
    """The award notice of `tender` (by default every lot awarded and signed, tests/channels/
    awards.py) after its published contract notice, dispatched the day after the last signing:
    under the directives the award notice reports concluded contracts."""
    award = award or award_of(tender, signed=True)
    job = render_job(config, tender, "ted", kind=NoticeKind.AWARD, award=award)
    days = [lot.contract.signed_on for lot in award.lots if lot.contract and lot.contract.signed_on]
    last = max(days, default=award.decision_date)
    dispatched = datetime.combine(last + timedelta(days=1), time(9), tzinfo=UTC)
    return Job(job.notice, replace(job.context, dispatched_at=dispatched))


def wire(rendered: Rendered) -> bytes:
    """What eNotices2 receives: the XML notice, or for a stop-publication its request line."""
    if rendered.operation == "stop":
        assert rendered.body == b"" and rendered.target
        return f"POST {STOP_PATH.format(business_id=rendered.target)}\n".encode()
    return rendered.body


def matches_golden(stem: str, rendered: Rendered) -> None:
    """Compare with `golden/ted/<stem>.xml` (or `.txt` for a stop); regenerated deliberately
    with SYNDICATOR_REGENERATE_GOLDEN=1."""
    body = wire(rendered)
    path = GOLDEN / f"{stem}.{'txt' if rendered.operation == 'stop' else 'xml'}"
    if os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    assert path.is_file(), f"{path} is missing; regenerate with SYNDICATOR_REGENERATE_GOLDEN=1"
    if rendered.operation == "stop":
        assert body == path.read_bytes(), f"{stem} differs from {path}"
    else:
        assert canonical(body) == canonical(path.read_bytes()), f"{stem} differs from {path}"
