"""Withdrawing a tender from TED: the form is chosen from the notice TED holds and the time of
dispatch (stop-publication while it is only SUBMITTED, a BT-140 `cancel` change notice once
published and before the deadlines, a subtype-29 award notice with no winner after one), each
form valid and golden, and stop-publication's answers mapped to channel errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from channels.ted.award import CLOSED_NO_WINNER, WITHDRAWN
from channels.ted.identifiers import notice_id, procedure_id
from channels.ted.withdrawal import Withdrawal, withdrawal
from syndicator.channel.base import (
    AuthError,
    RateLimited,
    RejectedError,
    Rendered,
    RenderError,
    TransientError,
)
from syndicator.channel.http import Response
from syndicator.config.settings import Config
from syndicator.domain.tender import Tender
from tests.channels.enotices import (
    API_KEY,
    BASE,
    BUSINESS_ID,
    FakeEnotices,
    answer,
    found,
    notice,
    ted_channel,
    tricky,
    valid,
    xpath,
)
from tests.channels.eras import ROUTED_TO_TED, ojeu_examples
from tests.channels.ted_scenarios import FORMS, WITHDRAWAL, cancellation_job, matches_golden
from tests.conftest import routed_examples


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples as procurements commenced under the EU directives: TED carries no
    others (tests/channels/eras.py)."""
    return ojeu_examples(config)


EXTENSION = "/*/ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"
CHANGES = f"{EXTENSION}/efac:Changes"
RESULT = f"{EXTENSION}/efac:NoticeResult/efac:LotResult"


@pytest.mark.parametrize("form", FORMS)
def test_every_routed_example_has_a_golden_cancellation_in_each_form(
    config: Config, examples: dict[str, Tender], form: str
) -> None:
    routed = routed_examples(config, examples, "ted")
    assert {name for name, _, _ in routed} == ROUTED_TO_TED
    for name, tender, _ in routed:
        job = cancellation_job(config, tender, form)
        rendered = ted_channel().render(job.notice, job.context)
        if form != "stop":
            assert valid(rendered.body) == [], name
        matches_golden(f"{name}-cancellation" + ("" if form == "cancel" else f"-{form}"), rendered)


@pytest.mark.parametrize(
    ("form", "expected"),
    [("cancel", Withdrawal.CANCEL), ("after-deadline", Withdrawal.NO_AWARD), ("stop", Withdrawal.STOP)],
)
def test_the_form_follows_the_previous_notice_and_the_deadline(
    config: Config, examples: dict[str, Tender], form: str, expected: Withdrawal
) -> None:
    job = cancellation_job(config, examples["anpr-cameras"], form)
    assert withdrawal(job.notice, job.context) is expected


def test_the_deadline_is_passed_from_the_moment_it_falls(config: Config, examples: dict[str, Tender]) -> None:
    tender = examples["anpr-cameras"]
    deadline = tender.submission_deadline
    assert deadline is not None
    job = cancellation_job(config, tender, "cancel")
    just_before = replace(job.context, dispatched_at=deadline - timedelta(seconds=1))
    assert withdrawal(job.notice, just_before) is Withdrawal.CANCEL
    assert withdrawal(job.notice, replace(job.context, dispatched_at=deadline)) is Withdrawal.NO_AWARD
    # a notice still waiting to be published is stopped, whatever the deadline
    stop = cancellation_job(config, tender, "stop")
    assert withdrawal(stop.notice, replace(stop.context, dispatched_at=deadline)) is Withdrawal.STOP


@pytest.mark.parametrize("state", ["sending", "failed", "needs_reconcile"])
def test_a_cancellation_needs_a_notice_ted_holds(
    config: Config, examples: dict[str, Tender], state: str
) -> None:
    job = cancellation_job(config, examples["anpr-cameras"], "cancel")
    (contract,) = job.context.history
    with pytest.raises(RenderError, match=f"submitted or published notice.*is {state}"):
        ted_channel().render(job.notice, replace(job.context, history=(replace(contract, state=state),)))
    with pytest.raises(RenderError, match="TED holds none"):
        ted_channel().render(job.notice, replace(job.context, history=()))


