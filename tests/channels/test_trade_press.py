"""Trade press adapter: the exact e-mail bytes of every notice kind (golden files), the advert
copy, corrections and withdrawals threaded to the advert, hostile text kept inert, and every
SMTP outcome mapped to a channel error against a small scripted aiosmtpd server. What every
channel keeps (determinism, secrets, profiles) is the contract mixin's."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from channels.trade_press import TradePressChannel, TradePressSettings, message_id
from syndicator.channel.base import (
    AuthError,
    OutcomeUnknown,
    RateLimited,
    RejectedError,
    Rendered,
    RenderError,
    TransientError,
)
from syndicator.channel.registry import build_channel
from syndicator.channel.smtp import dot_stuffed as _dot_stuffed
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Tender
from tests.channels.contract import ChannelContract
from tests.channels.lifecycle import (
    KINDS,
    REASON,
    SUFFIX,
    WITHDRAWAL,
    after,
    cancellation_job,
    change_job,
    job,
)
from tests.conftest import DISPATCHED_AT, contract, render_context, routed_examples

GOLDEN = Path(__file__).parent / "golden" / "trade-press"
PASSWORD = "trade-press-pw-93c1"
DESK = "adverts@police-technology-press.example"
Examples = dict[str, Tender]
pytestmark = pytest.mark.timeout(60)  # a hung socket fails the test, not the run


def _settings(port: int = 25, **changes: Any) -> TradePressSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "starttls": False,
        "sender": "EMSCU adverts <adverts@emscu.example.police.uk>",
        "desks": {
            "police-technology-press": DESK,
            "construction-press": "t@construction.example",
            "recruitment-press": "r@recruitment.example",
        },
        "timeout": 2.0,
    }
    return TradePressSettings.model_validate({**values, **changes})


def _channel(port: int = 25, **changes: Any) -> TradePressChannel:
    return TradePressChannel(_settings(port, **changes))


def _parse(body: bytes) -> EmailMessage:
    message = BytesParser(policy=default).parsebytes(body)
    assert isinstance(message, EmailMessage)
    return message


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    # Text parts travel with CRLF line breaks (RFC 2046 4.1.1); compare as Python text.
    return plain.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def _advert(config: Config, examples: Examples, name: str = "anpr-cameras") -> Rendered:
    tender = examples[name]
    (destination,) = [d for n, _, d in routed_examples(config, examples, "trade-press") if n == name]
    return _channel().render(contract(tender), render_context(config, tender, destination))


class _Text(HTMLParser):
    """The text of an HTML document, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


# -- rendering -------------------------------------------------------------------------------


def test_every_notice_of_every_routed_example_matches_its_golden_file(
    config: Config, examples: Examples
) -> None:
    routed = routed_examples(config, examples, "trade-press")
    assert len(routed) == 6
    regenerate = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
    channel = build_channel(config, "trade-press", environ={})
    names = set()
    for name, tender, destination in routed:
        for kind in KINDS:
            made = job(config, tender, destination, kind)
            rendered = channel.render(made.notice, made.context)
            golden = GOLDEN / f"{name}{SUFFIX[kind]}.eml"
            names.add(golden.name)
            if regenerate:
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_bytes(rendered.body)
            assert golden.is_file(), f"{golden} is missing (SYNDICATOR_REGENERATE_GOLDEN=1 makes it)"
            assert rendered.body == golden.read_bytes(), f"{name}: message differs from {golden}"
            assert rendered.media_type == "message/rfc822"
            assert _parse(rendered.body)["Message-ID"] == rendered.identity
    assert {p.name for p in GOLDEN.glob("*.eml")} == names, "stale golden files"


def test_the_message_is_a_well_formed_7bit_crlf_advert(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, "trade-press:police-technology-press")
    body = _channel().render(contract(tender), context).body
    assert body.isascii()
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert max(len(line) for line in body.split(b"\r\n")) <= 78
    message = _parse(body)
    assert not message.defects
    assert message["From"] == "EMSCU adverts <adverts@emscu.example.police.uk>"
    assert message["To"] == DESK
    assert message["Subject"] == f"Invitation to tender: {tender.title} [{tender.reference}]"
    assert message["Date"] == "Tue, 01 Dec 2026 09:00:00 +0000"
    assert message["Message-ID"] == f"<{context.key}@tender-syndicator.emscu>"
    assert message["X-Tender-Reference"] == "nottinghamshire-police/NOTTS-2026-0142"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message.get_boundary() == _parse(_channel().render(contract(tender), context).body).get_boundary()
    assert message["In-Reply-To"] is None and message["References"] is None
    assert _parts(message)[0].splitlines()[:2] == ["INVITATION TO TENDER", "Notice version: 1"]


