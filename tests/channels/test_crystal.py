"""Crystal adapter: golden JSON of every notice kind, the project's schemas, what a change, a
cancellation, an award and a contract details notice carry and where they are sent, the HTTP
answers' mapping to channel errors. What every channel keeps (determinism, secrets, profiles)
is the contract mixin's."""

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

from channels.crystal import (
    AWARD_SCHEMA,
    CANCELLATION_SCHEMA,
    CONTRACT_SCHEMA,
    SCHEMA,
    CrystalChannel,
    CrystalSettings,
)
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
from syndicator.channel.http import Response, function_session
from syndicator.channel.registry import build_channel
from syndicator.config.files import ConfigError
from syndicator.config.settings import Config
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Tender
from tests.channels.awards import DECIDED, SUPPLIER, award_of, not_awarded
from tests.channels.contract import HttpChannelContract
from tests.channels.lifecycle import (
    AWARD_KINDS,
    KINDS,
    REASON,
    SUFFIX,
    WITHDRAWAL,
    award_job,
    cancellation_job,
    change_job,
    job,
)
from tests.conftest import DISPATCHED_AT, contract, render_context, routed_examples

GOLDEN = Path(__file__).parent / "golden" / "crystal"
Examples = dict[str, Tender]
JSON = "application/json"
TOKEN = "crystal-test-token-5f1e"
KEY = "0b9f6a52-1c3d-5e7f-8a9b-0c1d2e3f4a5b"


def _validator(path: Path = SCHEMA) -> Draft202012Validator:
    schema = json.loads(path.read_text("utf-8"))
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


def test_every_notice_of_every_routed_example_matches_its_golden_file(
    config: Config, examples: Examples
) -> None:
    channel = _channel()
    regenerate = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
    names = set()
    for name, tender, destination in _routed(config, examples):
        for kind in KINDS + AWARD_KINDS:
            made = job(config, tender, destination, kind)
            rendered = channel.render(made.notice, made.context)
            golden = GOLDEN / f"{name}{SUFFIX[kind]}.json"
            names.add(golden.name)
            if regenerate:
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_bytes(rendered.body)
            assert golden.is_file(), f"{golden} is missing (SYNDICATOR_REGENERATE_GOLDEN=1 makes it)"
            assert rendered.body == golden.read_bytes(), f"{name}: rendered JSON differs from {golden}"
            assert rendered.media_type == "application/json; charset=utf-8"
    assert {p.name for p in GOLDEN.glob("*.json")} == names, "stale golden files"


def test_every_notice_of_every_routed_example_is_schema_valid(config: Config, examples: Examples) -> None:
    opportunity = _validator()
    others = {
        NoticeKind.CANCELLATION: _validator(CANCELLATION_SCHEMA),
        NoticeKind.AWARD: _validator(AWARD_SCHEMA),
        NoticeKind.CONTRACT_DETAILS: _validator(CONTRACT_SCHEMA),
    }
    channel = _channel()
    for name, tender, destination in _routed(config, examples):
        for kind in KINDS + AWARD_KINDS:
            made = job(config, tender, destination, kind)
            document = json.loads(channel.render(made.notice, made.context).body)
            validator = others.get(kind, opportunity)
            problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
            assert not problems, f"{name} {kind.value}: {problems}"


def test_only_a_framework_call_off_may_lack_a_deadline(config: Config, examples: Examples) -> None:
    tender = examples["framework-call-off"]
    document = _document(config, tender)
    assert document["submission_deadline"] is None
    assert document["procedure"] == "framework-call-off"
    document["procedure"] = "open"
    paths = [list(error.absolute_path) for error in _validator().iter_errors(document)]
    assert ["submission_deadline"] in paths


def test_the_opportunity_carries_the_tender_as_the_contract_says(config: Config, examples: Examples) -> None:
    tender = examples["it-software"]
    rendered = _channel().render(contract(tender), render_context(config, tender, "crystal"))
    assert (rendered.operation, rendered.target) == (None, None)
    document = json.loads(rendered.body)
    assert document["version"] == 1
    assert document["amendment"] is None
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
    assert document["follows"]["destination"] == "find-a-tender"  # a PA2023 procurement


