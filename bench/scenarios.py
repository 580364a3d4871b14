"""The six measurements. Each takes the environment and its size, and returns plain numbers."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import statistics
import time
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from typing import Any

import requests
from sqlalchemy import func, insert, select, text, update

from bench.baseline import DONE_KEY, QUEUE
from bench.env import Bench
from syndicator.channel.http import Response, function_session
from syndicator.channel.registry import build_channel, family, title
from syndicator.domain.clock import utcnow
from syndicator.domain.keys import delivery_key
from syndicator.domain.states import State
from syndicator.intake.records import Parsed, read_bytes
from syndicator.intake.submit import submit
from syndicator.notices.context import ContextBuilder
from syndicator.ops import actions as ops
from syndicator.ops.queries import Filters, channel_health, deliveries
from syndicator.runtime.celeryapp import DELIVER, create_app
from syndicator.runtime.wiring import route_check, tender_context
from syndicator.store.models import DeliveryRow, TenderRow, TenderVersionRow

FIVE = [
    "find-a-tender",
    "bluelight",
    "crystal",
    "source-east-midlands",
    "trade-press:police-technology-press",
]


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
    config = bench.config
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
    config = bench.config
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


def throughput(bench: Bench, tenders: int, prefix: str = "TP") -> dict[str, Any]:
    """N tenders to all five channels, submit to every delivery published."""
    parsed = parse(bench, [record(f"{prefix}-{n:06d}") for n in range(tenders)])
    worker = bench.product_worker()
    app = create_app(bench.settings)
    try:
        meter = bench.meter(worker)
        started = time.monotonic()
        submit_all(bench, parsed, app)
        submitted = time.monotonic() - started
        wait_published(bench, f"{prefix}-", tenders * 5, timeout=600)
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
    bench: Bench, tenders: int, prefix: str = "BL"
) -> list[tuple[str, str, dict[str, str], bytes, list[str] | None]]:
    """Every delivery of N fresh tenders as the exact request the product would send: the
    tenders go through the real intake, each delivery's job is built from the store as the
    dispatcher builds it, rendered and submitted to a capturing session; then the deliveries
    are cancelled so that no worker sends them."""
    config = bench.config
    submit(
        bench.store.sessions,
        parse(bench, [record(f"{prefix}-{n:06d}") for n in range(tenders)]),
        config.policy,
        config.thresholds,
        "bench",
        utcnow(),
        lambda ids: None,
    )
    contexts = ContextBuilder(config.buyers, config.policy.vat_rate, title)
    with bench.store.engine.begin() as connection:
        rows = connection.execute(
            select(
                DeliveryRow.id,
                DeliveryRow.tender_id,
                DeliveryRow.destination,
                DeliveryRow.key,
                DeliveryRow.gate_id,
            )
            .join(TenderRow, TenderRow.id == DeliveryRow.tender_id)
            .where(TenderRow.reference.like(f"{prefix}-%"))
            .order_by(DeliveryRow.id)
        ).all()
    found: dict[int, tuple[str, str, dict[str, str], bytes, list[str] | None]] = {}
    # The primary destination's notices first; the others state its dispatch date and number
    # (PCR 2015 reg 52(3)), so they are rendered once it has really been sent and published.
    primaries = [row for row in rows if row.gate_id is None]
    followers = [row for row in rows if row.gate_id is not None]
    for group in (primaries, followers):
        with bench.store.engine.begin() as connection:
            jobs = contexts.jobs(connection, [(row.id, row.tender_id) for row in group], utcnow())
        for row in group:
            found[row.id] = _request(bench, config, row, jobs[row.id], publish=group is primaries)
    with bench.store.engine.begin() as connection:
        connection.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_([row.id for row in rows]), DeliveryRow.state != State.PUBLISHED.value)
            .values(state=State.CANCELLED.value, next_attempt_at=None)
        )
    bench.clear_sandbox()
    return [found[row.id] for row in rows]


def _request(
    bench: Bench, config: Any, row: Any, job: Any, *, publish: bool
) -> tuple[str, str, dict[str, str], bytes, list[str] | None]:
    """The request the adapter makes for `job`; with `publish`, also really sent to the sandbox
    and its publication recorded on the row (for the notices that follow it)."""
    channel_family = family(row.destination)
    if channel_family == "trade-press":
        adapter = build_channel(config, channel_family)
        rendered = adapter.render(job.notice, job.context)
        message = BytesParser().parsebytes(rendered.body)
        envelope = [str(message["From"]).split("<")[-1].rstrip(">"), str(message["To"])]
        return ("smtp", f"{bench.box.host}:{bench.box.smtp_port}", {}, rendered.body, envelope)
    seen: list[Any] = []
    adapter = build_channel(config, channel_family, session=function_session(_capture(seen)))
    rendered = adapter.render(job.notice, job.context)
    with contextlib.suppress(Exception):  # the capture stops the adapter once it built the request
        adapter.submit(rendered, row.key)
    request = seen[0]
    if publish:
        real = build_channel(config, channel_family)
        receipt = real.submit(rendered, row.key)
        for _ in range(50):
            if receipt.live:
                break
            time.sleep(0.05)
            receipt = real.poll(receipt)
        now = utcnow()
        with bench.store.engine.begin() as connection:
            connection.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == row.id)
                .values(
                    state=State.PUBLISHED.value,
                    identity=rendered.identity,
                    remote_id=receipt.remote_id,
                    remote_url=receipt.url,
                    publication_id=receipt.publication_id,
                    submitted_at=now,
                    published_at=receipt.published_at or now,
                    next_attempt_at=None,
                )
            )
    return ("http", request.url, dict(request.headers), request.body or b"", None)


def _capture(seen: list[Any]) -> Any:
    def capture(request: Any) -> Response:
        seen.append(request)
        raise RuntimeError("captured")

    return capture


def baseline(
    bench: Bench, tenders: int, prefix: str = "BL", threads: int = 0, prepared: list[Any] | None = None
) -> dict[str, Any]:
    """The same deliveries as one bare Celery task each: one pre-rendered request. With
    `threads`, on one worker with Celery's threads pool running that many at once."""
    prepared = prepared if prepared is not None else _captured_requests(bench, tenders, prefix)
    worker = bench.baseline_worker(threads)
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


