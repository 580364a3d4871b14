"""Source East Midlands: golden release packages for every notice kind, OCDS 1.1.5 validity of
every rendered release (the official validator and the vendored schema), the mapping of tender
fields and notices to OCDS (tags, amendments, cancellation), the HTTP answers' mapping to
channel errors, and the API key kept out of what is shown. What every channel keeps is the
contract mixin at the end; `channels/ocds/` itself is tested in test_ocds.py."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from channels.ocds.release import LOTS_EXTENSION
from channels.ocds.schema import schema
from channels.source_east_midlands import (
    SourceEastMidlandsChannel,
    SourceEastMidlandsSettings,
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
from syndicator.channel.registry import channel_class
from syndicator.config.settings import Config
from syndicator.domain.award import Award
from syndicator.domain.notices import NoticeKind, NoticeRef
from syndicator.domain.tender import Procedure, Tender
from syndicator.notices.context import Job
from tests.channels.awards import award_of, award_options
from tests.channels.contract import HttpChannelContract
from tests.channels.sem_notices import PREFIX, REASON, SEM, amended, named, sem_job
from tests.conftest import DISPATCHED_AT, render_job, routed_examples, shared_standards

GOLDEN = Path(__file__).parent / "golden" / "source-east-midlands"
REGENERATE = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
API_KEY = "sem-test-key-3b9e"
KINDS = (NoticeKind.CONTRACT, NoticeKind.CHANGE, NoticeKind.CANCELLATION)
AWARD_KINDS = (NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS)
ALL_KINDS = KINDS + AWARD_KINDS
HOSTILE = 'Why? <script>alert("x")</script> ]]> \\"}, {"id": "evil"} \x00\x07\x1b[2J \u2028 £ 東京'
Examples = dict[str, Tender]
Handler = Callable[[requests.PreparedRequest], Response]


def _channel(handler: Handler | None = None, **overrides: Any) -> SourceEastMidlandsChannel:
    settings = SourceEastMidlandsSettings(
        base_url="https://sem.test/",
        api_key=API_KEY,
        ocid_prefix=PREFIX,
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


def _package(config: Config, tender: Tender, kind: NoticeKind = NoticeKind.CONTRACT, **context: Any) -> Any:
    job = sem_job(config, tender, kind)
    return json.loads(_channel().render(job.notice, replace(job.context, **context)).body)


def _release(config: Config, tender: Tender, kind: NoticeKind = NoticeKind.CONTRACT, **context: Any) -> Any:
    package = _package(config, tender, kind, **context)
    assert len(package["releases"]) == 1
    return package["releases"][0]


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


def test_every_routed_example_matches_its_golden_packages(config: Config, examples: Examples) -> None:
    """One golden file per routed example and notice kind: `<example>.json` is the contract
    notice, `<example>.<kind>.json` the others (change, cancellation, award, contract-details:
    the award of every lot by `tests.channels.awards`, the first lot's contract signed)."""
    channel = _channel()
    names = set()
    for name, tender, _ in _routed(config, examples):
        for kind in ALL_KINDS:
            job = sem_job(config, tender, kind, **award_options(tender, kind))
            body = channel.render(job.notice, job.context).body
            suffix = "" if kind is NoticeKind.CONTRACT else f".{kind.value}"
            path = GOLDEN / f"{name}{suffix}.json"
            names.add(path.name)
            if REGENERATE:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
                continue
            assert path.is_file(), f"{path} is missing: run with SYNDICATOR_REGENERATE_GOLDEN=1"
            assert body == path.read_bytes(), f"{name} ({kind.value}) differs from {path}"
    assert {p.name for p in GOLDEN.glob("*.json")} == names, "stale golden files"


def test_every_release_of_every_kind_passes_the_official_ocds_validator(
    config: Config, examples: Examples, official: ModuleType, tmp_path: Path
) -> None:
    channel = _channel()
    tenders = [*_routed(config, examples), ("framework-call-off", examples["framework-call-off"], SEM)]
    checked = 0
    for name, tender, _ in tenders:
        for kind in ALL_KINDS:
            for correction in (False, True) if kind is NoticeKind.CHANGE else (False,):
                job = sem_job(config, tender, kind, correction=correction, **award_options(tender, kind))
                path = tmp_path / f"{name}-{kind.value}-{correction}.json"
                path.write_bytes(channel.render(job.notice, job.context).body)
                assert official.validate_file(str(path)) == (True, "release package"), path.name
                checked += 1
    assert checked == len(tenders) * 6


def test_every_release_of_every_kind_passes_the_vendored_schema(config: Config, examples: Examples) -> None:
    channel = _channel()
    for name, tender, _ in _routed(config, examples):
        for kind in ALL_KINDS:
            job = sem_job(config, tender, kind, **award_options(tender, kind))
            rendered = channel.render(job.notice, job.context)
            assert rendered.media_type == "application/json"
            assert schema().package_errors(json.loads(rendered.body)) == [], (name, kind)


def test_money_is_exact_and_the_package_names_its_publisher(config: Config, examples: Examples) -> None:
    job = sem_job(config, examples["anpr-cameras"])
    body = _channel().render(job.notice, job.context).body
    assert b'"amount": 380000.00,' in body
    package = json.loads(body)
    assert package["version"] == "1.1" and package["publishedDate"] == "2026-12-01T09:00:00Z"
    assert package["publisher"] == {"name": "East Midlands Strategic Commercial Unit (EMSCU)"}


def test_release_ids_carry_the_version_and_kind_and_are_new_per_revision(
    config: Config, examples: Examples
) -> None:
    tender = examples["anpr-cameras"]
    process = "ocds-emsx01-nottinghamshire-police_NOTTS-2026-0142"
    key = sem_job(config, tender).context.key
    first, again = _release(config, tender), _release(config, tender, revision=2)
    assert first["ocid"] == again["ocid"] == process
    assert first["id"] == f"{process}-v1-contract-{key.replace('-', '')[:12]}"
    assert again["id"] == first["id"] + "-r2"
    change = _release(config, tender, NoticeKind.CHANGE)
    cancellation = _release(config, tender, NoticeKind.CANCELLATION)
    assert change["ocid"] == cancellation["ocid"] == process
    assert change["id"].startswith(f"{process}-v2-change-")
    assert cancellation["id"].startswith(f"{process}-v1-cancellation-")
    assert len({first["id"], again["id"], change["id"], cancellation["id"]}) == 4


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
    assert tender["suitability"] == {"sme": True}
    assert "lots" not in tender and "amendments" not in tender


def test_the_primary_notice_it_follows_is_stated_whatever_the_primary(
    config: Config, examples: Examples
) -> None:
    """PCR 2015 reg 52: the advert names the official-journal notice and its dispatch date; the
    document is built from the reference the core gives, so Find a Tender reads as TED does."""
    job = sem_job(config, examples["ted-legacy"])  # commenced before 2021: TED first
    ted = job.context.follows
    assert ted is not None and ted.destination == "ted"
    document = _release(config, examples["ted-legacy"])["tender"]["documents"][1]
    assert document == {
        "id": "ted-contract-v1",
        "documentType": "tenderNotice",
        "title": "Contract notice sent to Tenders Electronic Daily (TED)",
        "description": f"Tenders Electronic Daily (TED) notice {ted.identity}, dispatched on 2026-12-01",
        "language": "en",
    }
    fts = NoticeRef(
        destination="find-a-tender",
        kind=NoticeKind.CHANGE,
        version=2,
        state="published",
        key="k",
        identity="ocds-h6vhtk-04f1d2-v2",
        publication_id="012345-2027",
        url="https://www.find-tender.service.gov.uk/Notice/012345-2027",
        dispatched_at=datetime(2027, 1, 4, 23, 30, tzinfo=UTC),
        published_at=datetime(2027, 1, 5, 9, 0, tzinfo=UTC),
        title="Find a Tender",
    )
    change = sem_job(config, examples["anpr-cameras"], NoticeKind.CHANGE)
    body = _channel().render(change.notice, replace(change.context, follows=fts)).body
    document = json.loads(body)["releases"][0]["tender"]["documents"][1]
    assert document == {
        "id": "find-a-tender-change-v2",
        "documentType": "tenderNotice",
        "title": "Change notice sent to Find a Tender",
        "description": "Find a Tender notice ocds-h6vhtk-04f1d2-v2, dispatched on 2027-01-04, "
        "published as 012345-2027",
        "url": "https://www.find-tender.service.gov.uk/Notice/012345-2027",
        "datePublished": "2027-01-05T09:00:00Z",
        "language": "en",
    }


def test_the_value_is_stated_net_of_vat(config: Config, examples: Examples) -> None:
    tender = examples["agency-staff"]
    assert tender.estimated_value.vat_included
    section = _release(config, tender)["tender"]
    assert section["value"] == {"amount": 150000.0, "currency": "GBP"}
    # Below the threshold, a Procurement Act 2023 tender notice still goes to Find a Tender first.
    assert [d["id"] for d in section["documents"]] == ["tender-documents", "find-a-tender-contract-v1"]


@pytest.mark.parametrize(
    ("procedure", "method"),
    [
        (Procedure.OPEN, "open"),
        (Procedure.RESTRICTED, "selective"),
        (Procedure.COMPETITIVE_DIALOGUE, "selective"),
        (Procedure.COMPETITIVE_NEGOTIATED, "selective"),
        (Procedure.FRAMEWORK_CALL_OFF, "selective"),
        (Procedure.COMPETITIVE_FLEXIBLE, "selective"),
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
    package = _package(config, examples["it-managed-service"])
    section = package["releases"][0]["tender"]
    assert LOTS_EXTENSION in package["extensions"]
    assert [(lot["id"], lot["value"]["amount"]) for lot in section["lots"]] == [
        ("lot-1", 500000.0),
        ("lot-2", 700000.0),
    ]
    assert [item.get("relatedLot") for item in section["items"]] == [None, "lot-1", "lot-2"]
    assert section["items"][0]["classification"]["id"] == "72500000"  # the procedure's main CPV
    assert section["items"][1]["classification"]["id"] == "32323500"
    assert LOTS_EXTENSION not in _package(config, examples["anpr-cameras"])["extensions"]


def test_a_call_off_has_an_open_ended_tender_period(config: Config, examples: Examples) -> None:
    section = _release(config, examples["framework-call-off"])["tender"]
    assert section["tenderPeriod"] == {"startDate": "2026-12-01T09:00:00Z"}
    assert "documents" not in section


def test_markup_and_unicode_round_trip(config: Config, examples: Examples) -> None:
    tender = _tricky(examples["anpr-cameras"])
    job = sem_job(config, tender)
    body = _channel().render(job.notice, job.context).body
    assert "£5k — Zürich 東京 🚓".encode() in body  # UTF-8 as is, not \u escapes
    section = json.loads(body)["releases"][0]["tender"]
    assert (section["title"], section["description"]) == (tender.title, tender.description)


def test_publisher_uri_is_included_when_configured(config: Config, examples: Examples) -> None:
    job = sem_job(config, examples["anpr-cameras"])
    channel = _channel(publisher_name="EMSCU", publisher_uri="https://www.emscu.example.police.uk")
    package = json.loads(channel.render(job.notice, job.context).body)
    assert package["publisher"] == {"name": "EMSCU", "uri": "https://www.emscu.example.police.uk"}


# -- change and cancellation notices ---------------------------------------------------------


def test_a_change_amends_the_release_the_portal_holds(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    job = sem_job(config, tender, NoticeKind.CHANGE)
    previous = job.context.previous
    assert previous is not None and previous.kind is NoticeKind.CONTRACT and previous.identity
    rendered = _channel().render(job.notice, job.context)
    release = json.loads(rendered.body)["releases"][0]
    assert release["ocid"] == _release(config, tender)["ocid"]
    assert release["tag"] == ["tenderAmendment"]
    assert rendered.identity == release["id"]
    section = release["tender"]
    assert section["status"] == "active"
    # the new version's full tender section, not a difference
    assert section["tenderPeriod"] == {"startDate": "2026-12-01T09:00:00Z", "endDate": "2027-01-29T12:00:00Z"}
    assert section["description"].endswith("Site visits are available on request.")
    assert section["title"] == tender.title and section["value"]["amount"] == 380000.0
    assert section["amendments"] == [
        {
            "id": "change-v2",
            "date": "2026-12-01T09:00:00Z",
            "rationale": REASON,
            "description": "Description: changed\n"
            "Submission deadline: 2027-01-15T12:00:00Z -> 2027-01-29T12:00:00Z",
            "amendsReleaseID": previous.identity,
            "releaseID": release["id"],
        }
    ]


def test_a_correction_is_a_tender_update(config: Config, examples: Examples) -> None:
    release = _release_of(sem_job(config, examples["anpr-cameras"], NoticeKind.CHANGE, correction=True))
    assert release["tag"] == ["tenderUpdate"]
    assert release["tender"]["amendments"][0]["releaseID"] == release["id"]


def _release_of(job: Job) -> Any:
    return json.loads(_channel().render(job.notice, job.context).body)["releases"][0]


def test_a_change_keeps_the_tender_period_start_of_the_first_notice(
    config: Config, examples: Examples
) -> None:
    job = sem_job(config, examples["anpr-cameras"], NoticeKind.CHANGE)
    opened = DISPATCHED_AT - timedelta(days=9)
    first = replace(job.context.history[0], dispatched_at=opened)
    context = replace(job.context, history=(first,), dispatched_at=DISPATCHED_AT)
    release = _release_of(Job(job.notice, context))
    assert release["tender"]["tenderPeriod"]["startDate"] == "2026-11-22T09:00:00Z"
    assert release["date"] == "2026-12-01T09:00:00Z"


def test_a_cancellation_cancels_the_tender_and_amends_the_latest_release(
    config: Config, examples: Examples
) -> None:
    tender = examples["it-managed-service"]
    change = sem_job(config, tender, NoticeKind.CHANGE)
    change_id = _release_of(change)["id"]
    job = sem_job(
        config, amended(tender), NoticeKind.CANCELLATION, previous=tender, reason="Budget withdrawn"
    )
    assert job.notice.version == 2
    withdrawn = datetime(2026, 11, 30, 16, 45, tzinfo=UTC)
    changed = NoticeRef(SEM, NoticeKind.CHANGE, 2, "published", change.context.key, identity=change_id)
    context = replace(job.context, history=(*job.context.history, changed))
    notice = replace(job.notice, withdrawn_at=withdrawn)
    rendered = _channel().render(notice, context)
    release = json.loads(rendered.body)["releases"][0]
    assert release["tag"] == ["tenderCancellation"] and rendered.identity == release["id"]
    section = release["tender"]
    assert section["status"] == "cancelled"
    assert {lot["status"] for lot in section["lots"]} == {"cancelled"}
    assert section["amendments"] == [
        {
            "id": "cancellation-v2",
            "date": "2026-11-30T16:45:00Z",
            "rationale": "Budget withdrawn",
            "description": "The procurement was withdrawn: the tender is cancelled.",
            "amendsReleaseID": change_id,
            "releaseID": release["id"],
        }
    ]


@pytest.mark.parametrize("kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION])
def test_a_notice_that_cannot_name_the_release_it_amends_is_refused(
    config: Config, examples: Examples, kind: NoticeKind
) -> None:
    job = sem_job(config, examples["anpr-cameras"], kind)
    unnamed = replace(job.context, history=tuple(replace(r, identity=None) for r in job.context.history))
    with pytest.raises(RenderError, match="the release id of its contract notice v1 is not known"):
        _channel().render(job.notice, unnamed)
    with pytest.raises(RenderError, match="it holds no notice of this procurement"):
        _channel().render(job.notice, replace(job.context, history=()))


def test_hostile_text_stays_inert_in_every_kind(config: Config, examples: Examples) -> None:
    """Markup, JSON specials and control characters in the tender and the reason are string
    content: the body parses to exactly one release holding them unchanged, and no raw control
    character reaches the wire."""
    tender = _tricky(examples["anpr-cameras"])
    for kind in KINDS:
        job = sem_job(config, tender, kind, reason=HOSTILE)
        body = _channel().render(job.notice, job.context).body
        assert not any(byte < 0x20 and byte != 0x0A for byte in body), kind
        package = json.loads(body)
        (release,) = package["releases"]
        assert release["tender"]["title"] == tender.title
        assert "evil" not in {d["id"] for d in release["tender"].get("documents", [])}
        if kind is not NoticeKind.CONTRACT:
            assert release["tender"]["amendments"][0]["rationale"] == HOSTILE
        assert schema().package_errors(package) == [], kind


def test_the_release_id_travels_as_the_identity_of_every_kind(config: Config, examples: Examples) -> None:
    seen: list[requests.PreparedRequest] = []

    def accept(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        return _json(202, {"id": f"SEM-{len(seen):06d}", "status": "pending"})

    channel = _channel(accept)
    tender = examples["anpr-cameras"]
    for kind in ALL_KINDS:
        job = sem_job(config, tender, kind, **award_options(tender, kind))
        rendered = channel.render(job.notice, job.context)
        channel.submit(rendered, job.context.key)
        sent = json.loads(seen[-1].body)  # type: ignore[arg-type]
        assert sent["releases"][0]["id"] == rendered.identity
        assert f"-v{job.notice.version}-{kind.value}-" in str(rendered.identity)


# -- award and contract details notices -------------------------------------------------------


def _split_award(tender: Tender, *, signed: bool = True) -> Award:
    """Lot 1 awarded (as `award_of`), lot 2 not awarded: no suitable tenders were received."""
    data = award_of(tender, signed=signed).model_dump(mode="json")
    data["lots"][1] = {"lot": 2, "outcome": "not-awarded", "reason": "no-suitable-tenders"}
    data["tenders_received"] = {"1": 3, "2": 1}
    return Award.model_validate(data)


def _award_release(config: Config, tender: Tender, kind: NoticeKind, **options: Any) -> Any:
    job = sem_job(config, tender, kind, **options)
    package = json.loads(_channel().render(job.notice, job.context).body)
    assert schema().package_errors(package) == []
    (release,) = package["releases"]
    return release


def test_an_award_release_holds_every_lot_and_its_suppliers(config: Config, examples: Examples) -> None:
    tender = examples["it-software"]  # two lots
    award = _split_award(tender)
    release = _award_release(config, tender, NoticeKind.AWARD, award=award, standstill_ends=date(2027, 2, 11))
    contract = _release(config, tender)
    assert release["tag"] == ["award"] and release["ocid"] == contract["ocid"]
    assert "-v1-award-" in release["id"]
    won, lost = release["awards"]
    assert (won["id"], won["status"], won["relatedLots"]) == ("award-lot-1", "active", ["lot-1"])
    assert won["value"] == {"amount": 57000.0, "currency": "GBP"}  # net of VAT, 95% of the lot
    assert won["suppliers"] == [{"id": "GB-COH-04567321", "name": "Roadwatch Systems Ltd"}]
    assert won["date"] == "2027-02-01T00:00:00Z"
    assert won["contractPeriod"] == {"startDate": "2027-04-02T00:00:00Z", "endDate": "2031-04-01T23:59:59Z"}
    assert won["description"] == "3 tenders received. The standstill period ends on 2027-02-11."
    assert (lost["id"], lost["status"], lost["relatedLots"]) == ("award-lot-2", "unsuccessful", ["lot-2"])
    assert lost["description"].startswith("Not awarded: No suitable tenders")
    assert not {"suppliers", "value", "contractPeriod"} & set(lost)
    buyer, supplier = release["parties"]
    assert buyer["roles"] == ["buyer", "procuringEntity"]
    assert supplier["roles"] == ["supplier"] and supplier["id"] == "GB-COH-04567321"
    assert supplier["identifier"] == {
        "scheme": "GB-COH",
        "id": "04567321",
        "legalName": "Roadwatch Systems Ltd",
    }
    assert supplier["details"] == {"scale": "sme"}
    assert [(lot["id"], lot["status"]) for lot in release["tender"]["lots"]] == [
        ("lot-1", "complete"),
        ("lot-2", "unsuccessful"),
    ]
    assert release["tender"]["status"] == "complete"
    assert [(s["relatedLot"], s["value"]) for s in release["bids"]["statistics"]] == [
        ("lot-1", 3),
        ("lot-2", 1),
    ]


def test_nothing_awarded_leaves_the_tender_unsuccessful(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]  # undivided
    award = Award.model_validate(
        {
            "reference": tender.reference,
            "buyer": tender.buyer,
            "decision_date": "2027-02-01",
            "lots": [{"lot": None, "outcome": "not-awarded", "reason": "no-tenders"}],
            "tenders_received": 0,
        }
    )
    release = _award_release(config, tender, NoticeKind.AWARD, award=award)
    (only,) = release["awards"]
    assert (only["id"], only["status"]) == ("award-whole", "unsuccessful")
    assert "relatedLots" not in only and len(release["parties"]) == 1
    assert release["tender"]["status"] == "unsuccessful"


def test_a_contract_release_carries_the_signed_contract_of_its_part(
    config: Config, examples: Examples
) -> None:
    tender = examples["it-software"]
    award = award_of(tender, signed=True)
    release = _award_release(config, tender, NoticeKind.CONTRACT_DETAILS, award=award, part="lot-2")
    assert release["tag"] == ["contract"] and "-v1-contract-details-" in release["id"]
    (signed,) = release["contracts"]
    assert signed == {
        "id": "contract-lot-2",
        "awardID": "award-lot-2",
        "title": "Lot 2: Configuration and support",
        "status": "active",
        "period": {"startDate": "2027-04-02T00:00:00Z", "endDate": "2031-04-01T23:59:59Z"},
        "value": {"amount": 33250.0, "currency": "GBP"},
        "dateSigned": "2027-03-03T00:00:00Z",
        "documents": signed["documents"],
    }
    assert [d["documentType"] for d in signed["documents"]] == ["contractNotice"]
    assert "awards" not in release
    whole = examples["anpr-cameras"]
    (one,) = _award_release(
        config, whole, NoticeKind.CONTRACT_DETAILS, award=award_of(whole, signed=True), part="whole"
    )["contracts"]
    assert (one["id"], one["awardID"]) == ("contract-whole", "award-whole")


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        (NoticeKind.AWARD, {}, "needs the award record"),
        (NoticeKind.CONTRACT_DETAILS, {"part": "lot-1"}, "needs the award record"),
        (NoticeKind.CONTRACT_DETAILS, {"part": "lot-2", "split": True}, "lot 2 was not awarded"),
        (NoticeKind.CONTRACT_DETAILS, {"part": "lot-1", "unsigned": True}, "the day the contract was signed"),
    ],
)
def test_an_award_notice_without_what_it_states_is_refused(
    config: Config, examples: Examples, kind: NoticeKind, options: dict[str, Any], message: str
) -> None:
    tender = examples["it-software"]
    split, unsigned = options.pop("split", False), options.pop("unsigned", False)
    if split:
        options["award"] = _split_award(tender)
    elif unsigned:
        options["award"] = award_of(tender)
    job = sem_job(config, tender, kind, **options)
    with pytest.raises(RenderError, match=message):
        _channel().render(job.notice, job.context)


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

    def job(self, config: Config, tender: Tender, destination: str, **options: Any) -> Job:
        """Earlier notices named as the engine would have stored them (see `named`)."""
        prefix = config.channels.profile_sections("sandbox")[SEM]["ocid_prefix"]
        return named(render_job(config, tender, destination, **options), prefix)
