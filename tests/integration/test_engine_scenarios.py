"""The delivery engine against real PostgreSQL, Redis, Celery worker processes and the sandbox:
every way a delivery can go wrong, and that it still ends published exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from syndicator.domain.clock import utcnow
from syndicator.ops import actions as ops
from syndicator.ops.queries import audit
from syndicator.sandbox.server import Sandbox
from tests.integration.conftest import inject, received
from tests.integration.deployment import Deployment
from tests.services import fresh_postgres_database, redis_url
from tests.unit.records_factory import record, valued

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

DONE = {"published"}


def call_off(reference: str) -> dict:
    """A framework call-off: routed to Crystal only."""
    return valued("60000", procedure="framework-call-off", submission_deadline=..., reference=reference)


@pytest.fixture
def deployment(tmp_path: Path, sandbox: Sandbox) -> Iterator[Deployment]:
    broker = redis_url()
    for database in fresh_postgres_database():
        built = Deployment(tmp_path, database, broker, sandbox)
        try:
            yield built
        finally:
            built.stop()


def notices(box: Sandbox, channel: str | None = None) -> list[dict]:
    return received(box, channel)


def test_sigkill_mid_delivery_loses_nothing_and_publishes_once(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    # Every Crystal answer comes late, so the first worker is mid-send when it is killed.
    inject(sandbox, "crystal", "timeout", count=6, delay=1.2)
    first = deployment.start_worker()
    tenders = deployment.submit(
        *[
            record(
                reference=f"KILL-{n}",
                estimated_value={"amount": "50000", "currency": "GBP"},
                cpv=["45000000-7"],
            )
            for n in range(6)
        ]
    )
    deployment.wait_for(
        lambda: any(d.state == "sending" for d in deployment.deliveries()),
        30,
        "a delivery in flight",
    )
    deployment.kill(first)
    deployment.start_worker()
    deployment.wait_for(
        deployment.all_in({"published", "needs_reconcile"}, tenders), 90, "every delivery settled"
    )
    for notice in notices(sandbox):
        assert notice["copies"] == 1, notice  # nothing was ever published twice
    rows = deployment.deliveries(tenders)
    unsettled = [d for d in rows if d.state == "needs_reconcile"]
    assert all(d.destination.startswith("trade-press:") for d in unsettled), unsettled
    assert sum(d.state == "published" for d in rows) >= len(rows) - len(unsettled)
    assert {d.destination for d in rows if d.state == "published"} >= {
        "crystal",
        "bluelight",
        "source-east-midlands",
    }


def test_redis_flushed_while_deliveries_are_queued(deployment: Deployment, sandbox: Sandbox) -> None:
    tenders = deployment.submit(*[call_off(f"FLUSH-{n}") for n in range(5)])
    assert deployment.redis.llen("syndicator") == 1  # one wake-up message for the five is in Redis...
    deployment.redis.flushdb()  # ...and now they are gone
    deployment.start_worker()
    deployment.wait_for(deployment.all_in(DONE, tenders), 60, "the sweeper to recover every delivery")
    assert len(notices(sandbox, "crystal")) == 5


def test_submitter_killed_between_commit_and_enqueue(deployment: Deployment, sandbox: Sandbox) -> None:
    script = textwrap.dedent(f"""
        import json, os, signal, sys
        from datetime import date
        from syndicator.domain.clock import utcnow
        from syndicator.intake.submit import submit
        from syndicator.intake.records import read_bytes
        from syndicator.config.settings import Settings, load_config
        from syndicator.runtime.wiring import open_store, tender_context
        settings = Settings(); config = load_config(settings); store = open_store(settings)
        record = json.dumps({call_off("CRASH-1")!r}).encode()
        parsed, _ = read_bytes(record, tender_context(config, date.today()))
        def die(ids):  # the commit is done; the process dies before any message is sent
            os.kill(os.getpid(), signal.SIGKILL)
        submit(store.sessions, parsed, config.policy, config.thresholds, "crashing", utcnow(), die)
    """)
    env = {**deployment.env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    finished = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)
    assert finished.returncode == -signal.SIGKILL, finished.stderr.decode()
    assert deployment.redis.llen("syndicator") == 0
    [delivery] = deployment.deliveries()
    assert delivery.state == "pending"
    deployment.start_worker()
    deployment.wait_for(deployment.all_in(DONE), 60, "the sweeper to send the orphaned delivery")


def test_503_three_times_then_accepted(deployment: Deployment, sandbox: Sandbox) -> None:
    inject(sandbox, "crystal", "error-503", count=3)
    deployment.start_worker()
    tenders = deployment.submit(call_off("FLAKY-1"))
    deployment.wait_for(deployment.all_in(DONE, tenders), 60, "publication after retries")
    [delivery] = deployment.deliveries(tenders)
    assert delivery.attempts == 4
    assert [(a.outcome, a.status_code) for a in deployment.attempts(delivery.id)] == [("retry", 503)] * 3 + [
        ("published", 201)
    ]


def test_429_next_attempt_not_earlier_than_retry_after(deployment: Deployment, sandbox: Sandbox) -> None:
    inject(sandbox, "crystal", "rate-limit-429", count=1, retry_after=3)
    deployment.start_worker()
    tenders = deployment.submit(call_off("RATE-1"))
    deployment.wait_for(deployment.all_in(DONE, tenders), 60, "publication after the rate limit")
    [delivery] = deployment.deliveries(tenders)
    first, second = deployment.attempts(delivery.id)
    assert first.outcome == "rate_limited" and first.status_code == 429
    assert (second.started_at - first.finished_at).total_seconds() >= 3


def test_422_fails_after_one_attempt_with_reasons(deployment: Deployment, sandbox: Sandbox) -> None:
    inject(sandbox, "crystal", "reject-422", count=1)
    deployment.start_worker()
    tenders = deployment.submit(call_off("REJECT-1"))
    deployment.wait_for(deployment.all_in({"failed"}, tenders), 60, "the rejection")
    [delivery] = deployment.deliveries(tenders)
    [attempt] = deployment.attempts(delivery.id)
    assert attempt.status_code == 422 and attempt.outcome == "rejected"
    assert "rejected by an injected fault" in (attempt.message or "") + (attempt.excerpt or "")
    assert delivery.last_error_class == "rejected"
    shown = subprocess.run(
        [sys.executable, "-m", "syndicator", "show", "REJECT-1"],
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert "rejected" in shown.stdout and "422" in shown.stdout, shown.stdout + shown.stderr


def test_read_timeout_on_a_deduplicating_channel_is_retried_and_published_once(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    inject(sandbox, "crystal", "timeout", count=1, delay=2.5)  # the adapter gives up after 1.5 s
    deployment.start_worker()
    tenders = deployment.submit(call_off("SLOW-1"))
    deployment.wait_for(deployment.all_in(DONE, tenders), 60, "publication after the time-out")
    [delivery] = deployment.deliveries(tenders)
    assert [a.outcome for a in deployment.attempts(delivery.id)] == ["unknown", "published"]
    [notice] = notices(sandbox, "crystal")
    assert notice["times_received"] == 2 and notice["copies"] == 1


def test_a_channel_down_for_long_opens_its_breaker_and_spares_the_others(
    deployment: Deployment, sandbox: Sandbox
) -> None:
    inject(sandbox, "bluelight", "error-503", count=10_000)
    deployment.start_worker()
    tenders = deployment.submit(*[valued("20000", reference=f"DOWN-{n}") for n in range(4)])  # bluelight only
    others = deployment.submit(*[call_off(f"ALIVE-{n}") for n in range(4)])  # crystal only
    deployment.wait_for(deployment.all_in(DONE, others), 30, "the healthy channel to keep delivering")

    def breaker_open() -> bool:
        with deployment.store.sessions() as session:
            from syndicator.ops.queries import channel_health

            return any(
                h.destination == "bluelight" and h.breaker == "open"
                for h in channel_health(session, ["bluelight"], utcnow())
            )

    deployment.wait_for(breaker_open, 30, "the bluelight breaker to open")
    spent = sum(d.attempts for d in deployment.deliveries(tenders))
    requests.delete(sandbox.config.base_url() + "/_sandbox/faults", timeout=5)
    deployment.wait_for(deployment.all_in(DONE, tenders), 60, "bluelight to recover")
    assert spent <= 4 * 3  # paused deliveries did not burn through their schedule


def test_two_workers_racing_send_each_notice_once(deployment: Deployment, sandbox: Sandbox) -> None:
    deployment.start_worker(name="a")
    deployment.start_worker(name="b", beat=False)
    tenders = deployment.submit(*[call_off(f"RACE-{n}") for n in range(20)])
    # a second wake-up message for every delivery: both workers race for each one
    for delivery in deployment.deliveries(tenders):
        deployment.app.send_task("syndicator.deliver", args=[[delivery.id]])
    deployment.wait_for(deployment.all_in(DONE, tenders), 60, "every delivery")
    crystal = notices(sandbox, "crystal")
    assert len(crystal) == 20
    assert all(n["times_received"] == 1 and n["copies"] == 1 for n in crystal), crystal


@pytest.mark.parametrize(
    ("commenced", "primary"),
    [("2026-11-02", "find-a-tender"), ("2020-11-16", "ted")],
    ids=["pa2023-find-a-tender", "ojeu-ted"],
)
def test_the_official_journal_gates_the_national_adverts(
    deployment: Deployment, sandbox: Sandbox, commenced: str, primary: str
) -> None:
    requests.post(sandbox.config.base_url() + "/_sandbox/delays", json={primary: 3}, timeout=5)
    deployment.start_worker()
    [tender] = deployment.submit(valued("500000", reference="GATE-1", procurement_commenced_on=commenced))
    deployment.wait_for(
        lambda: any(d.destination == primary and d.state == "submitted" for d in deployment.deliveries()),
        30,
        f"{primary} to accept the notice",
    )
    assert {d.state for d in deployment.deliveries() if d.destination != primary} == {"held"}
    assert notices(sandbox, "crystal") == []
    deployment.wait_for(deployment.all_in(DONE, [tender]), 60, f"every channel after {primary} published")
    rows = {d.destination: d for d in deployment.deliveries()}
    first = rows.pop(primary)
    assert rows and all(d.published_at >= first.published_at for d in rows.values() if d.published_at)


def test_repush_after_the_fault_is_cleared(deployment: Deployment, sandbox: Sandbox) -> None:
    inject(sandbox, "crystal", "reject-422", count=1)
    deployment.start_worker()
    tenders = deployment.submit(call_off("REPUSH-1"))
    deployment.wait_for(deployment.all_in({"failed"}, tenders), 60, "the rejection")
    [delivery] = deployment.deliveries(tenders)
    send = lambda ids: deployment.app.send_task("syndicator.deliver", args=[ids])  # noqa: E731
    ops.repush(
        deployment.store.sessions,
        delivery.id,
        actor="alice",
        reason="Crystal fixed its validation",
        now=utcnow(),
        enqueue=send,
    )
    deployment.wait_for(deployment.all_in(DONE, tenders), 60, "publication after the re-push")
    with deployment.store.sessions() as session:
        [row] = audit(session, action="repush")
    assert (
        row.actor == "alice"
        and row.delivery_id == delivery.id
        and row.reason == "Crystal fixed its validation"
    )
    last = deployment.attempts(delivery.id)[-1]
    assert last.trigger == "manual" and last.actor == "alice" and last.outcome == "published"


def test_a_warm_shutdown_records_the_sends_in_flight(deployment: Deployment, sandbox: Sandbox) -> None:
    # A worker task returns once its batch is on the process's I/O threads: stopping the worker
    # (SIGTERM to the main process, as a service manager does) must still wait for those sends
    # and record them, leaving nothing for the lease to recover.
    inject(sandbox, "crystal", "timeout", count=4, delay=1.2)  # answered late, within the time-out
    worker = deployment.start_worker(beat=False)
    tenders = deployment.submit(*[call_off(f"TERM-{n}") for n in range(4)])
    deployment.wait_for(
        lambda: sum(d.state == "sending" for d in deployment.deliveries(tenders)) == 4,
        30,
        "every delivery in flight",
    )
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    rows = deployment.deliveries(tenders)
    assert {d.state for d in rows} == {"published"}, [(d.id, d.state) for d in rows]
    for row in rows:
        assert [a.outcome for a in deployment.attempts(row.id)] == ["published"]
    assert len(notices(sandbox, "crystal")) == 4