# -- 2b. behind a slow network -----------------------------------------------------------------


def network(bench: Bench, tenders: int, http_latency: float, smtp_latency: float) -> dict[str, Any]:
    """Product and baseline against a sandbox `http_latency` s away for HTTP and `smtp_latency`
    s per SMTP reply. The product runs as deployed (worker processes, each sending
    `engine.concurrency` deliveries at once); the baseline is one Celery task per delivery on
    the threads pool, with as many tasks at once as the product has sends in flight."""
    sends = bench.concurrency * bench.config.channels.engine.concurrency
    prepared = _captured_requests(bench, tenders, "NB")  # before the latency: capturing is not measured
    bench.restart_sandbox(http_latency, smtp_latency)
    try:
        product = throughput(bench, tenders, prefix="NW")
        bench.clear_sandbox()
        bare = baseline(bench, tenders, prefix="NB", threads=sends, prepared=prepared)
    finally:
        bench.restart_sandbox()
    return {
        "http_latency_s": http_latency,
        "smtp_latency_s": smtp_latency,
        "concurrent_sends": sends,
        "deliveries": product["deliveries"],
        "deliveries_per_s": product["deliveries_per_s"],
        "baseline_deliveries_per_s": bare["deliveries_per_s"],
        "ratio": product["deliveries_per_s"] / bare["deliveries_per_s"],
        "product": product,
        "baseline": bare,
    }


# -- 3. latency ----------------------------------------------------------------------------


