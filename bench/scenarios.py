"""The six measurements. Each takes the environment and its size, and returns plain numbers."""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import statistics
import time
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from typing import Any

import requests
from sqlalchemy import func, insert, select, update

from bench.baseline import DONE_KEY, QUEUE
from bench.env import Bench
from syndicator.channel.http import Response, function_session
from syndicator.channel.registry import build_channel, family
from syndicator.config.settings import load_config
from syndicator.domain.clock import utcnow
from syndicator.domain.keys import delivery_key
from syndicator.domain.states import State
from syndicator.intake.records import Parsed, read_bytes
from syndicator.intake.submit import submit
from syndicator.notices.context import ContextBuilder
from syndicator.ops import actions as ops
from syndicator.ops.queries import Filters, channel_health, deliveries
from syndicator.routing.destinations import route
from syndicator.runtime.celeryapp import DELIVER, create_app
from syndicator.runtime.wiring import route_check, tender_context
from syndicator.store.models import DeliveryRow, TenderRow
from syndicator.store.transitions import Claimed

FIVE = ["ted", "bluelight", "crystal", "source-east-midlands", "trade-press:police-technology-press"]


def record(reference: str, *, call_off: bool = False) -> dict[str, Any]:
    """An ANPR tender above the EU threshold: routed to all five channels (or a call-off: Crystal)."""
    data: dict[str, Any] = {
        "reference": reference,
        "title": f"ANPR cameras, batch {reference}",
        "description": "Supply, installation and maintenance of ANPR cameras at fixed sites.",
        "buyer": "nottinghamshire-police",
        "contract_type": "supplies",
        "procedure": "open",
        "estimated_value": {"amount": "380000.00", "currency": "GBP"},
        "cpv": ["35125300-2"],
        "place_of_performance": {"town": "Nottingham", "postcode": "NG5 8PP"},
        "publication_date": utcnow().date().isoformat(),
        "submission_deadline": (utcnow() + timedelta(days=40)).strftime("%Y-%m-%dT12:00:00Z"),
        "documents_url": f"https://emscu.example.police.uk/tenders/{reference}",
        "contact": {"name": "EMSCU", "email": "emscu@example.police.uk"},
    }
    if call_off:
        data.update(procedure="framework-call-off", estimated_value={"amount": "60000", "currency": "GBP"})
        data.pop("submission_deadline")
    return data


def parse(bench: Bench, records: list[dict[str, Any]]) -> list[Parsed]:
    config = load_config(bench.settings)
    parsed, problems = read_bytes(
        json.dumps(records).encode(), tender_context(config, utcnow().date()), route_check(config)
    )
    assert not problems, problems[:3]
    return parsed


def count(bench: Bench, state: State, prefix: str) -> int:
    with bench.store.sessions() as session:
        query = (
            select(func.count())
            .select_from(DeliveryRow)
            .join(TenderRow, TenderRow.id == DeliveryRow.tender_id)
            .where(DeliveryRow.state == state.value, TenderRow.reference.like(f"{prefix}%"))
        )
        return int(session.scalar(query) or 0)


def wait_published(bench: Bench, prefix: str, expected: int, timeout: float) -> float:
    """Seconds until `expected` deliveries of tenders `prefix*` are published."""
    started = time.monotonic()
    while count(bench, State.PUBLISHED, prefix) < expected:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"only {count(bench, State.PUBLISHED, prefix)} of {expected} published")
        time.sleep(0.25)
    return time.monotonic() - started


def submit_all(bench: Bench, parsed: list[Parsed], app: Any) -> None:
    config = load_config(bench.settings)
    submit(
        bench.store.sessions,
        parsed,
        config.policy,
        config.thresholds,
        "bench",
        utcnow(),
        lambda ids: app.send_task(DELIVER, args=[ids]),
    )


# -- 1. throughput --------------------------------------------------------------------------


def throughput(bench: Bench, tenders: int) -> dict[str, float]:
    """N tenders to all five channels, submit to every delivery published."""
    parsed = parse(bench, [record(f"TP-{n:06d}") for n in range(tenders)])
    worker = bench.product_worker()
    app = create_app(bench.settings)
    try:
        meter = bench.meter(worker)
        started = time.monotonic()
        submit_all(bench, parsed, app)
        submitted = time.monotonic() - started
        wait_published(bench, "TP-", tenders * 5, timeout=600)
        elapsed = time.monotonic() - started
        cpu = meter.stop()
    finally:
        app.close()
        worker.stop()
    return {
        "deliveries": tenders * 5,
        "seconds": elapsed,
        "deliveries_per_s": tenders * 5 / elapsed,
        "submit_seconds": submitted,
        "cpu_seconds": cpu,
        "cpu_ms_per_delivery": {k: round(v * 1000 / (tenders * 5), 2) for k, v in cpu.items()},
    }


