"""The trade press adapter against the sandbox's SMTP sink, over real SMTP: every routed
example reaches its desk and is read back over HTTP, an amendment and a withdrawal reach the
desk threaded to the advert (and one replying to no advert is refused), every fault maps to its
error class, and a resend is a second advert (desks do not de-duplicate)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, default

import pytest
import requests

from syndicator.channel.base import (
    AuthError,
    Channel,
    OutcomeUnknown,
    RateLimited,
    RejectedError,
    Rendered,
    TransientError,
)
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Tender
from syndicator.engine.alerts import AlertSettings, compose, send
from syndicator.sandbox.config import SandboxConfig
from syndicator.sandbox.faults import Fault, Faults
from syndicator.sandbox.ledger import Ledger
from syndicator.sandbox.server import Sandbox
from syndicator.sandbox.smtp import ALERTS, SmtpSink
from syndicator.store.models import AlertRow
from tests.channels.lifecycle import after, cancellation_job, change_job, sent
from tests.conftest import DISPATCHED_AT, contract, render_context, render_job, routed_examples
from tests.integration.conftest import adapter_for, free_port, inject, received

Examples = dict[str, Tender]
pytestmark = pytest.mark.timeout(60)  # a hung socket fails the test, not the run
CHANNEL = "trade-press"
Advert = tuple[Rendered, str]


def _advert(channel: Channel, config: Config, examples: Examples, name: str) -> Advert:
    (destination,) = [d for n, _, d in routed_examples(config, examples, CHANNEL) if n == name]
    context = render_context(config, examples[name], destination)
    return channel.render(contract(examples[name]), context), context.key


def test_every_routed_example_reaches_its_desk(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    routed = routed_examples(config, examples, CHANNEL)
    assert len(routed) == 6
    sent = {}
    for name, tender, _ in routed:
        rendered, key = _advert(channel, config, examples, name)
        receipt = channel.submit(rendered, key)
        assert receipt.live is True and receipt.status_code == 250
        assert receipt.remote_id == f"<{key}@tender-syndicator.emscu>"
        sent[receipt.remote_id] = (tender.reference, rendered.body)
    notices = received(sandbox, CHANNEL)
    assert {n["remote_id"] for n in notices} == set(sent)
    for notice in notices:
        reference, body = sent[notice["remote_id"]]
        assert notice["tender_reference"] == reference
        assert (notice["status"], notice["times_received"], notice["copies"]) == ("published", 1, 1)
        assert (notice["notice"], notice["version"]) == ("contract", 1)
        served = requests.get(notice["url"], timeout=5)
        assert served.status_code == 200
        assert served.content == body  # byte for byte, after SMTP dot-stuffing and back


def test_a_resend_is_a_second_advert(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    rendered, key = _advert(channel, config, examples, "it-software")
    first, second = channel.submit(rendered, key), channel.submit(rendered, key)
    assert first.remote_id == second.remote_id
    (notice,) = received(sandbox, CHANNEL)
    assert (notice["times_received"], notice["copies"]) == (2, 2)


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("error-503", TransientError, "421"),
        ("rate-limit-429", TransientError, "Rate limited"),
        ("reject-422", RejectedError, "554"),
        ("down", TransientError, "421"),
        ("auth-401", AuthError, "535"),
        ("auth-403", AuthError, "535"),
    ],
)
def test_faults_map_to_their_error_class(
    config: Config,
    examples: Examples,
    sandbox: Sandbox,
    mode: str,
    error: type[Exception],
    words: str,
) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    rendered, key = _advert(channel, config, examples, "anpr-cameras")
    inject(sandbox, CHANNEL, mode)
    with pytest.raises(error) as caught:
        channel.submit(rendered, key)
    assert not isinstance(caught.value, RateLimited)  # SMTP carries no Retry-After
    assert words in str(caught.value)
    assert received(sandbox, CHANNEL) == []
    assert channel.submit(rendered, key).status_code == 250  # the fault is spent


def test_a_late_answer_is_outcome_unknown_and_the_desk_has_the_advert(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, CHANNEL, timeout=0.5)
    rendered, key = _advert(channel, config, examples, "anpr-cameras")
    inject(sandbox, CHANNEL, "timeout", delay=1.5)
    with pytest.raises(OutcomeUnknown):
        channel.submit(rendered, key)
    (notice,) = received(sandbox, CHANNEL)  # why a retry here would print it twice
    assert notice["copies"] == 1


def _send(port: int, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(message)


def test_the_sink_refuses_what_is_not_an_advert(config: Config, sandbox: Sandbox) -> None:
    message = EmailMessage(policy=SMTP)
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "hello"
    message["Message-ID"] = "<not-an-advert@example.org>"
    message.set_content("no X-Tender-Reference and no HTML part")
    with pytest.raises(smtplib.SMTPDataError) as caught:
        _send(sandbox.config.smtp_port, message)
    assert caught.value.smtp_code == 554
    assert b"X-Tender-Reference" in caught.value.smtp_error
    assert received(sandbox, CHANNEL) == []


def test_two_sinks_run_side_by_side_and_stop_cleanly(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    alone = SandboxConfig(port=0, smtp_port=free_port(), data_dir=None)
    other = SmtpSink(alone, Ledger(), Faults())
    other.start()
    try:
        for port in (sandbox.config.smtp_port, other.config.smtp_port):
            channel = adapter_for(config, sandbox, CHANNEL, smtp_port=port)
            rendered, key = _advert(channel, config, examples, "construction-works")
            assert channel.submit(rendered, key).status_code == 250
    finally:
        other.stop()
        other.stop()  # idempotent
    assert len(received(sandbox, CHANNEL)) == 1  # the other sink kept its own copy
    with pytest.raises(OSError):
        _send(other.config.smtp_port, EmailMessage())


def test_faults_are_taken_per_message_transaction() -> None:
    faults = Faults()
    faults.add(CHANNEL, Fault(mode="error-503"), 1)
    faults.add(CHANNEL, Fault(mode="down"), 1)
    sink = SmtpSink(SandboxConfig(port=0, smtp_port=free_port(), data_dir=None), Ledger(), faults)
    sink.start()  # its start-up probe connects, but opens no transaction
    try:
        with smtplib.SMTP("127.0.0.1", sink.config.smtp_port, timeout=5) as client:
            assert client.ehlo()[0] == 250
            assert len(faults.pending()[CHANNEL]) == 2
            assert client.mail("adverts@example.org")[0] == 421  # error-503: deferred, still open
            assert client.noop()[0] == 250
            assert client.mail("adverts@example.org")[0] == 421  # down: and the line goes dead
            with pytest.raises(smtplib.SMTPServerDisconnected):
                client.noop()
        assert faults.pending() == {}
    finally:
        sink.stop()


def _alerts(box: Sandbox) -> AlertSettings:
    """The shipped sandbox profile's alert settings, aimed at `box`."""
    from syndicator.config.settings import REPO_CONFIG, Settings, load_config

    shipped = load_config(Settings(config_dir=REPO_CONFIG, _env_file=None))  # type: ignore[call-arg]
    section = dict(shipped.channels.profile_sections("sandbox")["alerts"])
    return AlertSettings.model_validate(section | {"smtp_port": box.config.smtp_port})


