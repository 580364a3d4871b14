"""What is in flight on a dispatcher's I/O threads: how many jobs wait for a thread, since when
each running job's lease has run, and each claimed batch until its outcomes are on record.

A worker task hands its batch to the threads and returns once no job waits for a thread
(`Flight.wait_for_thread`), so a process's threads stay busy: the next message is claimed while
the previous batch's slowest sends are still out. The lease covers every claimed row until its
outcome is recorded, exactly as when the task waited; `Flight.overdue` lets a watchdog stop a
process whose send has outlived its lease (what Celery's hard time limit did for a task).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BatchReport:
    """What one batch did, for logs and tests."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    opened_gates: list[int] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        """Tally one outcome."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class Batch:
    """One claim's jobs: each finished job reports here; the last one closes the batch."""

    def __init__(self, size: int, claimed_at: float, detached: bool = False) -> None:
        self.detached = detached  # nobody waits: errors are logged, not kept for `wait`
        self.report = BatchReport(claimed=size)
        self.claimed_at = claimed_at  # monotonic: the lease runs from here
        self.later: list[Any] = []  # sends whose outcomes are recorded together
        self.error: BaseException | None = None
        self._remaining = size
        self._lock = threading.Lock()
        self._done = threading.Event()
        if size == 0:
            self._done.set()

    def finished(self, later: Any = None, recorded: tuple[str, list[int]] | None = None) -> bool:
        """One job is over (its outcome recorded, or left for the batch). True for the last."""
        with self._lock:
            if later is not None:
                self.later.append(later)
            if recorded is not None:
                self.report.count(recorded[0])
                self.report.opened_gates.extend(recorded[1])
            self._remaining -= 1
            return self._remaining == 0

    def failed(self, error: BaseException) -> bool:
        """One job raised: kept (the first) for `wait`. True for the last."""
        with self._lock:
            self.error = self.error or error
            self._remaining -= 1
            return self._remaining == 0

    def close(self) -> None:
        """Every outcome is on record (or left to the lease)."""
        self._done.set()

    def wait(self) -> BatchReport:
        """Until the batch is closed; re-raises the first error of any of its jobs."""
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.report


class Flight:
    """Counts of a thread pool's jobs: waiting for a thread, and running (with their claims)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting = 0
        self._running: dict[int, float] = {}
        self._tokens = itertools.count()

    def queued(self, count: int) -> None:
        """`count` jobs were handed to the pool."""
        with self._changed:
            self._waiting += count

    @contextmanager
    def running(self, claimed_at: float) -> Iterator[None]:
        """A job holds a thread (its rows claimed at `claimed_at`, monotonic)."""
        with self._changed:
            self._waiting -= 1
            token = next(self._tokens)
            self._running[token] = claimed_at
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                del self._running[token]
                self._changed.notify_all()

    def wait_for_thread(self, timeout: float | None = None) -> bool:
        """Until no job waits for a thread: a batch handed over now starts on the next thread
        that frees up. False if `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._waiting <= 0, timeout)

    def waiting(self) -> int:
        """Jobs handed over that no thread has taken yet."""
        with self._changed:
            return self._waiting

    def idle(self) -> bool:
        """Nothing waiting and nothing running."""
        with self._changed:
            return self._waiting <= 0 and not self._running

    def overdue(self, limit: float, now: float | None = None) -> int:
        """Running jobs whose rows were claimed more than `limit` seconds ago."""
        now = time.monotonic() if now is None else now
        with self._changed:
            return sum(1 for claimed_at in self._running.values() if now - claimed_at > limit)
