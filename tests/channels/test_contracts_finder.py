"""Contracts Finder adapter: golden Notice JSON, what it says and refuses to say, the token it
keeps, the request flow (draft, publish, read back; a repeat finds the first draft), the 403
rate limit told apart from a refusal, withdrawals, and secrets kept out of everything shown.

No shipped example is routed to Contracts Finder until routing sends PCR-regime procurements
there (issue 11), so these tests render the examples for "contracts-finder" directly."""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from channels.contracts_finder import ContractsFinderChannel, ContractsFinderSettings
from channels.contracts_finder.jsontext import encode
from channels.contracts_finder.notice import identifier
from syndicator.channel.base import (
    AuthError,
    ChannelError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    RenderContext,
    Rendered,
    RenderError,
    TransientError,
)
from syndicator.channel.http import Response, function_session
from syndicator.channel.registry import build_channel, channel_class
from syndicator.config.files import ConfigError
from syndicator.config.settings import Config
from syndicator.domain.award import Award
from syndicator.domain.notices import Notice, NoticeKind, NoticeRef
from syndicator.domain.tender import Tender
from syndicator.sandbox.config import SandboxConfig
from tests.channels.awards import award_of
from tests.channels.cf_fake import FakeContractsFinder, answer, form, rate_limit_page
from tests.channels.contract import SECRET as MIXIN_SECRET
from tests.channels.contract import HttpChannelContract, adapter
from tests.channels.eras import as_pcr, pcr_examples
from tests.conftest import render_job, routed_examples

