"""The delivery engine in one process: real store (SQLite and PostgreSQL), real dispatcher and
sweeper, scripted channels, a clock moved by hand."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from syndicator.channel.base import (
    AuthError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    TransientError,
)
from syndicator.domain.states import State
from tests.engine.conftest import Engine, make_engine
from tests.unit.records_factory import record, valued

CRYSTAL_ONLY = valued("60000", procedure="framework-call-off", submission_deadline=...)
# A procurement commenced under the PCR as amended for the UK, below the threshold: no primary,
# so every destination is sent at once.
PCR_BELOW_THRESHOLD = {"procurement_commenced_on": "2023-05-02"}


def test_a_live_channel_publishes_on_the_first_attempt(engine: Engine) -> None:
    ids = engine.submit(CRYSTAL_ONLY)
    report = engine.dispatcher.deliver(ids)
    assert report.claimed == 1 and report.outcomes == {"published": 1}
    row = engine.delivery("crystal")
    assert row.state == State.PUBLISHED and row.attempts == 1 and row.remote_id == "crystal-1"
    assert row.published_at == engine.clock() and row.rendered and row.lease_owner is None
    [attempt] = engine.attempts(row.id)
    assert attempt.outcome == "published" and attempt.trigger == "auto" and attempt.remote_id == "crystal-1"


def test_the_key_is_the_same_on_every_attempt(engine: Engine, channels) -> None:
    channels["crystal"].sends.extend([TransientError("503", status_code=503)] * 2)
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    for _ in range(2):
        engine.clock.advance(minutes=10)
        engine.run()
    keys = channels["crystal"].sent
    assert len(keys) == 3 and len(set(keys)) == 1
    assert keys[0] == engine.delivery("crystal").key


def test_503_three_times_then_accepted_takes_four_attempts(engine: Engine, channels) -> None:
    channels["crystal"].sends.extend([TransientError("unavailable (HTTP 503)", status_code=503)] * 3)
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    waits = []
    for _ in range(3):
        row = engine.delivery("crystal")
        assert row.state == State.RETRY_WAIT
        waits.append(row.next_attempt_at - engine.clock())
        engine.clock.now = row.next_attempt_at
        engine.run()
    row = engine.delivery("crystal")
    assert row.state == State.PUBLISHED and row.attempts == 4
    outcomes = [(a.outcome, a.status_code) for a in engine.attempts(row.id)]
    assert outcomes == [("retry", 503)] * 3 + [("published", None)]
    # default schedule 5s, 5m, 30m with +/-20% jitter
    for wait, base in zip(waits, [5, 300, 1800], strict=True):
        assert base * 0.8 <= wait.total_seconds() <= base * 1.2


def test_a_retry_is_not_sent_before_it_is_due(engine: Engine, channels) -> None:
    channels["crystal"].sends.append(TransientError("503", status_code=503))
    ids = engine.submit(CRYSTAL_ONLY)
    engine.dispatcher.deliver(ids)
    assert engine.dispatcher.deliver(ids).claimed == 0  # a duplicate wake-up message changes nothing
    engine.run()
    assert len(channels["crystal"].sent) == 1


def test_429_waits_at_least_retry_after(engine: Engine, channels) -> None:
    channels["crystal"].sends.append(RateLimited("429", retry_after=120, status_code=429))
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    row = engine.delivery("crystal")
    assert row.state == State.RETRY_WAIT
    assert row.next_attempt_at - engine.clock() >= timedelta(seconds=120)
    assert engine.attempts(row.id)[0].outcome == "rate_limited"


def test_a_retry_after_longer_than_every_step_is_still_honoured(engine: Engine, channels) -> None:
    # The README promises a 429 waits at least what it asks: 20 h is past the longest step (10 h).
    channels["crystal"].sends.append(RateLimited("429", retry_after=20 * 3600, status_code=429))
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    row = engine.delivery("crystal")
    assert row.state == State.RETRY_WAIT
    assert row.next_attempt_at - engine.clock() == timedelta(hours=20)


@pytest.mark.parametrize("retry_after", [24 * 3600 + 1, 10**9, 1e300])
def test_a_retry_after_beyond_the_bound_fails_with_that_reason(
    engine: Engine, channels, retry_after: float
) -> None:
    channels["crystal"].sends.append(RateLimited("429", retry_after=retry_after, status_code=429))
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    row = engine.delivery("crystal")
    assert row.state == State.FAILED and row.next_attempt_at is None
    assert "longer than max_retry_after (1d)" in (row.last_error or "")


def test_422_fails_at_once_with_the_channels_reasons(engine: Engine, channels) -> None:
    channels["crystal"].sends.append(
        RejectedError(
            "crystal rejected the notice",
            reasons=["title: too long"],
            status_code=422,
            excerpt='{"errors": []}',
        )
    )
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    row = engine.delivery("crystal")
    assert row.state == State.FAILED and row.attempts == 1 and row.last_error_class == "rejected"
    [attempt] = engine.attempts(row.id)
    assert attempt.status_code == 422 and "title: too long" in attempt.message
    assert attempt.excerpt == '{"errors": []}'


def test_auth_failure_fails_at_once(engine: Engine, channels) -> None:
    channels["crystal"].sends.append(AuthError("refused (HTTP 401)", status_code=401))
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    assert engine.delivery("crystal").state == State.FAILED


def test_read_timeout_on_a_deduplicating_channel_is_retried(engine: Engine, channels) -> None:
    channels["crystal"].sends.append(OutcomeUnknown("no answer within 30s"))
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    assert engine.delivery("crystal").state == State.RETRY_WAIT
    engine.clock.advance(seconds=10)
    engine.run()
    assert engine.delivery("crystal").state == State.PUBLISHED
    assert len(set(channels["crystal"].sent)) == 1


def test_unknown_outcome_without_deduplication_needs_reconcile(engine: Engine, channels) -> None:
    channels["trade-press"].sends.append(OutcomeUnknown("no reply after DATA"))
    engine.run()
    ids = engine.submit(valued("50000", cpv=["45000000-7"], **PCR_BELOW_THRESHOLD))
    engine.dispatcher.deliver(ids)
    row = engine.delivery("trade-press:construction-press")
    assert row.state == State.NEEDS_RECONCILE
    engine.clock.advance(hours=1)
    engine.run()
    assert len(channels["trade-press"].sent) == 1  # never resent by itself


def test_exhausted_schedule_fails(engine: Engine, channels) -> None:
    channels["crystal"].sends.extend([TransientError("503")] * 8)
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    for _ in range(10):
        engine.clock.advance(hours=12)
        engine.run()
    row = engine.delivery("crystal")
    assert row.state == State.FAILED and row.attempts == 8
    assert engine.attempts(row.id)[-1].outcome == "gave_up"


def test_accepted_notices_are_polled_until_published(engine: Engine, channels) -> None:
    channels["bluelight"].polls.extend([Receipt("x", live=False, status="Received")] * 2)
    engine.dispatcher.deliver(engine.submit(valued("20000")))
    row = engine.delivery("bluelight")
    assert row.state == State.SUBMITTED and row.submitted_at == engine.clock()
    for _ in range(3):
        engine.clock.now = engine.delivery("bluelight").next_attempt_at
        engine.run()
    row = engine.delivery("bluelight")
    assert row.state == State.PUBLISHED and row.polls == 3 and row.remote_url.endswith("/live")
    assert [a.outcome for a in engine.attempts(row.id)] == [
        "submitted",
        "pending",
        "pending",
        "published",
    ]


def test_a_rejection_found_by_polling_fails(engine: Engine, channels) -> None:
    channels["bluelight"].polls.append(RejectedError("Rejected: duplicate of BL-1"))
    engine.dispatcher.deliver(engine.submit(valued("20000")))
    engine.clock.advance(minutes=1)
    engine.run()
    assert engine.delivery("bluelight").state == State.FAILED


def test_polling_gives_up_into_needs_reconcile(engine: Engine, channels) -> None:
    channels["bluelight"].polls.extend([Receipt("x", live=False)] * 1000)
    engine.dispatcher.deliver(engine.submit(valued("20000")))
    for _ in range(200):
        engine.clock.advance(hours=1)
        engine.run()
        if engine.delivery("bluelight").state != State.SUBMITTED:
            break
    row = engine.delivery("bluelight")
    assert row.state == State.NEEDS_RECONCILE and "still not published" in row.last_error


def test_the_primary_gates_the_other_adverts(engine: Engine, channels) -> None:
    channels["find-a-tender"].polls.append(Receipt("f", live=False, status="RECEIVED"))
    ids = engine.submit(valued("500000"))
    engine.dispatcher.deliver(ids)
    engine.clock.advance(seconds=10)
    engine.run()  # first status check: Find a Tender has not published it yet
    assert channels["find-a-tender"].polled
    states = {name: row.state for name, row in engine.deliveries().items()}
    assert states.pop("find-a-tender") == State.SUBMITTED
    assert set(states.values()) == {State.HELD}
    assert channels["crystal"].sent == []
    engine.clock.advance(minutes=2)
    engine.run()  # published at this check: the gate opens and the others go at once
    rows = engine.deliveries()
    assert rows["find-a-tender"].state == State.PUBLISHED
    assert rows["crystal"].state == State.PUBLISHED
    # the other adverts know the primary's notice they follow
    context = channels["crystal"].contexts[-1]
    assert context.follows is not None and context.follows.destination == "find-a-tender"
    assert context.follows.dispatched_at == rows["find-a-tender"].submitted_at
    assert (context.regime, context.above_threshold) == ("pa2023", True)


def test_the_gate_opens_48_hours_after_the_primary_accepted(engine: Engine, channels) -> None:
    channels["find-a-tender"].polls.extend([Receipt("f", live=False)] * 1000)
    engine.dispatcher.deliver(engine.submit(valued("500000")))
    engine.clock.advance(hours=47)
    engine.run()
    assert engine.delivery("crystal").state == State.HELD
    engine.clock.advance(hours=1, seconds=1)
    engine.run()
    assert engine.delivery("crystal").state == State.PUBLISHED
    assert engine.delivery("find-a-tender").state == State.SUBMITTED


def test_breaker_opens_pauses_and_recovers(engine: Engine, channels) -> None:
    crystal = channels["crystal"]
    crystal.sends.extend([TransientError("connection refused")] * 5)
    engine.dispatcher.deliver(engine.submit(*[{**CRYSTAL_ONLY, "reference": f"FW-{n}"} for n in range(5)]))
    assert {r.state for r in _all(engine)} == {State.RETRY_WAIT}
    # 5 consecutive failures opened the breaker: new deliveries wait without spending attempts
    later = engine.submit(*[{**CRYSTAL_ONLY, "reference": f"LATER-{n}"} for n in range(3)])
    assert engine.dispatcher.deliver(later).claimed == 0
    engine.run()
    waiting = [r for r in _all(engine) if r.attempts == 0]
    assert len(waiting) == 3 and all(r.state == State.RETRY_WAIT for r in waiting)
    assert all(r.next_attempt_at >= engine.clock() + timedelta(minutes=1) for r in _all(engine))
    assert len(crystal.sent) == 5
    # after the 2-minute cool-down everything goes through
    for _ in range(3):
        engine.clock.advance(minutes=3)
        engine.run()
    assert {r.state for r in _all(engine)} == {State.PUBLISHED}
    assert sorted(r.attempts for r in _all(engine)) == [1, 1, 1, 2, 2, 2, 2, 2]


def test_breaker_of_one_channel_does_not_slow_the_others(engine: Engine, channels) -> None:
    channels["crystal"].sends.extend([TransientError("down")] * 100)
    engine.dispatcher.deliver(
        engine.submit(*[record(reference=f"R-{n}", **PCR_BELOW_THRESHOLD) for n in range(6)])
    )
    engine.run()
    states = {}
    for row in _all(engine):
        states.setdefault(row.destination, set()).add(row.state)
    assert states["crystal"] == {State.RETRY_WAIT}
    assert states["trade-press:police-technology-press"] == {State.PUBLISHED}
    assert states["bluelight"] == {State.SUBMITTED}


def test_render_errors_fail_at_once(engine: Engine, channels) -> None:
    def broken(tender, context):  # type: ignore[no-untyped-def]
        raise ValueError("bug")

    channels["crystal"].render = broken  # type: ignore[method-assign]
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    row = engine.delivery("crystal")
    assert row.state == State.FAILED and row.last_error_class == "render" and "bug" in row.last_error


def test_two_workers_racing_send_once(store, config, channels) -> None:
    first = make_engine(store, config, _clock(), channels, owner="w:1")
    second = make_engine(store, config, first.clock, channels, owner="w:2")
    ids = first.submit(*[{**CRYSTAL_ONLY, "reference": f"RACE-{n}"} for n in range(10)])
    start = threading.Barrier(2)

    def work(engine: Engine) -> None:
        start.wait()
        engine.dispatcher.deliver(ids)

    threads = [threading.Thread(target=work, args=(e,)) for e in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(channels["crystal"].sent) == sorted(set(channels["crystal"].sent))
    assert len(channels["crystal"].sent) == 10
    assert {r.state for r in _all(first)} == {State.PUBLISHED}
    first.dispatcher.close()
    second.dispatcher.close()


def test_secrets_never_reach_the_ledger(engine: Engine, channels) -> None:
    channels["crystal"].sends.append(
        RejectedError("bad token s3cret-token-value", status_code=422, excerpt="echo: s3cret-token-value")
    )
    engine.dispatcher.deliver(engine.submit(CRYSTAL_ONLY))
    [attempt] = engine.attempts(engine.delivery("crystal").id)
    assert "s3cret" not in attempt.message and "s3cret" not in attempt.excerpt


def _all(engine: Engine):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from syndicator.store.models import DeliveryRow

    with engine.store.sessions() as session:
        return list(session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def _clock():  # type: ignore[no-untyped-def]
    from tests.engine.fakes import FakeClock

    return FakeClock()


def test_a_first_status_check_due_at_once_is_made_in_the_same_task(store, config, channels) -> None:
    from dataclasses import replace
    from datetime import timedelta as td

    from syndicator.config.channels import PollingConfig

    polling = {"default": PollingConfig(schedule=[td(0), td(seconds=5)])}
    quick = replace(config, channels=config.channels.model_copy(update={"polling": polling}))
    engine = make_engine(store, quick, _clock(), channels)
    engine.dispatcher.deliver(engine.submit(valued("20000")))
    row = engine.delivery("bluelight")
    assert row.state == State.PUBLISHED and row.polls == 1 and row.remote_url.endswith("/live")
    assert [(a.kind, a.outcome) for a in engine.attempts(row.id)] == [
        ("send", "submitted"),
        ("poll", "published"),
    ]
    channels["bluelight"].polls.append(Receipt("x", live=False))  # not yet live: polled again later
    engine.dispatcher.deliver(engine.submit(valued("20000", reference="LATER-1")))
    later = next(r for r in _all(engine) if r.tender_id != row.tender_id)
    assert later.state == State.SUBMITTED and later.next_attempt_at == engine.clock() + td(seconds=5)
    engine.dispatcher.close()


def test_a_batch_that_dies_before_recording_resends_only_to_deduplicating_channels(
    engine: Engine, channels, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch's transaction for the de-duplicating channels fails (as if the worker died
    # after sending): the trade press advert was already on record in its own transaction.
    record_one = engine.dispatcher._record

    def dies_on_deduplicating(session, sent, *rest):
        if sent.adapter.capabilities.deduplicates:
            raise RuntimeError("worker gone")
        return record_one(session, sent, *rest)

    monkeypatch.setattr(engine.dispatcher, "_record", dies_on_deduplicating)
    ids = engine.submit(valued("50000", cpv=["45000000-7"], **PCR_BELOW_THRESHOLD))
    with pytest.raises(RuntimeError, match="worker gone"):
        engine.dispatcher.deliver(ids)
    rows = engine.deliveries()
    advert = rows.pop("trade-press:construction-press")
    assert advert.state == State.PUBLISHED and rows
    assert {row.state for row in rows.values()} == {State.SENDING}  # under lease: nothing lost
    monkeypatch.undo()
    engine.clock.advance(hours=1)  # past the lease: the sweeper takes them back
    engine.run()
    engine.clock.advance(hours=1)  # and their status checks come due
    engine.run()
    assert {row.state for row in engine.deliveries().values()} == {State.PUBLISHED}
    assert len(channels["trade-press"].sent) == 1  # the advert went once
    for name in ("crystal", "bluelight"):
        assert len(channels[name].sent) == 2 and len(set(channels[name].sent)) == 1  # same key again


def test_a_batchs_ledger_rows_keep_their_order(engine: Engine, channels) -> None:
    # Written in one statement for the batch: each delivery's send, then its status check.
    ids = engine.submit(valued("50000", cpv=["45000000-7"], **PCR_BELOW_THRESHOLD))
    engine.dispatcher.deliver(ids)
    for destination, row in engine.deliveries().items():
        kinds = [a.kind for a in engine.attempts(row.id)]
        assert kinds[0] == "send", (destination, kinds)
        assert kinds in (["send"], ["send", "poll"]), (destination, kinds)
