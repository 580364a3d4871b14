"""The Bluelight adapter against the running sandbox, over real HTTP: every routed example is
accepted, published and read back, a tender's whole life (notice, update, withdrawal) happens to
the same NoticeId, as do its award and contract details (validated against the XSD), an update
of a notice the portal does not hold is refused, refusals map to their error class, a repeat is
de-duplicated, and the simulator's own validation refuses a tampered notice."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import requests
from lxml import etree

from channels.bluelight_notice import NOTICE_NS
from syndicator.channel.base import (
    AuthError,
    Channel,
    Receipt,
    RejectedError,
    Rendered,
    TransientError,
)
from syndicator.channel.xmlsafe import parse
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from syndicator.sandbox.server import Sandbox
from tests.channels.awards import award_of, not_awarded
from tests.channels.lifecycle import after, award_job, cancellation_job, change_job, sent
from tests.conftest import contract, render_context, render_job, routed_examples
from tests.integration.conftest import adapter_for, inject, received, sandbox_url

CHANNEL = "bluelight"
N = {"n": NOTICE_NS}
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
    root = parse(body)
    if change == "drop-title":
        title = root.find("n:Title", N)
        assert title is not None
        root.remove(title)
    elif change == "bad-amount":
        amount = root.find("n:EstimatedValue/n:Amount", N)
        assert amount is not None
        amount.text = "three hundred thousand"
    elif change == "no-deadline":
        deadline = root.find("n:SubmissionDeadline", N)
        assert deadline is not None
        root.remove(deadline)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


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
        assert (receipt.live, receipt.status, receipt.status_code) == (False, "Received", 202), name
        live = _until_live(adapter, receipt)
        assert live.remote_id == receipt.remote_id and live.url and live.published_at
        public = requests.get(live.url, timeout=5)
        assert public.status_code == 200 and public.content == rendered.body, name
        published[tender.reference] = (live, render_context(config, tender, CHANNEL).key)
    notices = received(sandbox, CHANNEL)
    assert len(notices) == len(routed)
    for notice in notices:
        live, key = published[notice["tender_reference"]]
        assert (notice["remote_id"], notice["key"], notice["url"]) == (
            live.remote_id,
            key,
            live.url,
        )
        assert (notice["status"], notice["times_received"], notice["copies"]) == ("published", 1, 1)
        assert (notice["notice"], notice["version"]) == ("contract", 1)


def test_a_notice_is_not_public_before_publication(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    requests.post(f"{sandbox_url(sandbox)}/_sandbox/delays", json={CHANNEL: 60}, timeout=5)
    adapter = adapter_for(config, sandbox, CHANNEL)
    receipt = adapter.submit(_rendered(adapter, config, examples["it-software"]), "unused")
    assert adapter.poll(receipt).live is False
    public = f"{sandbox_url(sandbox)}/bluelight/ctm/public/notices/{receipt.remote_id}"
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
    inject(sandbox, CHANNEL, "error-503")
    with pytest.raises(TransientError):
        adapter.poll(receipt)
    assert _until_live(adapter, receipt).live


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("drop-title", "Title"),
        ("bad-amount", "Amount"),
        ("no-deadline", "submission deadline is required"),
    ],
)
def test_the_simulator_refuses_a_tampered_notice(
    sandbox: Sandbox, config: Config, examples: Examples, change: str, reason: str
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    rendered = _rendered(adapter, config, examples["anpr-cameras"])
    tampered = Rendered(body=_tampered(rendered.body, change), media_type=rendered.media_type)
    with pytest.raises(RejectedError) as caught:
        adapter.submit(tampered, "unused")
    assert caught.value.status_code == 422
    assert any(reason in r for r in caught.value.reasons), caught.value.reasons
    assert received(sandbox, CHANNEL) == []


def test_malformed_xml_is_refused(sandbox: Sandbox, config: Config) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    with pytest.raises(RejectedError) as caught:
        adapter.submit(Rendered(body=b"<TenderNotice>", media_type="application/xml"), "unused")
    assert caught.value.status_code == 400 and caught.value.reasons


def test_wrong_credentials_are_an_auth_error(sandbox: Sandbox, config: Config, examples: Examples) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL, password="not-the-password")
    with pytest.raises(AuthError):
        adapter.submit(_rendered(adapter, config, examples["anpr-cameras"]), "unused")
    assert received(sandbox, CHANNEL) == []


def _published(adapter: Channel, made: Job) -> tuple[NoticeRef, Receipt]:
    rendered = adapter.render(made.notice, made.context)
    receipt = _until_live(adapter, adapter.submit(rendered, made.context.key))
    return sent(made, rendered, receipt), receipt


def test_a_tenders_whole_life_happens_to_the_same_notice(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, CHANNEL)
    advert, live = _published(adapter, first)
    assert live.url is not None

    change = after(change_job(config, tender, CHANNEL), advert)
    amended = adapter.render(change.notice, change.context)
    accepted = adapter.submit(amended, change.context.key)
    assert (accepted.remote_id, accepted.live, accepted.status_code) == (live.remote_id, False, 202)
    public = requests.get(live.url, timeout=5)  # the first version, until the update is published
    assert public.status_code == 200 and parse(public.content).findtext("n:Version", namespaces=N) == "1"
    updated = _until_live(adapter, accepted)
    public = requests.get(live.url, timeout=5)
    assert public.status_code == 200 and public.content == amended.body

    withdrawal = after(cancellation_job(config, tender, CHANNEL), advert, sent(change, amended, updated))
    withdrawn = adapter.submit(adapter.render(withdrawal.notice, withdrawal.context), withdrawal.context.key)
    assert (withdrawn.remote_id, withdrawn.live, withdrawn.status, withdrawn.status_code) == (
        live.remote_id,
        True,
        "Withdrawn",
        200,
    )
    assert adapter.poll(withdrawn).status == "Withdrawn"
    public = requests.get(live.url, timeout=5)
    assert public.status_code == 410
    assert parse(public.content).findtext("n:Reason", namespaces=N) == withdrawal.notice.reason

    notices = received(sandbox, CHANNEL)
    assert [(n["notice"], n["version"], n["remote_id"], n["key"]) for n in notices] == [
        ("contract", 1, live.remote_id, first.context.key),
        ("change", 2, live.remote_id, change.context.key),
        ("cancellation", 2, live.remote_id, withdrawal.context.key),
    ]
    again = adapter.submit(adapter.render(withdrawal.notice, withdrawal.context), withdrawal.context.key)
    assert (again.status, again.live) == ("Withdrawn", True)  # a repeat: 409, then the status
    with pytest.raises(RejectedError, match="withdrawn"):
        later = after(change_job(config, tender, CHANNEL, reason="again"), advert)
        adapter.submit(adapter.render(later.notice, replace(later.context, key="another-key")), "unused")


def test_an_award_and_its_contract_details_are_published_on_the_same_notice(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-managed-service"]  # two lots: the first awarded and signed, the second not
    first = render_job(config, tender, CHANNEL)
    advert, live = _published(adapter, first)
    assert live.url is not None
    award = not_awarded(award_of(tender, signed=True), 2, "no-suitable-tenders")

    decision = after(award_job(config, tender, CHANNEL, award=award), advert)
    rendered = adapter.render(decision.notice, decision.context)
    assert parse(rendered.body).tag == f"{{{NOTICE_NS}}}TenderNoticeAward"
    accepted = adapter.submit(rendered, decision.context.key)
    assert (accepted.remote_id, accepted.live, accepted.status_code) == (live.remote_id, False, 202)
    awarded = _until_live(adapter, accepted)
    assert awarded.status == "Published"
    public = requests.get(live.url, timeout=5)  # the portal shows the award once published
    assert public.status_code == 200 and public.content == rendered.body
    reason = parse(public.content).findtext("n:LotResults/n:LotResult[2]/n:NotAwarded/n:Reason", namespaces=N)
    assert reason == "No suitable tenders were received."

    details = after(
        award_job(config, tender, CHANNEL, NoticeKind.CONTRACT_DETAILS, award=award),
        advert,
        sent(decision, rendered, awarded),
    )
    signed = adapter.render(details.notice, details.context)
    assert signed.target == live.remote_id
    contracted = _until_live(adapter, adapter.submit(signed, details.context.key))
    assert (contracted.remote_id, contracted.status) == (live.remote_id, "Published")

    # The portal's own rule: a contract only for a lot the award awarded.
    root = parse(signed.body)
    root.find("n:ExternalReference", N).text = "another-reference"  # type: ignore[union-attr]
    root.find("n:Part", N).text = "lot-2"  # type: ignore[union-attr]
    root.find("n:Contracts/n:Contract/n:LotNumber", N).text = "2"  # type: ignore[union-attr]
    root.find("n:Contracts/n:Contract/n:LotTitle", N).text = tender.lots[1].title  # type: ignore[union-attr]
    with pytest.raises(RejectedError) as caught:
        adapter.submit(replace(signed, body=etree.tostring(root)), "unused")
    assert caught.value.status_code == 422
    assert caught.value.reasons == ["Contracts/Contract/LotNumber: lot 2 was not awarded"]

    notices = received(sandbox, CHANNEL)
    assert [(n["notice"], n["version"], n["remote_id"], n["status"]) for n in notices] == [
        ("contract", 1, live.remote_id, "published"),
        ("award", 1, live.remote_id, "published"),
        ("contract-details", 1, live.remote_id, "published"),
    ]


def test_contract_details_before_an_award_are_refused(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-software"]
    advert, _ = _published(adapter, render_job(config, tender, CHANNEL))
    details = after(award_job(config, tender, CHANNEL, NoticeKind.CONTRACT_DETAILS), advert)
    with pytest.raises(RejectedError) as caught:
        adapter.submit(adapter.render(details.notice, details.context), details.context.key)
    assert caught.value.status_code == 422
    assert caught.value.reasons == ["the notice has no award; post the award before its contracts"]


@pytest.mark.parametrize("kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION])
def test_a_notice_the_portal_does_not_hold_is_refused(
    sandbox: Sandbox, config: Config, examples: Examples, kind: NoticeKind
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-software"]
    made = (change_job if kind is NoticeKind.CHANGE else cancellation_job)(config, tender, CHANNEL)
    assert made.context.previous is not None
    # The sketched earlier notice names BL-2026-0000nn, which this fresh sandbox never issued.
    with pytest.raises(RejectedError) as caught:
        adapter.submit(adapter.render(made.notice, made.context), "unused")
    assert caught.value.status_code == 404
    assert caught.value.reasons == [f"no notice {made.context.previous.remote_id}"]
    assert received(sandbox, CHANNEL) == []


def test_an_update_must_be_a_later_version_of_the_same_tender_posted_where_it_belongs(
    sandbox: Sandbox, config: Config, examples: Examples
) -> None:
    adapter = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-software"]
    first = render_job(config, tender, CHANNEL)
    advert, live = _published(adapter, first)
    change = after(change_job(config, tender, CHANNEL), advert)
    amended = adapter.render(change.notice, change.context)

    def refused(body: bytes, operation: str | None = "update", target: str | None = live.remote_id) -> str:
        with pytest.raises(RejectedError) as caught:
            adapter.submit(Rendered(body, amended.media_type, operation=operation, target=target), "unused")
        assert caught.value.status_code == 422
        return " ".join(caught.value.reasons)

    assert "takes a TenderNotice, not a TenderNoticeUpdate" in refused(
        amended.body, operation=None, target=None
    )
    root = parse(amended.body)
    root.find("n:ExternalReference", N).text = "other-key"  # type: ignore[union-attr]
    root.find("n:Version", N).text = "1"  # type: ignore[union-attr]
    assert "at version 1" in refused(etree.tostring(root))
    root.find("n:Version", N).text = "2"  # type: ignore[union-attr]
    root.find("n:BuyerReference", N).text = "OTHER-1"  # type: ignore[union-attr]
    assert "is NORTHANTS-2026-0058, not OTHER-1" in refused(etree.tostring(root))
    assert [(n["notice"], n["version"]) for n in received(sandbox, CHANNEL)] == [("contract", 1)]
    adapter.submit(amended, "unused")
    assert [(n["notice"], n["version"]) for n in received(sandbox, CHANNEL)] == [
        ("contract", 1),
        ("change", 2),
    ]