def test_advert_copy_carries_what_a_supplier_needs(config: Config, examples: Examples) -> None:
    tender = examples["construction-works"]
    body = (
        _channel()
        .render(contract(tender), render_context(config, tender, "trade-press:construction-press"))
        .body
    )
    for copy in _parts(_parse(body)):
        for expected in (
            "Custody suite refurbishment, Northampton",
            "Northamptonshire",  # buyer
            "£2,400,000.00 excluding VAT",
            "12:00 UTC on Friday 29 January 2027",
            "45216111-5 (main), 45331000-6",
            "Refurbishment of the custody suite",  # summary
            "https://emscu.example.police.uk/tenders/NORTHANTS-OPFCC-2026-0009",
            "emscu.estates@example.police.uk",
            "+44 1604 888 113",
            "14 months",
        ):
            assert expected in copy


@pytest.mark.parametrize(
    "name",
    ["agency-staff", "anpr-cameras", "construction-works", "it-managed-service", "it-software"],
)
def test_adverts_following_an_official_notice_state_when_it_was_sent(
    config: Config, examples: Examples, name: str
) -> None:
    tender = examples[name]
    (destination,) = [d for n, _, d in routed_examples(config, examples, "trade-press") if n == name]
    context = render_context(config, tender, destination)
    plain, html = _parts(_parse(_channel().render(contract(tender), context).body))
    if context.follows is None:
        assert "The notice for this tender was sent" not in plain + html
        return
    sentence = (
        f"The notice for this tender was sent to {context.follows.title} on 1 December 2026 "
        f"(notice {context.follows.identity})."
    )
    assert sentence in plain
    assert sentence in html


def test_the_sentence_reads_right_for_find_a_tender(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, "trade-press:police-technology-press")
    fts = NoticeRef(
        destination="find-a-tender",
        kind=NoticeKind.CONTRACT,
        version=1,
        state="published",
        key="k",
        identity="fts-own-id",
        publication_id="012345-2026",
        dispatched_at=DISPATCHED_AT,
        title="Find a Tender",
    )
    plain, _ = _parts(_parse(_channel().render(contract(tender), replace(context, follows=fts)).body))
    assert (
        "The notice for this tender was sent to Find a Tender on 1 December 2026 (notice 012345-2026)."
        in plain
    )
    with pytest.raises(RenderError, match="dispatch date"):
        _channel().render(contract(tender), replace(context, follows=replace(fts, dispatched_at=None)))


# -- corrections and withdrawals ---------------------------------------------------------------

PRESS = "trade-press:police-technology-press"


@pytest.mark.parametrize(("correction", "word"), [(False, "Amendment"), (True, "Correction")])
def test_a_change_is_a_reply_to_the_advert_saying_why_and_what_changed(
    config: Config, examples: Examples, correction: bool, word: str
) -> None:
    tender = examples["anpr-cameras"]
    made = change_job(config, tender, PRESS, correction=correction)
    advert = made.context.first(NoticeKind.CONTRACT)
    assert advert is not None and advert.identity
    rendered = _channel().render(made.notice, made.context)
    message = _parse(rendered.body)
    assert message["Subject"] == f"{word}: {tender.title} [{tender.reference}]"
    assert message["To"] == DESK  # the desk that carried the advert
    assert message["Message-ID"] == f"<{made.context.key}@tender-syndicator.emscu>" == rendered.identity
    assert message["In-Reply-To"] == advert.identity
    assert message["References"] == advert.identity
    plain, html = _parts(message)
    assert plain.splitlines()[:2] == [f"{word.upper()} TO AN INVITATION TO TENDER", "Notice version: 2"]
    shown = _Text()
    shown.feed(html)
    for copy in (plain, "".join(shown.chunks)):  # the HTML as a reader sees it
        assert REASON in copy
        assert "Submission deadline: 2027-01-15T12:00:00Z -> 2027-01-22T12:00:00Z" in copy
        assert "Contract duration (months): 60 -> 72" in copy
        assert "12:00 UTC on Friday 22 January 2027" in copy  # the advert as it now stands
        assert f"sent you on 1 December 2026 (Message-ID {advert.identity})" in copy


