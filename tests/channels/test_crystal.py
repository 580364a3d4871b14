"""Crystal adapter contract: golden JSON, the project's schema, the HTTP answers' mapping to
channel errors, and secrets kept out of everything shown."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from channels.crystal import SCHEMA, CrystalChannel, CrystalSettings
from syndicator.channel.base import (
    AuthError,
    OutcomeUnknown,
    RateLimited,
    Receipt,
    RejectedError,
    Rendered,
    TransientError,
)
from syndicator.channel.http import Response, function_session
from syndicator.channel.registry import build_channel, channel_class
from syndicator.config.files import ConfigError
from syndicator.config.settings import Config
from syndicator.domain.tender import Tender
from tests.channels.contract import HttpChannelContract
from tests.conftest import contract, render_context, routed_examples

GOLDEN = Path(__file__).parent / "golden" / "crystal"
Examples = dict[str, Tender]
JSON = "application/json"
TOKEN = "crystal-test-token-5f1e"
KEY = "0b9f6a52-1c3d-5e7f-8a9b-0c1d2e3f4a5b"


def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


Handler = Callable[[requests.PreparedRequest], Response]


def _channel(handler: Handler | None = None) -> CrystalChannel:
    settings = CrystalSettings(base_url="https://crystal.test/", token=TOKEN, connect_retries=1)
    session = function_session(handler) if handler else None
    return CrystalChannel(settings, session=session)


def _json(status: int, document: Any, **headers: str) -> Response:
    return Response(status, {"Content-Type": JSON, **headers}, json.dumps(document).encode())


def _document(config: Config, tender: Tender, destination: str = "crystal") -> Any:
    rendered = _channel().render(contract(tender), render_context(config, tender, destination))
    return json.loads(rendered.body)


def _routed(config: Config, examples: Examples) -> list[tuple[str, Tender, str]]:
    found = routed_examples(config, examples, "crystal")
    assert {name for name, _, _ in found} >= {"framework-call-off", "anpr-cameras", "it-software"}
    return found


def _tricky(tender: Tender) -> Tender:
    """The tender with markup, quotes, CDATA ends, pound signs and non-ASCII text."""
    data = tender.model_dump(mode="json")
    data["title"] = 'Body-worn <b>cameras</b> & "docks" ]]> £5k — Zürich 東京'
    data["description"] = (
        "Supply of <script>alert('x')</script> &amp; docks.\n\n"
        "Second paragraph: café, naïve, ]]> and £1,000 <i>each</i>."
    )
    return Tender.model_validate(data)


# -- rendering -------------------------------------------------------------------------------


def test_every_routed_example_matches_its_golden_file(config: Config, examples: Examples) -> None:
    channel = _channel()
    regenerate = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
    for name, tender, destination in _routed(config, examples):
        rendered = channel.render(contract(tender), render_context(config, tender, destination))
        golden = GOLDEN / f"{name}.json"
        if regenerate:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(rendered.body)
        assert golden.is_file(), f"{golden} is missing (SYNDICATOR_REGENERATE_GOLDEN=1 makes it)"
        assert rendered.body == golden.read_bytes(), f"{name}: rendered JSON differs from {golden}"
        assert rendered.media_type == "application/json; charset=utf-8"


def test_every_routed_example_is_schema_valid(config: Config, examples: Examples) -> None:
    validator = _validator()
    for name, tender, destination in _routed(config, examples):
        document = _document(config, tender, destination)
        problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
        assert not problems, f"{name}: {problems}"


def test_only_a_framework_call_off_may_lack_a_deadline(config: Config, examples: Examples) -> None:
    tender = examples["framework-call-off"]
    document = _document(config, tender)
    assert document["submission_deadline"] is None
    assert document["procedure"] == "framework-call-off"
    document["procedure"] = "open"
    paths = [list(error.absolute_path) for error in _validator().iter_errors(document)]
    assert ["submission_deadline"] in paths


def test_rendering_is_deterministic_and_complete(config: Config, examples: Examples) -> None:
    tender = examples["it-software"]
    context = render_context(config, tender, "crystal")
    first, second = _channel().render(contract(tender), context), _channel().render(contract(tender), context)
    assert first.body == second.body
    document = json.loads(first.body)
    assert document["cpv"] == ["48000000-8", "72260000-5"]  # the main code first
    assert document["value"] == {
        "amount": "95000.00",
        "currency": "GBP",
        "vat_included": False,
        "net": "95000.00",
    }
    assert [lot["value"]["amount"] for lot in document["lots"]] == ["60000.00", "35000.00"]
    assert document["submission_deadline"] == "2027-01-08T17:00:00Z"
    assert document["buyer"]["legal_name"] == "Chief Constable of Northamptonshire Police"
    assert document["ted"] is None


def test_vat_inclusive_value_states_the_net_amount(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]  # £180,000 including VAT
    document = _document(config, tender)
    assert document["value"] == {
        "amount": "180000.00",
        "currency": "GBP",
        "vat_included": True,
        "net": "150000.00",
    }


def test_the_ted_notice_followed_is_stated(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, "crystal")
    assert context.follows is not None
    document = json.loads(_channel().render(contract(tender), context).body)
    assert document["ted"] == {
        "notice_id": context.follows.identity,
        "dispatched_on": "2026-12-01T09:00:00Z",
        "publication_id": None,
    }


def test_markup_and_unicode_round_trip(config: Config, examples: Examples) -> None:
    tender = _tricky(examples["anpr-cameras"])
    rendered = _channel().render(contract(tender), render_context(config, tender, "crystal"))
    document = json.loads(rendered.body.decode("utf-8"))
    assert document["title"] == tender.title
    assert document["description"] == tender.description
    assert "£5k".encode() in rendered.body  # UTF-8, not \u escapes
    assert not list(_validator().iter_errors(document))


# -- submitting ------------------------------------------------------------------------------


def test_created_opportunity_is_live_and_the_request_follows_the_contract() -> None:
    seen: list[requests.PreparedRequest] = []

    def crystal(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        url = "https://crystal.test/o/CRY-000042"
        return _json(201, {"id": "CRY-000042", "url": url, "status": "live"})

    rendered = Rendered(body=b'{"reference": "X"}', media_type="application/json; charset=utf-8")
    receipt = _channel(crystal).submit(rendered, KEY)
    assert receipt == Receipt(
        remote_id="CRY-000042",
        live=True,
        url="https://crystal.test/o/CRY-000042",
        status="live",
        status_code=201,
        excerpt=receipt.excerpt,
    )
    (request,) = seen
    assert request.method == "POST"
    assert request.url == "https://crystal.test/api/v1/opportunities"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == KEY
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.body == rendered.body


def test_a_repeated_key_answered_200_is_the_same_live_opportunity() -> None:
    again = {"id": "CRY-000007", "url": "u", "status": "live"}
    receipt = _channel(lambda _: _json(200, again)).submit(Rendered(b"{}", JSON), KEY)
    assert (receipt.remote_id, receipt.live, receipt.status_code) == ("CRY-000007", True, 200)


def test_422_is_rejected_with_crystals_own_reasons() -> None:
    errors = {
        "errors": [
            {"field": "value.amount", "message": "'1.5' does not match the pattern"},
            {"field": "title", "message": "must not be empty"},
        ]
    }
    with pytest.raises(RejectedError) as caught:
        _channel(lambda _: _json(422, errors)).submit(Rendered(b"{}", JSON), KEY)
    assert caught.value.reasons == [
        "value.amount: '1.5' does not match the pattern",
        "title: must not be empty",
    ]
    assert caught.value.status_code == 422
    assert "value.amount" in caught.value.message


def test_400_without_an_errors_document_is_still_rejected() -> None:
    with pytest.raises(RejectedError) as caught:
        _channel(lambda _: Response(400, {}, b"bad")).submit(Rendered(b"{}", JSON), KEY)
    assert caught.value.reasons == []
    assert caught.value.status_code == 400


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_an_auth_error_without_the_token(status: int) -> None:
    echo = {"errors": [{"field": "Authorization", "message": f"Bearer {TOKEN} is not valid"}]}
    with pytest.raises(AuthError) as caught:
        _channel(lambda _: _json(status, echo)).submit(Rendered(b"{}", JSON), KEY)
    assert caught.value.status_code == status
    assert TOKEN not in str(caught.value)
    assert TOKEN not in (caught.value.excerpt or "")
    assert "********" in (caught.value.excerpt or "")


def test_429_is_rate_limited_with_retry_after() -> None:
    with pytest.raises(RateLimited) as caught:
        _channel(lambda _: _json(429, {"errors": []}, **{"Retry-After": "17"})).submit(
            Rendered(b"{}", JSON), KEY
        )
    assert caught.value.retry_after == 17.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status: int) -> None:
    with pytest.raises(TransientError) as caught:
        _channel(lambda _: Response(status, {}, b"down")).submit(Rendered(b"{}", JSON), KEY)
    assert type(caught.value) is TransientError
    assert caught.value.status_code == status


@pytest.mark.parametrize(
    ("status", "document"),
    [
        (201, {"url": "u", "status": "live"}),
        (202, {"id": "CRY-1", "status": "live"}),
        (201, {"id": "CRY-1", "status": "draft"}),
    ],
)
def test_an_answer_outside_the_contract_is_outcome_unknown(status: int, document: Any) -> None:
    # Crystal de-duplicates by key, so the engine may safely ask again.
    with pytest.raises(OutcomeUnknown):
        _channel(lambda _: _json(status, document)).submit(Rendered(b"{}", JSON), KEY)


def test_connection_refused_is_transient() -> None:
    settings = CrystalSettings(base_url="http://127.0.0.1:9", token=TOKEN, connect_retries=1)
    with pytest.raises(TransientError):
        CrystalChannel(settings).submit(Rendered(b"{}", JSON), KEY)


# -- configuration and secrets ---------------------------------------------------------------


def test_capabilities_are_declared() -> None:
    assert CrystalChannel.capabilities.deduplicates is True
    assert CrystalChannel.capabilities.polls is False
    assert channel_class("crystal") is CrystalChannel


def test_both_shipped_profiles_configure_the_adapter(config: Config) -> None:
    sandbox = build_channel(config, "crystal", environ={})
    assert isinstance(sandbox.settings, CrystalSettings)
    assert sandbox.settings.base_url == "http://127.0.0.1:8900/crystal"
    with pytest.raises(ConfigError, match="token"):  # production takes it from the environment
        build_channel(replace(config, profile="production"), "crystal", environ={})
    environ = {"SYNDICATOR_CRYSTAL_TOKEN": TOKEN}
    production = build_channel(replace(config, profile="production"), "crystal", environ=environ)
    assert isinstance(production.settings, CrystalSettings)
    assert production.settings.token.get_secret_value() == TOKEN


def test_the_token_is_never_shown(config: Config, examples: Examples) -> None:
    channel = _channel()
    assert channel.describe()["token"] == "********"
    assert TOKEN not in repr(channel.settings)
    for _, tender, destination in _routed(config, examples):
        rendered = channel.render(contract(tender), render_context(config, tender, destination))
        assert TOKEN.encode() not in rendered.body


class TestCrystalContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "crystal"
