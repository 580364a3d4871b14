"""A worker process's runtime: the sweep runs beside the message loop, one at a time, and
closing waits for it."""

from __future__ import annotations

import threading
import time
from typing import Any

from structlog.testing import capture_logs

from syndicator.runtime.worker import Runtime


class _Sweeper:
    def __init__(self, fails: bool = False) -> None:
        self.release = threading.Event()
        self.runs = 0
        self.fails = fails

    def sweep(self) -> None:
        self.runs += 1
        self.release.wait(5)
        if self.fails:
            raise RuntimeError("database gone")


class _Closable:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def dispose(self) -> None:
        self.closed = True


def _runtime(sweeper: _Sweeper) -> Runtime:
    nothing: Any = None
    return Runtime(nothing, nothing, _Closable(), {}, _Closable(), sweeper)  # type: ignore[arg-type]


def _until(predicate: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_sweep_runs_aside_and_never_two_at_once() -> None:
    sweeper = _Sweeper()
    runtime = _runtime(sweeper)
    assert runtime.sweep_aside()  # returns at once, the sweep runs on its own thread
    _until(lambda: sweeper.runs == 1)
    assert not runtime.sweep_aside()  # still running: this tick is skipped
    sweeper.release.set()
    _until(lambda: not runtime.sweeping.locked())
    assert runtime.sweep_aside()
    _until(lambda: sweeper.runs == 2)


def test_a_failed_sweep_is_logged_and_the_next_tick_sweeps_again() -> None:
    sweeper = _Sweeper(fails=True)
    sweeper.release.set()
    runtime = _runtime(sweeper)
    with capture_logs() as logs:
        assert runtime.sweep_aside()
        _until(lambda: not runtime.sweeping.locked() and sweeper.runs == 1)
    assert [(e["event"], e["error"]) for e in logs] == [("sweep failed", "RuntimeError: database gone")]
    assert runtime.sweep_aside()


def test_closing_waits_for_the_sweep_under_way() -> None:
    sweeper = _Sweeper()
    runtime = _runtime(sweeper)
    runtime.sweep_aside()
    _until(lambda: sweeper.runs == 1)
    threading.Timer(0.2, sweeper.release.set).start()
    runtime.close()
    assert sweeper.release.is_set() and not runtime.sweeping.locked()  # it waited for the sweep
    assert runtime.store.closed  # type: ignore[attr-defined]
