"""The contract every channel adapter keeps (ARCHITECTURE.md section 5), as mixins each
channel's test module instantiates with its family name:

    class TestContract(HttpChannelContract):
        family = "crystal"

`ChannelContract`: registered and declared, configured by both shipped profiles, every
declared notice kind renders deterministically, an undeclared kind is refused, secrets never
appear in a rendered notice or the redacted description, a different VAT rate changes the
stated net values. `HttpChannelContract` adds: the identity derived from our key travels on the
wire, and secrets never leak through errors, excerpts or log lines, whatever the status.
A channel's own test module keeps only what is specific to that channel. Three hooks let a
channel adjust what the contract renders and reads, never what it asserts: `cases` (the
examples rendered; by default those routed to the family), `job` (the engine's notice and
context) and `wire` (a request as text, for a channel whose body is encoded).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

import pytest
import requests
import structlog

from syndicator.channel.base import Channel, ChannelError, RenderError
from syndicator.channel.http import HttpChannel, Response, function_session
from syndicator.channel.registry import build_channel, channel_class, env_name
from syndicator.config.settings import Config
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from syndicator.routing.destinations import route
from tests.channels.awards import award_options
from tests.conftest import render_job

SECRET = "zz-SECRET-{}-9f3a1c"
STATUSES = [400, 401, 403, 422, 429, 500, 503]


def secret_fields(cls: type[Channel]) -> list[str]:
    """The settings fields that hold secrets."""
    return [
        name for name, info in cls.settings_model.model_fields.items() if "SecretStr" in str(info.annotation)
    ]


def secret_environ(config: Config, cls: type[Channel], value: str) -> dict[str, str]:
    """Every secret field's variable set to `value` ('{}' is the field's name); a per-buyer
    field's (SYNDICATOR_<FAMILY>_<FIELD>_<BUYER>) for every buyer."""
    environ = {env_name(cls.name, name): value.format(name) for name in secret_fields(cls)}
    for name in cls.settings_model.per_buyer:
        environ.update({env_name(cls.name, f"{name}_{b}"): value.format(name) for b in config.buyers.by_id})
    return environ


def adapter(config: Config, family: str, session: requests.Session | None = None) -> Channel:
    """The adapter from the sandbox profile, with a distinctive value in every secret field."""
    cls = channel_class(family)
    environ = secret_environ(config, cls, SECRET)
    options = {"session": session} if session is not None and issubclass(cls, HttpChannel) else {}
    return build_channel(config, family, environ, **options)


def routed(config: Config, examples: dict[str, Tender], family: str) -> list[tuple[Tender, str]]:
    """(tender, destination) for every example routed to the family."""
    return [
        (tender, destination)
        for tender in examples.values()
        for destination in route(tender, config.policy, config.thresholds).names()
        if destination.split(":", 1)[0] == family
    ]