# -- 2. the bare baseline ------------------------------------------------------------------------


def _captured_requests(
    bench: Bench, tenders: int
) -> list[tuple[str, str, dict[str, str], bytes, list[str] | None]]:
    """Every delivery of N fresh tenders as the exact request the product would send."""
    config = load_config(bench.settings)
    contexts = ContextBuilder(config)
    found = []
    for parsed in parse(bench, [record(f"BL-{n:06d}") for n in range(tenders)]):
        tender = parsed.tender
        for destination in route(tender, config.policy, config.thresholds).names():
            channel_family = family(destination)
            key = delivery_key(tender.buyer, tender.reference, 1, destination)
            claim = Claimed(0, 0, destination, key, 1, 1, 1, 0, None, None, None, None, None)
            rendered_context = contexts.build(tender, claim, utcnow(), None)
            if channel_family == "trade-press":
                adapter = build_channel(config, channel_family)
                rendered = adapter.render(tender, rendered_context)
                message = BytesParser().parsebytes(rendered.body)
                envelope = [str(message["From"]).split("<")[-1].rstrip(">"), str(message["To"])]
                found.append(("smtp", f"{bench.box.host}:{bench.box.smtp_port}", {}, rendered.body, envelope))
                continue
            seen: list[Any] = []
            adapter = build_channel(config, channel_family, session=function_session(_capture(seen)))
            rendered = adapter.render(tender, rendered_context)
            with contextlib.suppress(Exception):  # the capture stops the adapter once it built the request
                adapter.submit(rendered, key)
            request = seen[0]
            found.append(("http", request.url, dict(request.headers), request.body or b"", None))
    return found


def _capture(seen: list[Any]) -> Any:
    def capture(request: Any) -> Response:
        seen.append(request)
        raise RuntimeError("captured")

    return capture


def baseline(bench: Bench, tenders: int) -> dict[str, float]:
    """The same deliveries as one bare Celery task each: one pre-rendered request."""
    prepared = _captured_requests(bench, tenders)
    worker = bench.baseline_worker()
    bench.redis.delete(DONE_KEY)
    from bench.baseline import app as baseline_app

    try:
        meter = bench.meter(worker)
        started = time.monotonic()
        for kind, target, headers, body, envelope in prepared:
            body_bytes = body if isinstance(body, bytes) else str(body).encode()
            baseline_app.send_task(
                "bench.baseline.send",
                queue=QUEUE,
                args=[kind, target, headers, base64.b64encode(body_bytes).decode(), envelope],
            )
        while int(bench.redis.get(DONE_KEY) or 0) < len(prepared):
            if time.monotonic() - started > 600:
                raise TimeoutError("the baseline did not finish")
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        cpu = meter.stop()
    finally:
        worker.stop()
    return {
        "deliveries": len(prepared),
        "seconds": elapsed,
        "deliveries_per_s": len(prepared) / elapsed,
        "cpu_seconds": cpu,
        "cpu_ms_per_delivery": {k: round(v * 1000 / len(prepared), 2) for k, v in cpu.items()},
    }


# -- 3. latency ----------------------------------------------------------------------------


def latency(bench: Bench, rate: float, seconds: float) -> dict[str, float]:
    """Tenders arriving at `rate` per second; submit-to-published time of every delivery."""
    total = int(rate * seconds)
    parsed = parse(bench, [record(f"LT-{n:06d}") for n in range(total)])
    worker = bench.product_worker()
    app = create_app(bench.settings)
    try:
        started = time.monotonic()
        for index, item in enumerate(parsed):
            pause = started + index / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            submit_all(bench, [item], app)
        wait_published(bench, "LT-", total * 5, timeout=300)
    finally:
        app.close()
        worker.stop()
    with bench.store.sessions() as session:
        rows = session.execute(
            select(DeliveryRow.published_at, TenderRow.created_at, DeliveryRow.destination)
            .join(TenderRow, TenderRow.id == DeliveryRow.tender_id)
            .where(TenderRow.reference.like("LT-%"))
        ).all()
    values = sorted((published - created).total_seconds() * 1000 for published, created, _ in rows)
    ted = sorted((p - c).total_seconds() * 1000 for p, c, d in rows if d == "ted")
    return {
        "deliveries": len(values),
        "p50_ms": _percentile(values, 50),
        "p95_ms": _percentile(values, 95),
        "p99_ms": _percentile(values, 99),
        "ted_p99_ms": _percentile(ted, 99),
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))]


