"""The Find a Tender adapter against the running sandbox, over real HTTP: a UK4 received and
published with its notice id, OCID and URL; a revised UK4 and a UK12 reaching the same
procurement; a wrong previous notice, a revision after the deadline and a broken release
refused; adopt mode finding a loaded notice without ever submitting, and failing when none
appears in time; every fault mapped to its error, and a time-out's retry de-duplicated."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from syndicator.channel.base import (
    AuthError,
    Channel,
    ChannelError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    Rendered,
    TransientError,
)
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from syndicator.sandbox.server import Sandbox
from tests.channels.awards import award_options
from tests.conftest import render_job
from tests.integration.conftest import adapter_for, inject, received, sandbox_url

pytestmark = pytest.mark.timeout(60)
FTS = "find-a-tender"
NOTICE_ID = re.compile(r"\d{6}-\d{4}")
OCID = re.compile(r"ocds-h6vhtk-[0-9a-f]{6}")
Examples = dict[str, Tender]


def _adapter(config: Config, box: Sandbox, **overrides: Any) -> Channel:
    """The adapter from the sandbox profile, both its APIs aimed at `box`."""
    return adapter_for(config, box, FTS, public_url=f"{sandbox_url(box)}/find-a-tender", **overrides)


def _future(tender: Tender, deadline: timedelta = timedelta(days=30)) -> Tender:
    """The tender with its deadline ahead of the sandbox's (real) clock."""
    data = tender.model_dump(mode="json")
    data["submission_deadline"] = (datetime.now(UTC) + deadline).replace(microsecond=0).isoformat()
    return Tender.model_validate(data)


def _job(
    config: Config,
    tender: Tender,
    kind: NoticeKind = NoticeKind.CONTRACT,
    after: tuple[Rendered, Receipt] | None = None,
    **options: Any,
) -> Job:
    """A PA2023 job dispatched now; a follow-up refers to `after` (our rendering of the earlier
    notice and Find a Tender's receipt of it), as the engine's history would."""
    job = render_job(config, tender, FTS, kind=kind, reason="Deadline extended", **options)
    history = job.context.history
    if after is not None:
        rendered, receipt = after
        history = (
            *history[:-1],
            replace(history[-1], identity=rendered.identity, publication_id=receipt.publication_id),
        )
    context = replace(
        job.context, regime="pa2023", above_threshold=True, dispatched_at=datetime.now(UTC), history=history
    )
    return Job(job.notice, context)


def _until_live(adapter: Channel, receipt: Receipt, within: float = 10.0) -> Receipt:
    deadline = time.monotonic() + within
    while not receipt.live:
        assert time.monotonic() < deadline, f"{receipt.remote_id} was not published in {within}s"
        time.sleep(0.1)
        receipt = adapter.poll(receipt)
    return receipt


def _published(adapter: Channel, job: Job) -> tuple[Rendered, Receipt]:
    rendered = adapter.render(job.notice, job.context)
    receipt = adapter.submit(rendered, job.context.key)
    assert (receipt.live, receipt.status, receipt.status_code) == (False, "RECEIVED", 202)
    return rendered, _until_live(adapter, receipt)


def _public(box: Sandbox, path: str = "", **params: str) -> Any:
    answer = requests.get(
        f"{sandbox_url(box)}/find-a-tender/api/1.0/ocdsReleasePackages{path}", params=params, timeout=5
    )
    answer.raise_for_status()
    return answer.json()


def _ocid(receipt: Receipt) -> str:
    found = OCID.search(receipt.status)
    assert found, receipt.status
    return found.group()


