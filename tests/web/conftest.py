"""The web application over the real store (SQLite and PostgreSQL), with the engine driven in
process: scripted channels, a clock the test moves, and an enqueue that records ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from syndicator.channel.base import OutcomeUnknown, RejectedError
from syndicator.config.settings import Config, Settings
from syndicator.runtime.wiring import Store
from syndicator.web.app import create_app
from syndicator.web.options import WebOptions
from syndicator.web.tokens import create_token
from tests.engine.conftest import Engine, make_engine
from tests.engine.fakes import FakeClock, ScriptedChannel
from tests.unit.records_factory import valued

# Routed to crystal only: the smallest tender that reaches a channel.
CRYSTAL_ONLY = valued("60000", procedure="framework-call-off", submission_deadline=...)
NAMES = {"viewer": "vera.viewer", "operator": "otto.operator", "admin": "ada.admin"}


def crystal_only(reference: str, **changes: object) -> dict:
    """A crystal-only tender with its own reference."""
    return CRYSTAL_ONLY | {"reference": reference} | changes


@dataclass
class Site:
    """A running web application and what the tests drive it with."""

    client: TestClient
    store: Store
    config: Config
    clock: FakeClock
    engine: Engine
    channels: dict[str, ScriptedChannel]
    queued: list[list[int]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        """The Authorization header of the token with `role`."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def queued_ids(self) -> list[int]:
        """Every delivery id enqueued so far, flattened."""
        return [i for batch in self.queued for i in batch]

    def failed(self, reference: str = "FAIL-1") -> int:
        """A crystal delivery the channel rejected: state failed. Returns its id."""
        self.channels["crystal"].sends.append(RejectedError("field 'lots' refused", status_code=422))
        [delivery_id] = self.engine.submit(crystal_only(reference))
        self.engine.dispatcher.deliver([delivery_id])
        return delivery_id

    def unknown(self, reference: str = "UNKNOWN-1") -> int:
        """A crystal delivery whose outcome is unknown: state needs_reconcile. Returns its id."""
        self.channels["crystal"].sends.append(OutcomeUnknown("read timed out", status_code=None))
        [delivery_id] = self.engine.submit(crystal_only(reference))
        self.engine.dispatcher.deliver([delivery_id])
        return delivery_id

    def published(self, reference: str = "OK-1") -> int:
        """A crystal delivery that went live at once. Returns its id."""
        [delivery_id] = self.engine.submit(crystal_only(reference))
        self.engine.dispatcher.deliver([delivery_id])
        return delivery_id

    def run_queued(self) -> None:
        """Deliver what the web application enqueued (a worker would)."""
        while self.queued:
            self.engine.dispatcher.deliver(self.queued.pop(0))

    def sign_in(self, role: str) -> str:
        """Sign the test client in through the form; returns the session's CSRF token."""
        page = self.client.get("/signin")
        signin_token = form_value(page.text, "signin_token")
        answer = self.client.post(
            "/signin",
            data={"token": self.tokens[role], "signin_token": signin_token, "next": "/"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return form_value(self.client.get("/").text, "csrf_token")


def form_value(html: str, name: str) -> str:
    """The value of the first hidden input called `name`."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no input {name!r} in the page"
    return found.group(1)


def build_channels() -> dict[str, ScriptedChannel]:
    """Scripted channels; crystal does not de-duplicate, so an unknown outcome needs reconciling."""
    return {
        "crystal": ScriptedChannel("crystal", deduplicates=False),
        "bluelight": ScriptedChannel("bluelight", polls=True),
        "source-east-midlands": ScriptedChannel("source-east-midlands", polls=True),
        "ted": ScriptedChannel("ted", polls=True),
        "find-a-tender": ScriptedChannel("find-a-tender", polls=True),
        "contracts-finder": ScriptedChannel("contracts-finder"),
        "trade-press": ScriptedChannel("trade-press", deduplicates=False),
    }


def build_site(store: Store, config: Config, **options: object) -> Site:
    """A site over `store` with one token per role."""
    clock = FakeClock()
    channels = build_channels()
    engine = make_engine(store, config, clock, channels)
    queued: list[list[int]] = []
    app = create_app(
        Settings(database_url="sqlite://", _env_file=None),  # type: ignore[call-arg]
        store=store,
        config=config,
        enqueue=queued.append,
        clock=clock,
        options=WebOptions(_env_file=None, **options),  # type: ignore[call-arg]
    )
    site = Site(TestClient(app), store, config, clock, engine, channels, queued)
    for role, name in NAMES.items():
        _, token = create_token(store.sessions, name, role, clock())
        site.tokens[role] = token
    return site


@pytest.fixture
def site(store: Store, config: Config) -> Iterator[Site]:
    """The web application over an empty store, with viewer, operator and admin tokens."""
    built = build_site(store, config)
    yield built
    built.engine.dispatcher.close()
