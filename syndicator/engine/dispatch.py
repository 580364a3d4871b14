"""The one orchestrator: takes delivery ids, claims the due ones, renders and sends them
(several at once, on I/O threads), and records every outcome with its transition.

    claim (guarded UPDATE, lease) -> render (pure) -> submit (I/O) -> attempt row + transition
        channels that do not de-duplicate (trade press): one transaction per delivery, at once
        channels that de-duplicate by our key: one transaction for the batch, once all are sent
    poll: claim due status checks -> poll -> published | still submitted | failed | reconcile

A worker that dies mid-batch leaves rows in `sending` with a lease; the sweeper recovers them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import structlog

from syndicator.channel.base import (
    Channel,
    ChannelError,
    OutcomeUnknown,
    Receipt,
    Rendered,
    RenderError,
)
from syndicator.channel.registry import family, title
from syndicator.config.settings import Config
from syndicator.domain.clock import Clock, utcnow
from syndicator.engine import breaker
from syndicator.engine.flight import Batch, BatchReport, Flight
from syndicator.engine.outcomes import attempt_values
from syndicator.engine.recording import Ledger, Recorder, Sent
from syndicator.notices.context import ContextBuilder, Job
from syndicator.runtime.wiring import Store
from syndicator.store import transitions as store
from syndicator.store.transitions import Executor

log = structlog.get_logger(__name__)

Enqueue = Callable[[list[int]], None]


class Dispatcher:
    """Sends and polls deliveries; everything it needs is handed in."""

    def __init__(
        self,
        store_: Store,
        config: Config,
        channels: Mapping[str, Channel],
        *,
        owner: str,
        clock: Clock = utcnow,
        enqueue: Enqueue | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store_
        self.config = config
        self.channels = channels
        self.owner = owner
        self.clock = clock
        self.enqueue = enqueue
        self.rng = rng or random.Random()
        self.engine_config = config.channels.engine
        self.contexts = ContextBuilder(config.buyers, config.policy.vat_rate, title)
        self.pool = ThreadPoolExecutor(self.engine_config.concurrency, thread_name_prefix="deliver")
        self.recorder = Recorder(config, owner, self.rng)
        self.flight = Flight()
        self.closing = False

    def close(self) -> None:
        """Stop the I/O threads once the sends in flight are recorded."""
        self.closing = True
        self.pool.shutdown(wait=True)

    # -- sending ---------------------------------------------------------------------------

    def deliver(self, ids: Sequence[int]) -> BatchReport:
        """Send every due delivery among `ids`; return once every outcome is on record."""
        return self.start(ids).wait()

    def feed(self, ids: Sequence[int]) -> int:
        """The worker task's way in: wait until none of this process's jobs waits for a thread,
        then claim and start the due deliveries among `ids`, and return without waiting for
        them, so the next message is claimed while this batch's slowest sends are still out.
        Their outcomes are recorded on the I/O threads; until then the lease covers them, as
        when the task waited. Returns how many were claimed."""
        self.flight.wait_for_thread()
        return self.start(ids, detached=True).report.claimed

    def start(self, ids: Sequence[int], detached: bool = False) -> Batch:
        """Claim the due deliveries among `ids` and hand them to the I/O threads. A detached
        batch (nobody waits for it) logs its error instead of keeping it for `wait`."""
        now = self.clock()
        with self.store.engine.begin() as session:
            breakers = breaker.snapshot(session)
            paused = [name for name, view in breakers.items() if view.is_open(now)]
            claimed = store.claim(session, ids, self.owner, now, self.engine_config.lease, paused)
            prepared = self.contexts.jobs(session, [(c.id, c.tender_id) for c in claimed], now)
        batch = Batch(len(claimed), time.monotonic(), detached)
        failing = {name for name, view in breakers.items() if view.consecutive_failures > 0}
        self.flight.queued(len(claimed))
        for c in claimed:
            self.pool.submit(self._run, batch, c, prepared[c.id], c.destination in failing)
        return batch

    def _run(self, batch: Batch, claimed: store.Claimed, job: Job, was_failing: bool) -> None:
        """One job on an I/O thread; the batch's last job records what was left to the batch."""
        try:
            with self.flight.running(batch.claimed_at):
                sent, recorded = self._send_one(claimed, job, was_failing)
            last = batch.finished(later=sent if recorded is None else None, recorded=recorded)
        except BaseException as exc:  # kept for `wait`; the row stays under its lease
            last = batch.failed(exc)
        if last:
            self._close(batch)

    def _close(self, batch: Batch) -> None:
        """Channels that de-duplicate by our key: the batch's outcomes in one transaction.
        Until it commits the rows stay `sending` under their lease; a crash before then has the
        sweeper send them again, which such a channel answers with the notice it already has.
        In destination order, so two batches take breaker rows in one order."""
        report = batch.report
        try:
            if batch.later:
                batch.later.sort(key=lambda sent: (sent.claimed.destination, sent.claimed.id))
                attempts: list[dict[str, object]] = []  # the batch's ledger rows: one INSERT
                with self.store.engine.begin() as session:
                    for sent in batch.later:
                        outcome, opened = self._record(session, sent, attempts)
                        report.count(outcome)
                        report.opened_gates.extend(opened)
                    store.add_attempts(session, attempts)
        except BaseException as exc:
            batch.error = batch.error or exc
        finally:
            if batch.error is not None and batch.detached:
                log.error(
                    "a batch's outcomes were not recorded; the lease will return its deliveries",
                    error=f"{type(batch.error).__name__}: {batch.error}",
                    deliveries=batch.report.claimed,
                )
            here = batch.detached and not self.closing and not self.flight.waiting()
            if here and report.opened_gates:
                self._start_here(report.opened_gates)
            else:
                self._wake(report.opened_gates)
            batch.close()

    def _start_here(self, ids: list[int]) -> None:
        """Deliveries this batch released (its primary was published) start on this process's
        threads, which are free, instead of through a message to whichever process is free
        next: no broker round trip, no queueing behind other batches. If they cannot be
        claimed here they go by message; if this process dies first, they are due and the
        sweeper sends them."""
        try:
            self.start(ids, detached=True)
        except Exception as exc:
            log.warning("could not start the released deliveries here; sending them", error=str(exc))
            self._wake(ids)

    def _send_one(
        self, claimed: store.Claimed, job: Job, was_failing: bool
    ) -> tuple[Sent, tuple[str, list[int]] | None]:
        """Render, send and (when due at once) check one delivery. Its outcome is recorded
        here, in its own transaction, when the channel does not de-duplicate (trade press: a
        second send is a second advert, so the send must be on record before anything else
        happens); otherwise it is left to the batch's transaction."""
        adapter = self.channels[family(claimed.destination)]
        started, clock_start = self.clock(), time.monotonic()
        rendered: Rendered | None = None
        receipt: Receipt | None = None
        error: ChannelError | None = None
        try:
            rendered = adapter.render(job.notice, job.context)
        except RenderError as exc:
            error = exc
        except Exception as exc:  # a bug must fail one delivery, never the batch
            error = RenderError(f"internal error while rendering: {type(exc).__name__}: {exc}")
        if rendered is not None:
            try:
                receipt = adapter.submit(rendered, claimed.key)
            except ChannelError as exc:
                error = exc
            except Exception as exc:
                error = OutcomeUnknown(f"internal error while sending: {type(exc).__name__}: {exc}")
        check = self._check_at_once(claimed, adapter, receipt)
        finished = self.clock()
        duration = int((time.monotonic() - clock_start) * 1000)
        sent = Sent(
            claimed, adapter, rendered, receipt, error, started, finished, duration, was_failing, check
        )
        if adapter.capabilities.deduplicates:
            return sent, None
        with self.store.engine.begin() as session:
            return sent, self._record(session, sent)

    def _record(self, session: Executor, sent: Sent, attempts: Ledger = None) -> tuple[str, list[int]]:
        """One send's outcome (see `Recorder.send`)."""
        return self.recorder.send(session, sent, attempts)

    def _check_at_once(
        self, claimed: store.Claimed, adapter: Channel, receipt: Receipt | None
    ) -> Receipt | None:
        """Where the destination's first status check is due at once (polling schedule starting
        at 0), make it now, in this task: it saves a message, a claim and a transaction. Any
        error is left to the regular status checks."""
        if (
            receipt is None
            or receipt.live
            or self.recorder.poll_wait(claimed.destination, 0).total_seconds() > 0
        ):
            return None
        try:
            return adapter.poll(receipt)
        except Exception as exc:  # the regular status checks will ask again
            log.debug("immediate status check failed", delivery_id=claimed.id, error=str(exc))
            return None

    # -- polling ---------------------------------------------------------------------------

    def poll(self, ids: Sequence[int]) -> BatchReport:
        """Check the status of every submitted delivery among `ids` whose check is due."""
        report = BatchReport()
        now = self.clock()
        with self.store.engine.begin() as session:
            claimed = store.claim_polls(session, ids, self.owner, now, self.engine_config.lease)
        report.claimed = len(claimed)
        claimed_at = time.monotonic()
        self.flight.queued(len(claimed))

        def poll_one(row: store.Claimed) -> tuple[str, list[int]]:
            with self.flight.running(claimed_at):
                return self._poll_one(row)

        for outcome, opened in self.pool.map(poll_one, claimed):
            report.count(outcome)
            report.opened_gates.extend(opened)
        self._wake(report.opened_gates)
        return report

    def _poll_one(self, claimed: store.Claimed) -> tuple[str, list[int]]:
        adapter = self.channels[family(claimed.destination)]
        started, clock_start = self.clock(), time.monotonic()
        receipt, error = None, None
        try:
            receipt = adapter.poll(Receipt(remote_id=claimed.remote_id, live=False, url=claimed.remote_url))
        except ChannelError as exc:
            error = exc
        except Exception as exc:
            error = OutcomeUnknown(f"internal error while polling: {type(exc).__name__}: {exc}")
        finished = self.clock()
        duration = int((time.monotonic() - clock_start) * 1000)
        with self.store.engine.begin() as session:
            outcome, opened = self.recorder.poll(session, claimed, receipt, error, finished)
            secrets = adapter.secret_values()
            row = attempt_values(
                claimed.id, "poll", started, finished, duration, outcome, receipt, error, secrets
            )
            store.add_attempt(session, **row)
        return outcome.value, opened

    def _wake(self, ids: list[int]) -> None:
        if ids and self.enqueue is not None:
            size = self.engine_config.batch_size  # several messages: every worker process can help
            try:
                for start in range(0, len(ids), size):
                    self.enqueue(ids[start : start + size])
            except Exception as exc:  # the sweeper re-enqueues whatever this missed
                log.warning("could not enqueue opened gates; the sweeper will", error=str(exc))
