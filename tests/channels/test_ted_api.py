"""The TED adapter's exchanges with eNotices2: submitting (multipart notice and metadata),
each answer mapped to a channel error, a repeated businessId looked up instead of re-sent,
polling until published, and the configuration and secrets. Stop-publication is in
test_ted_withdrawal.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.ted.channel import TedChannel, notice_identity
from syndicator.channel.base import (
    AuthError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    Rendered,
    RenderError,
    TransientError,
)
from syndicator.channel.http import Response
from syndicator.channel.registry import build_channel, channel_class
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind
from syndicator.domain.tender import Tender
from tests.channels.enotices import (
    API_KEY,
    BASE,
    BUSINESS_ID,
    NOTICE_ID,
    FakeEnotices,
    answer,
    found,
    notice,
    parts,
    ted_channel,
)
from tests.channels.eras import ojeu_examples
from tests.conftest import contract, render_context


@pytest.fixture(scope="module")
def examples(config: Config) -> dict[str, Tender]:
    """The shipped examples as procurements commenced under the EU directives: TED carries no
    others (tests/channels/eras.py)."""
    return ojeu_examples(config)


def _rendered(config: Config, tender: Tender) -> Rendered:
    return ted_channel().render(contract(tender), render_context(config, tender, "ted"))


# -- submission ------------------------------------------------------------------------------


def test_submit_posts_the_notice_and_metadata_as_multipart(
    config: Config, examples: dict[str, Tender]
) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    fake = FakeEnotices(answer(201, {"success": True, "validationReportUrl": "https://r/1"}))
    receipt = ted_channel(fake).submit(rendered, "key")
    assert receipt == Receipt(
        remote_id=BUSINESS_ID,
        live=False,
        status="SUBMITTED",
        status_code=201,
        excerpt=json.dumps({"success": True, "validationReportUrl": "https://r/1"}),
    )
    (request,) = fake.requests
    assert request.method == "POST"
    assert request.url == f"{BASE}/api/v2/notice/notices/submit"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    sent = parts(request)
    assert sent["notice"] == ("application/xml", rendered.body)
    kind, metadata = sent["metadata"]
    assert kind == "application/json"
    assert json.loads(metadata) == {
        "noticeAuthorEmail": "emscu.tenders@example.police.uk",
        "noticeAuthorLocale": "en",
    }


def test_a_failed_validation_is_rejected_with_the_report(config: Config, examples: dict[str, Tender]) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    fake = FakeEnotices(answer(201, {"success": False, "validationReportUrl": "https://r/report-7"}))
    with pytest.raises(RejectedError) as caught:
        ted_channel(fake).submit(rendered, "key")
    assert caught.value.reasons == ["VALIDATION_FAILED: validation report https://r/report-7"]
    assert caught.value.status_code == 201


@pytest.mark.parametrize(
    ("status", "status_name", "live"),
    [
        ("SUBMITTED", "SUBMITTED", False),
        ("PUBLISHING", "PUBLISHING", False),
        ("PUBLISHED", "PUBLISHED", True),
    ],
)
def test_an_existing_business_id_is_looked_up_not_resent(
    config: Config, examples: dict[str, Tender], status: str, status_name: str, live: bool
) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    exists = answer(400, {"message": "Notice with the same noticeId and versionId already exists"})
    listed = notice(status, publicationId="8164123-2026", publicationDate="2026-12-03T09:00:00Z")
    fake = FakeEnotices(exists, found(listed))
    receipt = ted_channel(fake).submit(rendered, "key")
    assert (receipt.remote_id, receipt.live, receipt.status) == (BUSINESS_ID, live, status_name)
    search = fake.requests[1]
    assert search.method == "GET"
    assert (
        search.url is not None
        and urlsplit(search.url).path == "/esenders/api/v2/notice/notices/search-esentool"
    )
    assert parse_qs(urlsplit(search.url).query) == {"id": [NOTICE_ID], "versionId": ["01"]}
    assert search.headers["Authorization"] == f"Bearer {API_KEY}"


def test_an_existing_business_id_that_failed_is_rejected(config: Config, examples: dict[str, Tender]) -> None:
    rendered = _rendered(config, examples["it-managed-service"])
    exists = answer(400, {"message": "Notice with the same noticeId and versionId already exists"})
    with pytest.raises(RejectedError, match="VALIDATION_FAILED; send a new version"):
        ted_channel(FakeEnotices(exists, found(notice("VALIDATION_FAILED")))).submit(rendered, "key")
    with pytest.raises(OutcomeUnknown, match="does not list"):
        ted_channel(FakeEnotices(exists, found())).submit(rendered, "key")


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (
            answer(400, {"message": "The metadata part is missing"}),
            RejectedError,
            "metadata part is missing",
        ),
        (answer(401, {"message": "Unauthorized"}), AuthError, "HTTP 401"),
        (answer(403, {"message": "No Enotices2 account found"}), AuthError, "HTTP 403"),
        (
            answer(404, {"message": "No compatible SDK version found"}),
            RejectedError,
            "No compatible SDK",
        ),
        (answer(409, {"message": "Concurrent update"}), TransientError, "HTTP 409"),
        (answer(429, {"message": "slow down"}, **{"Retry-After": "7"}), RateLimited, "HTTP 429"),
        (answer(500, {"message": "CVS unavailable"}), TransientError, "HTTP 500"),
        (answer(503, {"message": "maintenance"}), TransientError, "HTTP 503"),
        (
            Response(201, {"Content-Type": "text/html"}, b"<html>ok</html>"),
            OutcomeUnknown,
            "without a submission",
        ),
    ],
)
def test_submit_maps_each_answer_to_a_channel_error(
    config: Config,
    examples: dict[str, Tender],
    reply: Response,
    error: type[Exception],
    match: str,
) -> None:
    rendered = _rendered(config, examples["anpr-cameras"])
    with pytest.raises(error, match=match) as caught:
        ted_channel(FakeEnotices(reply)).submit(rendered, "key")
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 7
    if type(caught.value) is TransientError:
        assert not isinstance(caught.value, RejectedError)


def test_submit_reads_the_identity_from_the_notice() -> None:
    with pytest.raises(RenderError, match="not a TED notice"):
        ted_channel(FakeEnotices()).submit(Rendered(b"<x/>", "application/xml"), "key")
    with pytest.raises(RenderError, match="not a TED notice"):
        notice_identity(b"not xml")


# -- polling ---------------------------------------------------------------------------------


def test_poll_of_a_published_notice_gives_its_public_url_and_date() -> None:
    published = notice("PUBLISHED", publicationId="8164123-2026", publicationDate="2026-12-03T09:00:00Z")
    fake = FakeEnotices(found(notice("SUBMITTED", versionId="02"), published))
    receipt = ted_channel(fake).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert receipt.live is True
    assert receipt.remote_id == BUSINESS_ID
    assert receipt.status == "PUBLISHED"
    assert receipt.url == "https://ted.europa.eu/en/notice/-/detail/8164123-2026"
    assert receipt.publication_id == "8164123-2026"  # later notices quote it
    assert receipt.published_at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert fake.requests[0].url is not None
    assert parse_qs(urlsplit(fake.requests[0].url).query) == {
        "id": [NOTICE_ID],
        "versionId": ["01"],
    }


def test_poll_uses_the_configured_public_url_template() -> None:
    published = notice("PUBLISHED", publicationId="123456-2026", publicationDate="2026-12-03")
    channel = ted_channel(
        FakeEnotices(found(published)), public_notice_url="{base_url}/notice/{publication_id}"
    )
    receipt = channel.poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert receipt.url == f"{BASE}/notice/123456-2026"
    assert receipt.published_at == datetime(2026, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize("status", ["SUBMITTED", "PUBLISHING"])
def test_poll_of_a_waiting_notice_is_not_live(status: str) -> None:
    channel = ted_channel(FakeEnotices(found(notice(status))))
    receipt = channel.poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert (receipt.live, receipt.status, receipt.url, receipt.publication_id) == (False, status, None, None)


@pytest.mark.parametrize("status", ["NOT_PUBLISHED", "STOPPED", "VALIDATION_FAILED"])
def test_poll_of_a_refused_notice_is_rejected(status: str) -> None:
    with pytest.raises(RejectedError, match=status) as caught:
        ted_channel(FakeEnotices(found(notice(status)))).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    assert caught.value.reasons == [f"TED status {status}"]


@pytest.mark.parametrize("reply", [found(), found(notice("DELETED")), answer(200, ["not", "a", "page"])])
def test_poll_of_a_missing_or_unknown_notice_is_outcome_unknown(reply: Response) -> None:
    with pytest.raises(OutcomeUnknown):
        ted_channel(FakeEnotices(reply)).poll(Receipt(remote_id=BUSINESS_ID, live=False))


def test_poll_errors_map_like_submit() -> None:
    with pytest.raises(AuthError):
        ted_channel(FakeEnotices(answer(401, {}))).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    with pytest.raises(TransientError):
        ted_channel(FakeEnotices(answer(502, {}))).poll(Receipt(remote_id=BUSINESS_ID, live=False))
    with pytest.raises(OutcomeUnknown, match="not a TED businessId"):
        ted_channel(FakeEnotices()).poll(Receipt(remote_id=None, live=False))


# -- configuration and secrets -----------------------------------------------------------------


def test_ted_declares_its_notices_and_that_it_stops_unpublished_notices() -> None:
    assert channel_class("ted") is TedChannel
    assert TedChannel.notices == {
        NoticeKind.CONTRACT,
        NoticeKind.CHANGE,
        NoticeKind.CANCELLATION,
        NoticeKind.AWARD,
    }
    capabilities = TedChannel.capabilities
    assert capabilities.deduplicates and capabilities.polls and capabilities.stops_unpublished


def test_the_sandbox_profile_names_the_author_language(config: Config) -> None:
    channel = build_channel(config, "ted", environ={})
    assert isinstance(channel, TedChannel) and channel.settings.author_language == "en"


def test_the_public_url_template_is_checked() -> None:
    with pytest.raises(ValueError, match="publication_id"):
        ted_channel(public_notice_url="https://ted.europa.eu/en/notice/")
    with pytest.raises(ValueError, match="only"):
        ted_channel(public_notice_url="https://x/{notice}")


def test_an_api_key_echoed_in_teds_json_message_is_scrubbed(
    config: Config, examples: dict[str, Tender]
) -> None:
    # The contract mixin echoes the request as text; eNotices2 answers JSON `message`s.
    rendered = _rendered(config, examples["anpr-cameras"])
    echo = answer(401, {"message": f"bad header Authorization: Bearer {API_KEY}"})
    with pytest.raises(AuthError) as caught:
        ted_channel(FakeEnotices(echo)).submit(rendered, "key")
    shown = f"{caught.value} {caught.value.excerpt}"
    assert API_KEY not in shown and "********" in shown
    echo_400 = answer(400, {"message": f"key {API_KEY} is not allowed here"})
    with pytest.raises(RejectedError) as rejected:
        ted_channel(FakeEnotices(echo_400)).submit(rendered, "key")
    assert API_KEY not in f"{rejected.value} {rejected.value.reasons} {rejected.value.excerpt}"
