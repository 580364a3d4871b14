"""The Bluelight adapter against the running sandbox, over real HTTP: every routed example is
accepted, published and read back, every fault maps to its error class, a repeat is
de-duplicated, and the simulator's own validation refuses a tampered notice."""

from __future__ import annotations

import time

import pytest
import requests
from lxml import etree

from channels.bluelight import NOTICE_NS
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
from syndicator.domain.tender import Tender
from syndicator.sandbox.server import Sandbox
from tests.conftest import contract, render_context, routed_examples
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
