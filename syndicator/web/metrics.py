"""`/metrics` in the Prometheus text exposition format (version 0.0.4), computed from the
database on each scrape with a handful of grouped queries, so every web process reports the
same numbers and nothing is lost on restart.

    syndicator_deliveries{destination,state}                      gauge
    syndicator_attempts_total{destination,outcome}                counter (the attempts ledger)
    syndicator_oldest_due_age_seconds{destination}                gauge (0 when nothing is due)
    syndicator_backlog{destination}                               gauge
    syndicator_breaker_open{destination}                          gauge 0/1
    syndicator_submission_to_published_seconds{destination}       histogram
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy.orm import Session

from syndicator.domain.states import State
from syndicator.ops.queries import attempts_by_outcome, channel_health, publish_latency

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: most channels publish within a minute, TED within a day or two, gated ones after it.
BUCKETS = [
    5.0,
    15.0,
    30.0,
    60.0,
    120.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    3 * 3600.0,
    6 * 3600.0,
    12 * 3600.0,
    86400.0,
    2 * 86400.0,
    7 * 86400.0,
]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Exposition:
    """Lines of the text format, one metric family at a time."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        """Start a metric family."""
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value: float, **labels: str) -> None:
        """One sample."""
        self.lines.append(f"{name}{_labels(**labels) if labels else ''} {_number(value)}")

    def text(self) -> str:
        """The whole exposition."""
        return "\n".join(self.lines) + "\n"


def render(session: Session, destinations: list[str], now: datetime) -> str:
    """The metrics text for the current state of the store."""
    out = Exposition()
    health = channel_health(session, destinations, now)

    out.family("syndicator_deliveries", "gauge", "Deliveries by destination and state.")
    for h in health:
        for state in State:
            count = h.counts.get(state.value, 0)
            out.sample("syndicator_deliveries", count, destination=h.destination, state=state.value)

    out.family("syndicator_attempts_total", "counter", "Send and status-check attempts by outcome.")
    for destination, outcome, n in sorted(attempts_by_outcome(session)):
        out.sample("syndicator_attempts_total", n, destination=destination, outcome=outcome)

    out.family(
        "syndicator_oldest_due_age_seconds", "gauge", "How long the oldest due delivery has been waiting."
    )
    for h in health:
        waited = (now - h.oldest_due).total_seconds() if h.oldest_due else 0.0
        out.sample("syndicator_oldest_due_age_seconds", max(0.0, waited), destination=h.destination)

    out.family("syndicator_backlog", "gauge", "Deliveries not yet published, failed or cancelled.")
    for h in health:
        out.sample("syndicator_backlog", h.backlog, destination=h.destination)

    out.family("syndicator_breaker_open", "gauge", "1 while the destination's circuit breaker is open.")
    for h in health:
        out.sample("syndicator_breaker_open", 1 if h.breaker == "open" else 0, destination=h.destination)

    name = "syndicator_submission_to_published_seconds"
    out.family(name, "histogram", "Time from a tender's submission to its publication, per destination.")
    latency = publish_latency(session, BUCKETS)
    for h in health:
        found = latency.get(h.destination)
        for bound in BUCKETS:
            count = found.buckets[bound] if found else 0
            out.sample(f"{name}_bucket", count, destination=h.destination, le=_number(bound))
        out.sample(f"{name}_bucket", found.count if found else 0, destination=h.destination, le="+Inf")
        out.sample(f"{name}_sum", found.total if found else 0, destination=h.destination)
        out.sample(f"{name}_count", found.count if found else 0, destination=h.destination)
    return out.text()
