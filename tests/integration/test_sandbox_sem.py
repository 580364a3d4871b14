"""The Source East Midlands adapter against the running sandbox, over real HTTP: every routed
example is accepted, published and read back, every fault maps to its error class, a repeat is
de-duplicated, the simulator's own OCDS validation refuses a tampered package, and a tender's
whole life (contract, change, cancellation; or contract, award, contract details) is taken in
order while a notice that refers to a release the portal does not hold is refused."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
import requests

from syndicator.channel.base import (
    AuthError,
    Channel,
    RateLimited,
    Receipt,
    RejectedError,
    Rendered,
)
from syndicator.config.settings import Config
from syndicator.domain.award import Award
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from syndicator.sandbox.server import Sandbox
from tests.channels.awards import award_of
from tests.channels.sem_notices import REASON, amended
from tests.conftest import contract, render_context, render_job, routed_examples
from tests.integration.conftest import adapter_for, inject, received, sandbox_url

CHANNEL = "source-east-midlands"
Examples = dict[str, Tender]


def _rendered(adapter: Channel, config: Config, tender: Tender) -> Rendered:
    return adapter.render(contract(tender), render_context(config, tender, CHANNEL))


def _until_live(adapter: Channel, receipt: Receipt, within: float = 5.0) -> Receipt:
    deadline = time.monotonic() + within
    while not receipt.live:
        assert time.monotonic() < deadline, f"{receipt.remote_id} was not published in {within}s"
        time.sleep(0.1)
        receipt = adapter.poll(receipt)
    return receipt


def _tampered(body: bytes, change: str) -> bytes:
    package: dict[str, Any] = json.loads(body)
    release = package["releases"][0]
    if change == "bad-method":
        release["tender"]["procurementMethod"] = "negotiated"
    elif change == "no-date":
        del release["date"]
    elif change == "planning-tag":
        release["tag"] = ["planning"]
    elif change == "two-releases":
        package["releases"].append({**release, "id": release["id"] + "-copy"})
    return json.dumps(package).encode()


def test_every_routed_example_is_published_and_served(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    routed = routed_examples(config, examples, CHANNEL)
    assert len(routed) >= 5
    published = {}
    for name, tender, _ in routed:
        rendered = _rendered(adapter, config, tender)
        receipt = adapter.submit(rendered, "unused")
        assert (receipt.live, receipt.status, receipt.status_code) == (False, "pending", 202), name
        live = _until_live(adapter, receipt)
        assert live.remote_id == receipt.remote_id and live.url and live.published_at
        public = requests.get(live.url, timeout=5)
        assert public.status_code == 200 and public.content == rendered.body, name
        release_id = json.loads(rendered.body)["releases"][0]["id"]
        published[tender.reference] = (live, release_id)
    notices = received(sandbox, "sem")
    assert len(notices) == len(routed)
    for notice in notices:
        live, release_id = published[notice["tender_reference"]]
        assert (notice["remote_id"], notice["key"], notice["url"]) == (
            live.remote_id,
            release_id,
            live.url,
        )
        assert (notice["status"], notice["times_received"], notice["copies"]) == ("published", 1, 1)


def test_a_release_is_not_public_before_publication(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    requests.post(f"{sandbox_url(sandbox)}/_sandbox/delays", json={"sem": 60}, timeout=5)
    adapter = adapter_for(config, sandbox, CHANNEL)
    receipt = adapter.submit(_rendered(adapter, config, examples["it-software"]), "unused")
    assert adapter.poll(receipt).live is False
    public = f"{sandbox_url(sandbox)}/sem/ocds/public/releases/{receipt.remote_id}"
    assert requests.get(public, timeout=5).status_code == 404


def test_sending_twice_publishes_once(sandbox: Sandbox, config: Config, examples: Examples) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    rendered = _rendered(adapter, config, examples["anpr-cameras"])
    first = adapter.submit(rendered, "unused")
    second = adapter.submit(rendered, "unused")
    assert second.remote_id == first.remote_id and second.status_code == 200
    (notice,) = received(sandbox, CHANNEL)
    assert (notice["times_received"], notice["copies"]) == (2, 1)


def test_a_poll_can_be_refused_too(sandbox: Sandbox, config: Config, examples: Examples) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    receipt = adapter.submit(_rendered(adapter, config, examples["it-software"]), "unused")
    inject(sandbox, CHANNEL, "rate-limit-429")
    with pytest.raises(RateLimited):
        adapter.poll(receipt)
    assert _until_live(adapter, receipt).live


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("bad-method", "releases/0/tender/procurementMethod: 'negotiated' is not one of"),
        ("no-date", "releases/0: 'date' is a required property"),
        ("planning-tag", "releases: send exactly one release"),
        ("two-releases", "releases: send exactly one release"),
    ],
)
def test_the_simulator_refuses_a_tampered_package(
    sandbox: Sandbox, config: Config, examples: Examples, change: str, reason: str
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    rendered = _rendered(adapter, config, examples["anpr-cameras"])
    tampered = Rendered(body=_tampered(rendered.body, change), media_type=rendered.media_type)
    with pytest.raises(RejectedError) as caught:
        adapter.submit(tampered, "unused")
    assert caught.value.status_code == 422
    assert any(r.startswith(reason) for r in caught.value.reasons), caught.value.reasons
    assert received(sandbox, CHANNEL) == []


def test_a_body_that_is_not_json_is_refused(sandbox: Sandbox, config: Config) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    with pytest.raises(RejectedError) as caught:
        adapter.submit(Rendered(body=b"{releases:", media_type="application/json"), "unused")
    assert caught.value.status_code == 400 and caught.value.reasons


def test_a_wrong_api_key_is_an_auth_error(sandbox: Sandbox, config: Config, examples: Examples) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL, api_key="not-the-key")
    with pytest.raises(AuthError):
        adapter.submit(_rendered(adapter, config, examples["anpr-cameras"]), "unused")
    assert received(sandbox, CHANNEL) == []


# -- a tender's whole life -------------------------------------------------------------------


def _send(adapter: Channel, job: Job) -> tuple[Rendered, Receipt]:
    """Render and submit one notice, and wait until it is published."""
    rendered = adapter.render(job.notice, job.context)
    receipt = adapter.submit(rendered, job.context.key)
    assert receipt.status_code == 202, receipt
    return rendered, _until_live(adapter, receipt)


def _after(job: Job, *sent: tuple[NoticeKind, int, Job, Rendered]) -> Job:
    """The job with this portal's earlier notices as the engine stores them once sent: each
    with the identity (release id) the adapter rendered for it."""
    refs = tuple(
        NoticeRef(CHANNEL, kind, version, "published", earlier.context.key, identity=rendered.identity)
        for kind, version, earlier, rendered in sent
    )
    return Job(job.notice, replace(job.context, history=refs))


def _version_2(config: Config, tender: Tender, kind: NoticeKind, **options: Any) -> Job:
    """A `kind` notice carrying version 2 (`amended(tender)`), as the core would build it."""
    options = {"reason": REASON, **options}
    return render_job(config, amended(tender), CHANNEL, kind=kind, previous=tender, **options)


def _record(box: Sandbox, process: str) -> dict[str, Any]:
    answer = requests.get(f"{sandbox_url(box)}/sem/ocds/public/records/{quote(process, safe='')}", timeout=5)
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def test_a_tender_s_whole_life_is_taken_in_order(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-managed-service"]
    first = render_job(config, tender, CHANNEL)
    contract_sent = _send(adapter, first)[0]
    change = _after(
        _version_2(config, tender, NoticeKind.CHANGE),
        (NoticeKind.CONTRACT, 1, first, contract_sent),
    )
    change_sent, change_live = _send(adapter, change)
    process = json.loads(change_sent.body)["releases"][0]["ocid"]
    assert _record(sandbox, process)["status"] == "active"
    again = adapter.submit(change_sent, change.context.key)  # a repeat: one release
    assert (again.remote_id, again.status_code) == (change_live.remote_id, 200)
    withdrawal = _version_2(config, tender, NoticeKind.CANCELLATION, reason="Budget withdrawn")
    cancellation = _after(
        withdrawal,
        (NoticeKind.CONTRACT, 1, first, contract_sent),
        (NoticeKind.CHANGE, 2, change, change_sent),
    )
    _send(adapter, cancellation)
    notices = received(sandbox, "sem")
    assert [(n["notice"], n["version"], n["status"]) for n in notices] == [
        ("contract", 1, "published"),
        ("change", 2, "published"),
        ("cancellation", 2, "published"),
    ]
    assert [n["times_received"] for n in notices] == [1, 2, 1]
    record = _record(sandbox, process)
    assert record["status"] == "cancelled"
    assert [(r["tag"], r["version"]) for r in record["releases"]] == [
        ("tender", 1),
        ("tenderAmendment", 2),
        ("tenderCancellation", 2),
    ]
    late = _after(
        _version_2(config, tender, NoticeKind.CHANGE, reason="Too late"),
        (NoticeKind.CHANGE, 2, change, change_sent),
    )
    late = Job(replace(late.notice, version=3), late.context)  # a new version after the withdrawal
    with pytest.raises(RejectedError) as caught:
        adapter.submit(adapter.render(late.notice, late.context), late.context.key)
    assert caught.value.reasons == [f"releases/0/ocid: {process} is cancelled: it takes no further release"]


def test_a_correction_is_taken_as_a_change(sandbox: Sandbox, config: Config, examples: Examples) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, CHANNEL)
    contract_sent = _send(adapter, first)[0]
    correction = _version_2(config, tender, NoticeKind.CHANGE, reason="Typo", correction=True)
    _send(adapter, _after(correction, (NoticeKind.CONTRACT, 1, first, contract_sent)))
    notices = received(sandbox, CHANNEL)
    assert [(n["notice"], n["version"]) for n in notices] == [("contract", 1), ("change", 2)]


def test_a_change_of_a_release_the_portal_does_not_hold_is_refused(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, CHANNEL)
    contract_sent = _send(adapter, first)[0]
    unknown = Rendered(body=b"", media_type="", identity=f"{contract_sent.identity}-r9")
    change = _after(
        _version_2(config, tender, NoticeKind.CHANGE),
        (NoticeKind.CONTRACT, 1, first, unknown),
    )
    with pytest.raises(RejectedError) as caught:
        adapter.submit(adapter.render(change.notice, change.context), change.context.key)
    assert caught.value.status_code == 422
    (reason,) = caught.value.reasons
    where = "releases/0/tender/amendments/0/amendsReleaseID"
    assert reason.startswith(f"{where}: no release {unknown.identity} of ")
    assert [n["notice"] for n in received(sandbox, CHANNEL)] == ["contract"]


@pytest.mark.parametrize("kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION])
def test_a_notice_for_a_process_the_portal_does_not_hold_is_refused(
    sandbox: Sandbox, config: Config, examples: Examples, kind: NoticeKind
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, CHANNEL)
    never_sent = adapter.render(first.notice, first.context)  # rendered, never submitted
    job = _after(
        _version_2(config, tender, kind),
        (NoticeKind.CONTRACT, 1, first, never_sent),
    )
    with pytest.raises(RejectedError) as caught:
        adapter.submit(adapter.render(job.notice, job.context), job.context.key)
    (reason,) = caught.value.reasons
    assert reason.startswith("releases/0/ocid: no release of ") and reason.endswith("send its tender first")
    assert received(sandbox, CHANNEL) == []


def _edited(body: bytes, change: str) -> bytes:
    package: dict[str, Any] = json.loads(body)
    release = package["releases"][0]
    if change == "no-amendment":
        del release["tender"]["amendments"]
    elif change == "still-active":
        release["tender"]["status"] = "active"
    elif change == "unversioned-id":
        release["id"] = release["tender"]["amendments"][0]["releaseID"] = release["ocid"] + "-change-1"
    elif change == "same-version":
        earlier = release["id"].replace("-v2-", "-v1-")
        release["id"] = release["tender"]["amendments"][0]["releaseID"] = earlier
    return json.dumps(package).encode()


@pytest.mark.parametrize(
    ("kind", "change", "reason"),
    [
        (NoticeKind.CHANGE, "no-amendment", "releases/0/tender/amendments: a tenderAmendment release needs "),
        (NoticeKind.CANCELLATION, "still-active", "releases/0/tender/status: a tenderCancellation release "),
        (NoticeKind.CHANGE, "unversioned-id", "releases/0/id: a release id is "),
        (NoticeKind.CHANGE, "same-version", "releases/0/id: version 1 does not follow version 1 "),
    ],
)
def test_the_simulator_refuses_an_amendment_the_contract_does_not_allow(
    sandbox: Sandbox, config: Config, examples: Examples, kind: NoticeKind, change: str, reason: str
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, CHANNEL)
    contract_sent = _send(adapter, first)[0]
    job = _after(
        _version_2(config, tender, kind),
        (NoticeKind.CONTRACT, 1, first, contract_sent),
    )
    rendered = adapter.render(job.notice, job.context)
    tampered = Rendered(body=_edited(rendered.body, change), media_type=rendered.media_type)
    with pytest.raises(RejectedError) as caught:
        adapter.submit(tampered, job.context.key)
    assert caught.value.status_code == 422
    assert any(r.startswith(reason) for r in caught.value.reasons), caught.value.reasons
    assert [n["notice"] for n in received(sandbox, CHANNEL)] == ["contract"]


# -- award and contract details --------------------------------------------------------------


def _award(tender: Tender) -> Award:
    """Lot 1 awarded and signed, lot 2 not awarded (no suitable tenders)."""
    data = award_of(tender, signed=True).model_dump(mode="json")
    data["lots"][1] = {"lot": 2, "outcome": "not-awarded", "reason": "no-suitable-tenders"}
    return Award.model_validate(data)


def test_an_award_and_its_contract_are_published_after_the_advert(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-software"]  # two lots
    award = _award(tender)
    contract_sent = _send(adapter, render_job(config, tender, CHANNEL))[0]
    award_job = render_job(config, tender, CHANNEL, kind=NoticeKind.AWARD, award=award)
    award_sent, award_live = _send(adapter, award_job)
    public = requests.get(str(award_live.url), timeout=5)
    assert public.status_code == 200 and public.content == award_sent.body
    statuses = [a["status"] for a in json.loads(award_sent.body)["releases"][0]["awards"]]
    assert statuses == ["active", "unsuccessful"]
    details = render_job(config, tender, CHANNEL, kind=NoticeKind.CONTRACT_DETAILS, award=award, part="lot-1")
    _send(adapter, details)
    notices = received(sandbox, CHANNEL)
    assert [(n["notice"], n["version"], n["status"]) for n in notices] == [
        ("contract", 1, "published"),
        ("award", 1, "published"),
        ("contract-details", 1, "published"),
    ]
    process = json.loads(contract_sent.body)["releases"][0]["ocid"]
    record = _record(sandbox, process)
    assert [r["tag"] for r in record["releases"]] == ["tender", "award", "contract"]
    assert record["status"] == "complete"


def test_an_award_before_the_advert_or_a_contract_before_its_award_is_refused(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-software"]
    award = _award(tender)
    award_job = render_job(config, tender, CHANNEL, kind=NoticeKind.AWARD, award=award)
    with pytest.raises(RejectedError) as caught:
        adapter.submit(adapter.render(award_job.notice, award_job.context), award_job.context.key)
    (reason,) = caught.value.reasons
    assert reason.startswith("releases/0/ocid: no release of ") and reason.endswith("send its tender first")
    _send(adapter, render_job(config, tender, CHANNEL))
    details = render_job(config, tender, CHANNEL, kind=NoticeKind.CONTRACT_DETAILS, award=award, part="lot-1")
    with pytest.raises(RejectedError) as caught:
        adapter.submit(adapter.render(details.notice, details.context), details.context.key)
    (reason,) = caught.value.reasons
    assert reason.startswith("releases/0/contracts/0/awardID: no award award-lot-1 of ")
    assert [n["notice"] for n in received(sandbox, CHANNEL)] == ["contract"]