def test_vat_inclusive_value_states_the_net_amount(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]  # £180,000 including VAT
    document = _document(config, tender)
    assert document["value"] == {
        "amount": "180000.00",
        "currency": "GBP",
        "vat_included": True,
        "net": "150000.00",
    }


def test_the_official_notice_followed_is_stated_whichever_journal_it_is(
    config: Config, examples: Examples
) -> None:
    legacy = examples["ted-legacy"]  # commenced before 2021: TED first
    context = render_context(config, legacy, "crystal")
    assert context.follows is not None
    document = json.loads(_channel().render(contract(legacy), context).body)
    assert document["follows"] == {
        "destination": "ted",
        "title": "Tenders Electronic Daily (TED)",
        "notice_id": context.follows.identity,
        "publication_id": None,
        "dispatched_on": "2026-12-01T09:00:00Z",
    }
    tender = examples["anpr-cameras"]  # Procurement Act 2023: Find a Tender first
    context = render_context(config, tender, "crystal")
    assert context.follows is not None and context.follows.destination == "find-a-tender"
    fts = NoticeRef(
        destination="find-a-tender",
        kind=NoticeKind.CONTRACT,
        version=1,
        state="published",
        key="k",
        publication_id="012345-2026",
        dispatched_at=DISPATCHED_AT,
        title="Find a Tender",
    )
    document = json.loads(_channel().render(contract(tender), replace(context, follows=fts)).body)
    assert document["follows"] == {
        "destination": "find-a-tender",
        "title": "Find a Tender",
        "notice_id": None,
        "publication_id": "012345-2026",
        "dispatched_on": "2026-12-01T09:00:00Z",
    }
    assert not list(_validator().iter_errors(document))
    with pytest.raises(RenderError, match="dispatch date"):
        _channel().render(contract(tender), replace(context, follows=replace(fts, dispatched_at=None)))


# -- change and cancellation -----------------------------------------------------------------


def test_a_change_is_the_new_version_put_on_the_opportunity_crystal_holds(
    config: Config, examples: Examples
) -> None:
    made = change_job(config, examples["anpr-cameras"], "crystal")
    previous = made.context.previous
    assert previous is not None and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target, rendered.identity) == (
        "update",
        previous.remote_id,
        made.context.key,
    )
    document = json.loads(rendered.body)
    assert document["version"] == 2
    assert document["submission_deadline"] == "2027-01-22T12:00:00Z"  # the new version, whole
    assert document["amendment"] == {
        "kind": "update",
        "reason": REASON,
        "changes": [
            {
                "field": "submission_deadline",
                "label": "Submission deadline",
                "before": "2027-01-15T12:00:00Z",
                "after": "2027-01-22T12:00:00Z",
            },
            {
                "field": "duration_months",
                "label": "Contract duration (months)",
                "before": "60",
                "after": "72",
            },
        ],
    }
    corrected = change_job(config, examples["anpr-cameras"], "crystal", correction=True)
    document = json.loads(_channel().render(corrected.notice, corrected.context).body)
    assert document["amendment"]["kind"] == "correction"


def test_a_cancellation_names_the_tender_version_time_and_reason(config: Config, examples: Examples) -> None:
    made = cancellation_job(config, examples["it-software"], "crystal")
    previous = made.context.previous
    assert previous is not None and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target) == ("cancel", previous.remote_id)
    assert json.loads(rendered.body) == {
        "reference": "NORTHANTS-2026-0058",
        "buyer": "northamptonshire-police",
        "version": 2,
        "reason": WITHDRAWAL,
        "withdrawn_at": "2026-12-01T09:00:00Z",
    }


@pytest.mark.parametrize(
    "kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION, NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS]
)
def test_without_crystals_id_of_the_opportunity_nothing_is_rendered(
    config: Config, examples: Examples, kind: NoticeKind
) -> None:
    made = job(config, examples["anpr-cameras"], "crystal", kind)
    previous = made.context.previous
    assert previous is not None
    for history in ((), (replace(previous, remote_id=None),)):
        with pytest.raises(RenderError, match="id it gave the opportunity"):
            _channel().render(made.notice, replace(made.context, history=history))


# -- award and contract details -----------------------------------------------------------


