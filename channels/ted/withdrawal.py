"""How a withdrawal reaches TED: the form is chosen from the notice TED holds for this
procurement now (`context.previous`) and the moment of dispatch, so the choice is pure and a
later attempt may choose again (UK-NOTICES.md section 9; FACTS.md sections 2 and 5):

    previous notice      deadlines (every lot)      form
    SUBMITTED            -                          STOP: eNotices2 stop-publication of it
    PUBLISHED            all still ahead            CANCEL: change notice, BT-140 `cancel`
    PUBLISHED            one has passed             NO_AWARD: subtype 29, every lot `clos-nw`

A SUBMITTED notice may still be stopped; once OP's daily export has taken it (PUBLISHING) it
cannot, and stop-publication answers 403: the adapter then retries, and the next attempt renders
again once the store has seen the notice published. After a lot's deadline TED refuses a
`cancel` change notice (BR-BT-00005-0151); the procedure is then closed by an award notice
without a winner.
"""

from __future__ import annotations

from enum import StrEnum

from channels.ted.sections import deadline_passed
from syndicator.channel.base import RenderContext, RenderError
from syndicator.domain.notices import Notice


class Withdrawal(StrEnum):
    """The three ways a TED notice is withdrawn."""

    STOP = "stop"  # stop-publication: the notice was accepted but is not published yet
    CANCEL = "cancel"  # a change notice with BT-140 `cancel`, before the deadlines
    NO_AWARD = "no-award"  # a subtype-29 award notice with no winner, after a deadline


def withdrawal(notice: Notice, context: RenderContext) -> Withdrawal:
    """The form the cancellation `notice` takes on TED at `context.dispatched_at`."""
    previous = context.previous
    if previous is None:
        raise RenderError("a cancellation withdraws the notice TED holds; TED holds none of this tender")
    if previous.state == "submitted":
        return Withdrawal.STOP
    if not previous.live:
        raise RenderError(
            f"a cancellation withdraws a submitted or published notice; the {previous.kind.value} "
            f"notice {previous.remote_id or '(no businessId)'} is {previous.state}"
        )
    if deadline_passed(notice.tender, context.dispatched_at):
        return Withdrawal.NO_AWARD
    return Withdrawal.CANCEL
