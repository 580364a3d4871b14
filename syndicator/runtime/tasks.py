"""Celery tasks: thin, take ids, and call the one orchestrator (or the sweeper)."""

from __future__ import annotations

import threading
from typing import Any

import structlog
from celery import Celery, Task
from celery.signals import worker_process_init, worker_process_shutdown

from syndicator.runtime.celeryapp import DELIVER, POLL, SWEEP

_RUNTIME_ATTR = "syndicator_runtime"
_BUILDING = threading.Lock()


def runtime(app: Celery) -> Any:
    """This process's runtime, built on first use (once, whichever thread asks first)."""
    current = getattr(app, _RUNTIME_ATTR, None)
    if current is None or current.pid != _pid():
        with _BUILDING:
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
        return {"started": runtime(app).sweep_aside()}

    @worker_process_init.connect(weak=False)
    def _build(**_: Any) -> None:
        # Each pool process builds its runtime (store, channels, threads) as it starts, not on
        # its first message, so the first tender after a (re)start does not wait a second for
        # it. On a thread: the pool process must report itself up to Celery within seconds.
        def build() -> None:
            try:
                runtime(app)
            except Exception as exc:  # built on first use instead, where the task reports it
                structlog.get_logger(__name__).warning("runtime not built at start", error=str(exc))

        threading.Thread(target=build, name="runtime-build", daemon=True).start()

    @worker_process_shutdown.connect(weak=False)
    def _close(**_: Any) -> None:
        current = getattr(app, _RUNTIME_ATTR, None)
        if current is not None:
            current.close()