def test_a_withdrawal_replies_to_the_advert_and_references_the_latest_notice(
    config: Config, examples: Examples
) -> None:
    tender = examples["anpr-cameras"]
    withdrawal = cancellation_job(config, tender, PRESS)
    advert = withdrawal.context.first(NoticeKind.CONTRACT)
    assert advert is not None and advert.identity
    change = change_job(config, tender, PRESS)
    amended = NoticeRef(
        destination=PRESS,
        kind=NoticeKind.CHANGE,
        version=2,
        state="published",
        key=change.context.key,
        identity=f"<{change.context.key}@tender-syndicator.emscu>",
    )
    made = after(withdrawal, advert, amended)
    message = _parse(_channel().render(made.notice, made.context).body)
    assert message["Subject"] == f"Withdrawal: {tender.title} [{tender.reference}]"
    assert message["In-Reply-To"] == advert.identity
    assert message["References"] == f"{advert.identity} {amended.identity}"
    plain, html = _parts(message)
    assert plain.splitlines()[:2] == ["WITHDRAWAL OF AN INVITATION TO TENDER", "Notice version: 2"]
    for copy in (plain, html):
        assert WITHDRAWAL in copy and "Please do not print" in copy and "Withdrawn on" in copy
        assert "Summary" not in copy  # nothing left to print


@pytest.mark.parametrize("kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION])
def test_a_follow_up_needs_the_advert_and_a_message_id_fit_for_a_header(
    config: Config, examples: Examples, kind: NoticeKind
) -> None:
    made = job(config, examples["anpr-cameras"], PRESS, kind)
    advert = made.context.first(NoticeKind.CONTRACT)
    assert advert is not None
    with pytest.raises(RenderError, match="no advert of this tender"):
        _channel().render(made.notice, replace(made.context, history=()))
    for forged in ("<a@b>\r\nBcc: all@example.org", "not-an-id", "<a b@c>"):
        with pytest.raises(RenderError, match="not a Message-ID"):
            _channel().render(made.notice, replace(made.context, history=(replace(advert, identity=forged),)))


def test_a_hostile_reason_adds_no_header_and_stays_text(config: Config, examples: Examples) -> None:
    reason = (
        "Typo fixed\r\nBcc: everyone@example.org\r\nSubject: hacked\r\n\r\n"
        "<b>bold</b> & ]]>\nNotice version: 9"
    )
    tender = examples["anpr-cameras"]
    for made in (
        change_job(config, tender, PRESS, reason=reason),
        cancellation_job(config, tender, PRESS, reason=reason),
    ):
        body = _channel().render(made.notice, made.context).body
        assert body.isascii()
        message = _parse(body)
        assert not message.defects
        assert message["Bcc"] is None
        assert message.get_all("Subject") == [message["Subject"]] and "hacked" not in message["Subject"]
        plain, html = _parts(message)
        assert plain.splitlines()[1] == "Notice version: 2"  # the version a desk reads is ours
        assert "Bcc: everyone@example.org" in plain and "<b>bold</b> & ]]>" in plain
        assert "<b>bold" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; ]]&gt;" in html


def test_markup_is_escaped_in_html_and_intact_in_text(config: Config, examples: Examples) -> None:
    data = examples["it-software"].model_dump(mode="json")
    data["title"] = 'Body-worn <b>cameras</b> & "docks" ]]> £5k — Zürich 東京'
    data["description"] = "Use <script>alert('x')</script> &amp; more.\n\n.dot line, ]]> and £1,000 naïve"
    tender = Tender.model_validate(data)
    rendered = _channel().render(
        contract(tender), render_context(config, tender, "trade-press:police-technology-press")
    )
    message = _parse(rendered.body)
    assert message["Subject"] == f"Invitation to tender: {tender.title} [{tender.reference}]"
    plain, html = _parts(message)
    assert tender.title in plain and tender.description in plain
    assert "<script>" not in html and "<b>cameras" not in html
    assert "&lt;script&gt;" in html and "&amp;amp;" in html and "]]&gt;" in html
    text = _Text()
    text.feed(html)
    shown = "".join(text.chunks)
    assert f"Invitation to tender: {tender.title}" in shown
    assert "Use <script>alert('x')</script> &amp; more." in shown
    assert ".dot line, ]]> and £1,000 naïve" in shown