def latency(bench: Bench, rate: float, seconds: float) -> dict[str, float]:
    """Tenders arriving at `rate` per second; submit-to-published time of every delivery."""
    total = int(rate * seconds)
    parsed = parse(bench, [record(f"LT-{n:06d}") for n in range(total)])
    worker = bench.product_worker()
    app = create_app(bench.settings)
    try:
        meter = bench.meter(worker)
        started = time.monotonic()
        for index, item in enumerate(parsed):
            pause = started + index / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            submit_all(bench, [item], app)
        wait_published(bench, "LT-", total * 5, timeout=300)
        cpu = meter.stop()
        busy = sum(cpu.values()) / (time.monotonic() - started) / (os.cpu_count() or 1)
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
    primary = sorted((p - c).total_seconds() * 1000 for p, c, d in rows if d == "find-a-tender")
    return {
        "deliveries": len(values),
        "p50_ms": _percentile(values, 50),
        "p95_ms": _percentile(values, 95),
        "p99_ms": _percentile(values, 99),
        "primary_p99_ms": _percentile(primary, 99),
        "cpu_busy_pct": round(100 * busy, 1),  # of every core, while the tenders were arriving
        "cpu_seconds": cpu,
        "cpu_ms_per_delivery": {k: round(v * 1000 / max(len(values), 1), 2) for k, v in cpu.items()},
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))]


# -- 4. operations at scale ---------------------------------------------------------------------


SEED_STATES = [State.PUBLISHED] * 17 + [State.SUBMITTED, State.RETRY_WAIT, State.HELD]
# Years of deliveries in one statement each: tenders from generate_series, five deliveries per
# tender (one per destination), `:failed` of them failed and the rest in realistic states.
SEED_SQL = """
WITH tender AS (
    INSERT INTO tenders (buyer, reference, version, title, record, content_hash, route,
                         submitted_by, created_at)
    SELECT 'emscu', 'SEED-' || lpad(g::text, 7, '0'), 1, :title,
           jsonb_set(CAST(:record AS jsonb), '{reference}', to_jsonb('SEED-' || lpad(g::text, 7, '0'))),
           lpad(g::text, 64, '0'), CAST(:route AS jsonb), 'bench',
           CAST(:now AS timestamptz) - make_interval(secs => :last - g)
    FROM generate_series(:first, :last - 1) AS g
    RETURNING id, reference
), delivery AS (
    SELECT tender.id AS tender_id, d.name AS destination,
           substr(tender.reference, 6)::bigint * 5 + d.i - 1 AS n
    FROM tender CROSS JOIN unnest(CAST(:destinations AS text[])) WITH ORDINALITY AS d(name, i)
), stated AS (
    SELECT delivery.*,
           CASE WHEN n - :first * 5 < :failed THEN 'failed'
                ELSE (CAST(:states AS text[]))[n % :cycle + 1] END AS state
    FROM delivery
)
INSERT INTO deliveries (tender_id, buyer, destination, state, key, revision, attempts,
                        round_attempts, polls, last_error, last_error_class, next_attempt_at,
                        published_at, created_at, updated_at)
SELECT tender_id, 'emscu', destination, state, 'seed-' || n, 1, 1, 1, 0,
       CASE WHEN state = 'failed' THEN 'rejected (seeded)' END,
       CASE WHEN state = 'failed' THEN 'transient' END,
       CASE WHEN state IN ('retry_wait', 'submitted') THEN CAST(:now AS timestamptz) END,
       CASE WHEN state = 'published' THEN CAST(:now AS timestamptz) END,
       CAST(:now AS timestamptz), CAST(:now AS timestamptz)
FROM stated
"""


def seed(bench: Bench, first_tender: int, last_tender: int, failed: int) -> None:
    """Tenders `first_tender` to `last_tender` - 1 with five deliveries each, in bulk SQL; the
    first `failed` of those deliveries failed, the others in realistic states."""
    template = json.loads(json.dumps(parse(bench, [record("SEED-0")])[0].tender.model_dump(mode="json")))
    route = {
        "destinations": [{"destination": d, "reasons": [], "after": None} for d in FIVE],
        "not_advertised": None,
        "warnings": [],
    }
    step = 50_000  # tenders per statement: bounded memory in PostgreSQL, few round trips
    with bench.store.engine.begin() as connection:
        for start in range(first_tender, last_tender, step):
            stop = min(start + step, last_tender)
            connection.execute(
                text(SEED_SQL),
                {
                    "title": template["title"],
                    "record": json.dumps(template),
                    "route": json.dumps(route),
                    "now": utcnow(),
                    "first": start,
                    "last": stop,
                    "destinations": FIVE,
                    "failed": max(0, failed - (start - first_tender) * 5),
                    "states": [state.value for state in SEED_STATES],
                    "cycle": len(SEED_STATES),
                },
            )
        connection.exec_driver_sql("ANALYZE tenders")
        connection.exec_driver_sql("ANALYZE deliveries")