# -- publishing -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["anpr-cameras", "it-managed-service", "construction-works", "it-software"])
def test_a_uk4_is_published_with_notice_id_ocid_and_url(
    sandbox: Sandbox, config: Config, examples: Examples, name: str
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples[name])
    rendered, live = _published(adapter, _job(config, tender))
    assert live.remote_id and live.remote_id.endswith(f"@{tender.buyer}")
    assert live.publication_id and NOTICE_ID.fullmatch(live.publication_id)
    assert live.url and live.url.endswith(f"/Notice/{live.publication_id}") and live.published_at
    ocid = _ocid(live)
    page = requests.get(live.url, timeout=5).json()
    (release,) = page["releases"]
    assert (release["ocid"], release["tender"]["id"], release["tag"]) == (ocid, tender.reference, ["tender"])
    (notice,) = [d for d in release["tender"]["documents"] if d.get("noticeType")]
    assert (notice["noticeType"], notice["url"]) == ("UK4", live.url)
    (entry,) = received(sandbox, "fts")
    assert (entry["key"], entry["remote_id"]) == (rendered.identity, live.remote_id.split("@")[0])
    assert (entry["notice"], entry["version"], entry["status"], entry["url"]) == (
        "contract",
        1,
        "published",
        live.url,
    )


def test_a_change_and_a_cancellation_reach_the_same_procurement(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples["anpr-cameras"])
    first = _published(adapter, _job(config, tender))
    revised = _future(tender, timedelta(days=37))
    change = _published(adapter, _job(config, revised, NoticeKind.CHANGE, first, previous=tender))
    end = _published(adapter, _job(config, revised, NoticeKind.CANCELLATION, change))
    numbers = [receipt.publication_id for _, receipt in (first, change, end)]
    assert len(set(numbers)) == 3
    ocid = _ocid(first[1])
    assert _ocid(change[1]) == _ocid(end[1]) == ocid  # one procurement, one OCID
    releases = _public(sandbox, f"/{ocid}")["releases"]
    assert [r["tag"] for r in releases] == [["tender"], ["tenderUpdate"], ["tenderCancellation"]]
    assert releases[2]["tender"]["status"] == "cancelled"
    assert _public(sandbox, f"/{numbers[1]}")["releases"][0]["tender"]["tenderPeriod"]["endDate"] == (
        revised.submission_deadline.isoformat().replace("+00:00", "Z")
        if revised.submission_deadline
        else None
    )
    entries = {e["notice"]: e for e in received(sandbox, FTS)}
    assert (entries["change"]["version"], entries["cancellation"]["status"]) == (2, "published")


def test_an_award_then_the_signed_contract_reach_the_same_procurement(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples["it-managed-service"])
    first = _published(adapter, _job(config, tender))
    uk6 = _published(adapter, _job(config, tender, NoticeKind.AWARD, first, **award_options(tender, "award")))
    details = award_options(tender, "contract-details")
    uk7 = _published(adapter, _job(config, tender, NoticeKind.CONTRACT_DETAILS, uk6, **details))
    assert _ocid(first[1]) == _ocid(uk6[1]) == _ocid(uk7[1])
    releases = _public(sandbox, f"/{_ocid(first[1])}")["releases"]
    assert [r["tag"] for r in releases] == [["tender"], ["award"], ["contract"]]
    assert all(a["standstillPeriod"]["endDate"] for a in releases[1]["awards"])
    assert releases[2]["contracts"][0]["dateSigned"].startswith(
        details["award"].lots[0].contract.signed_on.isoformat()
    )
    entries = {e["notice"]: e for e in received(sandbox, FTS)}
    assert (entries["award"]["status"], entries["contract-details"]["status"]) == ("published", "published")


def test_a_contract_signed_within_the_standstill_is_refused(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples["anpr-cameras"])
    first = _published(adapter, _job(config, tender))
    details = award_options(tender, "contract-details")
    signed = details["award"].lots[0].contract.signed_on
    late = award_options(tender, "award") | {"standstill_ends": signed + timedelta(days=3)}
    uk6 = _published(adapter, _job(config, tender, NoticeKind.AWARD, first, **late))
    job = _job(config, tender, NoticeKind.CONTRACT_DETAILS, uk6, **details)
    receipt = adapter.submit(adapter.render(job.notice, job.context), job.context.key)
    with pytest.raises(RejectedError, match="signed before the standstill ended"):
        adapter.poll(receipt)