def test_a_cancel_change_notice_names_the_published_notice_and_changes_nothing(
    config: Config, examples: dict[str, Tender]
) -> None:
    job = cancellation_job(config, examples["it-managed-service"], "cancel")
    rendered = ted_channel().render(job.notice, job.context)
    contract = job.context.previous
    assert contract is not None
    assert rendered.identity == notice_id(job.context.key) and rendered.operation is None
    assert xpath(rendered.body, f"{CHANGES}/efbc:ChangedNoticeIdentifier/text()") == [contract.remote_id]
    assert xpath(rendered.body, f"{CHANGES}/efac:ChangeReason/cbc:ReasonCode/text()") == ["cancel"]
    assert xpath(rendered.body, f"{CHANGES}/efac:ChangeReason/efbc:ReasonDescription/text()") == [WITHDRAWAL]
    assert xpath(rendered.body, f"{CHANGES}/efac:Change") == []  # change-cn_24_void.xml
    assert xpath(rendered.body, "/*/cbc:NoticeTypeCode/text()") == ["cn-standard"]


def test_after_a_deadline_every_lot_closes_without_a_winner(
    config: Config, examples: dict[str, Tender]
) -> None:
    tender = examples["it-managed-service"]
    job = cancellation_job(config, tender, "after-deadline")
    rendered = ted_channel().render(job.notice, job.context)
    body = rendered.body
    assert rendered.identity == notice_id(job.context.key)
    assert xpath(body, "/can:ContractAwardNotice/cbc:NoticeTypeCode/text()") == ["can-standard"]
    assert xpath(body, "/*/cbc:NoticeTypeCode/@listName") == ["result"]
    assert xpath(body, f"{EXTENSION}/efac:NoticeSubType/cbc:SubTypeCode/text()") == ["29"]
    assert xpath(body, "/*/cbc:ContractFolderID/text()") == [procedure_id(tender.buyer, tender.reference)]
    assert xpath(body, "/*/cbc:IssueDate/text()") == ["2027-01-21Z"]
    assert xpath(body, f"{RESULT}/efac:TenderLot/cbc:ID/text()") == ["LOT-0001", "LOT-0002"]
    assert xpath(body, f"{RESULT}/cbc:TenderResultCode/text()") == [CLOSED_NO_WINNER] * 2
    assert xpath(body, f"{RESULT}/efac:DecisionReason/efbc:DecisionReasonCode/text()") == [WITHDRAWN] * 2
    assert xpath(body, "/*/cac:ProcurementProjectLot/cbc:ID/text()") == ["LOT-0001", "LOT-0002"]
    note = xpath(body, "/*/cac:ProcurementProject/cbc:Note/text()")
    assert note == [f"The procedure is withdrawn. Reason: {WITHDRAWAL}"]  # BT-300
    assert xpath(body, "//efac:Changes") == []  # an award notice changes no notice


def test_a_stop_is_an_operation_on_the_accepted_notice(config: Config, examples: dict[str, Tender]) -> None:
    job = cancellation_job(config, examples["anpr-cameras"], "stop")
    rendered = ted_channel().render(job.notice, job.context)
    contract = job.context.previous
    assert contract is not None and contract.remote_id
    assert (rendered.operation, rendered.target, rendered.body) == ("stop", contract.remote_id, b"")
    with pytest.raises(RenderError, match="no TED businessId"):
        broken = replace(job.context, history=(replace(contract, remote_id=None),))
        ted_channel().render(job.notice, broken)


@pytest.mark.parametrize("form", ["cancel", "after-deadline"])
def test_hostile_text_stays_inert_in_each_withdrawal(
    config: Config, examples: dict[str, Tender], form: str
) -> None:
    tender = tricky(examples["anpr-cameras"])
    reason = "Withdrawn <b>now</b> & ]]> \x00\x07 \ufffe ok"
    job = cancellation_job(config, tender, form, reason=reason)
    body = ted_channel().render(job.notice, job.context).body
    assert valid(body) == []
    assert b"<b>" not in body and b"<script>" not in body and b"\x07" not in body
    stated = xpath(body, "//efbc:ReasonDescription/text() | /*/cac:ProcurementProject/cbc:Note/text()")
    assert len(stated) == 1 and "Withdrawn <b>now</b> & ]]>" in stated[0] and stated[0].endswith("ok")
    assert xpath(body, "/*/cac:ProcurementProject/cbc:Name/text()") == [tender.title]


