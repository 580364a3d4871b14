"""The sweeper (Celery beat, every few seconds): the database is the source of truth, so this
finds every row that needs a worker and wakes one up. A lost message, a flushed Redis or a
killed worker therefore delays a delivery by seconds, never loses it.

    1. breakers past their cool-down go half-open
    2. due deliveries of paused channels move to the end of the pause (no attempt spent)
    3. `sending` rows whose lease expired: retried (channel de-duplicates) or needs_reconcile
    4. gates open: held notices go once the primary's notice is published (or was accepted long
       enough ago) and the previous notice on their destination is published; a held notice
       whose previous one failed is planned again (it follows what is still live there)
    5. due sends and due status checks without a live wake-up message are enqueued
    6. signed contracts whose contract details notice is 30 days late raise an alert (once)
    7. alerts that have waited a group window go to ops as one e-mail
    8. the delivery counts' deltas are folded together (the overview sums them)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select

from syndicator.channel.registry import declared, family
from syndicator.config.settings import Config
from syndicator.domain.clock import Clock, utcnow
from syndicator.domain.states import DUE, Event, State
from syndicator.engine import breaker
from syndicator.engine.alerts import AlertSettings, flush
from syndicator.engine.outcomes import Outcome
from syndicator.notices import awards, schedule
from syndicator.notices.plan import Carriers, plan_unblocked
from syndicator.runtime.wiring import Store
from syndicator.store import counts, gates
from syndicator.store import transitions as store
from syndicator.store.models import DeliveryRow, TenderRow

log = structlog.get_logger(__name__)

Enqueue = Callable[[list[int]], None]
SWEEP_LIMIT = 5000
LOST = "the worker holding this delivery stopped before recording a result (lease expired)"


@dataclass
class SweepReport:
    """What one sweep did."""

    half_opened: list[str] = field(default_factory=list)
    paused: int = 0
    recovered: int = 0
    reconcile: int = 0
    gates_opened: int = 0
    replanned: int = 0
    overdue: int = 0
    enqueued: int = 0
    polls_enqueued: int = 0
    alerts_sent: int = 0

    def busy(self) -> bool:
        """Whether the sweep found anything to do."""
        return any(
            (
                self.half_opened,
                self.paused,
                self.recovered,
                self.reconcile,
                self.gates_opened,
                self.replanned,
                self.overdue,
                self.enqueued,
                self.polls_enqueued,
                self.alerts_sent,
            )
        )


def _batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


class Sweeper:
    """Runs one sweep at a time; safe to run in several processes at once."""

    def __init__(
        self,
        store_: Store,
        config: Config,
        deduplicating: set[str],
        *,
        send: Enqueue,
        poll: Enqueue,
        clock: Clock = utcnow,
        alerts: AlertSettings | None = None,
        backlog: Callable[[], int] | None = None,
        carriers: Carriers = declared,
    ) -> None:
        self.carriers = carriers
        self.alerts = alerts
        self.backlog = backlog
        self.store = store_
        self.deduplicating = deduplicating
        self.config = config
        self.send = send
        self.poll = poll
        self.clock = clock
        self.engine = config.channels.engine

    def sweep(self) -> SweepReport:
        """One pass over everything that might need a worker."""
        report = SweepReport()
        now = self.clock()
        with self.store.sessions.begin() as session:
            report.half_opened = breaker.half_open_expired(session, self.config.channels.breaker_for, now)
            paused = {name: view for name, view in breaker.snapshot(session).items() if view.is_open(now)}
            for name, view in paused.items():
                assert view.open_until is not None
                report.paused += store.pause(session, name, view.open_until, now)
        with self.store.sessions.begin() as session:
            self._recover_leases(session, now, report)
        report.replanned = self._unblock(now)
        with self.store.sessions.begin() as session:
            report.gates_opened = len(
                gates.open_gates(session, now, self.engine.gate_fallback, caller_enqueues=False)
            )
        stale = now - self._requeue_after()
        with self.store.sessions.begin() as session:
            sends = store.mark_enqueued(session, DUE, now, stale, SWEEP_LIMIT, paused)
        with self.store.sessions.begin() as session:
            polls = store.mark_enqueued(session, {State.SUBMITTED}, now, stale, SWEEP_LIMIT)
        report.enqueued = self._publish(self.send, sends)
        report.polls_enqueued = self._publish(self.poll, polls)
        with self.store.sessions.begin() as session:
            report.overdue = awards.overdue_contract_details(session, now)
        with self.store.sessions.begin() as session:
            counts.compact(session)
        if self.alerts is not None:
            report.alerts_sent = flush(self.store, self.alerts, now)
        if report.busy():
            log.info("sweep", **{k: v for k, v in report.__dict__.items() if v})
        return report

    def _requeue_after(self) -> timedelta:
        """How long a due row may wait for its wake-up message before it is sent another.

        While the broker still holds a backlog, the row's message is most likely in it: waiting
        ten times longer keeps a large backlog from being flooded with duplicate wake-ups (they
        would be harmless, the claim is guarded, but they slow everything down)."""
        busy = False
        if self.backlog is not None:
            try:
                busy = self.backlog() > 0
            except Exception as exc:  # cannot tell: assume idle, at worst a duplicate wake-up
                log.debug("broker queue depth unknown", error=str(exc))
        return self.engine.requeue_after * (10 if busy else 1)

    def _unblock(self, now: datetime) -> int:
        """Plan again every held notice whose predecessor on its destination will never be
        published; each tender in its own transaction (a conflict waits for the next sweep)."""
        with self.store.sessions() as session:
            held = gates.blocked(session)
            query = select(DeliveryRow.id, DeliveryRow.tender_id).where(DeliveryRow.id.in_(held))
            tenders = {delivery_id: tender_id for delivery_id, tender_id in session.execute(query)}
        done = 0
        for delivery_id in held:
            try:
                with self.store.sessions.begin() as session:
                    schedule.lock_tender(session, tenders[delivery_id])
                    rows = schedule.existing(session, tenders[delivery_id])
                    current = next((r for r in rows if r.id == delivery_id), None)
                    if current is None or current.state is not State.HELD:
                        continue
                    plan = plan_unblocked(rows, current, self.carriers)
                    buyer, reference = session.execute(
                        select(TenderRow.buyer, TenderRow.reference).where(
                            TenderRow.id == tenders[delivery_id]
                        )
                    ).one()
                    schedule.write(
                        session,
                        plan,
                        tender_id=tenders[delivery_id],
                        buyer=buyer,
                        reference=reference,
                        now=now,
                    )
                    done += 1
            except schedule.PlanConflict as exc:
                log.info("re-plan postponed", delivery_id=delivery_id, why=str(exc))
        return done

    def _recover_leases(self, session, now: datetime, report: SweepReport) -> None:
        for delivery_id, destination in store.expired_leases(session, now):
            if family(destination) in self.deduplicating:
                event, outcome = Event.LEASE_EXPIRED_RETRY, Outcome.LOST
                values: dict[str, Any] = {"next_attempt_at": now, "enqueued_at": None}
            else:
                event, outcome = Event.LEASE_EXPIRED_UNKNOWN, Outcome.UNKNOWN
                values = {"next_attempt_at": None}
            moved = store.transition(
                session,
                delivery_id,
                event,
                now,
                lease_owner=None,
                lease_expires_at=None,
                last_error=LOST,
                last_error_class="unknown",
                **values,
            )
            if not moved:
                continue
            store.add_attempt(
                session,
                delivery_id=delivery_id,
                kind="send",
                trigger="auto",
                actor=None,
                started_at=now,
                finished_at=now,
                duration_ms=0,
                outcome=outcome.value,
                error_class="unknown",
                status_code=None,
                message=LOST,
                excerpt=None,
                remote_id=None,
            )
            if event is Event.LEASE_EXPIRED_RETRY:
                report.recovered += 1
            else:
                report.reconcile += 1
                store.add_alert(
                    session,
                    at=now,
                    kind="needs_reconcile",
                    destination=destination,
                    delivery_id=delivery_id,
                    message=f"{LOST}; {destination} does not de-duplicate, so it may have it: "
                    "check and reconcile",
                )

    def _publish(self, enqueue: Enqueue, rows: list[tuple[int, int]]) -> int:
        # Keep a tender's deliveries together: one message sends them in parallel.
        ordered = [delivery_id for delivery_id, _ in sorted(rows, key=lambda row: row[1])]
        for batch in _batches(ordered, self.engine.batch_size):
            try:
                enqueue(batch)
            except Exception as exc:  # the rows stay due and are tried again after requeue_after
                log.warning("enqueue failed; will retry next sweep", error=str(exc))
                return 0
        return len(ordered)
