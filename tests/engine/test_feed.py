"""The worker task's way in (`Dispatcher.feed`): it hands a batch to the I/O threads and returns
before the sends finish, so a process's threads stay busy; every outcome is still recorded,
a failure to record leaves the rows under their lease, and closing waits for the sends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from syndicator.channel.base import Receipt
from syndicator.domain.states import State
from syndicator.engine.flight import Batch, Flight
from syndicator.runtime.worker import EXIT_OVERDUE, watch
from syndicator.store.models import DeliveryRow
from tests.engine.conftest import Engine
from tests.engine.test_dispatch import CRYSTAL_ONLY
from tests.unit.records_factory import valued


def _call_offs(engine: Engine, count: int, prefix: str = "FEED") -> list[int]:
    return engine.submit(*[{**CRYSTAL_ONLY, "reference": f"{prefix}-{n}"} for n in range(count)])


def _until(predicate: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _states(engine: Engine) -> set[State]:
    return {row.state for row in engine.deliveries().values()}


def test_feed_returns_while_the_sends_are_out_and_records_them_after(engine: Engine, channels) -> None:
    channels["crystal"].gate = threading.Event()
    ids = _call_offs(engine, 3)
    assert engine.dispatcher.feed(ids) == 3
    assert _states(engine) == {State.SENDING}  # claimed, under lease, not yet sent
    channels["crystal"].gate.set()
    _until(engine.dispatcher.flight.idle, "the threads to finish")
    _until(lambda: _states(engine) == {State.PUBLISHED}, "every outcome on record")
    assert len(channels["crystal"].sent) == 3


def test_feed_waits_until_no_job_waits_for_a_thread(engine: Engine, channels) -> None:
    threads = engine.config.channels.engine.concurrency
    channels["crystal"].gate = threading.Event()
    engine.dispatcher.feed(_call_offs(engine, threads + 2))  # two wait for a thread
    second = _call_offs(engine, 1, "SECOND")
    fed = threading.Event()
    worker = threading.Thread(target=lambda: (engine.dispatcher.feed(second), fed.set()))
    worker.start()
    assert not fed.wait(0.3)  # held back: this batch would only queue behind the first
    channels["crystal"].gate.set()
    assert fed.wait(5)
    worker.join()
    _until(engine.dispatcher.flight.idle, "the threads to finish")
    _until(lambda: _states(engine) == {State.PUBLISHED}, "every outcome on record")
    assert len(set(channels["crystal"].sent)) == threads + 3


def test_a_fed_batch_that_cannot_record_logs_it_and_leaves_the_rows_under_lease(
    engine: Engine, channels, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies(session, sent, *rest):  # type: ignore[no-untyped-def]
        raise RuntimeError("database gone")

    monkeypatch.setattr(engine.dispatcher, "_record", dies)
    with capture_logs() as logs:
        engine.dispatcher.feed(_call_offs(engine, 2))
        _until(engine.dispatcher.flight.idle, "the threads to finish")
        _until(lambda: any(e["log_level"] == "error" for e in logs), "the error logged")
    [error] = [e for e in logs if e["log_level"] == "error"]
    assert "lease will return" in error["event"] and "database gone" in error["error"]
    assert _states(engine) == {State.SENDING}  # nothing lost: the sweeper takes them back
    monkeypatch.undo()
    engine.clock.advance(hours=1)
    engine.run()
    assert _states(engine) == {State.PUBLISHED}
    assert len(channels["crystal"].sent) == 4 and len(set(channels["crystal"].sent)) == 2  # same keys


def test_deliver_still_waits_and_raises_what_went_wrong(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies(session, sent, *rest):  # type: ignore[no-untyped-def]
        raise RuntimeError("database gone")

    monkeypatch.setattr(engine.dispatcher, "_record", dies)
    with pytest.raises(RuntimeError, match="database gone"):
        engine.dispatcher.deliver(_call_offs(engine, 2))


def test_closing_waits_for_the_sends_in_flight_and_their_outcomes(engine: Engine, channels) -> None:
    channels["crystal"].gate = threading.Event()
    engine.dispatcher.feed(_call_offs(engine, 4))
    threading.Timer(0.2, channels["crystal"].gate.set).start()
    engine.dispatcher.close()  # a warm shutdown of the worker process
    assert _states(engine) == {State.PUBLISHED}


def test_a_batch_closes_after_its_last_job() -> None:
    batch = Batch(2, time.monotonic())
    assert not batch.finished(recorded=("published", [7]))
    assert batch.failed(RuntimeError("boom"))  # the last one
    batch.close()
    with pytest.raises(RuntimeError, match="boom"):
        batch.wait()
    assert batch.report.outcomes == {"published": 1} and batch.report.opened_gates == [7]
    assert Batch(0, 0.0).wait().claimed == 0  # nothing claimed: already closed


def test_overdue_counts_running_jobs_by_their_claim() -> None:
    flight = Flight()
    flight.queued(2)
    with flight.running(claimed_at=100.0), flight.running(claimed_at=150.0):
        assert flight.overdue(60, now=170.0) == 1
        assert flight.overdue(60, now=220.0) == 2
        assert not flight.idle()
    assert flight.overdue(60, now=1000.0) == 0 and flight.idle()


def test_the_watchdog_stops_the_process_when_a_send_outlives_its_lease() -> None:
    flight = Flight()
    stopped: list[int] = []
    called = threading.Event()

    def stop(code: int) -> None:
        stopped.append(code)
        called.set()

    done = watch(flight, limit=0.05, stop=stop, every=0.01)
    flight.queued(1)
    with flight.running(claimed_at=time.monotonic()):
        assert called.wait(2)
    done.set()
    assert stopped == [EXIT_OVERDUE]


def test_the_watchdog_leaves_a_process_within_its_lease_alone() -> None:
    flight = Flight()
    stopped: list[int] = []
    done = watch(flight, limit=5, stop=stopped.append, every=0.01)
    flight.queued(1)
    with flight.running(claimed_at=time.monotonic()):
        time.sleep(0.1)
    done.set()
    assert stopped == []


def test_a_fed_primary_releases_its_followers_onto_the_same_threads(engine: Engine, channels) -> None:
    channels["find-a-tender"].sends.append(Receipt("fts-1", live=True, url="https://example.test/fts-1"))
    engine.dispatcher.feed(engine.submit(valued("500000")))
    _until(
        lambda: engine.deliveries()["crystal"].state == State.PUBLISHED,
        "the followers sent once the primary published",
    )
    _until(engine.dispatcher.flight.idle, "the threads to finish")
    assert engine.sent == []  # no wake-up message: started here, on the threads that were free
    rows = engine.deliveries()
    assert rows["find-a-tender"].state == State.PUBLISHED
    followers = {name: row.state for name, row in rows.items() if name != "find-a-tender"}
    assert followers and set(followers.values()) <= {State.PUBLISHED, State.SUBMITTED}


def test_followers_go_by_message_while_the_threads_are_busy(engine: Engine, channels) -> None:
    channels["find-a-tender"].gate = threading.Event()
    channels["find-a-tender"].sends.append(Receipt("fts-1", live=True, url="https://example.test/fts-1"))
    engine.dispatcher.feed(engine.submit(valued("500000")))  # the primary holds one thread
    channels["crystal"].gate = threading.Event()
    busy = _call_offs(engine, engine.config.channels.engine.concurrency + 1, "BUSY")
    engine.dispatcher.start(busy, detached=True)  # the other threads held, two waiting
    channels["find-a-tender"].gate.set()  # published while this process has no thread free
    _until(lambda: bool(engine.sent), "the followers' wake-up message")
    channels["crystal"].gate.set()
    _until(engine.dispatcher.flight.idle, "the threads to finish")
    [message] = engine.sent
    with engine.store.sessions() as session:
        released = session.scalars(select(DeliveryRow).where(DeliveryRow.id.in_(message))).all()
    assert {row.destination for row in released} >= {"crystal", "bluelight", "source-east-midlands"}
    assert {row.state for row in released} == {State.PENDING}  # for whichever process is free
