"""The sweeper recovers from lost messages, dead workers and closed gates."""

from __future__ import annotations

from syndicator.domain.states import State
from syndicator.store import transitions as store_ops
from tests.engine.conftest import Engine
from tests.unit.records_factory import valued

CRYSTAL_ONLY = valued("60000", procedure="framework-call-off", submission_deadline=...)


def test_a_lost_wake_up_message_is_sent_again_after_requeue_after(engine: Engine) -> None:
    engine.submit(CRYSTAL_ONLY)  # committed and "enqueued", but the message never arrives
    assert engine.sweeper.sweep().enqueued == 0  # not yet: the message may still be in flight
    engine.clock.advance(seconds=31)
    assert engine.sweeper.sweep().enqueued == 1
    engine.run()
    assert engine.delivery("crystal").state == State.PUBLISHED


def test_a_dead_worker_on_a_deduplicating_channel_is_retried(engine: Engine, channels) -> None:
    ids = engine.submit(CRYSTAL_ONLY)
    with engine.store.sessions.begin() as session:  # a worker claims, then dies
        store_ops.claim(session, ids, "dead:1", engine.clock(), engine.config.channels.engine.lease, [])
    engine.run()
    assert engine.delivery("crystal").state == State.SENDING  # its lease still holds
    engine.clock.advance(minutes=6)
    report = engine.sweeper.sweep()
    assert report.recovered == 1
    engine.run()
    row = engine.delivery("crystal")
    assert row.state == State.PUBLISHED and row.attempts == 2
    assert [a.outcome for a in engine.attempts(row.id)] == ["lost", "published"]


def test_a_dead_worker_on_trade_press_needs_reconcile(engine: Engine, channels) -> None:
    ids = engine.submit(valued("50000", cpv=["45000000-7"], procurement_commenced_on="2023-05-02"))
    press = [i for i in ids if i == engine.delivery("trade-press:construction-press").id]
    with engine.store.sessions.begin() as session:
        store_ops.claim(session, press, "dead:1", engine.clock(), engine.config.channels.engine.lease, [])
    engine.clock.advance(minutes=6)
    assert engine.sweeper.sweep().reconcile == 1
    engine.run()
    row = engine.delivery("trade-press:construction-press")
    assert row.state == State.NEEDS_RECONCILE and "lease expired" in row.last_error
    assert channels["trade-press"].sent == []


def test_sweeping_twice_enqueues_once(engine: Engine) -> None:
    engine.submit(*[{**CRYSTAL_ONLY, "reference": f"S-{n}"} for n in range(30)])
    engine.clock.advance(minutes=1)
    assert engine.sweeper.sweep().enqueued == 30
    assert engine.sweeper.sweep().enqueued == 0
    assert sum(len(batch) for batch in engine.sent) == 30
    assert max(len(batch) for batch in engine.sent) == engine.config.channels.engine.batch_size


def test_a_broker_backlog_is_not_flooded_with_duplicate_wake_ups(engine: Engine) -> None:
    engine.sweeper.backlog = lambda: 500  # the broker still holds 500 messages
    engine.submit(CRYSTAL_ONLY)
    engine.clock.advance(seconds=31)
    assert engine.sweeper.sweep().enqueued == 0  # its message is most likely still queued
    engine.clock.advance(seconds=300)
    assert engine.sweeper.sweep().enqueued == 1  # ten times the wait: it was lost after all
    engine.sweeper.backlog = lambda: 0