def test_an_award_states_every_lots_outcome_on_the_opportunity(config: Config, examples: Examples) -> None:
    tender = examples["it-software"]  # two lots; Crystal holds the opportunity
    made = award_job(config, tender, "crystal")
    previous = made.context.previous
    assert previous is not None and previous.kind is NoticeKind.CONTRACT and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target, rendered.identity) == (
        "award",
        previous.remote_id,
        made.context.key,
    )
    document = json.loads(rendered.body)
    assert (document["reference"], document["buyer"], document["version"]) == (
        "NORTHANTS-2026-0058",
        "northamptonshire-police",
        1,
    )
    assert document["decision_date"] == DECIDED.isoformat()
    assert document["standstill_ends"] == made.notice.standstill_ends.isoformat()  # type: ignore[union-attr]
    first = document["lots"][0]
    assert first == {
        "lot": 1,
        "title": tender.lots[0].title,
        "outcome": "awarded",
        "reason": None,
        "tenders_received": 4,
        "suppliers": [
            {
                "name": SUPPLIER["name"],
                "identifier": {"scheme": "GB-COH", "id": "04567321"},
                "address": {
                    "street": "Unit 4, Meridian Business Park",
                    "town": "Leicester",
                    "postcode": "LE19 1WX",
                    "country": "GB",
                },
                "sme": True,
            }
        ],
        "value": {"amount": "57000.00", "currency": "GBP", "vat_included": False, "net": "57000.00"},
        "contract": {"start": "2027-04-02", "end": "2031-04-01", "signed_on": None},
    }
    assert document["follows"]["destination"] == "find-a-tender"  # the primary's award notice
    assert not list(_validator(AWARD_SCHEMA).iter_errors(document))


def test_a_lot_not_awarded_carries_its_reason_in_words(config: Config, examples: Examples) -> None:
    tender = examples["it-software"]
    award = not_awarded(award_of(tender), 2, "no-suitable-tenders")
    made = award_job(config, tender, "crystal", award=award)
    document = json.loads(_channel().render(made.notice, made.context).body)
    second = document["lots"][1]
    assert second["outcome"] == "not-awarded"
    assert second["reason"] == {"code": "no-suitable-tenders", "text": "No suitable tenders were received."}
    assert (second["suppliers"], second["value"], second["contract"]) == ([], None, None)
    assert document["lots"][0]["outcome"] == "awarded"
    assert not list(_validator(AWARD_SCHEMA).iter_errors(document))
    # The schema holds the two shapes apart: an awarded lot has no reason, an unawarded one has.
    second["reason"] = None
    assert list(_validator(AWARD_SCHEMA).iter_errors(document))


def test_a_vat_inclusive_award_states_its_net_value(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]  # £180,000 including VAT, undivided
    made = award_job(config, tender, "crystal")
    lot = json.loads(_channel().render(made.notice, made.context).body)["lots"][0]
    assert lot["lot"] is None and lot["title"] is None
    assert lot["value"] == {
        "amount": "171000.00",
        "currency": "GBP",
        "vat_included": True,
        "net": "142500.00",
    }


def test_contract_details_name_the_signed_contract_and_the_opportunity(
    config: Config, examples: Examples
) -> None:
    tender = examples["it-software"]
    made = award_job(config, tender, "crystal", NoticeKind.CONTRACT_DETAILS)
    previous = made.context.previous
    assert previous is not None and previous.kind is NoticeKind.AWARD and previous.remote_id
    rendered = _channel().render(made.notice, made.context)
    assert (rendered.operation, rendered.target) == ("contracts", previous.remote_id)
    document = json.loads(rendered.body)
    assert (document["part"], document["decision_date"]) == ("lot-1", DECIDED.isoformat())
    (signed,) = document["contracts"]
    assert (signed["lot"], signed["start"], signed["end"], signed["signed_on"]) == (
        1,
        "2027-04-02",
        "2031-04-01",
        "2027-03-03",
    )
    assert signed["value"]["amount"] == "57000.00"
    assert signed["suppliers"][0]["name"] == SUPPLIER["name"]
    assert not list(_validator(CONTRACT_SCHEMA).iter_errors(document))