def _best_of(repeats: int, action: Any) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _reads(bench: Bench) -> tuple[float, float]:
    """Median ms of the first page of the filtered status list, and of the overview."""
    destinations = bench.config.policy.destinations()

    def status_list() -> None:
        with bench.store.sessions() as session:
            page = deliveries(session, Filters(state="failed", destination="crystal"), page=1, size=50)
            assert page.items

    def overview() -> None:
        with bench.store.sessions() as session:
            channel_health(session, destinations, utcnow())

    return _best_of(5, status_list), _best_of(5, overview)


def _repush(bench: Bench, failed: int) -> tuple[float, int]:
    """Seconds to re-push every failed delivery by filter until all messages are enqueued."""
    app = create_app(bench.settings)
    bench.redis.delete("syndicator")
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
    return repush_s, queued


def operations(bench: Bench, small: int, small_failed: int, large: int, large_failed: int) -> dict[str, Any]:
    """Status list and overview at `small` deliveries and re-push of `small_failed` by filter;
    then the same at `large` deliveries (the table grown in place) with `large_failed` failed."""
    found: dict[str, Any] = {}
    done = 0
    for label, total, failed in (("small", small, small_failed), ("large", large, large_failed)):
        if total <= done:
            continue
        started = time.monotonic()
        already = 0
        if done:  # put the previous stage's re-pushed deliveries back: they count as failed again
            with bench.store.engine.begin() as connection:
                already = connection.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.key.like("seed-%"), DeliveryRow.state == State.PENDING.value)
                    .values(state=State.FAILED.value, next_attempt_at=None, enqueued_at=None)
                ).rowcount
        seed(bench, done // 5, total // 5, max(0, failed - already))
        seeded_s = time.monotonic() - started
        status_ms, overview_ms = _reads(bench)
        expected = already + max(0, failed - already)
        repush_s, queued = _repush(bench, expected)
        found[label] = {
            "deliveries": total,
            "seed_s": seeded_s,
            "status_list_ms": status_ms,
            "overview_ms": overview_ms,
            "repushed": expected,
            "repush_s": repush_s,
            "messages_enqueued": queued,
        }
        done = total
    with bench.store.engine.begin() as connection:  # leave nothing due for later measurements
        connection.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.key.like("seed-%"),
                DeliveryRow.state.not_in([State.PUBLISHED.value, State.FAILED.value, State.CANCELLED.value]),
            )
            .values(state=State.CANCELLED.value)
        )
    return found


# -- 5. memory -----------------------------------------------------------------------------------


VERSION_COLUMNS = ("version", "record", "content_hash", "route", "submitted_by", "created_at")


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
            connection.execute(  # version 1 of each: what the dispatcher renders from
                insert(TenderVersionRow),
                [
                    {key: row[key] for key in VERSION_COLUMNS} | {"tender_id": t, "changes": []}
                    for t, row in zip(tender_ids, rows, strict=True)
                ],
            )
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
        meter = bench.meter(worker)
        started = time.monotonic()
        _enqueue(bench, ids)
        wait_published(bench, "MM-", total, timeout=1800)
        elapsed = time.monotonic() - started
        cpu = meter.stop()
        after = worker.rss_bytes()
    finally:
        worker.stop()
    return {
        "deliveries": total,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "growth_pct": (after - before) / before * 100,
        "deliveries_per_s": total / elapsed,
        "cpu_seconds": cpu,
        "cpu_ms_per_delivery": {k: round(v * 1000 / total, 2) for k, v in cpu.items()},
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