# -- 4. operations at scale ---------------------------------------------------------------------


def seed(bench: Bench, deliveries_total: int, failed: int) -> None:
    """`deliveries_total` deliveries (5 per tender) in realistic states, `failed` of them failed."""
    tenders = deliveries_total // 5
    now = utcnow()
    template = json.loads(json.dumps(parse(bench, [record("SEED-0")])[0].tender.model_dump(mode="json")))
    states = [State.PUBLISHED] * 17 + [State.SUBMITTED, State.RETRY_WAIT, State.HELD]
    with bench.store.engine.begin() as connection:
        for start in range(0, tenders, 2000):
            rows = [
                {
                    "buyer": "emscu",
                    "reference": f"SEED-{n:07d}",
                    "version": 1,
                    "title": template["title"],
                    "record": template | {"reference": f"SEED-{n:07d}"},
                    "content_hash": f"{n:064d}",
                    "route": {
                        "destinations": [{"destination": d, "reasons": [], "after": None} for d in FIVE],
                        "not_advertised": None,
                        "warnings": [],
                    },
                    "submitted_by": "bench",
                    "created_at": now - timedelta(seconds=tenders - n),
                }
                for n in range(start, min(start + 2000, tenders))
            ]
            ids = connection.execute(insert(TenderRow).returning(TenderRow.id), rows).scalars().all()
            deliveries_rows = []
            for offset, tender_id in enumerate(ids):
                for index, destination in enumerate(FIVE):
                    n = (start + offset) * 5 + index
                    state = State.FAILED if n < failed else states[n % len(states)]
                    deliveries_rows.append(
                        {
                            "tender_id": tender_id,
                            "buyer": "emscu",
                            "destination": destination,
                            "state": state.value,
                            "key": f"seed-{n}",
                            "revision": 1,
                            "attempts": 1,
                            "round_attempts": 1,
                            "polls": 0,
                            "last_error": "rejected (seeded)" if state == State.FAILED else None,
                            "last_error_class": "transient" if state == State.FAILED else None,
                            "next_attempt_at": now if state in (State.RETRY_WAIT, State.SUBMITTED) else None,
                            "published_at": now if state == State.PUBLISHED else None,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
            connection.execute(insert(DeliveryRow), deliveries_rows)


def _best_of(repeats: int, action: Any) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def operations(bench: Bench, deliveries_total: int, failed: int) -> dict[str, float]:
    """Status list and overview at `deliveries_total` deliveries; re-push of `failed` by filter."""
    started = time.monotonic()
    seed(bench, deliveries_total, failed)
    seeded_s = time.monotonic() - started
    with bench.store.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    destinations = load_config(bench.settings).policy.destinations()

    def status_list() -> None:
        with bench.store.sessions() as session:
            page = deliveries(session, Filters(state="failed", destination="crystal"), page=1, size=50)
            assert page.items

    def overview() -> None:
        with bench.store.sessions() as session:
            channel_health(session, destinations, utcnow())

    status_ms, overview_ms = _best_of(5, status_list), _best_of(5, overview)
    app = create_app(bench.settings)
    try:
        started = time.monotonic()
        result = ops.repush_matching(
            bench.store.sessions,
            Filters(state="failed"),
            actor="bench",
            reason="benchmark",
            now=utcnow(),
            enqueue=lambda ids: app.send_task(DELIVER, args=[ids]),
        )
        repush_s = time.monotonic() - started
    finally:
        app.close()
    assert len(result.changed) == failed, (len(result.changed), failed)
    queued = bench.redis.llen("syndicator")
    bench.redis.delete("syndicator")
    with bench.store.engine.begin() as connection:  # leave nothing due for later measurements
        connection.execute(
            update(DeliveryRow).where(DeliveryRow.key.like("seed-%")).values(state=State.CANCELLED.value)
        )
    return {
        "deliveries": deliveries_total,
        "seed_s": seeded_s,
        "status_list_ms": status_ms,
        "overview_ms": overview_ms,
        "repushed": len(result.changed),
        "repush_s": repush_s,
        "messages_enqueued": queued,
    }


# -- 5. memory -----------------------------------------------------------------------------------


def _pending(bench: Bench, prefix: str, count_: int) -> list[int]:
    """`count_` pending Crystal deliveries (framework call-offs) inserted in bulk."""
    template = parse(bench, [record(f"{prefix}-0", call_off=True)])[0].tender.model_dump(mode="json")
    now = utcnow()
    ids: list[int] = []
    with bench.store.engine.begin() as connection:
        for start in range(0, count_, 2000):
            rows = [
                {
                    "buyer": template["buyer"],
                    "reference": f"{prefix}-{n:07d}",
                    "version": 1,
                    "title": template["title"],
                    "record": template | {"reference": f"{prefix}-{n:07d}"},
                    "content_hash": f"{prefix}{n}",
                    "route": {
                        "destinations": [{"destination": "crystal", "reasons": [], "after": None}],
                        "not_advertised": None,
                        "warnings": [],
                    },
                    "submitted_by": "bench",
                    "created_at": now,
                }
                for n in range(start, min(start + 2000, count_))
            ]
            tender_ids = connection.execute(insert(TenderRow).returning(TenderRow.id), rows).scalars().all()
            delivery_rows = [
                {
                    "tender_id": t,
                    "buyer": template["buyer"],
                    "destination": "crystal",
                    "state": State.PENDING.value,
                    "key": delivery_key(template["buyer"], f"{prefix}-{start + i:07d}", 1, "crystal"),
                    "revision": 1,
                    "attempts": 0,
                    "round_attempts": 0,
                    "polls": 0,
                    "next_attempt_at": now,
                    "enqueued_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, t in enumerate(tender_ids)
            ]
            ids += (
                connection.execute(insert(DeliveryRow).returning(DeliveryRow.id), delivery_rows)
                .scalars()
                .all()
            )
    return ids


def _enqueue(bench: Bench, ids: list[int], size: int = 20) -> None:
    app = create_app(bench.settings)
    try:
        for start in range(0, len(ids), size):
            app.send_task(DELIVER, args=[ids[start : start + size]])
    finally:
        app.close()


def memory(bench: Bench, total: int, warmup: int = 2000) -> dict[str, float]:
    """Worker resident memory after a warm-up, and again after `total` more deliveries."""
    worker = bench.product_worker()
    try:
        ids = _pending(bench, "MW", warmup)
        _enqueue(bench, ids)
        wait_published(bench, "MW-", warmup, timeout=300)
        before = worker.rss_bytes()
        ids = _pending(bench, "MM", total)
        started = time.monotonic()
        _enqueue(bench, ids)
        wait_published(bench, "MM-", total, timeout=1800)
        elapsed = time.monotonic() - started
        after = worker.rss_bytes()
    finally:
        worker.stop()
    return {
        "deliveries": total,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "growth_pct": (after - before) / before * 100,
        "deliveries_per_s": total / elapsed,
    }


# -- 6. recovery ---------------------------------------------------------------------------------


def recovery(bench: Bench, total: int) -> dict[str, float]:
    """SIGKILL a worker with `total` deliveries in flight; time until a new one published all."""
    worker = bench.product_worker()
    ids = _pending(bench, "RC", total)
    _enqueue(bench, ids)
    deadline = time.monotonic() + 60
    while count(bench, State.PUBLISHED, "RC-") < total // 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    in_flight = total - count(bench, State.PUBLISHED, "RC-")
    sending = count(bench, State.SENDING, "RC-")
    killed_at = time.monotonic()
    worker.stop(sig=signal.SIGKILL, timeout=5)
    replacement = bench.product_worker()
    try:
        wait_published(bench, "RC-", total, timeout=600)
        recovered_s = time.monotonic() - killed_at
    finally:
        replacement.stop()
    received = requests.get(
        bench.sandbox_url() + "/_sandbox/received", params={"channel": "crystal"}, timeout=30
    )
    copies = [
        n["copies"] for n in received.json()["notices"] if (n.get("tender_reference") or "").startswith("RC-")
    ]
    return {
        "deliveries": total,
        "in_flight_at_kill": in_flight,
        "sending_at_kill": sending,
        "recovery_s": recovered_s,
        "lease_s": 10.0,
        "max_copies": max(copies) if copies else 0,
        "at": datetime.now(UTC).isoformat(),
    }
