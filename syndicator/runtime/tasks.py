"""Celery tasks: thin, take ids, and call the one orchestrator (or the sweeper)."""

from __future__ import annotations

from typing import Any

import structlog
from celery import Celery, Task
from celery.signals import worker_process_shutdown

from syndicator.runtime.celeryapp import DELIVER, POLL, SWEEP

_RUNTIME_ATTR = "syndicator_runtime"


def runtime(app: Celery) -> Any:
    """This process's runtime, built on first use."""
    current = getattr(app, _RUNTIME_ATTR, None)
    if current is None or current.pid != _pid():
        from syndicator.runtime.worker import build_runtime

        current = build_runtime(app)
        current.pid = _pid()
        setattr(app, _RUNTIME_ATTR, current)
    return current


def _pid() -> int:
    import os

    return os.getpid()


def register(app: Celery) -> None:
    """Add the syndicator's tasks to `app`."""

    @app.task(name=DELIVER, bind=True)
    def deliver(self: Task, ids: list[int]) -> dict[str, Any]:
        structlog.contextvars.bind_contextvars(task_id=self.request.id)
        # Returns once the batch is on this process's I/O threads, not once it is sent: the
        # lease covers it, and the next message can be claimed while its slowest sends are out.
        return {"claimed": runtime(app).dispatcher.feed(ids)}

    @app.task(name=POLL, bind=True)
    def poll(self: Task, ids: list[int]) -> dict[str, Any]:
        structlog.contextvars.bind_contextvars(task_id=self.request.id)
        report = runtime(app).dispatcher.poll(ids)
        return {"claimed": report.claimed, "outcomes": report.outcomes}

    @app.task(name=SWEEP, bind=True)
    def sweep(self: Task) -> dict[str, Any]:
        structlog.contextvars.bind_contextvars(task_id=self.request.id)
        return dict(runtime(app).sweeper.sweep().__dict__)

    @worker_process_shutdown.connect(weak=False)
    def _close(**_: Any) -> None:
        current = getattr(app, _RUNTIME_ATTR, None)
        if current is not None:
            current.close()