def test_an_award_notice_without_what_it_needs_is_not_rendered(config: Config, examples: Examples) -> None:
    tender = examples["it-software"]
    made = award_job(config, tender, "crystal")
    with pytest.raises(RenderError, match="award record"):
        _channel().render(replace(made.notice, award=None), made.context)
    details = award_job(config, tender, "crystal", NoticeKind.CONTRACT_DETAILS)
    unsigned = replace(details.notice, award=award_of(tender))  # no signing date
    with pytest.raises(RenderError, match="signing date"):
        _channel().render(unsigned, details.context)
    lost = replace(details.notice, award=not_awarded(award_of(tender, signed=True), 1))
    with pytest.raises(RenderError, match="does not award lot 1"):
        _channel().render(lost, details.context)


def test_hostile_reasons_stay_text(config: Config, examples: Examples) -> None:
    reason = 'Typo\r\nX-Injected: yes </script><b>bold</b> "quoted" \\ £5k — Zürich'
    made = change_job(config, examples["anpr-cameras"], "crystal", reason=reason)
    document = json.loads(_channel().render(made.notice, made.context).body)
    assert document["amendment"]["reason"] == reason
    assert not list(_validator().iter_errors(document))


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


@pytest.mark.parametrize(
    ("operation", "method", "path", "status"),
    [
        ("update", "PUT", "/api/v1/opportunities/CRY-000042", "live"),
        ("cancel", "POST", "/api/v1/opportunities/CRY-000042/cancellation", "withdrawn"),
        ("award", "POST", "/api/v1/opportunities/CRY-000042/award", "awarded"),
        ("contracts", "POST", "/api/v1/opportunities/CRY-000042/contracts", "awarded"),
    ],
)
def test_a_later_notice_goes_to_the_opportunity(operation: str, method: str, path: str, status: str) -> None:
    seen: list[requests.PreparedRequest] = []

    def crystal(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        return _json(200, {"id": "CRY-000042", "url": "u", "status": status, "version": 2})

    rendered = Rendered(b"{}", JSON, identity=KEY, operation=operation, target="CRY-000042")
    receipt = _channel(crystal).submit(rendered, KEY)
    assert (receipt.remote_id, receipt.live, receipt.status) == ("CRY-000042", True, status)
    (request,) = seen
    assert (request.method, request.url) == (method, "https://crystal.test" + path)
    assert request.headers["Idempotency-Key"] == KEY
    wrong = "withdrawn" if status == "live" else "live"
    with pytest.raises(OutcomeUnknown):  # Crystal did something, but not what was asked
        _channel(lambda _: _json(200, {"id": "CRY-000042", "status": wrong})).submit(rendered, KEY)


def test_an_opportunity_crystal_does_not_hold_is_rejected() -> None:
    missing = {"errors": [{"field": "id", "message": "no opportunity CRY-000999"}]}
    rendered = Rendered(b"{}", JSON, operation="update", target="CRY-000999")
    with pytest.raises(RejectedError) as caught:
        _channel(lambda _: _json(404, missing)).submit(rendered, KEY)
    assert caught.value.reasons == ["id: no opportunity CRY-000999"]
    assert caught.value.status_code == 404


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


# -- configuration ---------------------------------------------------------------------------


def test_capabilities_are_declared() -> None:
    assert CrystalChannel.capabilities.deduplicates is True
    assert CrystalChannel.capabilities.polls is False
    assert CrystalChannel.notices == set(NoticeKind)


def test_production_takes_the_token_from_the_environment(config: Config) -> None:
    sandbox = build_channel(config, "crystal", environ={})
    assert isinstance(sandbox.settings, CrystalSettings)
    assert sandbox.settings.base_url == "http://127.0.0.1:8900/crystal"
    with pytest.raises(ConfigError, match="SYNDICATOR_CRYSTAL_TOKEN"):
        build_channel(replace(config, profile="production"), "crystal", environ={})
    environ = {"SYNDICATOR_CRYSTAL_TOKEN": TOKEN}
    production = build_channel(replace(config, profile="production"), "crystal", environ=environ)
    assert isinstance(production.settings, CrystalSettings)
    assert production.settings.token.get_secret_value() == TOKEN


class TestCrystalContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "crystal"