def test_rendering_again_later_may_choose_another_form(config: Config, examples: dict[str, Tender]) -> None:
    """A stop refused because OP's export took the notice is rendered again once the store has
    seen it published: the same delivery, now a cancel notice, with the same notice id."""
    job = cancellation_job(config, examples["anpr-cameras"], "stop")
    assert ted_channel().render(job.notice, job.context).operation == "stop"
    (contract,) = job.context.history
    published = replace(job.context, history=(replace(contract, state="published"),))
    again = ted_channel().render(job.notice, published)
    assert again.operation is None and again.identity == notice_id(job.context.key)


# -- stop-publication --------------------------------------------------------------------------

STOP = Rendered(b"", "application/json", operation="stop", target=BUSINESS_ID)
STOP_URL = f"{BASE}/api/v2/notice/notices/{BUSINESS_ID}/stop-publication-esentool"


def test_a_stop_posts_to_stop_publication_and_is_the_withdrawal_done() -> None:
    fake = FakeEnotices(answer(200, notice("STOPPED")))
    receipt = ted_channel(fake).submit(STOP, "key")
    assert (receipt.remote_id, receipt.live, receipt.status, receipt.status_code) == (
        BUSINESS_ID,
        True,
        "STOPPED",
        200,
    )
    (request,) = fake.requests
    assert (request.method, request.url) == ("POST", STOP_URL)
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert not request.body


def test_a_repeated_stop_finds_the_notice_stopped() -> None:
    """403 means "not SUBMITTED"; after a lost answer our own stop is why."""
    fake = FakeEnotices(answer(403, {"message": "not SUBMITTED"}), found(notice("STOPPED")))
    receipt = ted_channel(fake).submit(STOP, "key")
    assert (receipt.live, receipt.status) == (True, "STOPPED")
    assert fake.requests[1].method == "GET"


@pytest.mark.parametrize("status", ["PUBLISHING", "PUBLISHED", "SUBMITTED"])
def test_a_notice_that_can_no_longer_be_stopped_is_retried_as_a_cancellation(status: str) -> None:
    fake = FakeEnotices(answer(403, {"message": "not SUBMITTED"}), found(notice(status)))
    with pytest.raises(TransientError, match=f"can no longer stop .*{status}") as caught:
        ted_channel(fake).submit(STOP, "key")
    assert caught.value.status_code == 403 and not isinstance(caught.value, RejectedError)


@pytest.mark.parametrize(
    ("listed", "shown"), [([notice("VALIDATION_FAILED")], "VALIDATION_FAILED"), ([], "unknown")]
)
def test_a_notice_that_never_appears_has_nothing_to_stop(listed: list[dict[str, str]], shown: str) -> None:
    fake = FakeEnotices(answer(403, {"message": "not SUBMITTED"}), found(*listed))
    with pytest.raises(RejectedError, match=f"as {shown}; there is no publication to stop"):
        ted_channel(fake).submit(STOP, "key")


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        ([answer(423, {"message": "locked"})], TransientError),
        ([answer(403, {}), answer(403, {"message": "No Enotices2 account found"})], AuthError),
        ([answer(401, {})], AuthError),
        ([answer(429, {}, **{"Retry-After": "3"})], RateLimited),
        ([answer(503, {})], TransientError),
        ([answer(404, {"message": "Notice not found"})], RejectedError),
    ],
)
def test_stop_answers_map_to_channel_errors(replies: list[Response], error: type[Exception]) -> None:
    with pytest.raises(error):
        ted_channel(FakeEnotices(*replies)).submit(STOP, "key")


def test_a_stop_needs_a_business_id() -> None:
    with pytest.raises(RenderError, match="needs a TED businessId"):
        ted_channel(FakeEnotices()).submit(Rendered(b"", "application/json", operation="stop"), "key")
