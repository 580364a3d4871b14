"""The Source East Midlands adapter against the running sandbox, over real HTTP: every routed
example is accepted, published and read back, every fault maps to its error class, a repeat is
de-duplicated, and the simulator's own OCDS validation refuses a tampered package."""

from __future__ import annotations

import json
import time
from typing import Any

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
from syndicator.domain.tender import Tender
from syndicator.sandbox.server import Sandbox
from tests.conftest import contract, render_context, routed_examples
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
    elif change == "award-tag":
        release["tag"] = ["award"]
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
        ("award-tag", "releases: send exactly one release"),
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