def test_a_follow_up_naming_a_notice_find_a_tender_does_not_hold_is_refused(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples["anpr-cameras"])
    rendered, live = _published(adapter, _job(config, tender))
    wrong = (rendered, replace(live, publication_id="999999-2026"))
    for kind in (NoticeKind.CHANGE, NoticeKind.CANCELLATION):
        job = _job(config, tender, kind, wrong)
        receipt = adapter.submit(adapter.render(job.notice, job.context), job.context.key)
        with pytest.raises(RejectedError) as raised:
            adapter.poll(receipt)
        assert any("previousNotice/id" in r and "999999-2026" in r for r in raised.value.reasons), kind


def test_find_a_tender_refuses_a_revision_after_the_deadline(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples["anpr-cameras"], timedelta(seconds=2))
    first = _published(adapter, _job(config, tender))
    job = _job(config, tender, NoticeKind.CHANGE, first)
    rendered = adapter.render(job.notice, job.context)  # rendered just before the deadline
    assert tender.submission_deadline is not None
    while datetime.now(UTC) <= tender.submission_deadline:
        time.sleep(0.2)
    receipt = adapter.submit(rendered, job.context.key)
    with pytest.raises(RejectedError, match="cannot be edited after its submission deadline"):
        adapter.poll(receipt)


