"""What a worker process needs, built once per process on first use (after the prefork fork,
so no database connection is ever shared between processes)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from celery import Celery

from syndicator.channel.base import Channel
from syndicator.channel.registry import build_channels, section_settings
from syndicator.config.settings import Config, Settings, load_config
from syndicator.engine.alerts import AlertSettings
from syndicator.engine.dispatch import Dispatcher
from syndicator.engine.sweeper import Sweeper
from syndicator.runtime.celeryapp import DELIVER, POLL, QUEUE
from syndicator.runtime.logs import configure_logging
from syndicator.runtime.wiring import Store, open_store


@dataclass
class Runtime:
    """A worker process's store, channels, dispatcher and sweeper."""

    settings: Settings
    config: Config
    store: Store
    channels: dict[str, Channel]
    dispatcher: Dispatcher
    sweeper: Sweeper
    pid: int = 0

    def close(self) -> None:
        """Release threads, connections and sessions."""
        self.dispatcher.close()
        for channel in self.channels.values():
            channel.close()
        self.store.dispose()


def sender(app: Celery, task: str):
    """A function that enqueues one message of delivery ids for `task`."""

    def enqueue(ids: list[int]) -> None:
        app.send_task(
            task,
            args=[list(ids)],
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        )

    return enqueue


def build_runtime(app: Celery) -> Runtime:
    """Everything a worker process needs, from the app's settings."""
    settings: Settings = app.syndicator_settings
    configure_logging(settings)
    config = load_config(settings)
    concurrency = config.channels.engine.concurrency
    store = open_store(settings, auto_upgrade="empty", **_pool_options(settings, concurrency))
    channels = build_channels(config)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    send, poll = sender(app, DELIVER), sender(app, POLL)
    dispatcher = Dispatcher(store, config, channels, owner=owner, enqueue=send)
    deduplicating = {name for name, channel in channels.items() if channel.capabilities.deduplicates}
    sweeper = Sweeper(
        store,
        config,
        deduplicating,
        send=send,
        poll=poll,
        alerts=alert_settings(config),
        backlog=lambda: queue_depth(app),
    )
    return Runtime(settings, config, store, channels, dispatcher, sweeper)


def queue_depth(app: Celery) -> int:
    """Messages waiting in the syndicator queue (the broker's own count)."""
    with app.connection_for_write() as connection:
        return int(connection.default_channel.queue_declare(QUEUE, passive=True).message_count)


def alert_settings(config: Config) -> AlertSettings | None:
    """The active profile's alert e-mail settings, if it has an `alerts` section."""
    if "alerts" not in config.channels.profile_sections(config.profile):
        return None
    return section_settings(config, "alerts", AlertSettings)


def _pool_options(settings: Settings, concurrency: int) -> dict[str, object]:
    if settings.database_url.startswith("sqlite"):
        return {}
    return {"pool_size": concurrency + 2, "max_overflow": concurrency}
