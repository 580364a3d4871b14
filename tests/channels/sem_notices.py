"""Source East Midlands notices as the engine would build them, for the channel and sandbox
tests: a sketch of the procurement (`tests.conftest.render_job`) whose earlier notices on the
portal carry the release ids the engine would have stored when it sent them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from channels.source_east_midlands import ocid, release_id
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from tests.conftest import render_job

PREFIX = "ocds-emsx01"  # the shipped sandbox profile's
SEM = "source-east-midlands"
REASON = "Bidders asked for more time; the deadline moves by two weeks"


def named(job: Job, prefix: str = PREFIX) -> Job:
    """The job with the release ids the engine would have stored for the earlier notices on
    this portal: a sketch cannot name them (`SourceEastMidlandsChannel.names` gives None, since
    a release id starts with the ocid, which needs the configured prefix)."""
    tender = job.notice.tender
    process = ocid(prefix, tender.buyer, tender.reference)
    history = tuple(
        replace(ref, identity=release_id(process, ref.version, ref.kind, ref.key))
        if ref.destination == SEM and ref.identity is None
        else ref
        for ref in job.context.history
    )
    return Job(job.notice, replace(job.context, history=history))


def amended(tender: Tender) -> Tender:
    """Version 2 of a tender: the deadline two weeks later and a sentence added."""
    data = tender.model_dump(mode="json")
    if tender.submission_deadline is not None:
        data["submission_deadline"] = (tender.submission_deadline + timedelta(days=14)).isoformat()
    data["description"] = tender.description + " Site visits are available on request."
    return Tender.model_validate(data)


def sem_job(config: Config, tender: Tender, kind: NoticeKind = NoticeKind.CONTRACT, **options: Any) -> Job:
    """The job for `kind` on this portal: a change carries `amended(tender)` after a contract
    notice of `tender`; a cancellation follows the contract notice."""
    if kind is NoticeKind.CHANGE:
        options = {"previous": tender, "reason": REASON, **options}
        tender = amended(tender)
    elif kind is NoticeKind.CANCELLATION:
        options = {"reason": "The requirement is withdrawn", **options}
    return named(render_job(config, tender, SEM, kind=kind, **options))