def test_a_release_breaking_the_uk_profile_is_refused_with_the_report(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    job = _job(config, _future(examples["anpr-cameras"]))
    rendered = adapter.render(job.notice, job.context)
    release = json.loads(rendered.body)
    release["tender"]["value"]["amountGross"] = "456000"
    del release["tender"]["aboveThreshold"]
    broken = replace(rendered, body=json.dumps(release).encode())
    receipt = adapter.submit(broken, job.context.key)
    with pytest.raises(RejectedError) as raised:
        adapter.poll(receipt)
    assert raised.value.reasons[0] == "reason code SCHEMA"
    assert any(r.startswith("tender/value/amountGross:") for r in raised.value.reasons)
    (entry,) = received(sandbox, FTS)
    assert entry["status"] == "rejected"


def test_sending_twice_publishes_once(sandbox: Sandbox, config: Config, examples: Examples) -> None:
    adapter = _adapter(config, sandbox)
    job = _job(config, _future(examples["anpr-cameras"]))
    rendered = adapter.render(job.notice, job.context)
    first = adapter.submit(rendered, job.context.key)
    second = adapter.submit(rendered, job.context.key)
    assert second.remote_id == first.remote_id and second.status_code == 200
    (entry,) = received(sandbox, FTS)
    assert (entry["times_received"], entry["copies"]) == (2, 1)


def test_a_wrong_key_is_access_denied(sandbox: Sandbox, config: Config, examples: Examples) -> None:
    adapter = _adapter(config, sandbox, key={"nottinghamshire-police": "not-the-key"})
    job = _job(config, _future(examples["anpr-cameras"]))
    with pytest.raises(AuthError, match="Access Denied"):
        adapter.submit(adapter.render(job.notice, job.context), job.context.key)
    assert received(sandbox, FTS) == []


def test_a_buyers_key_sees_only_its_own_submissions(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    job = _job(config, _future(examples["anpr-cameras"]))
    receipt = adapter.submit(adapter.render(job.notice, job.context), job.context.key)
    assert receipt.remote_id is not None
    other = receipt.remote_id.replace("@nottinghamshire-police", "@emscu")
    with pytest.raises(OutcomeUnknown, match="does not know submission"):
        adapter.poll(Receipt(remote_id=other, live=False))


# -- adopt mode -----------------------------------------------------------------------------


def _load(box: Sandbox, release: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{sandbox_url(box)}/_sandbox/find-a-tender/notices", json=release, timeout=5)
    assert answer.status_code == 201, answer.text
    loaded: dict[str, Any] = answer.json()["loaded"][0]
    return loaded


def _buyers_own(tender: Tender, adapter: Channel, config: Config) -> dict[str, Any]:
    """The notice the buyer's own e-tendering tool published: the release we would have sent,
    as Find a Tender publishes it (its OCID, its notice document without our ids)."""
    job = _job(config, tender)
    release: dict[str, Any] = json.loads(adapter.render(job.notice, job.context).body)
    release.update(ocid="ocds-h6vhtk-0de4b1", id="ocds-h6vhtk-0de4b1-1")
    for document in release["tender"]["documents"]:
        if document.get("noticeType"):
            document["id"] = "notice"
    return release


def test_adopt_mode_finds_a_loaded_notice_and_never_submits(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples["agency-staff"])  # derbyshire-constabulary: fts_mode = "adopt"
    loaded = _load(sandbox, _buyers_own(tender, adapter, config))
    job = _job(config, tender)
    rendered = adapter.render(job.notice, job.context)
    assert rendered.operation == "adopt"
    receipt = adapter.submit(rendered, job.context.key)
    assert receipt.live and (receipt.publication_id, receipt.url) == (loaded["notice_id"], loaded["url"])
    assert "ocds-h6vhtk-0de4b1" in receipt.status
    assert received(sandbox, FTS) == [], "adopt mode must never submit"


def test_adopt_mode_keeps_looking_until_the_notice_appears(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    tender = _future(examples["agency-staff"])
    job = _job(config, tender)
    receipt = adapter.submit(adapter.render(job.notice, job.context), job.context.key)
    assert not receipt.live and (receipt.remote_id or "").startswith("adopt?")
    assert adapter.poll(Receipt(remote_id=receipt.remote_id, live=False)).live is False
    loaded = _load(sandbox, _buyers_own(tender, adapter, config))
    found = adapter.poll(Receipt(remote_id=receipt.remote_id, live=False))
    assert found.live and found.publication_id == loaded["notice_id"]
    assert received(sandbox, FTS) == []


def test_adopt_mode_fails_when_no_notice_appears_in_time(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox, adopt_within="1s")
    job = _job(config, _future(examples["agency-staff"]))
    receipt = adapter.submit(adapter.render(job.notice, job.context), job.context.key)
    assert not receipt.live
    time.sleep(1.1)
    with pytest.raises(RejectedError, match="not found on Find a Tender after 1s"):
        adapter.poll(Receipt(remote_id=receipt.remote_id, live=False))
    assert received(sandbox, FTS) == []


# -- faults ---------------------------------------------------------------------------------

FAULTS = [
    ("error-503", TransientError),
    ("rate-limit-429", RateLimited),
    ("reject-422", RejectedError),
    ("down", OutcomeUnknown),
]


@pytest.mark.parametrize(("mode", "error"), FAULTS, ids=[m for m, _ in FAULTS])
def test_each_fault_maps_to_its_error_and_is_used_up(
    sandbox: Sandbox, config: Config, examples: Examples, mode: str, error: type[ChannelError]
) -> None:
    adapter = _adapter(config, sandbox)
    job = _job(config, _future(examples["anpr-cameras"]))
    rendered = adapter.render(job.notice, job.context)
    inject(sandbox, "fts", mode, retry_after=4)
    with pytest.raises(error) as caught:
        adapter.submit(rendered, job.context.key)
    assert type(caught.value) is error
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 4
    if isinstance(caught.value, RejectedError):
        assert "injected fault" in " ".join([caught.value.message, *caught.value.reasons])
    assert received(sandbox, FTS) == [], "a refused request must leave nothing behind"
    adapter.submit(rendered, job.context.key)
    assert len(received(sandbox, FTS)) == 1


def test_a_time_out_is_an_unknown_outcome_and_the_retry_is_deduplicated(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox, read_timeout=0.5)
    job = _job(config, _future(examples["anpr-cameras"]))
    rendered = adapter.render(job.notice, job.context)
    inject(sandbox, FTS, "timeout", delay=1.5)
    with pytest.raises(OutcomeUnknown):
        adapter.submit(rendered, job.context.key)
    retried = adapter.submit(rendered, job.context.key)
    (entry,) = received(sandbox, FTS)
    assert (entry["times_received"], entry["copies"]) == (2, 1)
    assert retried.remote_id == f"{entry['remote_id']}@nottinghamshire-police"


def test_a_status_check_can_fail_transiently_too(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = _adapter(config, sandbox)
    job = _job(config, _future(examples["anpr-cameras"]))
    receipt = adapter.submit(adapter.render(job.notice, job.context), job.context.key)
    inject(sandbox, FTS, "error-503")
    with pytest.raises(TransientError):
        adapter.poll(receipt)
    assert _until_live(adapter, receipt).live
