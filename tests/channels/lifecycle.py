"""The notices after an advert, for channel tests: an amended version of an example tender, the
change and cancellation jobs built by the product's own context builder (`render_job`), and
the receipts a test that really sent a notice feeds into the next one.

    contract v1 --(amended: deadline a week later, duration a year longer)--> change v2
            \\__________________________________________________________ cancellation
            \\__ award (every lot to one supplier: tests/channels/awards.py) --> contract details
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from syndicator.channel.base import Receipt, Rendered
from syndicator.channel.registry import title
from syndicator.config.settings import Config
from syndicator.domain.award import Award
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from tests.channels.awards import award_options
from tests.conftest import DISPATCHED_AT, render_job

REASON = "Timetable and contract length revised after suppliers' questions"
WITHDRAWAL = "The force no longer needs this contract"
# How golden files of each kind are named: <example><suffix>.<extension>
SUFFIX = {
    NoticeKind.CONTRACT: "",
    NoticeKind.CHANGE: ".change",
    NoticeKind.CANCELLATION: ".cancellation",
    NoticeKind.AWARD: ".award",
    NoticeKind.CONTRACT_DETAILS: ".contract-details",
}
KINDS = (NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.CANCELLATION)  # the advert's life
AWARD_KINDS = (NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS)


def amended(tender: Tender) -> Tender:
    """The tender's second version: the deadline a week later (if it has one), the contract a
    year longer."""
    data = tender.model_dump(mode="json")
    if tender.submission_deadline is not None:
        data["submission_deadline"] = (tender.submission_deadline + timedelta(days=7)).isoformat()
    data["duration_months"] = (tender.duration_months or 12) + 12
    return Tender.model_validate(data)


def change_job(
    config: Config, tender: Tender, destination: str, *, correction: bool = False, reason: str = REASON
) -> Job:
    """The change notice v2 (`amended(tender)`) after the contract notice v1 of `tender`."""
    return render_job(
        config,
        amended(tender),
        destination,
        kind=NoticeKind.CHANGE,
        previous=tender,
        reason=reason,
        correction=correction,
    )


def cancellation_job(config: Config, tender: Tender, destination: str, reason: str = WITHDRAWAL) -> Job:
    """The cancellation notice v2 (`amended(tender)` withdrawn) after the contract notice v1."""
    return render_job(
        config, amended(tender), destination, kind=NoticeKind.CANCELLATION, previous=tender, reason=reason
    )


def award_job(
    config: Config,
    tender: Tender,
    destination: str,
    kind: NoticeKind = NoticeKind.AWARD,
    award: Award | None = None,
) -> Job:
    """The award notice (or contract details notice of the first lot) of `tender` v1 after its
    contract notice: `award`, or every lot awarded (`tests.channels.awards.award_options`)."""
    options = award_options(tender, kind)
    if award is not None:
        options["award"] = award
    return render_job(config, tender, destination, kind=kind, **options)  # type: ignore[arg-type]


def job(config: Config, tender: Tender, destination: str, kind: NoticeKind) -> Job:
    """The contract, change, cancellation, award or contract details job of `tender` (see above)."""
    if kind in AWARD_KINDS:
        return award_job(config, tender, destination, kind)
    if kind is NoticeKind.CHANGE:
        return change_job(config, tender, destination)
    if kind is NoticeKind.CANCELLATION:
        return cancellation_job(config, tender, destination)
    return render_job(config, tender, destination)


def sent(done: Job, rendered: Rendered, receipt: Receipt) -> NoticeRef:
    """The reference the store keeps of a notice once the channel published it."""
    return NoticeRef(
        destination=done.context.destination,
        kind=done.notice.kind,
        version=done.notice.version,
        state="published",
        key=done.context.key,
        identity=rendered.identity,
        remote_id=receipt.remote_id,
        url=receipt.url,
        publication_id=receipt.publication_id,
        dispatched_at=DISPATCHED_AT,
        published_at=DISPATCHED_AT,
        title=title(done.context.destination),
    )


def after(following: Job, *history: NoticeRef) -> Job:
    """`following` as it is rendered once `history` (oldest first) is on its destination."""
    return Job(following.notice, replace(following.context, history=history))
