"""The Crystal adapter against the running sandbox, over real HTTP: every routed example is
published and read back, a tender's whole life (contract, change, cancellation) reaches the
same opportunity, an award and its contract details follow the advert on the same opportunity,
a change of an opportunity Crystal does not hold is refused, refusals map to their error class,
and a repeat is de-duplicated."""

from __future__ import annotations

import json

import pytest
import requests

from syndicator.channel.base import (
    AuthError,
    Channel,
    RejectedError,
    Rendered,
)
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Tender
from syndicator.sandbox.server import Sandbox
from tests.channels.awards import award_of, not_awarded
from tests.channels.lifecycle import after, award_job, cancellation_job, change_job, sent
from tests.conftest import contract, render_context, render_job, routed_examples
from tests.integration.conftest import adapter_for, received, sandbox_url

Examples = dict[str, Tender]
pytestmark = pytest.mark.timeout(60)  # a hung socket fails the test, not the run


def _rendered(channel: Channel, config: Config, tender: Tender) -> tuple[Rendered, str]:
    context = render_context(config, tender, "crystal")
    return channel.render(contract(tender), context), context.key


def test_every_routed_example_is_published_and_served(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    routed = routed_examples(config, examples, "crystal")
    assert len(routed) == 8  # the framework call-off (no deadline) and both legacy examples included
    published = {}
    for _, tender, _ in routed:
        rendered, key = _rendered(channel, config, tender)
        receipt = channel.submit(rendered, key)
        assert receipt.live is True and receipt.status_code == 201
        assert receipt.remote_id is not None and receipt.remote_id.startswith("CRY-")
        assert receipt.url is not None
        public = requests.get(receipt.url, timeout=5)
        assert public.status_code == 200
        assert public.json() == json.loads(rendered.body)
        published[key] = (tender.reference, receipt.remote_id, receipt.url)
    notices = received(sandbox, "crystal")
    assert {n["key"]: (n["tender_reference"], n["remote_id"], n["url"]) for n in notices} == published
    assert all(n["status"] == "published" and n["times_received"] == 1 for n in notices)
    assert {(n["notice"], n["version"]) for n in notices} == {("contract", 1)}


def test_a_repeat_is_one_opportunity_received_twice(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    rendered, key = _rendered(channel, config, examples["it-software"])
    first, second = channel.submit(rendered, key), channel.submit(rendered, key)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.remote_id == second.remote_id and second.live is True
    (notice,) = received(sandbox, "crystal")
    assert (notice["times_received"], notice["copies"]) == (2, 1)


def test_a_wrong_token_is_an_auth_error(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = adapter_for(config, sandbox, "crystal", token="not-the-token")
    rendered, key = _rendered(channel, config, examples["it-software"])
    with pytest.raises(AuthError):
        channel.submit(rendered, key)
    assert received(sandbox, "crystal") == []


def test_schema_errors_are_rejected_and_a_corrected_resend_is_accepted(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    rendered, key = _rendered(channel, config, examples["anpr-cameras"])
    broken = json.loads(rendered.body)
    broken["value"]["amount"] = "380000.5"
    broken["submission_deadline"] = None
    with pytest.raises(RejectedError) as caught:
        channel.submit(Rendered(json.dumps(broken).encode(), rendered.media_type), key)
    assert caught.value.status_code == 422
    assert any(reason.startswith("value.amount: ") for reason in caught.value.reasons)
    assert any(reason.startswith("submission_deadline: ") for reason in caught.value.reasons)
    assert received(sandbox, "crystal") == []  # a refusal does not use up the key
    assert channel.submit(rendered, key).status_code == 201


def test_the_simulator_insists_on_an_idempotency_key(config: Config, sandbox: Sandbox) -> None:
    answer = requests.post(
        sandbox_url(sandbox) + "/crystal/api/v1/opportunities",
        data=b"{}",
        headers={
            "Authorization": f"Bearer {sandbox.config.crystal_token}",
            "Content-Type": "application/json",
        },
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_tenders_whole_life_reaches_the_same_opportunity(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, "crystal")
    advert = channel.render(first.notice, first.context)
    published = channel.submit(advert, first.context.key)
    assert published.remote_id is not None and published.url is not None
    contract_ref = sent(first, advert, published)

    change = after(change_job(config, tender, "crystal"), contract_ref)
    amended = channel.render(change.notice, change.context)
    assert amended.target == published.remote_id
    updated = channel.submit(amended, change.context.key)
    assert (updated.remote_id, updated.live, updated.status, updated.status_code) == (
        published.remote_id,
        True,
        "live",
        200,
    )
    page = requests.get(published.url, timeout=5)
    assert page.status_code == 200 and page.json()["version"] == 2
    assert page.json()["submission_deadline"] == "2027-01-22T12:00:00Z"

    withdrawal = after(
        cancellation_job(config, tender, "crystal"), contract_ref, sent(change, amended, updated)
    )
    withdrawn = channel.submit(channel.render(withdrawal.notice, withdrawal.context), withdrawal.context.key)
    assert (withdrawn.remote_id, withdrawn.live, withdrawn.status) == (published.remote_id, True, "withdrawn")
    page = requests.get(published.url, timeout=5)
    assert page.status_code == 410
    assert page.json()["status"] == "withdrawn" and page.json()["reason"] == withdrawal.notice.reason

    notices = received(sandbox, "crystal")
    assert [(n["notice"], n["version"], n["remote_id"], n["key"]) for n in notices] == [
        ("contract", 1, published.remote_id, first.context.key),
        ("change", 2, published.remote_id, change.context.key),
        ("cancellation", 2, published.remote_id, withdrawal.context.key),
    ]
    with pytest.raises(RejectedError, match="withdrawn"):  # a withdrawn opportunity stays so
        later = after(change_job(config, tender, "crystal", reason="again"), contract_ref)
        channel.submit(channel.render(later.notice, later.context), "another-key")


@pytest.mark.parametrize("kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION])
def test_a_notice_for_an_opportunity_crystal_does_not_hold_is_refused(
    config: Config, examples: Examples, sandbox: Sandbox, kind: NoticeKind
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    tender = examples["it-software"]
    made = (
        change_job(config, tender, "crystal")
        if kind is NoticeKind.CHANGE
        else cancellation_job(config, tender, "crystal")
    )
    assert made.context.previous is not None
    # The sketched earlier notice names CRY-0000nn, which this fresh sandbox never issued.
    with pytest.raises(RejectedError) as caught:
        channel.submit(channel.render(made.notice, made.context), made.context.key)
    assert caught.value.status_code == 404
    assert caught.value.reasons == [f"id: no opportunity {made.context.previous.remote_id}"]
    assert received(sandbox, "crystal") == []


def test_a_change_is_deduplicated_and_an_older_version_refused(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    tender = examples["it-software"]
    first = render_job(config, tender, "crystal")
    advert = channel.render(first.notice, first.context)
    contract_ref = sent(first, advert, channel.submit(advert, first.context.key))
    change = after(change_job(config, tender, "crystal"), contract_ref)
    amended = channel.render(change.notice, change.context)
    once, twice = channel.submit(amended, change.context.key), channel.submit(amended, change.context.key)
    assert once == twice
    stale = channel.render(first.notice, first.context)  # version 1 again, as an update
    with pytest.raises(RejectedError) as caught:
        channel.submit(
            Rendered(stale.body, stale.media_type, operation="update", target=once.remote_id), "k2"
        )
    assert caught.value.status_code == 422
    assert any(reason.startswith("amendment: is required") for reason in caught.value.reasons)
    body = json.loads(amended.body)
    body["version"] = 2
    with pytest.raises(RejectedError, match="at version 2"):
        channel.submit(
            Rendered(
                json.dumps(body).encode(), amended.media_type, operation="update", target=once.remote_id
            ),
            "k3",
        )
    notices = received(sandbox, "crystal")
    assert [(n["notice"], n["version"], n["times_received"]) for n in notices] == [
        ("contract", 1, 1),
        ("change", 2, 2),
    ]


def test_an_award_and_its_contract_details_reach_the_opportunity(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    tender = examples["it-software"]  # two lots: the first awarded and signed, the second not
    first = render_job(config, tender, "crystal")
    advert = channel.render(first.notice, first.context)
    published = channel.submit(advert, first.context.key)
    assert published.remote_id is not None and published.url is not None
    contract_ref = sent(first, advert, published)
    award = not_awarded(award_of(tender, signed=True), 2, "no-tenders")

    decision = after(award_job(config, tender, "crystal", award=award), contract_ref)
    rendered = channel.render(decision.notice, decision.context)
    assert rendered.target == published.remote_id
    awarded = channel.submit(rendered, decision.context.key)
    assert (awarded.remote_id, awarded.live, awarded.status, awarded.status_code) == (
        published.remote_id,
        True,
        "awarded",
        200,
    )
    page = requests.get(published.url + "/award", timeout=5)
    assert page.status_code == 200 and page.json() == {"award": json.loads(rendered.body), "contracts": []}
    assert page.json()["award"]["lots"][1]["reason"]["text"] == "No tenders were received."

    details = after(
        award_job(config, tender, "crystal", NoticeKind.CONTRACT_DETAILS, award=award),
        contract_ref,
        sent(decision, rendered, awarded),
    )
    signed = channel.render(details.notice, details.context)
    assert signed.target == published.remote_id
    receipt = channel.submit(signed, details.context.key)
    assert (receipt.remote_id, receipt.live, receipt.status) == (published.remote_id, True, "awarded")
    page = requests.get(published.url + "/award", timeout=5)
    assert page.json()["contracts"] == [json.loads(signed.body)]
    advertised = requests.get(published.url, timeout=5)  # the advert itself stays as it was
    assert advertised.status_code == 200 and advertised.json() == json.loads(advert.body)

    # A contract for the lot that was not awarded is refused by Crystal's own rule.
    other = json.loads(signed.body)
    other["part"], other["contracts"][0]["lot"] = "lot-2", 2
    with pytest.raises(RejectedError) as caught:
        channel.submit(
            Rendered(
                json.dumps(other).encode(),
                signed.media_type,
                operation="contracts",
                target=published.remote_id,
            ),
            "another-key",
        )
    assert caught.value.reasons == ["contracts[0].lot: lot 2 was not awarded"]

    notices = received(sandbox, "crystal")
    assert [(n["notice"], n["version"], n["remote_id"], n["status"]) for n in notices] == [
        ("contract", 1, published.remote_id, "published"),
        ("award", 1, published.remote_id, "published"),
        ("contract-details", 1, published.remote_id, "published"),
    ]


def test_contract_details_before_an_award_are_refused(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, "crystal")
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, "crystal")
    advert = channel.render(first.notice, first.context)
    contract_ref = sent(first, advert, channel.submit(advert, first.context.key))
    details = after(award_job(config, tender, "crystal", NoticeKind.CONTRACT_DETAILS), contract_ref)
    with pytest.raises(RejectedError) as caught:
        channel.submit(channel.render(details.notice, details.context), details.context.key)
    assert caught.value.status_code == 422
    assert caught.value.reasons == [
        f"id: opportunity {contract_ref.remote_id} has no award; award it before its contracts"
    ]
