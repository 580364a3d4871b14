"""The Crystal adapter against the running sandbox, over real HTTP: every routed example is
published and read back, every fault maps to its error class, and a repeat is de-duplicated."""

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
from syndicator.domain.tender import Tender
from syndicator.sandbox.server import Sandbox
from tests.conftest import contract, render_context, routed_examples
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
    assert len(routed) == 6  # the framework call-off (no deadline) included
    sent = {}
    for _, tender, _ in routed:
        rendered, key = _rendered(channel, config, tender)
        receipt = channel.submit(rendered, key)
        assert receipt.live is True and receipt.status_code == 201
        assert receipt.remote_id is not None and receipt.remote_id.startswith("CRY-")
        assert receipt.url is not None
        public = requests.get(receipt.url, timeout=5)
        assert public.status_code == 200
        assert public.json() == json.loads(rendered.body)
        sent[key] = (tender.reference, receipt.remote_id, receipt.url)
    notices = received(sandbox, "crystal")
    assert {n["key"]: (n["tender_reference"], n["remote_id"], n["url"]) for n in notices} == sent
    assert all(n["status"] == "published" and n["times_received"] == 1 for n in notices)


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
