"""`/metrics` through prometheus-client: a custom collector computes the product's metrics from
the database on each scrape (a handful of grouped queries), so every web process reports the
same numbers and nothing is lost on restart; the library adds the standard process and Python
metrics and negotiates the format (Prometheus text, or OpenMetrics when the scraper asks).

    syndicator_deliveries{destination,state}                      gauge
    syndicator_attempts_total{destination,outcome}                counter (the attempts ledger)
    syndicator_oldest_due_age_seconds{destination}                gauge (0 when nothing is due)
    syndicator_backlog{destination}                               gauge
    syndicator_breaker_open{destination}                          gauge 0/1
    syndicator_submission_to_published_seconds{destination}       histogram
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from syndicator.domain.clock import Clock
from syndicator.domain.states import State
from syndicator.ops.queries import attempts_by_outcome, channel_health, publish_latency
from syndicator.runtime.wiring import Store

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
DESTINATION = ["destination"]


class StoreCollector(Collector):
    """The delivery metrics, read from the store at scrape time."""

    def __init__(self, store: Store, destinations: Callable[[], list[str]], clock: Clock) -> None:
        self.store = store
        self.destinations = destinations
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        """Every metric family, from one database session."""
        now = self.clock()
        with self.store.sessions() as session:
            health = channel_health(session, self.destinations(), now)
            attempts = sorted(attempts_by_outcome(session))
            latency = publish_latency(session, BUCKETS)

        deliveries = GaugeMetricFamily(
            "syndicator_deliveries", "Deliveries by destination and state.", labels=["destination", "state"]
        )
        for h in health:
            for state in State:
                deliveries.add_metric([h.destination, state.value], h.counts.get(state.value, 0))
        yield deliveries

        tries = CounterMetricFamily(
            "syndicator_attempts",
            "Send and status-check attempts by outcome.",
            labels=["destination", "outcome"],
        )
        for destination, outcome, n in attempts:
            tries.add_metric([destination, outcome], n)
        yield tries

        oldest = GaugeMetricFamily(
            "syndicator_oldest_due_age_seconds",
            "How long the oldest due delivery has been waiting.",
            labels=DESTINATION,
        )
        backlog = GaugeMetricFamily(
            "syndicator_backlog", "Deliveries not yet published, failed or cancelled.", labels=DESTINATION
        )
        breaker = GaugeMetricFamily(
            "syndicator_breaker_open",
            "1 while the destination's circuit breaker is open.",
            labels=DESTINATION,
        )
        for h in health:
            waited = (now - h.oldest_due).total_seconds() if h.oldest_due else 0.0
            oldest.add_metric([h.destination], max(0.0, waited))
            backlog.add_metric([h.destination], h.backlog)
            breaker.add_metric([h.destination], 1 if h.breaker == "open" else 0)
        yield from (oldest, backlog, breaker)

        published = HistogramMetricFamily(
            "syndicator_submission_to_published_seconds",
            "Time from a tender's submission to its publication, per destination.",
            labels=DESTINATION,
        )
        for h in health:
            found = latency.get(h.destination)
            buckets = [(_bound(b), float(found.buckets[b] if found else 0)) for b in BUCKETS]
            buckets.append(("+Inf", float(found.count if found else 0)))
            published.add_metric([h.destination], buckets, found.total if found else 0.0)
        yield published


def _bound(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def exposition(
    store: Store, destinations: Callable[[], list[str]], clock: Clock, accept: str
) -> tuple[bytes, str]:
    """The scrape's body and media type, in the format the `Accept` header asks for."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, destinations, clock))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    encode, media_type = choose_encoder(accept)
    return encode(registry), media_type
