"""Recording outcomes: every send's and status check's transition, ledger row(s), alerts and
breaker bookkeeping, and what a publication sets off (gates opened, a withdrawal's take-down,
an award's standstill). Runs inside the caller's transaction; it sends nothing itself."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from syndicator.channel.base import Channel, ChannelError, OutcomeUnknown, Receipt, Rendered
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind
from syndicator.domain.states import Event
from syndicator.engine import breaker
from syndicator.engine.outcomes import Outcome, attempt_values
from syndicator.engine.retry import RetryPolicy
from syndicator.notices import awards
from syndicator.store import transitions as store
from syndicator.store.gates import open_gates, take_down
from syndicator.store.transitions import Executor

log = structlog.get_logger(__name__)

Ledger = list[dict[str, object]] | None  # None: write each row at once; a list: collect them


@dataclass(frozen=True)
class Sent:
    """One send's result, until it is recorded."""

    claimed: store.Claimed
    adapter: Channel
    rendered: Rendered | None
    receipt: Receipt | None
    error: ChannelError | None
    started: datetime
    finished: datetime
    duration: int
    was_failing: bool
    check: Receipt | None


class Recorder:
    """Writes outcomes for the deliveries `owner` holds leases on."""

    def __init__(self, config: Config, owner: str, rng: random.Random) -> None:
        self.config = config
        self.owner = owner
        self.rng = rng

    def poll_wait(self, destination: str, polls_done: int) -> timedelta:
        """How long after `polls_done` status checks the next one is due."""
        schedule = self.config.channels.polling_for(destination).schedule
        return schedule[min(polls_done, len(schedule) - 1)]

    # -- sends -----------------------------------------------------------------------------

    def send(self, session: Executor, sent: Sent, attempts: Ledger = None) -> tuple[str, list[int]]:
        """One send's transition and attempt row(s): written at once, or added to `attempts`
        for the caller to write with the rest of its batch."""
        claimed, adapter, check, finished = sent.claimed, sent.adapter, sent.check, sent.finished
        common: dict[str, object] = {"lease_owner": None, "lease_expires_at": None, "repushed_by": None}
        if sent.rendered is not None:
            rendered = sent.rendered
            common.update(rendered=rendered.body, media_type=rendered.media_type, identity=rendered.identity)
        if sent.error is None and sent.receipt is not None:
            outcome, moved, opened = self._accepted(session, sent, sent.receipt, common)
        else:
            assert sent.error is not None
            outcome, moved, opened = self._refused(session, sent, sent.error, common)
        secrets = adapter.secret_values()
        manual = claimed.repushed_by
        self.ledger(
            session,
            attempts,
            attempt_values(
                claimed.id,
                "send",
                sent.started,
                finished,
                sent.duration,
                outcome,
                sent.receipt,
                sent.error,
                secrets,
                trigger="manual" if manual else "auto",
                actor=manual,
            ),
        )
        if check is not None:
            checked = Outcome.PUBLISHED if check.live else Outcome.PENDING
            row = attempt_values(claimed.id, "poll", finished, finished, 0, checked, check, None, secrets)
            self.ledger(session, attempts, row)
        if not moved:
            log.warning("lease lost before the outcome was recorded", delivery_id=claimed.id)
        log.info(
            "delivery attempt",
            delivery_id=claimed.id,
            destination=claimed.destination,
            attempt=claimed.attempts,
            outcome=outcome.value,
            duration_ms=sent.duration,
            error=sent.error.message if sent.error else None,
        )
        return outcome.value, opened

    def _accepted(
        self, session: Executor, sent: Sent, receipt: Receipt, common: dict[str, object]
    ) -> tuple[Outcome, bool, list[int]]:
        claimed, check, finished = sent.claimed, sent.check, sent.finished
        final = check if check is not None and check.live else receipt  # live after the check
        values = {
            **common,
            "remote_id": receipt.remote_id,
            "remote_url": final.url or receipt.url,
            "publication_id": final.publication_id or receipt.publication_id,
            "last_error": None,
            "last_error_class": None,
            "submitted_at": finished,
            # Our own clock: when we saw it live (the channel's date may be day-only).
            "published_at": finished if final.live else None,
            "next_attempt_at": None
            if final.live
            else finished + self.poll_wait(claimed.destination, 1 if check else 0),
            "enqueued_at": None,
            "polls": claimed.polls + (1 if check else 0),
        }
        event = Event.LIVE if final.live else Event.ACCEPTED
        moved = store.transition(session, claimed.id, event, finished, owner=self.owner, **values)
        if sent.was_failing:
            breaker.record_success(session, claimed.destination)
        opened = self.went_live(session, claimed, finished) if moved and final.live else []
        return (Outcome.PUBLISHED if receipt.live else Outcome.SUBMITTED), moved, opened

    def _refused(
        self, session: Executor, sent: Sent, error: ChannelError, common: dict[str, object]
    ) -> tuple[Outcome, bool, list[int]]:
        claimed, finished = sent.claimed, sent.finished
        policy = RetryPolicy.from_config(self.config.channels.retry_for(claimed.destination))
        decision = policy.decide(
            error,
            claimed.round_attempts,
            finished,
            deduplicates=sent.adapter.capabilities.deduplicates,
            rng=self.rng,
        )
        message = f"{error.message} ({decision.why})"
        values = {
            **common,
            "last_error": message[:4000],
            "last_error_class": error.error_class,
            "next_attempt_at": decision.next_attempt_at,
            "enqueued_at": None,
        }
        moved = store.transition(session, claimed.id, decision.event, finished, owner=self.owner, **values)
        if moved and decision.event in (Event.FAIL, Event.UNKNOWN):
            self.alert(session, finished, claimed, decision.event, message)
        if breaker.counts_against_channel(error):
            config = self.config.channels.breaker_for(claimed.destination)
            if breaker.record_failure(session, claimed.destination, config, finished, error.message):
                store.add_alert(
                    session,
                    at=finished,
                    kind="breaker_open",
                    destination=claimed.destination,
                    message=f"{claimed.destination} paused for {config.cooldown} after "
                    f"{config.failures} consecutive failures; last: {error.message}",
                )
        return Outcome.for_error(error, decision.event), moved, []

    # -- status checks ---------------------------------------------------------------------

    def poll(
        self,
        session: Executor,
        claimed: store.Claimed,
        receipt: Receipt | None,
        error: ChannelError | None,
        now: datetime,
    ) -> tuple[Outcome, list[int]]:
        """One status check's transition: published, refused, unknown (or given up), or the
        next check's time."""
        if receipt is not None and receipt.live:
            store.transition(
                session,
                claimed.id,
                Event.POLL_PUBLISHED,
                now,
                lease_owner=None,
                lease_expires_at=None,
                published_at=now,
                remote_url=receipt.url or claimed.remote_url,
                publication_id=receipt.publication_id,
                next_attempt_at=None,
                last_error=None,
                last_error_class=None,
            )
            return Outcome.PUBLISHED, self.went_live(session, claimed, now)
        settled = self._poll_settled(claimed, error, now)
        if settled is not None:
            event, why, error_class = settled
            store.transition(
                session,
                claimed.id,
                event,
                now,
                lease_owner=None,
                lease_expires_at=None,
                last_error=why[:4000],
                last_error_class=error_class,
                next_attempt_at=None,
            )
            self.alert(session, now, claimed, event, why)
            return (Outcome.REJECTED if event is Event.POLL_FAILED else Outcome.UNKNOWN), []
        store.release_poll(
            session,
            claimed.id,
            self.owner,
            now,
            next_attempt_at=now + self.poll_wait(claimed.destination, claimed.polls),
            enqueued_at=None,
            last_error=error.message[:4000] if error else None,
            last_error_class=error.error_class if error else None,
        )
        return (Outcome.for_error(error, Event.TRANSIENT) if error else Outcome.PENDING), []

    def _poll_settled(
        self, claimed: store.Claimed, error: ChannelError | None, now: datetime
    ) -> tuple[Event, str, str] | None:
        """(event, why, error class) when a check that found the notice unpublished settles
        it: the channel refused it, the answer is unknown, or it has waited too long."""
        if (
            error is not None
            and not isinstance(error, OutcomeUnknown)
            and not breaker.counts_against_channel(error)
        ):
            return Event.POLL_FAILED, error.message, error.error_class
        polling = self.config.channels.polling_for(claimed.destination)
        if isinstance(error, OutcomeUnknown):
            return Event.POLL_UNKNOWN, error.message, "unknown"
        if now - (claimed.submitted_at or now) >= polling.give_up_after:
            why = error.message if error else f"still not published {polling.give_up_after} after acceptance"
            return Event.POLL_UNKNOWN, why, "unknown"
        return None

    # -- shared ----------------------------------------------------------------------------

    def went_live(self, session: Executor, claimed: store.Claimed, now: datetime) -> list[int]:
        """A notice is published: notices waiting for it may go. A cancellation also stops
        what its destination still held unpublished (TED's stop-publication); an award notice on
        the primary starts the standstill."""
        if claimed.notice == NoticeKind.CANCELLATION.value:
            take_down(session, claimed.tender_id, claimed.destination, claimed.id, now)
        if claimed.notice == NoticeKind.AWARD.value:
            awards.award_published(session, claimed.tender_id, claimed.destination, now)
        fallback = self.config.channels.engine.gate_fallback
        return open_gates(session, now, fallback, [claimed.tender_id], published_id=claimed.id)

    def alert(
        self, session: Executor, now: datetime, claimed: store.Claimed, event: Event, message: str
    ) -> None:
        """An alert for the ops e-mail about one delivery that failed or needs a person."""
        kind = "needs_reconcile" if event in (Event.UNKNOWN, Event.POLL_UNKNOWN) else "failed"
        store.add_alert(
            session,
            at=now,
            kind=kind,
            destination=claimed.destination,
            delivery_id=claimed.id,
            message=message[:4000],
        )

    @staticmethod
    def ledger(session: Executor, attempts: Ledger, row: dict[str, object]) -> None:
        """Write one attempt row now, or collect it for the caller's single INSERT."""
        if attempts is None:
            store.add_attempt(session, **row)
        else:
            attempts.append(row)
