"""The TED adapter against the running sandbox, over real HTTP: every routed example is
submitted, polled until published and read back from its public URL; a repeat is looked up,
not published twice; invalid notices are refused the way TED refuses them; every fault maps
to its error class; a tender's whole life (contract, change, and each form of withdrawal)
goes through, and a change or withdrawal naming a notice TED does not hold is refused."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
import requests

from channels.ted.channel import TedChannel
from syndicator.channel.base import (
    AuthError,
    OutcomeUnknown,
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
from tests.channels.eras import ROUTED_TO_TED, ojeu_examples
from tests.channels.ted_scenarios import award_job, cancellation_job, change_job, earlier
from tests.conftest import contract, render_context, routed_examples
from tests.integration.conftest import adapter_for, inject, received, sandbox_url


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples as procurements commenced under the EU directives: TED carries no
    others (tests/channels/eras.py)."""
    return ojeu_examples(config)


Examples = dict[str, Tender]
API_KEY = "sandbox-ted-key"
PUBLIC_URL = "{base_url}/notice/{publication_id}"  # the simulator serves published notices here


def _adapter(config: Config, box: Sandbox, **overrides: Any) -> TedChannel:
    channel = adapter_for(config, box, "ted", public_notice_url=PUBLIC_URL, **overrides)
    assert isinstance(channel, TedChannel)
    return channel


def _rendered(channel: TedChannel, config: Config, tender: Tender, revision: int = 1) -> Rendered:
    return channel.render(contract(tender), render_context(config, tender, "ted", revision=revision))


def _published(channel: TedChannel, receipt: Receipt, within: float = 10.0) -> Receipt:
    """Poll as the sweeper would, until TED reports the notice published."""
    deadline = time.monotonic() + within
    while not receipt.live:
        assert time.monotonic() < deadline, f"{receipt.remote_id} was not published in {within}s"
        time.sleep(0.1)
        receipt = channel.poll(receipt)
    return receipt


def _tampered(rendered: Rendered) -> Rendered:
    """A notice the XSD refuses: an element the schema does not allow, where it does not belong."""
    body = rendered.body.replace(b"<cbc:RegulatoryDomain>", b"<cbc:Bogus>x</cbc:Bogus><cbc:RegulatoryDomain>")
    assert body != rendered.body
    return Rendered(body, rendered.media_type)


