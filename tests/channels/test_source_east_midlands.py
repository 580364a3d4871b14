"""Source East Midlands adapter contract: golden release packages, OCDS 1.1.5 validity (the
official validator and the vendored schema), the mapping of tender fields to OCDS, the HTTP
answers' mapping to channel errors, and the API key kept out of what is shown."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from channels.source_east_midlands import (
    LOTS_EXTENSION,
    SourceEastMidlandsChannel,
    SourceEastMidlandsSettings,
    ocid,
)
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
from syndicator.channel.registry import channel_class
from syndicator.config.settings import Config
from syndicator.domain.tender import Procedure, Tender
from syndicator.sandbox.sem import package_validator, schema_errors
from tests.channels.contract import HttpChannelContract
from tests.conftest import contract, render_context, routed_examples, shared_standards

GOLDEN = Path(__file__).parent / "golden" / "source-east-midlands"
VENDORED = Path(__file__).resolve().parents[2] / "channels" / "schemas" / "ocds-1.1.5"
REGENERATE = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
API_KEY = "sem-test-key-3b9e"
SEM = "source-east-midlands"
Examples = dict[str, Tender]
Handler = Callable[[requests.PreparedRequest], Response]


def _channel(handler: Handler | None = None, **overrides: Any) -> SourceEastMidlandsChannel:
    settings = SourceEastMidlandsSettings(
        base_url="https://sem.test/",
        api_key=API_KEY,
        ocid_prefix="ocds-emsx01",
        connect_retries=1,
        **overrides,
    )
    return SourceEastMidlandsChannel(settings, session=function_session(handler) if handler else None)


def _json(status: int, document: Any, **headers: str) -> Response:
    return Response(status, {"Content-Type": "application/json", **headers}, json.dumps(document).encode())


def _routed(config: Config, examples: Examples) -> list[tuple[str, Tender, str]]:
    found = routed_examples(config, examples, SEM)
    assert len(found) >= 5, "the shipped examples should exercise Source East Midlands"
    return found


def _release(config: Config, tender: Tender, **context: Any) -> dict[str, Any]:
    rendered = _channel().render(contract(tender), replace(render_context(config, tender, SEM), **context))
    package = json.loads(rendered.body)
    assert len(package["releases"]) == 1
    release: dict[str, Any] = package["releases"][0]
    return release


def _tricky(tender: Tender) -> Tender:
    """The tender with markup, quotes, CDATA ends, pound signs and non-ASCII text."""
    data = tender.model_dump(mode="json")
    data["title"] = 'ANPR <b>cameras</b> & "docks" ]]> £5k — Zürich 東京 🚓'
    data["description"] = (
        "Supply of <script>alert('x')</script> &amp; docks.\n\nCafé, ]]> and £1,000\t<i>each</i>."
    )
    return Tender.model_validate(data)


@pytest.fixture(scope="module")
def official() -> ModuleType:
    """The reference validator shipped beside the project (`../shared/standards/ocds`)."""
    path = shared_standards() / "ocds" / "validate.py"
    spec = importlib.util.spec_from_file_location("ocds_validate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- rendering -------------------------------------------------------------------------------


def test_every_routed_example_matches_its_golden_package(config: Config, examples: Examples) -> None:
    channel = _channel()
    names = set()
    for name, tender, destination in _routed(config, examples):
        body = channel.render(contract(tender), render_context(config, tender, destination)).body
        path = GOLDEN / f"{name}.json"
        names.add(path.name)
        if REGENERATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            continue
        assert path.is_file(), f"{path} is missing: run with SYNDICATOR_REGENERATE_GOLDEN=1"
        assert body == path.read_bytes(), f"{name} differs from {path}"
    assert {p.name for p in GOLDEN.glob("*.json")} == names, "stale golden files"


def test_every_package_passes_the_official_ocds_validator(
    config: Config, examples: Examples, official: ModuleType, tmp_path: Path
) -> None:
    channel = _channel()
    tenders = [
        *_routed(config, examples),
        ("framework-call-off", examples["framework-call-off"], SEM),
    ]
    for name, tender, destination in tenders:
        path = tmp_path / f"{name}.json"
        path.write_bytes(channel.render(contract(tender), render_context(config, tender, destination)).body)
        assert official.validate_file(str(path)) == (True, "release package"), name


def test_every_package_passes_the_vendored_schema(config: Config, examples: Examples) -> None:
    validator, channel = package_validator(), _channel()
    for name, tender, destination in _routed(config, examples):
        rendered = channel.render(contract(tender), render_context(config, tender, destination))
        assert rendered.media_type == "application/json"
        assert schema_errors(validator, json.loads(rendered.body)) == [], name


def test_the_vendored_schema_is_the_reference_copy() -> None:
    reference = shared_standards() / "ocds" / "1.1.5"
    for name in ("release-schema.json", "release-package-schema.json", "LICENSE"):
        assert (VENDORED / name).read_bytes() == (reference / name).read_bytes(), name


def test_the_vendored_schema_refuses_what_ocds_refuses(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    package = json.loads(_channel().render(contract(tender), render_context(config, tender, SEM)).body)
    package["releases"][0]["tender"]["procurementMethod"] = "negotiated"
    package["releases"][0]["date"] = "1 December 2026"
    del package["publisher"]
    paths = {error["path"] for error in schema_errors(package_validator(), package)}
    assert paths == {"", "releases/0/date", "releases/0/tender/procurementMethod"}


def test_render_is_deterministic_and_keeps_money_exact(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    context = render_context(config, tender, SEM)
    first, second = _channel().render(contract(tender), context), _channel().render(contract(tender), context)
    assert first.body == second.body
    assert b'"amount": 380000.00,' in first.body
    assert API_KEY.encode() not in first.body
    package = json.loads(first.body)
    assert package["version"] == "1.1" and package["publishedDate"] == "2026-12-01T09:00:00Z"
    assert package["publisher"] == {"name": "East Midlands Strategic Commercial Unit (EMSCU)"}


def test_ids_are_stable_per_tender_and_new_per_revision(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    first, again = _release(config, tender), _release(config, tender, revision=2)
    assert first["ocid"] == again["ocid"] == "ocds-emsx01-nottinghamshire-police_NOTTS-2026-0142"
    key = render_context(config, tender, SEM).key
    assert first["id"] == f"{first['ocid']}-tender-{key}"
    assert again["id"] == f"{first['ocid']}-tender-{key}-r2"


def test_ocids_are_url_safe_and_distinct() -> None:
    assert ocid("ocds-emsx01", "emscu", "EMSCU/2026/1") == "ocds-emsx01-emscu_EMSCU~2026~1"
    assert ocid("ocds-emsx01", "emscu", "EMSCU/2026/1") != ocid("ocds-emsx01", "emscu", "EMSCU_2026_1")
    assert ocid("ocds-emsx01", "a-b", "c") != ocid("ocds-emsx01", "a", "b-c")


def test_release_fields(config: Config, examples: Examples) -> None:
    release = _release(config, examples["anpr-cameras"])
    assert (release["tag"], release["initiationType"], release["language"]) == (
        ["tender"],
        "tender",
        "en",
    )
    (party,) = release["parties"]
    assert party["roles"] == ["buyer", "procuringEntity"] and release["buyer"]["id"] == party["id"]
    assert party["address"]["postalCode"] == "NG5 8PP"
    assert party["contactPoint"] == {
        "name": "EMSCU Technology Category Team",
        "email": "emscu.technology@example.police.uk",
        "telephone": "+44 115 967 0999",
    }
    tender = release["tender"]
    assert (tender["id"], tender["status"], tender["mainProcurementCategory"]) == (
        "NOTTS-2026-0142",
        "active",
        "goods",
    )
    assert tender["value"] == {"amount": 380000.0, "currency": "GBP"}
    assert tender["tenderPeriod"] == {
        "startDate": "2026-12-01T09:00:00Z",
        "endDate": "2027-01-15T12:00:00Z",
    }
    assert tender["contractPeriod"] == {"durationInDays": 60 * 30}
    (item,) = tender["items"]
    assert item["classification"] == {"scheme": "CPV", "id": "35125300"}
    assert item["additionalClassifications"] == [{"scheme": "CPV", "id": "32323500"}]
    assert item["deliveryAddress"] == {
        "locality": "Nottingham",
        "postalCode": "NG5 8PP",
        "countryName": "United Kingdom",
    }
    assert tender["documents"][0]["url"] == "https://emscu.example.police.uk/tenders/NOTTS-2026-0142"
    assert tender["documents"][0]["documentType"] == "tenderNotice"
    ted = render_context(config, examples["anpr-cameras"], SEM).follows
    assert ted is not None
    assert tender["documents"][1]["description"] == f"TED notice {ted.identity}, dispatched on 2026-12-01"
    assert tender["suitability"] == {"sme": True}
    assert "lots" not in tender


def test_the_value_is_stated_net_of_vat(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]
    assert tender.estimated_value.vat_included
    section = _release(config, tender)["tender"]
    assert section["value"] == {"amount": 150000.0, "currency": "GBP"}
    assert [d["id"] for d in section["documents"]] == ["tender-documents"]  # no TED notice


@pytest.mark.parametrize(
    ("procedure", "method"),
    [
        (Procedure.OPEN, "open"),
        (Procedure.RESTRICTED, "selective"),
        (Procedure.COMPETITIVE_DIALOGUE, "selective"),
        (Procedure.COMPETITIVE_NEGOTIATED, "selective"),
        (Procedure.FRAMEWORK_CALL_OFF, "selective"),
    ],
)
def test_procedures_map_to_ocds_methods(
    config: Config, examples: Examples, procedure: Procedure, method: str
) -> None:
    tender = examples["construction-works"].model_copy(update={"procedure": procedure})
    section = _release(config, tender)["tender"]
    assert section["procurementMethod"] == method
    assert section["procurementMethodDetails"]
    assert section["mainProcurementCategory"] == "works"


def test_lots_use_the_lots_extension(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]
    package = json.loads(_channel().render(contract(tender), render_context(config, tender, SEM)).body)
    section = package["releases"][0]["tender"]
    assert LOTS_EXTENSION in package["extensions"]
    assert [(lot["id"], lot["value"]["amount"]) for lot in section["lots"]] == [
        ("lot-1", 500000.0),
        ("lot-2", 700000.0),
    ]
    assert [item.get("relatedLot") for item in section["items"]] == [None, "lot-1", "lot-2"]
    assert section["items"][0]["classification"]["id"] == "72500000"  # the procedure's main CPV
    assert section["items"][1]["classification"]["id"] == "32323500"
    plain = json.loads(
        _channel()
        .render(contract(examples["anpr-cameras"]), render_context(config, examples["anpr-cameras"], SEM))
        .body
    )
    assert LOTS_EXTENSION not in plain["extensions"]


def test_a_call_off_has_an_open_ended_tender_period(config: Config, examples: Examples) -> None:
    section = _release(config, examples["framework-call-off"])["tender"]
    assert section["tenderPeriod"] == {"startDate": "2026-12-01T09:00:00Z"}
    assert "documents" not in section


def test_markup_and_unicode_round_trip(config: Config, examples: Examples) -> None:
    tender = _tricky(examples["anpr-cameras"])
    body = _channel().render(contract(tender), render_context(config, tender, SEM)).body
    assert "£5k — Zürich 東京 🚓".encode() in body  # UTF-8 as is, not \u escapes
    section = json.loads(body)["releases"][0]["tender"]
    assert (section["title"], section["description"]) == (tender.title, tender.description)
    assert schema_errors(package_validator(), json.loads(body)) == []


def test_publisher_uri_is_included_when_configured(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    channel = _channel(publisher_name="EMSCU", publisher_uri="https://www.emscu.example.police.uk")
    package = json.loads(channel.render(contract(tender), render_context(config, tender, SEM)).body)
    assert package["publisher"] == {"name": "EMSCU", "uri": "https://www.emscu.example.police.uk"}


# -- submit ----------------------------------------------------------------------------------

PACKAGE = Rendered(body=b'{"releases": []}', media_type="application/json")


def _answering(
    *answers: Response, seen: list[requests.PreparedRequest] | None = None
) -> SourceEastMidlandsChannel:
    queue = list(answers)

    def handler(request: requests.PreparedRequest) -> Response:
        if seen is not None:
            seen.append(request)
        return queue.pop(0)

    return _channel(handler)


def test_accepted_is_pending_and_is_sent_as_the_contract_says() -> None:
    seen: list[requests.PreparedRequest] = []
    receipt = _answering(_json(202, {"id": "SEM-000007", "status": "pending"}), seen=seen).submit(
        PACKAGE, "k"
    )
    assert (receipt.remote_id, receipt.live, receipt.status, receipt.status_code) == (
        "SEM-000007",
        False,
        "pending",
        202,
    )
    (request,) = seen
    assert (request.method, request.url, request.body) == (
        "POST",
        "https://sem.test/ocds/releases",
        PACKAGE.body,
    )
    assert request.headers["X-API-Key"] == API_KEY
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_known_release_returns_its_current_status() -> None:
    answer = {
        "id": "SEM-000007",
        "status": "published",
        "url": "https://sem.test/p/7",
        "publishedAt": "2026-12-01T09:00:04Z",
    }
    receipt = _answering(_json(200, answer)).submit(PACKAGE, "k")
    assert (receipt.remote_id, receipt.live, receipt.url) == (
        "SEM-000007",
        True,
        "https://sem.test/p/7",
    )
    assert receipt.published_at is not None


def test_a_known_release_without_its_status_is_looked_up() -> None:
    seen: list[requests.PreparedRequest] = []
    channel = _answering(
        _json(200, {"id": "SEM-000007"}),
        _json(200, {"id": "SEM-000007", "status": "pending"}),
        seen=seen,
    )
    assert channel.submit(PACKAGE, "k").status == "pending"
    assert (seen[1].method, seen[1].url) == ("GET", "https://sem.test/ocds/releases/SEM-000007")


@pytest.mark.parametrize("status", [400, 422])
def test_refusals_carry_the_portal_reasons(status: int) -> None:
    body = {
        "errors": [
            {"path": "releases/0/tender/status", "message": "'open' is not one of [...]"},
            {"path": "", "message": "send one release"},
            "plain words",
        ]
    }
    with pytest.raises(RejectedError) as caught:
        _answering(_json(status, body)).submit(PACKAGE, "k")
    assert caught.value.reasons == [
        "releases/0/tender/status: 'open' is not one of [...]",
        "send one release",
        "plain words",
    ]


@pytest.mark.parametrize(
    ("status", "error", "headers"),
    [
        (401, AuthError, {}),
        (403, AuthError, {}),
        (429, RateLimited, {"Retry-After": "11"}),
        (500, TransientError, {}),
        (502, TransientError, {}),
        (503, TransientError, {}),
        (301, OutcomeUnknown, {"Location": "https://elsewhere.test/"}),
    ],
)
def test_status_codes_map_to_channel_errors(
    status: int, error: type[Exception], headers: dict[str, str]
) -> None:
    with pytest.raises(error) as caught:
        _answering(_json(status, {"error": "x"}, **headers)).submit(PACKAGE, "k")
    assert type(caught.value) is error
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 11


@pytest.mark.parametrize("body", [b"", b"<html>ok</html>", b'{"status": "pending"}', b"[1]"])
def test_an_acceptance_we_cannot_read_is_an_unknown_outcome(body: bytes) -> None:
    with pytest.raises(OutcomeUnknown):
        _answering(Response(202, {}, body)).submit(PACKAGE, "k")


def test_the_api_key_never_reaches_an_excerpt_or_the_description() -> None:
    with pytest.raises(AuthError) as caught:
        _answering(_json(403, {"errors": [f"key {API_KEY} revoked"]})).submit(PACKAGE, "k")
    assert caught.value.excerpt is not None and API_KEY not in caught.value.excerpt
    assert API_KEY not in str(_channel().describe())


# -- poll ------------------------------------------------------------------------------------


def test_poll_maps_each_status() -> None:
    asked = Receipt(remote_id="SEM-000007", live=False)
    pending = _answering(_json(200, {"id": "SEM-000007", "status": "pending"})).poll(asked)
    assert (pending.live, pending.url) == (False, None)
    published = _answering(
        _json(200, {"id": "SEM-000007", "status": "published", "url": "https://sem.test/p/7"})
    ).poll(asked)
    assert (published.live, published.url, published.remote_id) == (
        True,
        "https://sem.test/p/7",
        "SEM-000007",
    )
    with pytest.raises(RejectedError) as caught:
        _answering(_json(200, {"id": "SEM-000007", "status": "rejected", "reason": "duplicate advert"})).poll(
            asked
        )
    assert caught.value.reasons == ["duplicate advert"]
    with pytest.raises(OutcomeUnknown):
        _answering(_json(200, {"id": "SEM-000007", "status": "archived"})).poll(asked)
    with pytest.raises(TransientError):
        _answering(_json(503, {})).poll(asked)


# -- configuration ---------------------------------------------------------------------------


def test_registered_with_the_sandbox_profile(config: Config) -> None:
    cls = channel_class(SEM)
    assert cls is SourceEastMidlandsChannel
    assert cls.capabilities.deduplicates and cls.capabilities.polls
    settings = cls.settings_model.model_validate(config.channels.profile_sections("sandbox")[SEM])
    assert isinstance(settings, SourceEastMidlandsSettings)
    assert settings.redacted()["api_key"] == "********"
    with pytest.raises(ValueError, match="ocid_prefix"):
        SourceEastMidlandsSettings(base_url="https://x.test", api_key="k", ocid_prefix="emsx01")


class TestSourceEastMidlandsContract(HttpChannelContract):
    """The contract every channel keeps (tests/channels/contract.py)."""

    family = "source-east-midlands"