def test_an_unknown_publication_names_the_missing_desk(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    for destination in ("trade-press:fishing-weekly", "trade-press"):
        with pytest.raises(RenderError) as caught:
            _channel().render(contract(tender), render_context(config, tender, destination))
        assert destination in caught.value.message
        assert "police-technology-press" in caught.value.message  # what is configured


def test_a_tender_without_a_deadline_cannot_be_advertised(config: Config, examples: Examples) -> None:
    tender = examples["framework-call-off"]
    with pytest.raises(RenderError, match="deadline"):
        _channel().render(contract(tender), render_context(config, tender, "trade-press:construction-press"))


def test_dot_stuffing_and_end_marker() -> None:
    assert _dot_stuffed(b"a\r\n.b\r\n..c") == b"a\r\n..b\r\n...c\r\n.\r\n"
    assert message_id("k-1") == "<k-1@tender-syndicator.emscu>"
    with pytest.raises(RenderError):
        message_id("bad key>")


# -- a scripted SMTP server --------------------------------------------------------------------


@dataclass
class Script:
    """What the test server answers; `None` means the normal answer."""

    mail: str | None = None
    rcpt: str | None = None
    data: str | None = None
    hang_up_at: str | None = None  # "MAIL" or "DATA": close the connection instead of answering
    data_delay: float = 0.0
    received: list[Envelope] = field(default_factory=list)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.hang_up_at == "MAIL" and server.transport is not None:
            server.transport.close()
        envelope.mail_from = address
        return self.mail or "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return self.rcpt or "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        if self.hang_up_at == "DATA" and server.transport is not None:
            server.transport.close()
        await asyncio.sleep(self.data_delay)
        return self.data or "250 2.0.0 queued"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., int]]:
    """Start a scripted aiosmtpd server; returns its port."""
    started: list[Controller] = []

    def start(script: Script, **options: Any) -> int:
        port = _free_port()
        controller = Controller(script, hostname="127.0.0.1", port=port, server_hostname="test", **options)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def test_250_is_a_live_receipt_and_the_desk_gets_the_exact_bytes(
    config: Config, examples: Examples, smtp_server: Callable[..., int]
) -> None:
    script = Script()
    rendered = _advert(config, examples)
    receipt = _channel(smtp_server(script)).submit(rendered, "ignored")
    assert receipt.live is True
    assert receipt.remote_id == _parse(rendered.body)["Message-ID"]
    assert (receipt.status, receipt.status_code) == ("accepted by the desk", 250)
    (envelope,) = script.received
    assert envelope.mail_from == "adverts@emscu.example.police.uk"
    assert envelope.rcpt_tos == [DESK]
    assert envelope.original_content == rendered.body


@pytest.mark.parametrize(
    "script",
    [
        Script(mail="451 4.3.0 try later"),
        Script(mail="421 4.7.0 Rate limited: too many messages"),
        Script(rcpt="450 4.2.1 mailbox busy"),
        Script(data="452 4.3.1 insufficient storage"),
        Script(hang_up_at="MAIL"),
    ],
    ids=["mail-451", "rate-limited-421", "rcpt-450", "data-452", "dropped-before-data"],
)
def test_temporary_failures_are_transient(
    config: Config, examples: Examples, smtp_server: Callable[..., int], script: Script
) -> None:
    with pytest.raises(TransientError) as caught:
        _channel(smtp_server(script)).submit(_advert(config, examples), "k")
    assert not isinstance(caught.value, RateLimited)  # SMTP gives no Retry-After


@pytest.mark.parametrize(
    ("script", "reply"),
    [
        (Script(rcpt="550 5.1.1 no such desk"), "550 5.1.1 no such desk"),
        (
            Script(data="554 5.6.0 advert refused: artwork missing"),
            "554 5.6.0 advert refused: artwork missing",
        ),
        (Script(mail="553 5.1.8 sender rejected"), "553 5.1.8 sender rejected"),
    ],
)
def test_permanent_failures_are_rejected_with_the_reply(
    config: Config, examples: Examples, smtp_server: Callable[..., int], script: Script, reply: str
) -> None:
    with pytest.raises(RejectedError) as caught:
        _channel(smtp_server(script)).submit(_advert(config, examples), "k")
    assert caught.value.reasons == [reply]
    assert caught.value.status_code == int(reply[:3])


