"""Delivery states and the transitions between them: the one table the store enforces.

    pending --claim--> sending --ok, live now------------> published   (terminal, success)
       ^                  |  --ok, accepted, not live yet-> submitted --poll--> published | failed
       |                  |  --transient error-----------> retry_wait --due--> sending
       |                  |  --permanent error / exhausted-> failed      (terminal until re-push)
       |                  |  --outcome unknown-----------> needs_reconcile (ops decides)
     held (waiting for the primary's notice, or the previous notice on the same destination)
       --gate opens--> pending
     held / pending / retry_wait / failed / needs_reconcile --tender cancelled--> cancelled
       (sending and submitted are already with the channel: withdraw there, not here)
     held / pending / retry_wait / failed --a newer version replaces it--> superseded (never sent)
     submitted --the destination's cancellation notice is live--> cancelled (stopped there)
     failed / needs_reconcile --re-push (operator, with reason)--> pending

Every state change in the product goes through `allowed_from(event)`, claims, status checks
and gate openings included: the store turns it into
`UPDATE ... WHERE id = :id AND state IN (:allowed)` and checks the row count, so two workers
can never both move the same delivery.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a delivery is."""

    HELD = "held"  # waiting for the primary's notice, or the previous one on this destination
    PENDING = "pending"  # due to be sent as soon as a worker claims it
    SENDING = "sending"  # claimed by a worker, which holds a lease on it
    RETRY_WAIT = "retry_wait"  # the last attempt failed transiently; next try at next_attempt_at
    SUBMITTED = "submitted"  # the channel accepted it and will publish later; we poll
    PUBLISHED = "published"  # live on the channel (terminal)
    FAILED = "failed"  # refused or out of retries (terminal until re-pushed)
    NEEDS_RECONCILE = "needs_reconcile"  # the channel may or may not have it: a person decides
    CANCELLED = "cancelled"  # the tender was cancelled before this delivery finished (terminal)
    SUPERSEDED = "superseded"  # a newer version replaced it before it left (terminal, never sent)


class Event(StrEnum):
    """What moves a delivery."""

    CLAIM = "claim"
    CLAIM_POLL = "claim_poll"
    LIVE = "live"
    ACCEPTED = "accepted"
    TRANSIENT = "transient"
    FAIL = "fail"
    UNKNOWN = "unknown"
    POLL_PUBLISHED = "poll_published"
    POLL_PENDING = "poll_pending"
    POLL_FAILED = "poll_failed"
    POLL_UNKNOWN = "poll_unknown"
    LEASE_EXPIRED_RETRY = "lease_expired_retry"
    LEASE_EXPIRED_UNKNOWN = "lease_expired_unknown"
    GATE_OPEN = "gate_open"
    PAUSE = "pause"
    CANCEL = "cancel"
    REPUSH = "repush"
    FORCED_REPUSH = "forced_repush"
    RECONCILE_PUBLISHED = "reconcile_published"
    SUPERSEDE = "supersede"
    TAKEN_DOWN = "taken_down"


S = State
TRANSITIONS: dict[Event, tuple[frozenset[State], State]] = {
    Event.CLAIM: (frozenset({S.PENDING, S.RETRY_WAIT}), S.SENDING),
    Event.LIVE: (frozenset({S.SENDING}), S.PUBLISHED),
    Event.ACCEPTED: (frozenset({S.SENDING}), S.SUBMITTED),
    Event.TRANSIENT: (frozenset({S.SENDING}), S.RETRY_WAIT),
    Event.FAIL: (frozenset({S.SENDING}), S.FAILED),
    Event.UNKNOWN: (frozenset({S.SENDING}), S.NEEDS_RECONCILE),
    Event.POLL_PUBLISHED: (frozenset({S.SUBMITTED}), S.PUBLISHED),
    # A status check holds a lease on the row but leaves it submitted.
    Event.CLAIM_POLL: (frozenset({S.SUBMITTED}), S.SUBMITTED),
    Event.POLL_PENDING: (frozenset({S.SUBMITTED}), S.SUBMITTED),
    Event.POLL_FAILED: (frozenset({S.SUBMITTED}), S.FAILED),
    Event.POLL_UNKNOWN: (frozenset({S.SUBMITTED}), S.NEEDS_RECONCILE),
    Event.LEASE_EXPIRED_RETRY: (frozenset({S.SENDING}), S.RETRY_WAIT),
    Event.LEASE_EXPIRED_UNKNOWN: (frozenset({S.SENDING}), S.NEEDS_RECONCILE),
    Event.GATE_OPEN: (frozenset({S.HELD}), S.PENDING),
    # A paused channel pushes its due rows later without spending an attempt.
    Event.PAUSE: (frozenset({S.PENDING, S.RETRY_WAIT}), S.RETRY_WAIT),
    Event.CANCEL: (
        frozenset({S.HELD, S.PENDING, S.RETRY_WAIT, S.FAILED, S.NEEDS_RECONCILE}),
        S.CANCELLED,
    ),
    Event.REPUSH: (frozenset({S.FAILED, S.NEEDS_RECONCILE}), S.PENDING),
    # Re-pushing a published delivery may publish the advert twice: only when forced.
    Event.FORCED_REPUSH: (frozenset({S.FAILED, S.NEEDS_RECONCILE, S.PUBLISHED}), S.PENDING),
    Event.RECONCILE_PUBLISHED: (frozenset({S.NEEDS_RECONCILE, S.FAILED}), S.PUBLISHED),
    # A newer version of the tender reached the destination before this notice left.
    Event.SUPERSEDE: (frozenset({S.HELD, S.PENDING, S.RETRY_WAIT, S.FAILED}), S.SUPERSEDED),
    # The destination published the withdrawal: a notice it still held unpublished is stopped.
    Event.TAKEN_DOWN: (frozenset({S.SUBMITTED}), S.CANCELLED),
}

DUE = frozenset({S.PENDING, S.RETRY_WAIT})
ATTENTION = frozenset({S.FAILED, S.NEEDS_RECONCILE})
# Where a notice is, seen from the destination: it is (or may be) there, it has not left, or it
# never will.
CARRIED = frozenset({S.PUBLISHED, S.SUBMITTED, S.SENDING, S.NEEDS_RECONCILE})
UNSENT = frozenset({S.HELD, S.PENDING, S.RETRY_WAIT, S.FAILED})
ENDED = frozenset({S.SUPERSEDED, S.CANCELLED})


def allowed_from(event: Event) -> frozenset[State]:
    """The states `event` may move a delivery out of."""
    return TRANSITIONS[event][0]


def target(event: Event) -> State:
    """The state `event` moves a delivery into."""
    return TRANSITIONS[event][1]


def can(event: Event, state: State) -> bool:
    """Whether `event` applies to a delivery in `state`."""
    return state in allowed_from(event)
