"""What a worker process needs, built once per process on first use (after the prefork fork,
so no database connection is ever shared between processes)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from celery import Celery

from syndicator.channel.base import Channel
from syndicator.channel.registry import build_channels, section_settings
from syndicator.config.settings import Config, Settings, load_config
from syndicator.engine.alerts import AlertSettings
from syndicator.engine.dispatch import Dispatcher
from syndicator.engine.flight import Flight
from syndicator.engine.sweeper import Sweeper
from syndicator.runtime.celeryapp import DELIVER, POLL, QUEUE
from syndicator.runtime.logs import configure_logging
from syndicator.runtime.wiring import Store, open_store

log = structlog.get_logger(__name__)

EXIT_OVERDUE = 70  # the process stopped itself: a send outlived its lease


@dataclass
class Runtime:
    """A worker process's store, channels, dispatcher and sweeper."""

    settings: Settings
    config: Config
    store: Store
    channels: dict[str, Channel]
    dispatcher: Dispatcher
    sweeper: Sweeper
    watchdog: threading.Event | None = None
    pid: int = 0
    sweeping: threading.Lock = field(default_factory=threading.Lock)

    def sweep_aside(self) -> bool:
        """Run one sweep on its own thread, so this process keeps taking messages meanwhile
        (a sweep is a dozen statements; on the main thread it held up every tender behind it).
        False when this process's previous sweep is still running: the next tick sweeps."""
        if not self.sweeping.acquire(blocking=False):
            return False

        def run() -> None:
            try:
                self.sweeper.sweep()
            except Exception as exc:  # the next tick sweeps again
                log.error("sweep failed", error=f"{type(exc).__name__}: {exc}")
            finally:
                self.sweeping.release()

        threading.Thread(target=run, name="sweep", daemon=True).start()
        return True

    def close(self) -> None:
        """Finish the sends in flight (their outcomes recorded) and the sweep under way, then
        release threads, connections and sessions."""
        self.dispatcher.close()
        with self.sweeping:
            pass
        if self.watchdog is not None:
            self.watchdog.set()
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
    watchdog = watch(dispatcher.flight, config.channels.engine.lease.total_seconds() * 0.9)
    return Runtime(settings, config, store, channels, dispatcher, sweeper, watchdog)


def watch(
    flight: Flight,
    limit: float,
    stop: Callable[[int], object] = os._exit,
    every: float | None = None,
) -> threading.Event:
    """Starts a daemon thread that stops this process when a send has run longer than `limit`
    seconds since its rows were claimed (0.9 of the lease). A worker task returns before its
    sends finish, so Celery's time limit no longer bounds them; this does, as it did: the
    process never outlives a lease it holds, and the sweeper returns the rows once it expires
    (the Celery parent starts a new pool process). Set the returned event to end it."""

    def run() -> None:
        while not stopped.wait(every or max(min(limit / 10, 5.0), 0.05)):
            overdue = flight.overdue(limit)
            if overdue:
                log.critical(
                    "a send outlived 0.9 of its lease; stopping this worker process",
                    overdue=overdue,
                    limit_s=limit,
                )
                stop(EXIT_OVERDUE)
                return

    stopped = threading.Event()
    threading.Thread(target=run, name="lease-watchdog", daemon=True).start()
    return stopped


def queue_depth(app: Celery) -> int:
    """Messages waiting in the syndicator queue (the broker's own count)."""
    with app.pool.acquire(block=True) as connection:  # kept between sweeps, not a new one each
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