def test_no_answer_after_the_data_is_outcome_unknown(
    config: Config, examples: Examples, smtp_server: Callable[..., int]
) -> None:
    script = Script(data_delay=1.5)
    with pytest.raises(OutcomeUnknown):
        _channel(smtp_server(script), timeout=0.4).submit(_advert(config, examples), "k")
    assert len(script.received) == 1  # the desk does have it


def test_a_hang_up_after_the_data_is_outcome_unknown(
    config: Config, examples: Examples, smtp_server: Callable[..., int]
) -> None:
    with pytest.raises(OutcomeUnknown):
        _channel(smtp_server(Script(hang_up_at="DATA"))).submit(_advert(config, examples), "k")


def test_nobody_listening_is_transient(config: Config, examples: Examples) -> None:
    with pytest.raises(TransientError):
        _channel(_free_port()).submit(_advert(config, examples), "k")


def _authenticate(accept: bool) -> Callable[..., AuthResult]:
    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        return AuthResult(success=accept, handled=False)

    return authenticator


def test_refused_credentials_are_an_auth_error_without_the_password(
    config: Config, examples: Examples, smtp_server: Callable[..., int]
) -> None:
    port = smtp_server(Script(), authenticator=_authenticate(False), auth_require_tls=False)
    with pytest.raises(AuthError) as caught:
        _channel(port, username="emscu", password=PASSWORD).submit(_advert(config, examples), "k")
    assert caught.value.status_code == 535
    assert PASSWORD not in str(caught.value) and PASSWORD not in (caught.value.excerpt or "")


@pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")  # test server only
def test_accepted_credentials_send_the_advert(
    config: Config, examples: Examples, smtp_server: Callable[..., int]
) -> None:
    script = Script()
    port = smtp_server(script, authenticator=_authenticate(True), auth_require_tls=False, auth_required=True)
    _channel(port, username="emscu", password=PASSWORD).submit(_advert(config, examples), "k")
    assert len(script.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning")  # test server only
def test_authentication_required_is_an_auth_error(
    config: Config, examples: Examples, smtp_server: Callable[..., int]
) -> None:
    port = smtp_server(
        Script(), authenticator=_authenticate(True), auth_require_tls=False, auth_required=True
    )
    with pytest.raises(AuthError) as caught:
        _channel(port).submit(_advert(config, examples), "k")
    assert caught.value.status_code == 530


@pytest.mark.parametrize(
    "changes",
    [{"starttls": True}, {"username": "emscu", "password": PASSWORD}, {"username": "emscu"}],
    ids=["no-starttls-offered", "no-auth-offered", "no-password-configured"],
)
def test_a_server_that_cannot_be_used_as_configured_is_an_auth_error(
    config: Config, examples: Examples, smtp_server: Callable[..., int], changes: dict[str, Any]
) -> None:
    with pytest.raises(AuthError) as caught:
        _channel(smtp_server(Script()), **changes).submit(_advert(config, examples), "k")
    assert PASSWORD not in str(caught.value)


# -- configuration and secrets ---------------------------------------------------------------


def test_capabilities_say_a_desk_does_not_deduplicate() -> None:
    assert TradePressChannel.capabilities.deduplicates is False
    assert TradePressChannel.capabilities.polls is False
    assert TradePressChannel.notices == {NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.CANCELLATION}


def test_both_shipped_profiles_name_a_desk_for_every_publication(config: Config) -> None:
    publications = {pub.publication for pub in config.policy.trade_press}
    assert publications == {"construction-press", "police-technology-press", "recruitment-press"}
    for profile in ("sandbox", "production"):
        channel = build_channel(replace(config, profile=profile), "trade-press", environ={})
        assert isinstance(channel.settings, TradePressSettings)
        assert set(channel.settings.desks) == publications
        assert channel.settings.starttls is (profile == "production")


@pytest.mark.parametrize(
    "changes",
    [
        {"desks": {"x": "not an address"}},
        {"sender": "nobody"},
        {"smtp_port": 0},
        {"desks": {"x": "dësk@example.org"}},
    ],
)
def test_bad_settings_fail_at_start_up(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _settings(**changes)


class TestTradePressContract(ChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "trade-press"
    states_net_values = False