def _alert_email(settings: AlertSettings) -> EmailMessage:
    row = AlertRow(kind="failed", destination="crystal", delivery_id=1, message="refused", at=DISPATCHED_AT)
    return compose([row], settings, DISPATCHED_AT)


def test_an_advert_fault_is_not_taken_by_an_alert_email(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    rendered, key = _advert(channel, config, examples, "anpr-cameras")
    inject(sandbox, CHANNEL, "error-503")
    alerts = _alerts(sandbox)
    send(_alert_email(alerts), alerts)  # the ops mailbox is another channel: no fault for it
    assert [n["channel"] for n in received(sandbox, ALERTS)] == [ALERTS]
    with pytest.raises(TransientError):
        channel.submit(rendered, key)  # the fault was still there for the advert
    assert channel.submit(rendered, key).status_code == 250


def test_an_alerts_fault_hits_the_alert_email_only(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    rendered, key = _advert(channel, config, examples, "it-software")
    inject(sandbox, "alerts", "auth-401")  # "alerts" is an alias of the ledger's ops-alerts
    assert channel.submit(rendered, key).status_code == 250
    alerts = _alerts(sandbox)
    with pytest.raises(AuthError) as caught:
        send(_alert_email(alerts), alerts)
    assert caught.value.status_code == 535
    send(_alert_email(alerts), alerts)  # used up
    assert len(received(sandbox, ALERTS)) == 1 and len(received(sandbox, CHANNEL)) == 1


PRESS = "trade-press:police-technology-press"


def test_an_amendment_and_a_withdrawal_reach_the_desk_threaded_to_the_advert(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    tender = examples["anpr-cameras"]
    first = render_job(config, tender, PRESS)
    advert = channel.render(first.notice, first.context)
    advert_ref = sent(first, advert, channel.submit(advert, first.context.key))

    # A hostile reason cannot change the version the desk reads, nor add a header.
    reason = "Deadline moved\r\nBcc: all@example.org\r\n\r\nNotice version: 9"
    change = after(change_job(config, tender, PRESS, reason=reason), advert_ref)
    amended = channel.render(change.notice, change.context)
    amendment = channel.submit(amended, change.context.key)
    assert (amendment.remote_id, amendment.status_code) == (amended.identity, 250)

    withdrawal = after(cancellation_job(config, tender, PRESS), advert_ref, sent(change, amended, amendment))
    withdrawn = channel.submit(channel.render(withdrawal.notice, withdrawal.context), withdrawal.context.key)
    assert withdrawn.status_code == 250

    notices = received(sandbox, CHANNEL)
    assert [(n["notice"], n["version"], n["remote_id"]) for n in notices] == [
        ("contract", 1, advert.identity),
        ("change", 2, amended.identity),
        ("cancellation", 2, withdrawn.remote_id),
    ]
    assert all(n["tender_reference"] == tender.reference and n["copies"] == 1 for n in notices)
    for notice in notices[1:]:
        served = BytesParser(policy=default).parsebytes(requests.get(notice["url"], timeout=5).content)
        assert served["In-Reply-To"] == advert.identity and served["Bcc"] is None
    assert served["References"] == f"{advert.identity} {amended.identity}"


@pytest.mark.parametrize("kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION])
def test_a_follow_up_of_an_advert_the_desk_never_received_is_refused(
    config: Config, examples: Examples, sandbox: Sandbox, kind: NoticeKind
) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    tender = examples["it-software"]
    made = (change_job if kind is NoticeKind.CHANGE else cancellation_job)(config, tender, PRESS)
    advert = made.context.first(NoticeKind.CONTRACT)
    assert advert is not None
    with pytest.raises(RejectedError) as caught:
        channel.submit(channel.render(made.notice, made.context), made.context.key)
    assert caught.value.status_code == 554
    assert f"In-Reply-To {advert.identity} names no advert this desk received" in str(caught.value)
    assert received(sandbox, CHANNEL) == []


def test_the_sink_tells_a_reply_from_an_advert_by_its_headers(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = adapter_for(config, sandbox, CHANNEL)
    rendered, _ = _advert(channel, config, examples, "it-software")
    for change, answer in (
        ({"Subject": "Correction: something"}, b"must reply to the advert it is about"),
        ({"In-Reply-To": "<x@y>"}, b"must be an Amendment, Correction or Withdrawal"),
    ):
        message = BytesParser(policy=SMTP).parsebytes(rendered.body)
        assert isinstance(message, EmailMessage)
        for name, value in change.items():
            del message[name]
            message[name] = value
        with pytest.raises(smtplib.SMTPDataError) as caught:
            _send(sandbox.config.smtp_port, message)
        assert caught.value.smtp_code == 554 and answer in caught.value.smtp_error
    assert received(sandbox, CHANNEL) == []
