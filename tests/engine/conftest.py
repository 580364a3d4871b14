"""An in-process engine: the real dispatcher and sweeper over the real store, with scripted
channels and a clock the test moves."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select

from syndicator.config.settings import Config
from syndicator.domain.notices import Carrier
from syndicator.engine.dispatch import Dispatcher
from syndicator.engine.sweeper import Sweeper
from syndicator.intake.records import read_bytes
from syndicator.intake.submit import submit
from syndicator.runtime.wiring import Store, tender_context
from syndicator.store.models import AttemptRow, DeliveryRow
from tests.engine.fakes import FakeClock, ScriptedChannel

NAMES = [
    "crystal",
    "bluelight",
    "source-east-midlands",
    "ted",
    "find-a-tender",
    "contracts-finder",
    "trade-press",
]


@dataclass
class Engine:
    store: Store
    config: Config
    clock: FakeClock
    channels: dict[str, ScriptedChannel]
    dispatcher: Dispatcher
    sweeper: Sweeper
    sent: list[list[int]] = field(default_factory=list)
    polled: list[list[int]] = field(default_factory=list)

    def submit(self, *records: dict) -> list[int]:
        parsed, problems = read_bytes(
            json.dumps(list(records)).encode(), tender_context(self.config, date(2026, 11, 26))
        )
        assert not problems, problems
        queued: list[int] = []
        submit(
            self.store.sessions,
            parsed,
            self.config.policy,
            self.config.thresholds,
            "tester",
            self.clock(),
            lambda ids: queued.extend(ids),
            carriers=self.carriers,
        )
        return queued

    def carriers(self, destination: str) -> Carrier:
        """What the scripted channel serving `destination` declares."""
        channel = self.channels[destination.split(":", 1)[0]]
        return Carrier(channel.notices, channel.capabilities.stops_unpublished)

    def run(self, rounds: int = 20) -> None:
        """Sweep and work until nothing is queued (time does not move)."""
        for _ in range(rounds):
            self.sweeper.sweep()
            if not self.sent and not self.polled:
                return
            while self.sent:
                self.dispatcher.deliver(self.sent.pop(0))
            while self.polled:
                self.dispatcher.poll(self.polled.pop(0))

    def deliveries(self) -> dict[str, DeliveryRow]:
        with self.store.sessions() as session:
            return {
                row.destination: row for row in session.scalars(select(DeliveryRow).order_by(DeliveryRow.id))
            }

    def delivery(self, destination: str) -> DeliveryRow:
        return self.deliveries()[destination]

    def attempts(self, delivery_id: int) -> list[AttemptRow]:
        with self.store.sessions() as session:
            return list(
                session.scalars(
                    select(AttemptRow).where(AttemptRow.delivery_id == delivery_id).order_by(AttemptRow.id)
                )
            )


def make_engine(
    store: Store,
    config: Config,
    clock: FakeClock,
    channels: dict[str, ScriptedChannel],
    owner: str = "test:1",
) -> Engine:
    engine = Engine(store, config, clock, channels, None, None)  # type: ignore[arg-type]
    engine.dispatcher = Dispatcher(
        store,
        config,
        channels,
        owner=owner,
        clock=clock,
        enqueue=engine.sent.append,
        rng=random.Random(7),
    )
    dedupe = {name for name, channel in channels.items() if channel.capabilities.deduplicates}
    engine.sweeper = Sweeper(
        store,
        config,
        dedupe,
        send=engine.sent.append,
        poll=engine.polled.append,
        clock=clock,
        carriers=engine.carriers,
    )
    return engine


@pytest.fixture
def channels() -> dict[str, ScriptedChannel]:
    return {
        "crystal": ScriptedChannel("crystal"),
        "bluelight": ScriptedChannel("bluelight", polls=True),
        "source-east-midlands": ScriptedChannel("source-east-midlands", polls=True),
        "ted": ScriptedChannel("ted", polls=True),
        "find-a-tender": ScriptedChannel("find-a-tender", polls=True),
        "contracts-finder": ScriptedChannel("contracts-finder"),
        "trade-press": ScriptedChannel("trade-press", deduplicates=False),
    }


@pytest.fixture
def engine(store: Store, config: Config, channels: dict[str, ScriptedChannel]) -> Iterator[Engine]:
    built = make_engine(store, config, FakeClock(), channels)
    yield built
    built.dispatcher.close()