def test_every_routed_example_is_submitted_published_and_served(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    routed = routed_examples(config, examples, "ted")
    assert {name for name, _, _ in routed} == ROUTED_TO_TED
    sent = {}
    for _, tender, destination in routed:
        context = render_context(config, tender, destination)
        rendered = channel.render(contract(tender), context)
        receipt = channel.submit(rendered, context.key)
        assert (receipt.live, receipt.status, receipt.status_code) == (False, "SUBMITTED", 201)
        assert receipt.remote_id is not None and receipt.remote_id.endswith("-01")
        public = _published(channel, receipt)
        assert public.remote_id == receipt.remote_id and public.status == "PUBLISHED"
        assert public.published_at is not None
        assert public.url is not None and public.url.startswith(sandbox_url(sandbox) + "/ted/notice/")
        served = requests.get(public.url, timeout=5)
        assert served.status_code == 200
        assert served.content == rendered.body
        sent[receipt.remote_id] = (tender.reference, public.url)
    notices = received(sandbox, "ted")
    assert {n["remote_id"]: (n["tender_reference"], n["url"]) for n in notices} == sent
    assert all(n["key"] == n["remote_id"] for n in notices)
    assert all((n["status"], n["times_received"], n["copies"]) == ("published", 1, 1) for n in notices)


def test_a_notice_is_not_public_before_it_is_published(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    requests.post(sandbox_url(sandbox) + "/_sandbox/delays", json={"ted": 30}, timeout=5)
    channel = _adapter(config, sandbox)
    rendered = _rendered(channel, config, examples["anpr-cameras"])
    receipt = channel.poll(channel.submit(rendered, "key"))
    assert (receipt.live, receipt.status) == (False, "SUBMITTED")
    (notice,) = received(sandbox, "ted")
    assert notice["status"] == "received" and notice["url"] is None


def test_the_same_notice_twice_is_one_notice(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = _adapter(config, sandbox)
    rendered = _rendered(channel, config, examples["it-managed-service"])
    first = channel.submit(rendered, "key")
    second = channel.submit(rendered, "key")  # TED answers 400 "already exists"; looked up
    assert first.remote_id == second.remote_id
    assert (second.status_code, second.status) == (400, "SUBMITTED")
    (notice,) = received(sandbox, "ted")
    assert (notice["times_received"], notice["copies"]) == (2, 1)


def test_a_wrong_api_key_is_an_auth_error(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = _adapter(config, sandbox, api_key="not-the-key")
    rendered = _rendered(channel, config, examples["anpr-cameras"])
    with pytest.raises(AuthError) as caught:
        channel.submit(rendered, "key")
    assert caught.value.status_code == 401
    assert "not-the-key" not in f"{caught.value} {caught.value.excerpt}"
    assert received(sandbox, "ted") == []


def test_an_invalid_notice_is_validation_failed_and_spends_its_business_id(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["anpr-cameras"]
    broken = _tampered(_rendered(channel, config, tender, revision=2))
    with pytest.raises(RejectedError) as caught:
        channel.submit(broken, "key")
    assert caught.value.status_code == 201
    (reason,) = caught.value.reasons
    report_url = reason.rsplit(" ", 1)[-1]
    report = requests.get(report_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
    assert report.status_code == 200 and b"failed-assert" in report.content and b"Bogus" in report.content
    (notice,) = received(sandbox, "ted")
    assert (notice["status"], notice["rejected"]) == ("rejected", "VALIDATION_FAILED")
    with pytest.raises(RejectedError, match="VALIDATION_FAILED; send a new version"):
        channel.submit(broken, "key")  # the businessId is spent, even by a failed notice
    assert received(sandbox, "ted")[0]["times_received"] == 2
    fixed = channel.submit(_rendered(channel, config, tender, revision=3), "key")
    assert fixed.remote_id is not None and fixed.remote_id.endswith("-03") and fixed.status == "SUBMITTED"


def test_business_checks_the_xsd_cannot_make(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = _adapter(config, sandbox)
    fifth = _rendered(channel, config, examples["anpr-cameras"], revision=5)
    # XSD-valid (the same place in the sequence), but an open procedure without a deadline
    no_deadline = fifth.body.replace(b"TenderSubmissionDeadlinePeriod", b"DocumentAvailabilityPeriod")
    with pytest.raises(RejectedError, match="VALIDATION_FAILED") as refused:
        channel.submit(Rendered(no_deadline, fifth.media_type), "key")
    report_url = refused.value.reasons[0].rsplit(" ", 1)[-1]
    report = requests.get(report_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
    assert b"BT-131: an open procedure needs a tender deadline" in report.content
    rendered = _rendered(channel, config, examples["anpr-cameras"])
    older_sdk = rendered.body.replace(b"eforms-sdk-1.15", b"eforms-sdk-1.09")
    with pytest.raises(RejectedError, match="No compatible SDK version") as caught:
        channel.submit(Rendered(older_sdk, rendered.media_type), "key")
    assert caught.value.status_code == 404
    (notice,) = received(sandbox, "ted")  # the 404 stored nothing
    assert notice["remote_id"].endswith("-05") and notice["rejected"] == "VALIDATION_FAILED"


def test_the_simulator_requires_both_parts_and_the_author(config: Config, sandbox: Sandbox) -> None:
    url = sandbox_url(sandbox) + "/ted/api/v2/notice/notices/submit"
    auth = {"Authorization": f"Bearer {API_KEY}"}
    only_notice = {"notice": ("n.xml", b"<x/>", "application/xml")}
    answer = requests.post(url, files=only_notice, headers=auth, timeout=5)
    assert (answer.status_code, answer.json()) == (
        400,
        {"message": "Required part 'metadata' is not present"},
    )
    no_author = {
        **only_notice,
        "metadata": (None, b'{"noticeAuthorLocale": "en"}', "application/json"),
    }
    answer = requests.post(url, files=no_author, headers=auth, timeout=5)
    assert (answer.status_code, answer.json()) == (
        400,
        {"message": "metadata.noticeAuthorEmail is required"},
    )
    search = requests.get(sandbox_url(sandbox) + "/ted/api/v2/notice/notices/search-esentool", timeout=5)
    assert search.status_code == 401


def test_polling_a_notice_ted_does_not_hold_is_outcome_unknown(config: Config, sandbox: Sandbox) -> None:
    channel = _adapter(config, sandbox)
    with pytest.raises(OutcomeUnknown, match="does not list"):
        channel.poll(Receipt(remote_id="16962097-473a-475d-894b-f26f731d54d5-01", live=False))


def test_an_injected_rejection_is_teds_validation_failure(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    rendered = _rendered(channel, config, examples["it-managed-service"])
    inject(sandbox, "ted", "reject-422")
    with pytest.raises(RejectedError, match="VALIDATION_FAILED") as caught:
        channel.submit(rendered, "key")
    assert caught.value.status_code == 201
    (notice,) = received(sandbox, "ted")
    assert notice["rejected"] == "VALIDATION_FAILED"
    with pytest.raises(RejectedError, match="send a new version"):
        channel.submit(rendered, "key")


# -- a tender's whole life: change notices and withdrawals ----------------------------------------


def _sent(channel: TedChannel, job: Job) -> tuple[Rendered, Receipt]:
    """Render and submit one notice; wait until TED publishes it."""
    rendered = channel.render(job.notice, job.context)
    receipt = channel.submit(rendered, job.context.key)
    assert (receipt.live, receipt.status) == (False, "SUBMITTED")
    return rendered, _published(channel, receipt)


def _contract(channel: TedChannel, config: Config, tender: Tender) -> Receipt:
    context = render_context(config, tender, "ted")
    return channel.submit(channel.render(contract(tender), context), context.key)


def test_contract_change_and_cancel_notices_follow_each_other(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["anpr-cameras"]
    advert = _published(channel, _contract(channel, config, earlier(tender)))
    change = change_job(config, "anpr-cameras", tender)
    (carried,) = change.context.history
    assert carried.remote_id == advert.remote_id  # the context names what TED holds
    changed, change_receipt = _sent(channel, change)
    # The withdrawal follows the change notice, the latest TED publishes.
    published_change = replace(
        carried,
        kind=NoticeKind.CHANGE,
        version=2,
        key=change.context.key,
        identity=changed.identity,
        remote_id=change_receipt.remote_id,
    )
    withdrawal = cancellation_job(config, tender, "cancel")
    withdrawal = Job(withdrawal.notice, replace(withdrawal.context, history=(carried, published_change)))
    cancelled, cancel_receipt = _sent(channel, withdrawal)
    assert b"<efbc:ChangedNoticeIdentifier>" + str(change_receipt.remote_id).encode() in cancelled.body
    assert cancel_receipt.publication_id and cancel_receipt.url
    assert requests.get(cancel_receipt.url, timeout=5).content == cancelled.body
    notices = received(sandbox, "ted")
    assert [(n["remote_id"], n["notice"], n["version"], n["status"]) for n in notices] == [
        (advert.remote_id, "contract", None, "published"),
        (change_receipt.remote_id, "change", None, "published"),
        (cancel_receipt.remote_id, "cancellation", None, "published"),
    ]


def test_a_withdrawal_after_the_deadline_is_an_award_notice_without_a_winner(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["it-managed-service"]
    _published(channel, _contract(channel, config, tender))
    rendered, receipt = _sent(channel, cancellation_job(config, tender, "after-deadline"))
    assert receipt.url is not None
    served = requests.get(receipt.url, timeout=5).content
    assert served == rendered.body and b"<ContractAwardNotice" in served
    assert [n["notice"] for n in received(sandbox, "ted")] == ["contract", "cancellation"]


def test_an_award_notice_follows_the_contract_notice_and_is_published(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["it-managed-service"]
    advert = _published(channel, _contract(channel, config, tender))
    job = award_job(config, tender)
    (carried,) = job.context.history
    assert carried.kind is NoticeKind.CONTRACT
    rendered, receipt = _sent(channel, job)
    assert receipt.remote_id != advert.remote_id and receipt.url is not None
    served = requests.get(receipt.url, timeout=5).content
    assert served == rendered.body and b"selec-w" in served
    assert [n["notice"] for n in received(sandbox, "ted")] == ["contract", "award"]


def test_an_accepted_notice_is_stopped_and_never_published(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    requests.post(sandbox_url(sandbox) + "/_sandbox/delays", json={"ted": 60}, timeout=5)
    channel = _adapter(config, sandbox)
    tender = examples["anpr-cameras"]
    advert = _contract(channel, config, tender)
    job = cancellation_job(config, tender, "stop")
    stop = channel.render(job.notice, job.context)
    assert (stop.operation, stop.target) == ("stop", advert.remote_id)
    receipt = channel.submit(stop, job.context.key)
    assert (receipt.remote_id, receipt.live, receipt.status, receipt.status_code) == (
        advert.remote_id,
        True,
        "STOPPED",
        200,
    )
    with pytest.raises(RejectedError, match="STOPPED"):
        channel.poll(advert)  # the contract notice will never appear
    again = channel.submit(stop, job.context.key)  # a retry after a lost answer: 403, then found
    assert (again.live, again.status, again.status_code) == (True, "STOPPED", 403)
    notices = {n["remote_id"]: n for n in received(sandbox, "ted")}
    assert notices[advert.remote_id]["rejected"] == "STOPPED"
    stopped = notices[f"{advert.remote_id}/stop-publication"]
    assert (stopped["notice"], stopped["version"], stopped["times_received"]) == ("cancellation", None, 1)


def test_a_stop_too_late_is_retried_and_then_sent_as_a_cancel_notice(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["anpr-cameras"]
    advert = _published(channel, _contract(channel, config, tender))
    job = cancellation_job(config, tender, "stop")  # the store has not seen it published yet
    with pytest.raises(TransientError, match="can no longer stop") as caught:
        channel.submit(channel.render(job.notice, job.context), job.context.key)
    assert caught.value.status_code == 403
    (carried,) = job.context.history
    seen = replace(job.context, history=(replace(carried, state="published"),))
    cancelled = channel.render(job.notice, seen)  # the next attempt renders again
    assert cancelled.operation is None
    receipt = channel.submit(cancelled, job.context.key)
    assert receipt.status == "SUBMITTED"
    assert [n["notice"] for n in received(sandbox, "ted")] == ["contract", "cancellation"]
    assert received(sandbox, "ted")[0]["remote_id"] == advert.remote_id


def test_a_change_of_a_notice_ted_does_not_hold_is_refused(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["anpr-cameras"]
    job = change_job(config, "anpr-cameras", tender)  # its contract notice was never sent
    with pytest.raises(RejectedError, match="VALIDATION_FAILED") as caught:
        channel.submit(channel.render(job.notice, job.context), job.context.key)
    report = _report(caught.value)
    assert b"BT-758: the changed notice" in report and b"is not a notice TED holds" in report
    # a notice TED holds, but of another procedure
    other = _published(channel, _contract(channel, config, examples["it-managed-service"]))
    (carried,) = job.context.history
    wrong = replace(job.context, revision=2, history=(replace(carried, remote_id=other.remote_id),))
    with pytest.raises(RejectedError, match="VALIDATION_FAILED") as caught:
        channel.submit(channel.render(job.notice, wrong), job.context.key)
    assert b"belongs to another procedure" in _report(caught.value)


def test_an_award_notice_of_a_procedure_ted_does_not_hold_is_refused(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    job = cancellation_job(config, examples["anpr-cameras"], "after-deadline")
    with pytest.raises(RejectedError, match="VALIDATION_FAILED") as caught:
        channel.submit(channel.render(job.notice, job.context), job.context.key)
    assert b"BT-04: TED holds no notice of procedure" in _report(caught.value)
    (notice,) = received(sandbox, "ted")
    assert (notice["notice"], notice["rejected"]) == ("cancellation", "VALIDATION_FAILED")


def test_a_stop_of_a_notice_ted_does_not_hold_is_refused(config: Config, sandbox: Sandbox) -> None:
    channel = _adapter(config, sandbox)
    stop = Rendered(
        b"", "application/json", operation="stop", target="16962097-473a-475d-894b-f26f731d54d5-01"
    )
    with pytest.raises(RejectedError) as caught:
        channel.submit(stop, "key")
    assert caught.value.status_code == 404
    assert received(sandbox, "ted") == []


def _report(error: RejectedError) -> bytes:
    """The SVRL validation report a VALIDATION_FAILED answer points to."""
    url = error.reasons[0].rsplit(" ", 1)[-1]
    report = requests.get(url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
    assert report.status_code == 200
    return report.content
