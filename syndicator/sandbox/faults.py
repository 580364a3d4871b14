"""Fault injection: the next `count` requests to a channel get a failure mode instead of (or
on top of) the normal answer.

    error-503       the channel answers 503 (SMTP: 421), nothing stored
    rate-limit-429  429 with Retry-After (SMTP: 451), nothing stored
    timeout         the notice is stored, but the answer comes after `delay` seconds
    reject-422      the channel refuses the notice in its own way (SMTP: 554)
    down            the connection is dropped without an answer (SMTP: 421 and close)
    auth-401        the channel refuses our credentials, in its own error format (SMTP: 535)
    auth-403        the channel knows us but refuses the operation, in its own format (SMTP: 535)

A fault belongs to the channel it names and is used up by the next request to that channel,
whatever the request is: a submission, a status check (poll) or a public page. On the SMTP
sink, trade press adverts and the product's alert e-mails are separate channels
(`trade-press`, `ops-alerts`), told apart by the envelope sender (see `sandbox.smtp`).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

MODES = ("error-503", "rate-limit-429", "timeout", "reject-422", "down", "auth-401", "auth-403")
AUTH = {"auth-401": 401, "auth-403": 403}  # the HTTP status each credentials fault answers


@dataclass(frozen=True)
class Fault:
    """One injected failure."""

    mode: str
    retry_after: int = 2
    delay: float = 35.0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"mode": self.mode, "retry_after": self.retry_after, "delay": self.delay}


class Faults:
    """Pending faults per channel, consumed one per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}

    def add(self, channel: str, fault: Fault, count: int) -> None:
        """Queue `count` copies of `fault` for `channel`."""
        if fault.mode not in MODES:
            raise ValueError(f"unknown mode {fault.mode!r}; known: {', '.join(MODES)}")
        with self._lock:
            self._queues.setdefault(channel, deque()).extend([fault] * count)

    def take(self, channel: str) -> Fault | None:
        """The fault for this request, if one is pending."""
        with self._lock:
            queue = self._queues.get(channel)
            return queue.popleft() if queue else None

    def clear(self, channel: str | None = None) -> None:
        """Drop pending faults of one channel or of all."""
        with self._lock:
            if channel is None:
                self._queues.clear()
            else:
                self._queues.pop(channel, None)

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        """What is still queued, as runs of the same fault with their counts."""
        with self._lock:
            summary: dict[str, list[dict[str, Any]]] = {}
            for channel, queue in self._queues.items():
                runs: list[dict[str, Any]] = []
                for fault in queue:
                    if runs and runs[-1]["fault"] == fault:
                        runs[-1]["count"] += 1
                    else:
                        runs.append({"fault": fault, "count": 1})
                if runs:
                    summary[channel] = [{**run["fault"].as_dict(), "count": run["count"]} for run in runs]
            return summary
