"""The contract every channel adapter keeps (ARCHITECTURE.md section 5), run against all of
them: registered explicitly, deterministic rendering, our key sent on the wire, and secrets
never in a rendered notice, an error, an excerpt, a log line or the redacted description."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

import pytest
import requests
import structlog

import channels
from syndicator.channel.base import Channel, ChannelError
from syndicator.channel.http import HttpChannel, Response, function_session
from syndicator.channel.registry import ADAPTERS, build_channel, channel_class, env_name
from syndicator.config.settings import Config
from syndicator.domain.keys import ted_notice_id
from syndicator.domain.tender import Tender
from syndicator.routing.policy import route
from tests.conftest import render_context

FAMILIES = sorted(ADAPTERS)
SECRET = "zz-SECRET-{}-9f3a1c"


def secret_fields(cls: type[Channel]) -> list[str]:
    return [
        name for name, info in cls.settings_model.model_fields.items() if "SecretStr" in str(info.annotation)
    ]


def adapter(config: Config, family: str, session: requests.Session | None = None) -> Channel:
    """The adapter from the sandbox profile, with a distinctive value in every secret field."""
    cls = channel_class(family)
    environ = {env_name(family, name): SECRET.format(name) for name in secret_fields(cls)}
    options = {"session": session} if session is not None and issubclass(cls, HttpChannel) else {}
    return build_channel(config, family, environ, **options)


def first_routed(config: Config, examples: dict[str, Tender], family: str) -> tuple[Tender, str]:
    for tender in examples.values():
        for destination in route(tender, config.policy, config.thresholds).names():
            if destination.split(":", 1)[0] == family:
                return tender, destination
    raise AssertionError(f"no example goes to {family}")


def test_every_channel_module_is_registered() -> None:
    modules = {info.name for info in pkgutil.iter_modules(channels.__path__) if not info.name.startswith("_")}
    registered = {target.split(":")[0].removeprefix("channels.") for target in ADAPTERS.values()}
    helpers = {name for name in modules if not _defines_channel(name)}
    assert modules - helpers == registered, (
        "a channel module is missing from syndicator.channel.registry.ADAPTERS"
    )


def _defines_channel(module_name: str) -> bool:
    module = importlib.import_module(f"channels.{module_name}")
    return any(
        isinstance(value, type) and issubclass(value, Channel) and value.__module__ == module.__name__
        for value in vars(module).values()
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_registered_classes_declare_what_the_engine_needs(family: str) -> None:
    cls = channel_class(family)
    assert cls.name == family
    assert isinstance(cls.capabilities.deduplicates, bool) and isinstance(cls.capabilities.polls, bool)
    assert cls.poll is not Channel.poll or not cls.capabilities.polls, "a polling channel must implement poll"


@pytest.mark.parametrize("family", FAMILIES)
def test_both_shipped_profiles_configure_every_channel(config: Config, family: str) -> None:
    from dataclasses import replace

    cls = channel_class(family)
    environ = {env_name(family, name): "x" for name in secret_fields(cls)}
    for profile in ("sandbox", "production"):
        build_channel(replace(config, profile=profile), family, environ).close()


@pytest.mark.parametrize("family", FAMILIES)
def test_rendering_is_deterministic(config: Config, examples: dict[str, Tender], family: str) -> None:
    channel = adapter(config, family)
    for tender in examples.values():
        for destination in route(tender, config.policy, config.thresholds).names():
            if destination.split(":", 1)[0] != family:
                continue
            context = render_context(config, tender, destination)
            assert channel.render(tender, context) == channel.render(tender, context)


@pytest.mark.parametrize("family", FAMILIES)
def test_secrets_never_appear_in_rendered_notices_or_descriptions(
    config: Config, examples: dict[str, Tender], family: str
) -> None:
    channel = adapter(config, family)
    tender, destination = first_routed(config, examples, family)
    rendered = channel.render(tender, render_context(config, tender, destination))
    described = repr(channel.describe())
    for name in secret_fields(type(channel)):
        value = SECRET.format(name)
        assert value.encode() not in rendered.body and value not in str(rendered.headers)
        assert value not in described
        assert "********" in described


HTTP_FAMILIES = [f for f in FAMILIES if issubclass(channel_class(f), HttpChannel)]


def _echo(status: int, seen: list[requests.PreparedRequest]):  # type: ignore[no-untyped-def]
    """A server that answers `status` and echoes the request (credentials included) back."""

    def answer(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        echoed = (str(dict(request.headers)) + "\n").encode() + body[:2000]
        return Response(status, {"Content-Type": "text/plain", "Retry-After": "1"}, echoed)

    return answer


@pytest.mark.parametrize("family", HTTP_FAMILIES)
@pytest.mark.parametrize("status", [400, 401, 403, 422, 429, 500, 503])
def test_secrets_never_leak_through_errors_excerpts_or_logs(
    config: Config, examples: dict[str, Tender], family: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[requests.PreparedRequest] = []
    channel = adapter(config, family, function_session(_echo(status, seen)))
    tender, destination = first_routed(config, examples, family)
    rendered = channel.render(tender, render_context(config, tender, destination))
    captured: list[Any] = []
    structlog.configure(
        processors=[
            lambda _l, _m, event: captured.append(event) or event,
            structlog.processors.KeyValueRenderer(),
        ]
    )
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(ChannelError) as raised:
            channel.submit(rendered, render_context(config, tender, destination).key)
    finally:
        structlog.reset_defaults()
    assert seen, "the adapter sent nothing"
    error = raised.value
    shown = " ".join(
        [
            error.message,
            error.excerpt or "",
            " ".join(getattr(error, "reasons", [])),
            caplog.text,
            repr(captured),
        ]
    )
    for name in secret_fields(type(channel)):
        assert SECRET.format(name) not in shown, f"{family} leaked {name} on HTTP {status}"


@pytest.mark.parametrize("family", HTTP_FAMILIES)
def test_the_key_is_sent(config: Config, examples: dict[str, Tender], family: str) -> None:
    seen: list[requests.PreparedRequest] = []
    channel = adapter(config, family, function_session(_echo(503, seen)))
    tender, destination = first_routed(config, examples, family)
    context = render_context(config, tender, destination)
    with pytest.raises(ChannelError):
        channel.submit(channel.render(tender, context), context.key)
    request = seen[0]
    wire = str(dict(request.headers)) + (
        request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
    )
    identity = ted_notice_id(context.key) if family == "ted" else context.key
    assert identity in wire


def test_trade_press_carries_the_key_in_its_message_id(config: Config, examples: dict[str, Tender]) -> None:
    channel = adapter(config, "trade-press")
    tender, destination = first_routed(config, examples, "trade-press")
    context = render_context(config, tender, destination)
    rendered = channel.render(tender, context).text()
    assert f"Message-ID: <{context.key}@" in rendered


@pytest.mark.parametrize(
    "family", [f for f in FAMILIES if f != "trade-press"]
)  # adverts state the value as given
def test_a_different_vat_rate_changes_stated_net_values(config: Config, family: str) -> None:
    from dataclasses import replace
    from decimal import Decimal

    from tests.unit.records_factory import record

    data = record(
        estimated_value={"amount": "600000.00", "currency": "GBP", "vat_included": True},
        procedure="framework-call-off" if family == "crystal" else "open",
    )
    tender = Tender.model_validate(data)
    channel = adapter(config, family)
    base = render_context(config, tender, family)
    standard = channel.render(tender, base).body
    other = channel.render(tender, replace(base, vat_rate=Decimal("0.25"))).body
    assert b"500000" in standard.replace(b",", b"") and b"480000" in other.replace(b",", b"")
