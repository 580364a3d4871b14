"""The Contracts Finder adapter against the running sandbox, over real HTTP: every example
published and read back, the token and its refresh, the 403 rate limit and its wait, each fault
at the step it hits (token, draft, publish), a repeat after a lost answer publishing once, and
withdrawals. Contracts Finder asks for a token before anything else, so a fault meant for a
notice request is injected once the adapter holds one (or just before the request it targets).
Awards are published against the published notice, once, and refused for a withdrawn one.

Until routing sends PCR-regime procurements to Contracts Finder (issue 11), the examples are
rendered for "contracts-finder" directly."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import requests

from channels.contracts_finder import ContractsFinderChannel
from syndicator.channel.base import (
    AuthError,
    ChannelError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    Rendered,
    TransientError,
)
from syndicator.config.settings import Config
from syndicator.domain.award import Award
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Tender
from syndicator.sandbox.contracts_finder import ContractsFinderSimulator
from syndicator.sandbox.server import Sandbox
from tests.channels.awards import award_of
from tests.channels.eras import pcr_examples
from tests.channels.test_contracts_finder import DIRECT
from tests.conftest import render_job
from tests.integration.conftest import adapter_for, inject, received, sandbox_url

CF = "contracts-finder"
Examples = dict[str, Tender]
pytestmark = pytest.mark.timeout(60)  # a hung socket fails the test, not the run


@pytest.fixture(scope="module")
def examples(config: Config) -> Examples:
    """The shipped examples as PCR 2015 procurements (Contracts Finder carries no others)."""
    return pcr_examples(config)


class Watching(requests.Session):
    """A session that counts the requests it sends and can inject a sandbox fault just before
    the first request whose URL contains `marker` (so a fault hits a chosen step)."""

    def __init__(self, box: Sandbox, marker: str | None = None, mode: str = "", **extra: Any) -> None:
        super().__init__()
        self.box, self.marker, self.mode, self.extra = box, marker, mode, extra
        self.sent: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        path = str(url).split(CF, 1)[-1]
        if self.marker is not None and self.marker in path:
            self.marker = None
            inject(self.box, CF, self.mode, **self.extra)
        self.sent.append(f"{method!s} {path}")
        return super().request(method, url, *args, **kwargs)


def _adapter(
    config: Config, box: Sandbox, session: Watching | None = None, **overrides: Any
) -> ContractsFinderChannel:
    channel = adapter_for(config, box, CF, **overrides)
    assert isinstance(channel, ContractsFinderChannel)
    if session is not None:
        channel.session = session
    return channel


def _simulator(box: Sandbox) -> ContractsFinderSimulator:
    return next(s for s in box.simulators if isinstance(s, ContractsFinderSimulator))


def _rendered(channel: ContractsFinderChannel, config: Config, tender: Tender) -> tuple[Rendered, str]:
    job = render_job(config, tender, CF)
    return channel.render(job.notice, job.context), job.context.key


def _primed(config: Config, box: Sandbox, examples: Examples, **overrides: Any) -> ContractsFinderChannel:
    """An adapter holding a token (it has published `agency-staff`)."""
    channel = _adapter(config, box, **overrides)
    channel.submit(*_rendered(channel, config, examples["agency-staff"]))
    return channel


def _entry(box: Sandbox, identity: str | None) -> dict[str, Any]:
    (found,) = [n for n in received(box, CF) if n["key"] == identity]
    return found


def test_every_example_is_published_and_read_back(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    sent = {}
    for name in DIRECT:
        tender = examples[name]
        rendered, key = _rendered(channel, config, tender)
        receipt = channel.submit(rendered, key)
        assert receipt.live and receipt.status == "published" and receipt.url and receipt.remote_id
        assert receipt.published_at is not None
        page = requests.get(receipt.url, timeout=5)
        assert page.status_code == 200 and rendered.identity and rendered.identity in page.text
        read = requests.get(
            f"{sandbox_url(sandbox)}/{CF}/api/rest/2/get_published_notice/json/{receipt.remote_id}", timeout=5
        )
        assert read.json()["isPublished"] is True
        assert read.json()["notice"]["identifier"] == rendered.identity
        sent[rendered.identity] = (tender.reference, receipt.remote_id, receipt.url)
    notices = received(sandbox, CF)
    assert {n["key"]: (n["tender_reference"], n["remote_id"], n["url"]) for n in notices} == sent
    assert {(n["notice"], n["version"], n["status"], n["times_received"], n["copies"]) for n in notices} == {
        ("contract", 1, "published", 1, 1)
    }


def test_a_lost_answer_to_the_draft_is_repeated_and_published_once(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _primed(config, sandbox, examples, read_timeout=0.5)
    rendered, key = _rendered(channel, config, examples["anpr-cameras"])
    inject(sandbox, CF, "timeout", delay=1.5)  # the draft is made; its answer comes too late
    with pytest.raises(OutcomeUnknown):
        channel.submit(rendered, key)
    assert _entry(sandbox, rendered.identity)["status"] == "received"  # a draft, not published
    receipt = channel.submit(rendered, key)  # the engine's retry: the same key, the same bytes
    entry = _entry(sandbox, rendered.identity)
    assert receipt.live and receipt.remote_id == entry["remote_id"]
    assert (entry["status"], entry["times_received"], entry["copies"]) == ("published", 2, 1)


def test_a_lost_answer_to_the_publication_publishes_once(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    session = Watching(sandbox, "publish_draft_notice", "timeout", delay=1.5)
    channel = _adapter(config, sandbox, session, read_timeout=0.5)
    rendered, key = _rendered(channel, config, examples["it-software"])
    with pytest.raises(OutcomeUnknown):
        channel.submit(rendered, key)
    assert _entry(sandbox, rendered.identity)["status"] == "published"  # it did get through
    session.sent.clear()
    receipt = channel.submit(rendered, key)
    assert receipt.live and not any("publish_draft_notice" in s for s in session.sent)
    entry = _entry(sandbox, rendered.identity)
    assert (entry["times_received"], entry["copies"]) == (2, 1)


def test_a_dropped_connection_is_an_unknown_outcome_and_the_retry_publishes(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _primed(config, sandbox, examples)
    rendered, key = _rendered(channel, config, examples["construction-works"])
    inject(sandbox, CF, "down")
    with pytest.raises(OutcomeUnknown):
        channel.submit(rendered, key)
    assert [n for n in received(sandbox, CF) if n["key"] == rendered.identity] == []
    assert channel.submit(rendered, key).live
    assert _entry(sandbox, rendered.identity)["times_received"] == 1


TOKEN_FAULTS = [
    ("error-503", TransientError),
    ("rate-limit-429", RateLimited),
    ("timeout", TransientError),  # asking for a token publishes nothing: safe to repeat
    ("down", TransientError),
    ("reject-422", AuthError),  # a 400 from the token endpoint refuses our client
]


@pytest.mark.parametrize(("mode", "error"), TOKEN_FAULTS, ids=[m for m, _ in TOKEN_FAULTS])
def test_a_fault_at_the_token_request(
    config: Config, examples: Examples, sandbox: Sandbox, mode: str, error: type[ChannelError]
) -> None:
    session = Watching(sandbox)
    channel = _adapter(config, sandbox, session, read_timeout=0.5)
    rendered, key = _rendered(channel, config, examples["it-software"])
    inject(sandbox, CF, mode, retry_after=4, delay=1.5)
    with pytest.raises(error) as caught:
        channel.submit(rendered, key)
    assert type(caught.value) is error and session.sent == ["POST /Token"]
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 4
    assert received(sandbox, CF) == []
    assert channel.submit(rendered, key).live  # the fault was used up


NOTICE_FAULTS = [
    ("error-503", TransientError),
    ("rate-limit-429", RateLimited),
    ("reject-422", RejectedError),
]


@pytest.mark.parametrize(("mode", "error"), NOTICE_FAULTS, ids=[m for m, _ in NOTICE_FAULTS])
def test_a_fault_at_the_draft_request(
    config: Config, examples: Examples, sandbox: Sandbox, mode: str, error: type[ChannelError]
) -> None:
    channel = _primed(config, sandbox, examples)
    rendered, key = _rendered(channel, config, examples["it-managed-service"])
    inject(sandbox, CF, mode, retry_after=4)
    with pytest.raises(error) as caught:
        channel.submit(rendered, key)
    assert type(caught.value) is error
    if isinstance(caught.value, RejectedError):
        assert "injected fault" in " ".join(caught.value.reasons)
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 4
    assert [n for n in received(sandbox, CF) if n["key"] == rendered.identity] == []
    assert channel.submit(rendered, key).live
    assert _entry(sandbox, rendered.identity)["copies"] == 1


PUBLISH_FAULTS = [
    ("error-503", TransientError),
    ("rate-limit-429", RateLimited),
    ("reject-422", RejectedError),
    ("down", OutcomeUnknown),
]


@pytest.mark.parametrize(("mode", "error"), PUBLISH_FAULTS, ids=[m for m, _ in PUBLISH_FAULTS])
def test_a_fault_at_the_publish_request_leaves_a_draft_the_retry_publishes(
    config: Config, examples: Examples, sandbox: Sandbox, mode: str, error: type[ChannelError]
) -> None:
    channel = _adapter(config, sandbox, Watching(sandbox, "publish_draft_notice", mode, retry_after=4))
    rendered, key = _rendered(channel, config, examples["anpr-cameras"])
    with pytest.raises(error) as caught:
        channel.submit(rendered, key)
    assert type(caught.value) is error
    assert _entry(sandbox, rendered.identity)["status"] == "received"
    assert channel.submit(rendered, key).live  # the same bytes again publish the draft left behind
    entry = _entry(sandbox, rendered.identity)
    assert (entry["status"], entry["times_received"], entry["copies"]) == ("published", 2, 1)


def test_the_rate_limit_is_a_five_minute_wait_not_refused_credentials(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    simulator = _simulator(sandbox)
    simulator.rate_limit = 1  # the token request is the one allowed
    session = Watching(sandbox)
    channel = _adapter(config, sandbox, session)
    rendered, key = _rendered(channel, config, examples["it-software"])
    with pytest.raises(RateLimited) as caught:
        channel.submit(rendered, key)
    assert (caught.value.retry_after, caught.value.status_code) == (300, 403)
    assert "rate limit" in (caught.value.excerpt or "")
    with pytest.raises(RateLimited) as waiting:  # within the 5 minutes: nothing is sent at all
        channel.submit(rendered, key)
    assert 0 < (waiting.value.retry_after or 0) <= 300 and len(session.sent) == 2
    assert received(sandbox, CF) == []
    simulator.lift_rate_limit()
    simulator.rate_limit = 1000
    later = _adapter(config, sandbox)  # five minutes on (a fresh adapter, as after a restart)
    assert later.submit(rendered, key).live
    assert _entry(sandbox, rendered.identity)["copies"] == 1


def test_a_revoked_token_is_replaced(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    session = Watching(sandbox)
    channel = _adapter(config, sandbox, session)
    channel.submit(*_rendered(channel, config, examples["it-software"]))
    _simulator(sandbox).revoke_tokens()
    assert channel.submit(*_rendered(channel, config, examples["anpr-cameras"])).live
    assert session.sent.count("POST /Token") == 2
    create = [s for s in session.sent if "create_draft_notice" in s]
    assert len(create) == 3  # the second notice's draft: refused once (401), then made


def test_a_wrong_secret_is_an_auth_error(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = _adapter(config, sandbox, client_secret="not-the-secret")
    with pytest.raises(AuthError, match="invalid_client") as caught:
        channel.submit(*_rendered(channel, config, examples["it-software"]))
    assert "not-the-secret" not in (caught.value.excerpt or "") + caught.value.message
    assert received(sandbox, CF) == []


def test_a_published_notice_is_withdrawn_once(config: Config, examples: Examples, sandbox: Sandbox) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["anpr-cameras"]
    rendered, key = _rendered(channel, config, tender)
    published = channel.submit(rendered, key)
    job = render_job(config, tender, CF, kind=NoticeKind.CANCELLATION, reason="Budget withdrawn")
    contract = replace(job.context.history[0], remote_id=published.remote_id, identity=rendered.identity)
    context = replace(job.context, history=(contract,))
    cancellation = channel.render(job.notice, context)
    receipt = channel.submit(cancellation, context.key)
    assert (receipt.live, receipt.status, receipt.remote_id) == (True, "withdrawn", published.remote_id)
    again = channel.submit(cancellation, context.key)  # a repeat finds it withdrawn already
    assert again.status == "withdrawn"
    notices = {n["notice"]: n for n in received(sandbox, CF)}
    withdrawal = notices["cancellation"]
    assert (withdrawal["version"], withdrawal["tender_reference"], withdrawal["times_received"]) == (
        1,
        tender.reference,
        1,
    )
    assert "Budget withdrawn" in requests.get(published.url or "", timeout=5).text
    with pytest.raises(RejectedError, match="withdrawn"):  # the advert itself is no longer live
        channel.poll(Receipt(published.remote_id, False))


def _award_job(
    channel: ContractsFinderChannel, config: Config, tender: Tender, published: Receipt, rendered: Rendered
) -> tuple[Rendered, str]:
    """The award (lot 2 not awarded when there are lots) of the published contract notice."""
    data = award_of(tender).model_dump(mode="json")
    if len(data["lots"]) > 1:
        data["lots"][1] = {"lot": 2, "outcome": "not-awarded", "reason": "all-rejected"}
    job = render_job(config, tender, CF, kind=NoticeKind.AWARD, award=Award.model_validate(data))
    contract = replace(job.context.history[0], remote_id=published.remote_id, identity=rendered.identity)
    context = replace(job.context, history=(contract,))
    return channel.render(job.notice, context), context.key


def test_an_award_is_published_against_the_notice_once(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["it-software"]  # two lots: lot 2 not awarded
    rendered, key = _rendered(channel, config, tender)
    published = channel.submit(rendered, key)
    award, award_key = _award_job(channel, config, tender, published, rendered)
    assert "Lot 2 (Configuration and support): not awarded" in json.loads(award.body)["description"]
    receipt = channel.submit(award, award_key)
    assert (receipt.live, receipt.status, receipt.remote_id) == (True, "awarded", published.remote_id)
    again = channel.submit(award, award_key)  # a repeat: read back as awarded, nothing sent
    assert again.status == "awarded"
    notices = {n["notice"]: n for n in received(sandbox, CF)}
    entry = notices["award"]
    assert (entry["key"], entry["version"], entry["times_received"]) == (f"{rendered.identity}/award", 1, 1)
    read = requests.get(
        f"{sandbox_url(sandbox)}/contracts-finder/api/rest/2/get_published_notice/json/{published.remote_id}",
        timeout=5,
    ).json()
    assert read["awardedDate"] == "2027-02-01T00:00:00Z"


def test_an_award_of_a_withdrawn_notice_or_out_of_the_model_is_refused(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    tender = examples["anpr-cameras"]
    rendered, key = _rendered(channel, config, tender)
    published = channel.submit(rendered, key)
    award, award_key = _award_job(channel, config, tender, published, rendered)
    document = json.loads(award.body)
    document["awardDetails"][0]["isSme"] = "yes"
    document["lots"] = []
    tampered = Rendered(
        json.dumps(document).encode(),
        award.media_type,
        identity=award.identity,
        operation=award.operation,
        target=award.target,
    )
    with pytest.raises(RejectedError) as caught:
        channel.submit(tampered, award_key)
    assert set(caught.value.reasons) == {
        "lots: is not a member of the award",
        "AwardDetails[0].IsSme: must be true or false",
    }
    job = render_job(config, tender, CF, kind=NoticeKind.CANCELLATION, reason="Budget withdrawn")
    contract = replace(job.context.history[0], remote_id=published.remote_id, identity=rendered.identity)
    channel.submit(channel.render(job.notice, replace(job.context, history=(contract,))), job.context.key)
    with pytest.raises(RejectedError, match="withdrawn"):
        channel.submit(award, award_key)
    assert "award" not in {n["notice"] for n in received(sandbox, CF)}


def test_the_simulator_refuses_what_the_notice_model_does_not_allow(
    config: Config, examples: Examples, sandbox: Sandbox
) -> None:
    channel = _adapter(config, sandbox)
    rendered, key = _rendered(channel, config, examples["it-software"])
    broken = json.loads(rendered.body)
    broken["valueLow"] = "95000.00"  # a string, not a number
    broken["Regoin"] = "East Midlands"  # misspelt
    del broken["deadlineDate"]
    with pytest.raises(RejectedError) as caught:
        channel.submit(
            Rendered(json.dumps(broken).encode(), rendered.media_type, identity=rendered.identity), key
        )
    assert caught.value.status_code == 400
    assert {reason.split(":")[0] for reason in caught.value.reasons} >= {"regoin", "ValueLow", "DeadlineDate"}
    assert received(sandbox, CF) == []
    assert channel.submit(rendered, key).live  # a refused draft does not use up the Identifier


def test_the_simulator_insists_on_credentials(config: Config, sandbox: Sandbox) -> None:
    base = f"{sandbox_url(sandbox)}/{CF}"
    token = requests.post(
        f"{base}/Token", data={"grant_type": "client_credentials"}, auth=("x", "y"), timeout=5
    )
    assert (token.status_code, token.json()) == (400, {"error": "invalid_client"})
    box = sandbox.config
    wrong_grant = requests.post(
        f"{base}/Token",
        data={"grant_type": "password"},
        auth=(box.cf_client_id, box.cf_client_secret),
        timeout=5,
    )
    assert wrong_grant.json() == {"error": "unsupported_grant_type"}
    anonymous = requests.post(f"{base}/api/rest/2/create_draft_notice/json", json={}, timeout=5)
    assert anonymous.status_code == 401
    unknown = requests.get(
        f"{base}/api/rest/2/get_published_notice/json/{'0' * 8}-0000-4000-8000-{'0' * 12}", timeout=5
    )
    assert unknown.status_code == 404
    assert CF in requests.get(f"{sandbox_url(sandbox)}/_sandbox/health", timeout=5).json()["channels"]