def echo(status: int, seen: list[requests.PreparedRequest]):  # type: ignore[no-untyped-def]
    """A server that answers `status` and echoes the request (credentials included) back."""

    def answer(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        echoed = (str(dict(request.headers)) + "\n").encode() + body[:2000]
        return Response(status, {"Content-Type": "text/plain", "Retry-After": "1"}, echoed)

    return answer


class ChannelContract:
    """What every channel keeps; subclasses set `family`."""

    family: ClassVar[str]
    states_net_values: ClassVar[bool] = True  # trade press states the value as the tender gives it

    def adapt(self, tender: Tender) -> Tender:
        """A made-up tender as this channel carries it (a channel for earlier regimes dates it)."""
        return tender

    def cases(self, config: Config, examples: dict[str, Tender]) -> list[tuple[Tender, str]]:
        """(tender, destination) pairs the contract renders: every example routed to the family."""
        return routed(config, examples, self.family)

    def job(self, config: Config, tender: Tender, destination: str, **options: Any) -> Job:
        """The notice and context the engine would build (`tests.conftest.render_job`). A
        channel whose wire identity a sketch cannot name (it needs the channel's settings, so
        `Channel.names` gives None) overrides this to give the earlier notices the identities
        the engine would have stored when it sent them."""
        return render_job(config, tender, destination, **options)

    def first(self, config: Config, examples: dict[str, Tender]) -> tuple[Tender, str]:
        """The first example routed to this channel, and its destination."""
        found = self.cases(config, examples)
        assert found, f"no example goes to {self.family}"
        return found[0]

    def test_registered_and_declares_what_the_engine_needs(self) -> None:
        cls = channel_class(self.family)
        assert cls.name == self.family and cls.title
        assert isinstance(cls.capabilities.deduplicates, bool) and isinstance(cls.capabilities.polls, bool)
        assert cls.poll is not Channel.poll or not cls.capabilities.polls, (
            "a polling channel must implement poll"
        )
        assert NoticeKind.CONTRACT in cls.notices

    def test_both_shipped_profiles_configure_it(self, config: Config) -> None:
        environ = secret_environ(config, channel_class(self.family), "x")
        for profile in ("sandbox", "production"):
            build_channel(replace(config, profile=profile), self.family, environ).close()

    def test_every_declared_kind_renders_deterministically(
        self, config: Config, examples: dict[str, Tender]
    ) -> None:
        channel = adapter(config, self.family)
        pairs = self.cases(config, examples)
        assert pairs, f"no example goes to {self.family}: nothing would be checked"
        for kind in sorted(channel.notices):
            for tender, destination in pairs:
                options = award_options(tender, kind)
                job = self.job(config, tender, destination, kind=kind, reason="Deadline extended", **options)
                assert channel.render(job.notice, job.context) == channel.render(job.notice, job.context)

    def test_an_undeclared_kind_is_refused(self, config: Config, examples: dict[str, Tender]) -> None:
        channel = adapter(config, self.family)
        tender, destination = self.first(config, examples)
        job = self.job(config, tender, destination)
        for kind in set(NoticeKind) - channel.notices:
            with pytest.raises(RenderError):
                channel.render(Notice(kind, tender), job.context)

    def test_secrets_never_appear_in_notices_or_descriptions(
        self, config: Config, examples: dict[str, Tender]
    ) -> None:
        channel = adapter(config, self.family)
        tender, destination = self.first(config, examples)
        described = repr(channel.describe())
        for kind in channel.notices:
            options = award_options(tender, kind)
            job = self.job(config, tender, destination, kind=kind, reason="Deadline extended", **options)
            rendered = channel.render(job.notice, job.context)
            for name in secret_fields(type(channel)):
                value = SECRET.format(name)
                assert value.encode() not in rendered.body and value not in str(rendered.headers)
        for name in secret_fields(type(channel)):
            assert SECRET.format(name) not in described
            assert "********" in described

    def test_a_different_vat_rate_changes_stated_net_values(self, config: Config) -> None:
        from tests.unit.records_factory import record

        data = record(
            estimated_value={"amount": "600000.00", "currency": "GBP", "vat_included": True},
            procedure="framework-call-off" if self.family == "crystal" else "open",
        )
        tender = self.adapt(Tender.model_validate(data))
        channel = adapter(config, self.family)
        _, destination = self.first(config, self._examples(config))
        job = self.job(config, tender, destination)
        standard = channel.render(job.notice, job.context).body
        other = channel.render(job.notice, replace(job.context, vat_rate=Decimal("0.25"))).body
        if self.states_net_values:
            assert b"500000" in standard.replace(b",", b"") and b"480000" in other.replace(b",", b"")
        else:  # the value as given, whatever the rate
            assert b"600000" in standard.replace(b",", b"") and standard == other

    def _examples(self, config: Config) -> dict[str, Tender]:
        from tests.conftest import load_examples

        return load_examples(config)


class HttpChannelContract(ChannelContract):
    """What every HTTP channel keeps besides."""

    def test_the_identity_derived_from_our_key_is_on_the_wire(
        self, config: Config, examples: dict[str, Tender]
    ) -> None:
        seen: list[requests.PreparedRequest] = []
        channel = adapter(config, self.family, function_session(echo(503, seen)))
        tender, destination = self.first(config, examples)
        job = self.job(config, tender, destination)
        rendered = channel.render(job.notice, job.context)
        with pytest.raises(ChannelError):
            channel.submit(rendered, job.context.key)
        assert rendered.identity is not None and rendered.identity in self.wire(seen[0])
        assert rendered.identity == (channel.names(job.context.key)[0] or rendered.identity)

    def wire(self, request: requests.PreparedRequest) -> str:
        """What a request carries, as text (a channel that encodes its body decodes it here)."""
        body = request.body
        return str(dict(request.headers)) + (
            body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        )

    @pytest.mark.parametrize("status", STATUSES)
    def test_secrets_never_leak_through_errors_excerpts_or_logs(
        self,
        config: Config,
        examples: dict[str, Tender],
        status: int,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        seen: list[requests.PreparedRequest] = []
        channel = adapter(config, self.family, function_session(echo(status, seen)))
        tender, destination = self.first(config, examples)
        job = self.job(config, tender, destination)
        rendered = channel.render(job.notice, job.context)
        captured: list[Any] = []
        structlog.configure(
            processors=[
                lambda _l, _m, event: captured.append(event) or event,
                structlog.processors.KeyValueRenderer(),
            ]
        )
        try:
            with caplog.at_level(logging.DEBUG), pytest.raises(ChannelError) as raised:
                channel.submit(rendered, job.context.key)
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
            assert SECRET.format(name) not in shown, f"{self.family} leaked {name} on HTTP {status}"
