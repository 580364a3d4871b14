"""One fault-injection suite run against every HTTP channel over real HTTP: each fault mode
maps to its error class, a fault is used up by one request, and a time-out's retry is
de-duplicated by the channel (one advert, received twice). Channel-specific refusals are
tested in each channel's own file."""

from __future__ import annotations

import pytest

from syndicator.channel.base import (
    AuthError,
    Channel,
    ChannelError,
    OutcomeUnknown,
    RateLimited,
    RejectedError,
    Rendered,
    TransientError,
)
from syndicator.config.settings import Config
from syndicator.domain.tender import Tender
from syndicator.sandbox.server import Sandbox
from tests.conftest import contract, render_context, routed_examples
from tests.integration.conftest import adapter_for, inject, received

pytestmark = pytest.mark.timeout(60)
HTTP = ["crystal", "bluelight", "source-east-midlands", "ted"]
MODES = [
    ("error-503", TransientError),
    ("rate-limit-429", RateLimited),
    ("reject-422", RejectedError),
    ("down", OutcomeUnknown),  # the sandbox resets the connection after the request head
    ("auth-401", AuthError),
    ("auth-403", AuthError),
]


def first_notice(
    adapter: Channel, config: Config, examples: dict[str, Tender], channel: str
) -> tuple[Rendered, str]:
    """The first shipped example routed to `channel`, rendered, and its delivery key."""
    _, tender, destination = routed_examples(config, examples, channel)[0]
    context = render_context(config, tender, destination)
    return adapter.render(contract(tender), context), context.key


# TED answers a rejection as a validation failure it keeps (its own test covers that).
CASES = [(c, m, e) for c in HTTP for m, e in MODES if (c, m) != ("ted", "reject-422")]


@pytest.mark.parametrize(("channel", "mode", "error"), CASES, ids=[f"{c}-{m}" for c, m, _ in CASES])
def test_each_fault_maps_to_its_error_and_is_used_up(
    sandbox: Sandbox,
    config: Config,
    examples: dict[str, Tender],
    channel: str,
    mode: str,
    error: type[ChannelError],
) -> None:
    adapter = adapter_for(config, sandbox, channel)
    rendered, key = first_notice(adapter, config, examples, channel)
    inject(sandbox, channel, mode, retry_after=4)
    with pytest.raises(error) as caught:
        adapter.submit(rendered, key)
    assert type(caught.value) is error
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 4
    if isinstance(caught.value, AuthError):
        assert caught.value.status_code == int(mode[-3:])
        assert "injected fault" in (caught.value.excerpt or ""), "the channel's own error body"
    if isinstance(caught.value, RejectedError):
        assert "injected fault" in " ".join([caught.value.message, *caught.value.reasons])
    assert received(sandbox, channel) == [], "a refused request must leave nothing behind"
    adapter.submit(rendered, key)  # the fault was used up: this one is accepted
    assert len(received(sandbox, channel)) == 1


@pytest.mark.parametrize("channel", HTTP)
def test_a_time_out_is_an_unknown_outcome_and_the_retry_is_deduplicated(
    sandbox: Sandbox, config: Config, examples: dict[str, Tender], channel: str
) -> None:
    adapter = adapter_for(config, sandbox, channel, read_timeout=0.5)
    rendered, key = first_notice(adapter, config, examples, channel)
    inject(sandbox, channel, "timeout", delay=1.5)
    with pytest.raises(OutcomeUnknown):
        adapter.submit(rendered, key)
    retried = adapter.submit(rendered, key)
    (notice,) = received(sandbox, channel)
    assert (notice["times_received"], notice["copies"]) == (2, 1)
    assert retried.remote_id == notice["remote_id"]


@pytest.mark.parametrize("channel", ["bluelight", "source-east-midlands", "ted"])
def test_a_fault_applies_to_status_checks_too(
    sandbox: Sandbox, config: Config, examples: dict[str, Tender], channel: str
) -> None:
    adapter = adapter_for(config, sandbox, channel)
    rendered, key = first_notice(adapter, config, examples, channel)
    receipt = adapter.submit(rendered, key)
    assert not receipt.live
    inject(sandbox, channel, "auth-403")
    with pytest.raises(AuthError):
        adapter.poll(receipt)  # a status check is a request to the channel like any other
    adapter.poll(receipt)  # used up
