"""Enqueueing from outside a worker (the CLI and the web application): after the commit, and
never at the cost of the submission. If the broker is unreachable the deliveries are safe in
the database and the sweeper sends them as soon as a worker runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from syndicator.config.settings import Settings
from syndicator.intake.submit import Enqueue

log = structlog.get_logger(__name__)


@contextmanager
def broker_enqueuer(settings: Settings) -> Iterator[Enqueue]:
    """A function that sends `deliver` messages; broker failures are logged, not raised."""
    from syndicator.runtime.celeryapp import DELIVER, create_app

    app = create_app(settings)
    warned = False

    def enqueue(ids: list[int]) -> None:
        nonlocal warned
        try:
            app.send_task(
                DELIVER,
                args=[list(ids)],
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
            )
        except Exception as exc:
            if not warned:
                log.warning(
                    "broker unreachable: deliveries are saved and the sweeper will send them",
                    error=str(exc),
                )
                warned = True

    try:
        yield enqueue
    finally:
        app.close()