CF = "contracts-finder"
GOLDEN = Path(__file__).parent / "golden" / CF
Examples = dict[str, Tender]
CLIENT = "emscu-test-client"
SECRET = "cf-test-secret-7d2e"
# Contracts Finder carries procurements under the PCR 2015 (commenced 2021-01-01 to 2025-02-23):
# the shipped examples are Procurement Act 2023 procurements but for pcr-legacy and ted-legacy,
# so these tests read every example as commenced under the PCR (tests/channels/eras.py). These
# then route here (at or above £30,000 including VAT, advertised, not a framework call-off).
DIRECT = ("agency-staff", "anpr-cameras", "construction-works", "it-managed-service", "it-software")


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples as PCR 2015 procurements."""
    return pcr_examples(config)


GUID = "11111111-2222-4333-8444-555555555555"  # no notice the fake holds
PUBLISHED_ID = "3f2b8c1e-9d4a-4e6b-8c2f-1a5d7e9b0c3d"  # a notice Contracts Finder published


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cf_examples(config: Config, examples: Examples) -> list[tuple[str, Tender, str]]:
    """(name, tender, destination) for the examples Contracts Finder carries."""
    routed = routed_examples(config, examples, CF)
    assert routed, "no example routes to Contracts Finder"
    return routed


def _channel(
    server: FakeContractsFinder | None = None, clock: Clock | None = None, **settings: Any
) -> ContractsFinderChannel:
    values = {
        "base_url": "https://cf.test/",
        "client_id": CLIENT,
        "client_secret": SECRET,
        "connect_retries": 1,
        **settings,
    }
    session = function_session(server) if server is not None else None
    return ContractsFinderChannel(ContractsFinderSettings(**values), session=session, clock=clock or Clock())


def _fake(**options: Any) -> FakeContractsFinder:
    return FakeContractsFinder(CLIENT, SECRET, **options)


def _job(config: Config, tender: Tender, **options: Any) -> tuple[Notice, RenderContext]:
    job = render_job(config, tender, CF, **options)
    return job.notice, job.context


def _render(config: Config, tender: Tender, **options: Any) -> Rendered:
    notice, context = _job(config, tender, **options)
    return _channel().render(notice, context)


def _document(config: Config, tender: Tender, **options: Any) -> Any:
    return json.loads(_render(config, tender, **options).body)


def _tricky(tender: Tender) -> Tender:
    data = tender.model_dump(mode="json")
    data["title"] = 'Body-worn <b>cameras</b> & "docks" ]]> £5k — Zürich 東京'
    data["description"] = (
        'Supply of <script>alert(1)</script> &amp; docks", "valueLow": 1, "x": "\n\n'
        "Second paragraph: café, naïve, \\u0000 and £1,000 <i>each</i>."
    )
    return Tender.model_validate(data)


# -- rendering -------------------------------------------------------------------------------


def test_every_example_matches_its_golden_file(config: Config, examples: Examples) -> None:
    regenerate = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
    cases = [(f"{name}.json", _render(config, tender)) for name, tender, _ in cf_examples(config, examples)]
    # A withdrawal names the published notice by the GUID Contracts Finder gave it.
    cases.append(("anpr-cameras.cancellation.json", _cancellation(config, examples, PUBLISHED_ID)))
    # An award names the published notice the same way; it-software has two lots, one not awarded.
    cases.append(("anpr-cameras.award.json", _award(config, examples, PUBLISHED_ID)))
    cases.append(
        ("it-software.award.json", _award(config, examples, PUBLISHED_ID, "it-software", split=True))
    )
    for filename, rendered in cases:
        golden = GOLDEN / filename
        if regenerate:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(rendered.body)
        assert golden.is_file(), f"{golden} is missing (SYNDICATOR_REGENERATE_GOLDEN=1 makes it)"
        assert rendered.body == golden.read_bytes(), f"{filename}: rendered JSON differs from {golden}"
        assert rendered.media_type == "application/json; charset=utf-8"


def test_the_notice_carries_everything_in_contracts_finders_own_terms(
    config: Config, examples: Examples
) -> None:
    tender = examples["it-software"]
    notice, context = _job(config, tender)
    rendered = _channel().render(notice, context)
    document = json.loads(rendered.body, parse_float=Decimal)
    assert rendered.identity == document["identifier"]
    assert document["type"] == "Contract"
    assert document["title"] == tender.title
    assert document["deadlineDate"] == "2027-01-08T17:00:00Z"
    # Money as exact JSON numbers, net of VAT, one estimate as both ends of the range.
    assert b'"valueLow": 95000.00,' in rendered.body and b'"valueHigh": 95000.00,' in rendered.body
    assert document["valueLow"] == document["valueHigh"] == Decimal("95000.00")
    # CPV codes without check digits, the main code first, lot codes added.
    assert document["cpvCodes"] == ["48000000", "72260000"]
    assert (document["postcode"], document["region"]) == ("NN4 0JQ", "East Midlands")
    assert document["isSuitableForSme"] is tender.sme_suitable
    assert document["contactDetails"]["email"] == tender.contact.email
    text = document["description"]
    assert text.startswith(tender.description)
    for fact in (
        "Buyer's reference: NORTHANTS-2026-0058.",
        "competitive procedure with negotiation",
        "for 36 months",
        "Estimated value: £95,000.00 excluding VAT.",
        "Lot 1: Software licences (estimated £60,000.00 excluding VAT)",
        "Lot 2: Configuration and support (estimated £35,000.00 excluding VAT)",
    ):
        assert fact in text


def test_a_vat_inclusive_value_is_stated_net(config: Config, examples: Examples) -> None:
    document = _document(config, examples["agency-staff"])  # £180,000 including VAT
    assert document["valueLow"] == document["valueHigh"] == 150000
    assert "£150,000.00 excluding VAT" in document["description"]
    notice, context = _job(config, examples["agency-staff"])
    other = json.loads(_channel().render(notice, replace(context, vat_rate=Decimal("0.25"))).body)
    assert other["valueLow"] == 144000


def test_the_notice_says_which_primary_notice_it_follows_and_when(config: Config, examples: Examples) -> None:
    notice, context = _job(config, examples["anpr-cameras"])
    assert context.follows is not None  # above threshold: it waited for the primary's notice
    text = json.loads(_channel().render(notice, context).body)["description"]
    assert f"follows the {context.follows.title} notice {context.follows.public_reference}" in text
    assert "dispatched on 1 December 2026" in text
    fts = NoticeRef(
        destination="find-a-tender",
        kind=NoticeKind.CONTRACT,
        version=1,
        state="published",
        key="k",
        identity="ours",
        publication_id="012345-2026",
        url="https://www.find-tender.service.gov.uk/Notice/012345-2026",
        dispatched_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
        title="Find a Tender",
    )
    text = json.loads(_channel().render(notice, replace(context, follows=fts)).body)["description"]
    assert text.endswith(
        "This opportunity follows the Find a Tender notice 012345-2026 "
        "(https://www.find-tender.service.gov.uk/Notice/012345-2026), dispatched on 30 November 2026."
    )
    below = json.loads(_channel().render(notice, replace(context, follows=None)).body)["description"]
    assert "follows" not in below


def test_the_identifier_comes_from_the_key_and_holds_reference_and_version(
    config: Config, examples: Examples
) -> None:
    tender = examples["anpr-cameras"]
    notice, context = _job(config, tender)
    rendered = _channel().render(notice, context)
    assert rendered.identity == f"NOTTS-2026-0142-v1-{context.key.replace('-', '')[:12]}"
    assert _channel().render(notice, context).identity == rendered.identity  # every attempt
    again = _channel().render(notice, replace(context, revision=2)).identity
    assert again == f"{rendered.identity}-r2"  # a person's re-send after a refusal: a new draft
    other = _channel().render(notice, replace(context, key="9b2e3c4d-0000-5000-8000-000000000000")).identity
    assert other != rendered.identity
    v3 = _channel().render(Notice(NoticeKind.CONTRACT, tender, version=3), context).identity
    assert v3 is not None and "-v3-" in v3
    # The Identifier travels in a URL path: nothing but letters, digits, - and _.
    assert identifier("EMSCU/2026.01", 2, "not-a-uuid").startswith("EMSCU-2026-01-v2-")
    with pytest.raises(RenderError, match="100 characters"):
        identifier("R" * 64, 10**30, context.key)


def test_what_contracts_finder_cannot_carry_is_refused_with_a_reason(
    config: Config, examples: Examples
) -> None:
    with pytest.raises(RenderError, match="closing date"):
        _render(config, examples["framework-call-off"])  # no submission deadline
    notice, context = _job(config, examples["it-software"])
    with pytest.raises(RenderError, match="pa2023"):
        _channel().render(notice, replace(context, regime="pa2023"))
    _channel().render(notice, replace(context, regime="pcr-uk"))  # the PCR regimes are carried
    long = Tender.model_validate(
        {**examples["it-software"].model_dump(mode="json"), "description": "x" * 2990}
    )
    with pytest.raises(RenderError, match="at most 3000"):
        _render(config, long)
    for kind in (NoticeKind.CHANGE, NoticeKind.CONTRACT_DETAILS):
        with pytest.raises(RenderError, match="does not carry"):
            _channel().render(Notice(kind, examples["it-software"]), context)


def test_hostile_text_is_inert(config: Config, examples: Examples) -> None:
    tender = _tricky(examples["anpr-cameras"])
    rendered = _render(config, tender)
    document = json.loads(rendered.body.decode("utf-8"))
    assert document["title"] == tender.title
    assert document["description"].startswith(tender.description)
    assert document["valueLow"] == 380000 and "x" not in document  # the quotes opened nothing
    assert "£5k — Zürich 東京".encode() in rendered.body  # UTF-8, not \\u escapes


def test_rendering_is_deterministic(config: Config, examples: Examples) -> None:
    for _, tender, _ in cf_examples(config, examples):
        notice, context = _job(config, tender)
        first = _channel().render(notice, context)
        assert _channel(base_url="https://elsewhere.test").render(notice, context) == first


def test_json_text_keeps_money_exact_and_refuses_floats() -> None:
    assert encode({"a": Decimal("1234567890.12"), "b": Decimal("0.10")}) == (
        '{\n  "a": 1234567890.12,\n  "b": 0.10\n}'
    )
    assert json.loads(encode({"x": [1, True, None, 'é"\n']})) == {"x": [1, True, None, 'é"\n']}
    with pytest.raises(TypeError):
        encode({"a": 0.1})
    with pytest.raises(ValueError):
        encode({"a": Decimal("NaN")})


# -- the token -------------------------------------------------------------------------------


def _notice(config: Config, examples: Examples, name: str = "it-software") -> tuple[Rendered, str]:
    notice, context = _job(config, examples[name])
    return _channel().render(notice, context), context.key


def test_the_token_is_asked_for_as_documented_and_cached(config: Config, examples: Examples) -> None:
    server, clock = _fake(), Clock()
    channel = _channel(server, clock)
    first, key = _notice(config, examples, "it-software")
    second, other = _notice(config, examples, "anpr-cameras")
    assert channel.submit(first, key).live and channel.submit(second, other).live
    assert server.count("token") == 1
    token_request = next(r for r in server.requests if "Token" in (r.url or ""))
    assert token_request.method == "POST" and token_request.url == "https://cf.test/Token"
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {basic}"
    assert form(token_request) == {"grant_type": "client_credentials"}
    assert "x-www-form-urlencoded" in token_request.headers["Content-Type"]
    api = [r for r in server.requests if "create_draft_notice" in (r.url or "")]
    assert {r.headers["Authorization"] for r in api} == {"bearer fake-access-token-0001"}


def test_the_token_is_fetched_again_before_it_expires(config: Config, examples: Examples) -> None:
    server, clock = _fake(token_lifetime=3600), Clock()
    channel = _channel(server, clock, token_margin=60)
    rendered, key = _notice(config, examples)
    channel.submit(rendered, key)
    clock.now += 3600 - 60 - 1  # still good
    channel.submit(*_notice(config, examples, "anpr-cameras"))
    assert server.count("token") == 1
    clock.now += 2  # within the margin: used no more
    channel.submit(*_notice(config, examples, "construction-works"))
    assert server.count("token") == 2


def test_a_401_fetches_a_new_token_once(config: Config, examples: Examples) -> None:
    server = _fake()
    channel = _channel(server)
    channel.submit(*_notice(config, examples, "anpr-cameras"))
    server.valid.clear()  # the service forgot our token (restart, revocation)
    receipt = channel.submit(*_notice(config, examples))
    assert receipt.live and server.count("token") == 2
    server.valid.clear()
    server.then(
        "token",
        lambda r: answer(
            200, {"access_token": "never-accepted-token", "expires_in": 60, "token_type": "bearer"}
        ),
    )
    with pytest.raises(AuthError) as caught:  # a fresh token refused too: credentials, not expiry
        channel.submit(*_notice(config, examples, "construction-works"))
    assert caught.value.status_code == 401
    assert "never-accepted-token" not in (caught.value.excerpt or "") + caught.value.message


def test_threads_share_one_token(config: Config, examples: Examples) -> None:
    server = _fake()
    arrived, release = threading.Event(), threading.Event()

    def slow_token(request: requests.PreparedRequest) -> Response:
        arrived.set()
        release.wait(10)
        return server._token(request)

    server.then("token", slow_token)
    channel = _channel(server)
    jobs = [_notice(config, examples, name) for name in DIRECT]
    errors: list[BaseException] = []

    def send(rendered: Rendered, key: str) -> None:
        try:
            channel.submit(rendered, key)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    assert arrived.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert not errors and server.count("token") == 1 and server.count("publish") == len(DIRECT)


def test_refused_client_credentials_are_an_auth_error(config: Config, examples: Examples) -> None:
    server = FakeContractsFinder(CLIENT, "another-secret")
    with pytest.raises(AuthError, match="invalid_client") as caught:
        _channel(server).submit(*_notice(config, examples))
    assert caught.value.status_code == 400 and server.count("create") == 0


# -- the rate limit and other answers --------------------------------------------------------


def test_the_403_rate_limit_waits_five_minutes_and_sends_nothing_meanwhile(
    config: Config, examples: Examples
) -> None:
    server, clock = _fake(), Clock()
    channel = _channel(server, clock)
    server.then("create", rate_limit_page())
    with pytest.raises(RateLimited) as caught:
        channel.submit(*_notice(config, examples))
    assert caught.value.retry_after == 300 and caught.value.status_code == 403
    assert type(caught.value) is RateLimited  # transient: not refused credentials
    sent = len(server.calls)
    clock.now += 120
    with pytest.raises(RateLimited) as again:
        channel.submit(*_notice(config, examples))
    assert again.value.retry_after == pytest.approx(180) and len(server.calls) == sent
    clock.now += 181
    assert channel.submit(*_notice(config, examples)).live


def test_the_token_endpoint_rate_limit_is_a_wait_too(config: Config, examples: Examples) -> None:
    server = _fake()
    server.then("token", rate_limit_page())
    with pytest.raises(RateLimited) as caught:
        _channel(server).submit(*_notice(config, examples))
    assert caught.value.retry_after == 300


@pytest.mark.parametrize(
    "refusal",
    [
        answer(403, {"message": "Authorization has been denied for this request."}),
        Response(403, {"Content-Type": "text/html"}, b"<html><h1>Forbidden</h1></html>"),
    ],
)
def test_a_real_403_is_refused_credentials(config: Config, examples: Examples, refusal: Response) -> None:
    server = _fake()
    server.then("create", refusal)
    with pytest.raises(AuthError) as caught:
        _channel(server).submit(*_notice(config, examples))
    assert caught.value.status_code == 403


def test_a_validation_refusal_carries_contracts_finders_reasons(config: Config, examples: Examples) -> None:
    server = _fake()
    refusal = {
        "Code": "ValidationError",
        "Errors": [
            {"Location": "DeadlineDate", "Message": "must be in the future"},
            {"message": "Region is not recognised"},
            "Title is required",
        ],
    }
    server.then("create", answer(400, refusal))
    with pytest.raises(RejectedError) as caught:
        _channel(server).submit(*_notice(config, examples))
    assert caught.value.reasons == [
        "DeadlineDate: must be in the future",
        "Region is not recognised",
        "Title is required",
    ]
    assert caught.value.status_code == 400 and "DeadlineDate" in caught.value.message
    assert server.count("lookup") == 1 and server.count("publish") == 0  # it asked: no such draft


def test_a_refusal_at_publication_is_rejected(config: Config, examples: Examples) -> None:
    server = _fake()
    server.then(
        "publish", answer(400, {"code": "ValidationError", "errors": [{"message": "deadline has passed"}]})
    )
    with pytest.raises(RejectedError) as caught:
        _channel(server).submit(*_notice(config, examples))
    assert caught.value.reasons == ["deadline has passed"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(config: Config, examples: Examples, status: int) -> None:
    server = _fake()
    server.then("create", Response(status, {}, b"unwell"))
    with pytest.raises(TransientError) as caught:
        _channel(server).submit(*_notice(config, examples))
    assert type(caught.value) is TransientError and caught.value.status_code == status


def test_a_429_waits_its_retry_after(config: Config, examples: Examples) -> None:
    server = _fake()
    server.then("publish", answer(429, {}, **{"Retry-After": "17"}))
    with pytest.raises(RateLimited) as caught:
        _channel(server).submit(*_notice(config, examples))
    assert caught.value.retry_after == 17


def test_time_outs_are_unknown_only_after_a_change(config: Config, examples: Examples) -> None:
    server = _fake()
    server.then("create", requests.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        _channel(server).submit(*_notice(config, examples))
    server.then("publish", requests.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        _channel(server).submit(*_notice(config, examples, "anpr-cameras"))
    server.then("token", requests.ReadTimeout("slow"))  # asking for a token changes nothing
    with pytest.raises(TransientError) as token:
        _channel(server).submit(*_notice(config, examples, "construction-works"))
    assert type(token.value) is TransientError
    channel = _channel(server)
    channel.submit(*_notice(config, examples, "agency-staff"))
    server.then("read", requests.ReadTimeout("slow"))
    with pytest.raises(TransientError) as read:
        channel.poll(Receipt(server.drafts[next(iter(server.drafts))].notice_id, False))
    assert type(read.value) is TransientError


# -- the flow and idempotency ----------------------------------------------------------------


def test_a_notice_is_created_published_and_read_back(config: Config, examples: Examples) -> None:
    server = _fake()
    rendered, key = _notice(config, examples)
    receipt = _channel(server).submit(rendered, key)
    draft = server.drafts[rendered.identity or ""]
    assert [step for _, step in server.calls] == ["token", "create", "publish", "read"]
    create = next(r for r in server.requests if "create_draft_notice" in (r.url or ""))
    assert create.url == "https://cf.test/api/rest/2/create_draft_notice/json"
    assert create.body == rendered.body and create.headers["Content-Type"] == rendered.media_type
    publish = next(r for r in server.requests if "publish_draft_notice" in (r.url or ""))
    assert json.loads(publish.body or b"") == {"noticeId": draft.notice_id}
    read = next(r for r in server.requests if "get_published_notice" in (r.url or ""))
    assert "Authorization" not in read.headers  # the read-back is public
    assert receipt == Receipt(
        remote_id=draft.notice_id,
        live=True,
        url=f"https://cf.test/Notice/{draft.notice_id}",
        status="published",
        status_code=200,
        excerpt=receipt.excerpt,
        published_at=datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC),
    )


def test_a_bare_guid_answer_to_create_is_understood(config: Config, examples: Examples) -> None:
    server = _fake(created_as="string")
    assert _channel(server).submit(*_notice(config, examples)).live


def test_a_create_answer_without_an_id_is_an_unknown_outcome(config: Config, examples: Examples) -> None:
    server = _fake()
    server.then("create", answer(200, {"code": "Ok"}))
    with pytest.raises(OutcomeUnknown):
        _channel(server).submit(*_notice(config, examples))


def test_a_repeat_looks_the_draft_up_and_publishes_that_one(config: Config, examples: Examples) -> None:
    server = _fake()
    channel = _channel(server)
    rendered, key = _notice(config, examples)
    server.then("publish", requests.ReadTimeout("lost"))  # the first attempt's answer is lost
    with pytest.raises(OutcomeUnknown):
        channel.submit(rendered, key)
    # An Identifier that merely begins with ours is another notice (Lookup matches prefixes).
    server.drafts[f"{rendered.identity}-r2"] = replace(server.drafts[rendered.identity or ""], notice_id=GUID)
    receipt = channel.submit(rendered, key)
    draft = server.drafts[rendered.identity or ""]
    assert receipt.live and receipt.remote_id == draft.notice_id != GUID
    assert server.count("create") == 2 and server.count("lookup") == 1  # the second was refused
    assert server.count("publish") == 2 and draft.published  # the lost one never got through


def test_a_repeat_of_a_published_notice_publishes_nothing(config: Config, examples: Examples) -> None:
    server = _fake()
    channel = _channel(server)
    rendered, key = _notice(config, examples)
    server.then("read", requests.ReadTimeout("lost"))  # published, but the read-back is lost
    with pytest.raises(TransientError):
        channel.submit(rendered, key)
    receipt = channel.submit(rendered, key)
    assert receipt.live and server.count("publish") == 1 and len(server.drafts) == 1


def test_not_yet_readable_is_not_live_and_is_polled(config: Config, examples: Examples) -> None:
    server = _fake()
    channel = _channel(server)
    server.then("read", answer(404, {"message": "not found"}))
    receipt = channel.submit(*_notice(config, examples))
    assert receipt.live is False and receipt.remote_id is not None
    assert channel.poll(Receipt(receipt.remote_id, False)).live is True
    assert channel.capabilities.polls and channel.capabilities.deduplicates


def test_a_notice_withdrawn_meanwhile_is_not_reported_live(config: Config, examples: Examples) -> None:
    server = _fake()
    channel = _channel(server)
    receipt = channel.submit(*_notice(config, examples))
    server.by_id(receipt.remote_id or "").withdrawn_reason = "Published in error"  # type: ignore[union-attr]
    with pytest.raises(RejectedError, match="Published in error"):
        channel.poll(Receipt(receipt.remote_id, False))


# -- withdrawals -----------------------------------------------------------------------------


def _published(
    config: Config, examples: Examples, server: FakeContractsFinder
) -> tuple[ContractsFinderChannel, str]:
    channel = _channel(server)
    rendered, key = _notice(config, examples, "anpr-cameras")
    return channel, channel.submit(rendered, key).remote_id or ""


def _cancellation(config: Config, examples: Examples, remote_id: str | None) -> Rendered:
    notice, context = _job(
        config, examples["anpr-cameras"], kind=NoticeKind.CANCELLATION, reason="Budget withdrawn"
    )
    contract = context.history[0]
    context = replace(context, history=(replace(contract, remote_id=remote_id), *context.history[1:]))
    return _channel().render(notice, context)


def test_a_cancellation_withdraws_the_published_notice(config: Config, examples: Examples) -> None:
    server = _fake()
    channel, notice_id = _published(config, examples, server)
    rendered = _cancellation(config, examples, notice_id)
    assert json.loads(rendered.body) == {"noticeId": notice_id, "withdrawalReason": "Budget withdrawn"}
    assert (rendered.operation, rendered.target) == ("withdraw", notice_id)
    assert rendered.identity == next(iter(server.drafts))  # the withdrawn notice's Identifier
    receipt = channel.submit(rendered, "cancellation-key")
    assert (receipt.live, receipt.status, receipt.remote_id) == (True, "withdrawn", notice_id)
    withdraw = next(r for r in server.requests if "Withdraw" in (r.url or ""))
    assert withdraw.url == "https://cf.test/Published/Notice/Withdraw/2" and withdraw.body == rendered.body
    again = channel.submit(rendered, "cancellation-key")  # a repeat: already withdrawn
    assert again.status == "withdrawn" and server.count("withdraw") == 1


def test_a_cancellation_finds_the_notice_by_identifier_when_its_id_is_not_on_record(
    config: Config, examples: Examples
) -> None:
    server = _fake()
    channel, notice_id = _published(config, examples, server)
    rendered = _cancellation(config, examples, None)
    assert json.loads(rendered.body)["noticeId"] is None
    assert channel.submit(rendered, "k").remote_id == notice_id
    withdraw = next(r for r in server.requests if "Withdraw" in (r.url or ""))
    assert json.loads(withdraw.body or b"") == {"noticeId": notice_id, "withdrawalReason": "Budget withdrawn"}


def test_a_cancellation_of_an_unpublished_notice_is_refused(config: Config, examples: Examples) -> None:
    server = _fake()
    with pytest.raises(RejectedError, match="not published"):
        _channel(server).submit(_cancellation(config, examples, GUID), "k")
    assert server.count("withdraw") == 0
    notice, context = _job(config, examples["anpr-cameras"], kind=NoticeKind.CANCELLATION)
    with pytest.raises(RenderError, match="reason"):
        _channel().render(replace(notice, reason="  "), context)
    with pytest.raises(RenderError, match="no contract notice"):
        _channel().render(notice, replace(context, history=()))


# -- awards --------------------------------------------------------------------------------


def _split_award(tender: Tender) -> Award:
    """Lot 1 awarded (as `award_of`), lot 2 not awarded: no suitable tenders were received."""
    data = award_of(tender).model_dump(mode="json")
    data["lots"][1] = {"lot": 2, "outcome": "not-awarded", "reason": "no-suitable-tenders"}
    data["tenders_received"] = {"1": 3, "2": 1}
    return Award.model_validate(data)


def _award(
    config: Config, examples: Examples, remote_id: str | None, name: str = "anpr-cameras", split: bool = False
) -> Rendered:
    tender = examples[name]
    award = _split_award(tender) if split else award_of(tender)
    notice, context = _job(
        config, tender, kind=NoticeKind.AWARD, award=award, standstill_ends=date(2027, 2, 11)
    )
    contract = context.history[0]
    context = replace(context, history=(replace(contract, remote_id=remote_id), *context.history[1:]))
    return _channel().render(notice, context)


def test_an_award_is_published_against_the_notice_with_each_lot_s_outcome(
    config: Config, examples: Examples
) -> None:
    rendered = _award(config, examples, PUBLISHED_ID, "it-software", split=True)
    assert (rendered.operation, rendered.target) == ("award", PUBLISHED_ID)
    document = json.loads(rendered.body)
    assert document["noticeId"] == PUBLISHED_ID
    assert document["awardedDate"] == "2027-02-01T00:00:00Z"
    assert document["awardedValue"] == 57000  # the awarded lot only, net of VAT
    (detail,) = document["awardDetails"]  # lot 2 was not awarded: no supplier
    assert detail == {
        "supplierName": "Roadwatch Systems Ltd",
        "supplierIdentifier": {"scheme": "GB-COH", "id": "04567321"},
        "supplierAddress": {
            "address1": "Unit 4, Meridian Business Park",
            "town": "Leicester",
            "postcode": "LE19 1WX",
            "country": "GB",
        },
        "isSme": True,
        "value": 57000,
        "startDate": "2027-04-02T00:00:00Z",
        "endDate": "2031-04-01T23:59:59Z",
    }
    lines = document["description"].split("\n")
    assert (
        "Lot 1 (Software licences): awarded to Roadwatch Systems Ltd (GB-COH-04567321) for £57,000.00"
        in lines[2]
    )
    assert lines[3] == (
        "Lot 2 (Configuration and support): not awarded, because no suitable tenders were received. "
        "Tenders received: 1."
    )
    assert "The standstill period ends on 2027-02-11." in document["description"]


def test_an_award_with_nothing_awarded_or_no_record_is_refused(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    nothing = Award.model_validate(
        {
            "reference": tender.reference,
            "buyer": tender.buyer,
            "decision_date": "2027-02-01",
            "lots": [{"lot": None, "outcome": "not-awarded", "reason": "no-tenders"}],
        }
    )
    notice, context = _job(config, tender, kind=NoticeKind.AWARD, award=nothing)
    with pytest.raises(RenderError, match="withdraw the notice instead"):
        _channel().render(notice, context)
    with pytest.raises(RenderError, match="needs the award record"):
        _channel().render(replace(notice, award=None), context)
    with pytest.raises(RenderError, match="no contract notice"):
        _channel().render(replace(notice, award=award_of(tender)), replace(context, history=()))
    with pytest.raises(RenderError, match="pa2023"):
        _channel().render(replace(notice, award=award_of(tender)), replace(context, regime="pa2023"))


def test_an_award_is_sent_once_and_read_back(config: Config, examples: Examples) -> None:
    server = _fake()
    channel, notice_id = _published(config, examples, server)
    rendered = _award(config, examples, notice_id)
    receipt = channel.submit(rendered, "award-key")
    assert (receipt.live, receipt.status, receipt.remote_id) == (True, "awarded", notice_id)
    sent = next(r for r in server.requests if "award_notice" in (r.url or ""))
    assert sent.url == "https://cf.test/api/rest/2/award_notice/json" and sent.body == rendered.body
    again = channel.submit(rendered, "award-key")  # a repeat: the read-back shows it awarded
    assert again.status == "awarded" and server.count("award") == 1


def test_an_award_finds_the_notice_by_identifier_and_refuses_a_withdrawn_one(
    config: Config, examples: Examples
) -> None:
    server = _fake()
    channel, notice_id = _published(config, examples, server)
    rendered = _award(config, examples, None)
    assert json.loads(rendered.body)["noticeId"] is None
    assert channel.submit(rendered, "k").remote_id == notice_id
    sent = next(r for r in server.requests if "award_notice" in (r.url or ""))
    assert json.loads(sent.body or b"")["noticeId"] == notice_id
    other = _fake()
    channel, notice_id = _published(config, examples, other)
    channel.submit(_cancellation(config, examples, notice_id), "c")
    with pytest.raises(RejectedError, match="withdrawn"):
        channel.submit(_award(config, examples, notice_id), "k")
    with pytest.raises(RejectedError, match="not published"):
        _channel(_fake()).submit(_award(config, examples, GUID), "k")
    assert other.count("award") == 0


def test_a_refused_award_carries_the_reasons(config: Config, examples: Examples) -> None:
    server = _fake()
    channel, notice_id = _published(config, examples, server)
    refusal = {"code": "ValidationError", "errors": [{"location": "AwardedValue", "message": "is required"}]}
    server.then("award", answer(400, refusal))
    with pytest.raises(RejectedError) as caught:
        channel.submit(_award(config, examples, notice_id), "k")
    assert caught.value.reasons == ["AwardedValue: is required"]


# -- configuration and secrets ---------------------------------------------------------------


def test_capabilities_and_kinds_are_declared() -> None:
    cls = channel_class(CF)
    assert cls is ContractsFinderChannel and cls.title == "Contracts Finder"
    assert cls.notices == frozenset({NoticeKind.CONTRACT, NoticeKind.CANCELLATION, NoticeKind.AWARD})


def test_both_shipped_profiles_configure_the_adapter(config: Config) -> None:
    sandbox = build_channel(config, CF, environ={})
    assert isinstance(sandbox.settings, ContractsFinderSettings)
    box = SandboxConfig()
    assert sandbox.settings.base_url == f"{box.base_url()}/contracts-finder"
    assert (sandbox.settings.client_id, sandbox.settings.client_secret.get_secret_value()) == (
        box.cf_client_id,
        box.cf_client_secret,
    )
    production = replace(config, profile="production")
    with pytest.raises(ConfigError, match="SYNDICATOR_CONTRACTS_FINDER_CLIENT_SECRET"):
        build_channel(production, CF, environ={})
    built = build_channel(production, CF, environ={"SYNDICATOR_CONTRACTS_FINDER_CLIENT_SECRET": SECRET})
    assert isinstance(built.settings, ContractsFinderSettings)
    assert built.settings.base_url == "https://www.contractsfinder.service.gov.uk"
    assert built.describe()["client_secret"] == "********"


def test_the_public_url_template_is_checked() -> None:
    with pytest.raises(ValueError, match="id"):
        _channel(public_notice_url="https://cf.test/Notice/")
    with pytest.raises(ValueError, match="only"):
        _channel(public_notice_url="{base_url}/Notice/{guid}")


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_no_credential_shows_in_errors_or_excerpts(config: Config, examples: Examples, status: int) -> None:
    server = _fake()

    def echo(request: requests.PreparedRequest) -> Response:
        return Response(status, {"Content-Type": "text/plain"}, str(dict(request.headers)).encode())

    server.then("token", echo)
    with pytest.raises(ChannelError) as at_token:
        _channel(server).submit(*_notice(config, examples))
    server.then("create", echo, echo)  # the second for the retry after a 401
    server.then("lookup", echo)
    with pytest.raises(ChannelError) as at_create:
        _channel(server).submit(*_notice(config, examples))
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    for error in (at_token.value, at_create.value):
        shown = " ".join([error.message, error.excerpt or "", *getattr(error, "reasons", [])])
        assert error.excerpt, "the echo should have been kept, scrubbed"
        for secret in (SECRET, basic, *server.tokens):
            assert secret not in shown


class TestContractsFinderContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = CF

    def adapt(self, tender: Tender) -> Tender:
        """Contracts Finder carries PCR 2015 procurements only."""
        return as_pcr(tender)

    def cases(self, config: Config, examples: Examples) -> list[tuple[Tender, str]]:
        """The examples routed here (every example, read as a PCR 2015 procurement)."""
        return [(tender, destination) for _, tender, destination in cf_examples(config, examples)]

    def test_the_identity_derived_from_our_key_is_on_the_wire(
        self, config: Config, examples: Examples
    ) -> None:
        """Contracts Finder is asked for a token first: the identity travels in the create
        request that follows (the mixin's version looks only at the first request)."""
        client_id = config.channels.profile_sections("sandbox")[CF]["client_id"]
        server = FakeContractsFinder(client_id, MIXIN_SECRET.format("client_secret"))
        server.then("create", answer(503, {}))
        channel = adapter(config, self.family, function_session(server))
        tender, destination = self.first(config, examples)
        job = render_job(config, tender, destination)
        rendered = channel.render(job.notice, job.context)
        with pytest.raises(TransientError):
            channel.submit(rendered, job.context.key)
        create = next(r for r in server.requests if "create_draft_notice" in (r.url or ""))
        assert rendered.identity and rendered.identity.encode() in (create.body or b"")
        assert rendered.identity.endswith(job.context.key.replace("-", "")[:12])
