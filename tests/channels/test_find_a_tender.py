"""Find a Tender adapter: every release of every kind valid against the UK profile (the shared
validator and the vendored copy), golden releases, the UK fields a UK4 needs (net and gross
values, aboveThreshold, legal basis by regime, the buyer's PPON and UK_CA_TYPE), revisions
refused after the deadline, the per-buyer API keys, the eSender answers mapped to channel
errors, and adopt mode's look-up through the public API, all without a network."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from channels.find_a_tender import FindATenderChannel, FindATenderSettings
from channels.find_a_tender.adopt import Lookup
from channels.find_a_tender.payload import upload_body
from syndicator.channel.base import (
    AuthError,
    OutcomeUnknown,
    Receipt,
    RejectedError,
    RenderContext,
    RenderError,
    TransientError,
)
from syndicator.channel.http import Response, function_session
from syndicator.channel.registry import build_channel
from syndicator.config.files import ConfigError
from syndicator.config.settings import Config
from syndicator.domain.award import Award
from syndicator.domain.notices import Notice, NoticeKind
from syndicator.domain.standstill import standstill_ends
from syndicator.domain.tender import Tender
from syndicator.notices.context import Job
from syndicator.routing.destinations import route
from syndicator.sandbox.fts_rules import release_validator, schema_errors
from tests.channels.awards import SUPPLIER, award_of, award_options
from tests.channels.contract import HttpChannelContract
from tests.conftest import DISPATCHED_AT, render_job, routed_examples, shared_standards

FTS = "find-a-tender"
GOLDEN = Path(__file__).parent / "golden" / FTS
VENDORED = Path(__file__).resolve().parents[2] / "channels" / "schemas" / "ocds-uk"
REGENERATE = os.environ.get("SYNDICATOR_REGENERATE_GOLDEN") == "1"
KEYS = {
    "emscu": "k-emscu-5e1",
    "nottinghamshire-police": "k-notts-77a",
    "northamptonshire-police": "k-np-0c2",
}
KINDS = tuple(NoticeKind)  # UK4, revised UK4, UK12, UK6, UK7
Examples = dict[str, Tender]
Handler = Callable[[requests.PreparedRequest], Response]


def fts_cases(config: Config, examples: Examples) -> list[tuple[Tender, str]]:
    """The examples routed to Find a Tender, or (until routing sends any there) every example
    a UK4 can carry (one with a deadline). Buyers in publish mode first: in adopt mode nothing
    is sent, so there is no wire to look at."""
    found = [(tender, destination) for _, tender, destination in routed_examples(config, examples, FTS)]
    found = found or [(t, FTS) for t in examples.values() if t.submission_deadline is not None]
    return sorted(found, key=lambda case: config.buyers.get(case[0].buyer).fts_mode == "adopt")


def fts_job(config: Config, tender: Tender, destination: str, **options: Any) -> Job:
    """The engine's job; where the route names no regime yet, a PA2023 procurement, above
    threshold when the route sends it to TED too."""
    job = render_job(config, tender, destination, **options)
    if job.context.regime is not None:
        return job
    above = "ted" in route(tender, config.policy, config.thresholds).names()
    return Job(job.notice, replace(job.context, regime="pa2023", above_threshold=above))


class TestFindATenderContract(HttpChannelContract):
    family = FTS

    def cases(self, config: Config, examples: Examples) -> list[tuple[Tender, str]]:
        return fts_cases(config, examples)

    def job(self, config: Config, tender: Tender, destination: str, **options: Any) -> Job:
        return fts_job(config, tender, destination, **options)

    def wire(self, request: requests.PreparedRequest) -> str:
        """The notice travels base64-encoded in the form field `notice`."""
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        notices = parse_qs(body.decode("ascii")).get("notice", [])
        decoded = "".join(base64.b64decode(n).decode("utf-8") for n in notices)
        return str(dict(request.headers)) + decoded


# -- helpers --------------------------------------------------------------------------------


def _channel(
    handler: Handler | None = None, clock: Callable[[], datetime] = lambda: DISPATCHED_AT, **overrides: Any
) -> FindATenderChannel:
    values: dict[str, Any] = {
        "base_url": "https://fts.test",
        "public_url": "https://public.fts.test",
        "key": KEYS,
        "connect_retries": 1,
        **overrides,
    }
    session = function_session(handler) if handler else None
    return FindATenderChannel(FindATenderSettings.model_validate(values), session=session, clock=clock)


def _json(status: int, document: Any) -> Response:
    return Response(status, {"Content-Type": "application/json"}, json.dumps(document).encode())


def _context(config: Config, tender: Tender, kind: NoticeKind = NoticeKind.CONTRACT, **changes: Any) -> Job:
    """A job for `tender` on Find a Tender under PA2023, above threshold, whose earlier notice
    (for a change or cancellation) Find a Tender published as 012345-2026."""
    job = render_job(config, tender, FTS, kind=kind, reason="Deadline extended", **changes.pop("job", {}))
    history = tuple(replace(ref, publication_id="012345-2026") for ref in job.context.history)
    context = replace(job.context, regime="pa2023", above_threshold=True, history=history)
    return Job(job.notice, replace(context, **changes))


def _release(config: Config, tender: Tender, kind: NoticeKind = NoticeKind.CONTRACT, **changes: Any) -> Any:
    job = _context(config, tender, kind, **changes)
    return json.loads(_channel().render(job.notice, job.context).body)


def _later(tender: Tender, **changes: Any) -> Tender:
    data = tender.model_dump(mode="json")
    data.update(changes)
    return Tender.model_validate(data)


# -- the release ----------------------------------------------------------------------------


def test_every_release_of_every_kind_passes_the_official_uk_profile_validator(
    config: Config, examples: Examples, tmp_path: Path
) -> None:
    validator = shared_standards() / "ocds" / "validate.py"
    files = []
    for tender, destination in fts_cases(config, examples):
        for kind in KINDS:
            options = award_options(tender, kind.value)
            job = fts_job(config, tender, destination, kind=kind, reason="Deadline extended", **options)
            path = tmp_path / f"{tender.reference}-{kind.value}.json"
            path.write_bytes(_channel().render(job.notice, job.context).body)
            files.append(str(path))
    assert len(files) >= 15, "at least three examples, each as a UK4, a revised UK4, a UK12, a UK6, a UK7"
    result = subprocess.run(
        [sys.executable, str(validator), "--profile", "uk", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK ") == len(files)


def test_every_release_passes_the_vendored_profile_and_the_profile_refuses_a_broken_one(
    config: Config, examples: Examples
) -> None:
    validator = release_validator()
    for tender, _ in fts_cases(config, examples):
        for kind in KINDS:
            options = award_options(tender, kind.value)
            release = _release(config, tender, kind, job=options)
            assert schema_errors(validator, release) == [], (tender.reference, kind)
    broken = _release(config, examples["anpr-cameras"])
    broken["tender"]["status"] = "open"
    broken["tender"]["value"]["amountGross"] = "456000"
    problems = {p["path"] for p in schema_errors(validator, broken)}
    assert problems == {"tender/status", "tender/value/amountGross"}


def test_the_vendored_profile_is_the_reference_copy() -> None:
    reference = shared_standards() / "ocds"
    pairs = [
        (VENDORED / "release-schema.json", reference / "profiles" / "uk" / "release-schema.json"),
        (
            VENDORED / "release-package-schema.json",
            reference / "profiles" / "uk" / "release-package-schema.json",
        ),
        (VENDORED / "licences" / "uk.LICENSE", reference / "extensions" / "uk" / "LICENSE"),
        (VENDORED / "licences" / "ocds-1.1.5.LICENSE", reference / "1.1.5" / "LICENSE"),
    ]
    pairs += [
        (path, reference / "profiles" / "uk" / "codelists" / path.name)
        for path in VENDORED.glob("codelists/*")
    ]
    for ours, theirs in pairs:
        assert ours.read_bytes() == theirs.read_bytes(), ours.name


GOLDEN_CASES = ["anpr-cameras", "it-managed-service", "construction-works", "agency-staff"]


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_releases_of_a_uk4_its_revision_a_uk12_a_uk6_and_a_uk7(
    config: Config, examples: Examples, name: str
) -> None:
    tender = examples[name]
    assert tender.submission_deadline is not None
    revised = _later(
        tender,
        title=tender.title + " (revised)",
        submission_deadline=(tender.submission_deadline + timedelta(days=7)).isoformat(),
    )
    jobs = {
        NoticeKind.CONTRACT: _context(config, tender),
        NoticeKind.CHANGE: _context(config, revised, NoticeKind.CHANGE, job={"previous": tender}),
        NoticeKind.CANCELLATION: _context(config, tender, NoticeKind.CANCELLATION),
        NoticeKind.AWARD: _context(config, tender, NoticeKind.AWARD, job=award_options(tender, "award")),
        NoticeKind.CONTRACT_DETAILS: _context(
            config, tender, NoticeKind.CONTRACT_DETAILS, job=award_options(tender, "contract-details")
        ),
    }
    for kind, job in jobs.items():
        body = _channel().render(job.notice, job.context).body
        path = GOLDEN / f"{name}.{kind.value}.json"
        if REGENERATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            continue
        assert path.is_file(), f"{path} is missing: run with SYNDICATOR_REGENERATE_GOLDEN=1"
        assert body == path.read_bytes(), f"{name} {kind.value} differs from {path}"


def test_no_stale_golden_files() -> None:
    expected = {f"{name}.{kind.value}.json" for name in GOLDEN_CASES for kind in KINDS}
    assert {path.name for path in GOLDEN.glob("*.json")} == expected


def test_values_are_net_beside_gross_for_the_tender_and_its_lots(config: Config, examples: Examples) -> None:
    exclusive = _release(config, examples["anpr-cameras"])["tender"]
    assert exclusive["value"] == {"amount": 380000.0, "amountGross": 456000.0, "currency": "GBP"}
    inclusive = _release(config, examples["agency-staff"])["tender"]  # £180,000 including VAT
    assert inclusive["value"] == {"amount": 150000.0, "amountGross": 180000.0, "currency": "GBP"}
    lots = _release(config, examples["it-managed-service"])["tender"]["lots"]
    for lot, given in zip(lots, examples["it-managed-service"].lots, strict=True):
        assert given.estimated_value is not None
        assert lot["value"]["amountGross"] == float(given.estimated_value.gross(config.policy.vat_rate))
    job = _context(config, examples["anpr-cameras"])
    body = _channel().render(job.notice, job.context).body
    assert b'"amount": 380000.00,' in body and b'"amountGross": 456000.00,' in body  # Decimal, 2 places


@pytest.mark.parametrize("above", [True, False])
def test_above_threshold_comes_from_the_context(config: Config, examples: Examples, above: bool) -> None:
    assert (
        _release(config, examples["anpr-cameras"], above_threshold=above)["tender"]["aboveThreshold"] is above
    )


def test_an_unknown_threshold_position_is_refused(config: Config, examples: Examples) -> None:
    job = _context(config, examples["anpr-cameras"], above_threshold=None)
    with pytest.raises(RenderError, match="above threshold"):
        _channel().render(job.notice, job.context)


@pytest.mark.parametrize(
    ("regime", "basis"),
    [("pa2023", {"scheme": "UKPGA", "id": "2023/54"}), ("pcr-uk", {"scheme": "UKSI", "id": "2015/102"})],
)
def test_the_legal_basis_follows_the_regime(
    config: Config, examples: Examples, regime: str, basis: dict[str, str]
) -> None:
    assert _release(config, examples["anpr-cameras"], regime=regime)["tender"]["legalBasis"] == basis


@pytest.mark.parametrize("regime", ["ojeu", None])
def test_a_regime_find_a_tender_does_not_carry_is_refused(
    config: Config, examples: Examples, regime: str | None
) -> None:
    job = _context(config, examples["anpr-cameras"], regime=regime)
    with pytest.raises(RenderError, match="Procurement Act 2023"):
        _channel().render(job.notice, job.context)


def test_the_buyer_is_named_by_its_ppon_with_older_ids_and_its_authority_type(
    config: Config, examples: Examples
) -> None:
    release = _release(config, examples["anpr-cameras"])
    (party,) = release["parties"]
    assert release["buyer"] == {
        "id": "GB-PPON-PGLQ-4189-YYPY",
        "name": "Chief Constable of Nottinghamshire Police",
    }
    assert party["identifier"] == {"scheme": "GB-PPON", "id": "PGLQ-4189-YYPY"}
    assert party["additionalIdentifiers"] == [{"scheme": "GB-FTS", "id": "135781"}]
    assert party["roles"] == ["buyer"]
    assert party["details"]["classifications"][0]["scheme"] == "UK_CA_TYPE"
    assert party["details"]["classifications"][0]["id"] == "publicAuthoritySubCentralGovernment"


def test_a_buyer_without_a_ppon_is_refused(config: Config, examples: Examples) -> None:
    job = _context(config, examples["anpr-cameras"])
    context = replace(job.context, buyer=job.context.buyer.model_copy(update={"ppon": None}))
    with pytest.raises(RenderError, match="PPON"):
        _channel().render(job.notice, context)


def test_a_uk4_carries_lots_cpv_items_tender_period_and_submission_method(
    config: Config, examples: Examples
) -> None:
    tender = examples["it-managed-service"]
    release = _release(config, tender)
    section = release["tender"]
    assert release["tag"] == ["tender"] and section["status"] == "active"
    assert section["tenderPeriod"] == {"endDate": "2027-01-20T12:00:00Z"}
    assert section["submissionMethod"] == ["electronicSubmission"]
    assert [lot["id"] for lot in section["lots"]] == ["lot-1", "lot-2"]
    assert section["items"][0]["classification"] == {"scheme": "CPV", "id": tender.main_cpv()}
    assert {item.get("relatedLot") for item in section["items"][1:]} == {"lot-1", "lot-2"}
    (notice,) = [d for d in section["documents"] if "noticeType" in d]
    assert (notice["documentType"], notice["noticeType"], notice["id"]) == ("tenderNotice", "UK4", "uk4-v1")


def test_hostile_text_is_inert_json_content(config: Config, examples: Examples) -> None:
    title = 'ANPR <b>cameras</b> & "docks" ]]> £5k — Zürich 東京 🚓'
    description = "Supply of <script>alert('x')</script> &amp; docks.\n\nCafé, ]]> and £1,000\t<i>each</i>."
    tender = _later(examples["anpr-cameras"], title=title, description=description)
    job = _context(config, tender)
    body = _channel().render(job.notice, job.context).body
    release = json.loads(body)
    assert (release["tender"]["title"], release["tender"]["description"]) == (title, description)
    assert "£5k — Zürich 東京 🚓".encode() in body  # written as itself, not escaped


# -- change and cancellation ----------------------------------------------------------------


def test_a_change_is_a_revised_uk4_naming_the_notice_it_revises(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    assert tender.submission_deadline is not None
    revised = _later(tender, submission_deadline=(tender.submission_deadline + timedelta(days=7)).isoformat())
    job = _context(config, revised, NoticeKind.CHANGE, job={"previous": tender})
    release = json.loads(_channel().render(job.notice, job.context).body)
    previous = job.context.previous
    assert previous is not None
    assert release["tag"] == ["tenderUpdate"]
    assert release["previousNotice"] == {"id": "012345-2026", "releaseID": previous.identity}
    assert release["tender"]["tenderPeriod"]["endDate"] == "2027-01-22T12:00:00Z"
    (amendment,) = release["tender"]["amendments"]
    assert amendment["rationale"] == "Deadline extended" and "Submission deadline" in amendment["description"]
    (notice,) = [d for d in release["tender"]["documents"] if "noticeType" in d]
    assert notice["noticeType"] == "UK4" and notice["id"] == "uk4-v2"
    assert "012345-2026" in notice["description"]


def test_a_change_is_refused_after_the_deadline_in_force(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    deadline = tender.submission_deadline
    assert deadline is not None
    channel = _channel()
    before = _context(config, tender, NoticeKind.CHANGE, dispatched_at=deadline - timedelta(minutes=1))
    channel.render(before.notice, before.context)
    at = _context(config, tender, NoticeKind.CHANGE, dispatched_at=deadline)
    with pytest.raises(RenderError, match="after its submission deadline"):
        channel.render(at.notice, at.context)
    # Moving the deadline later does not reopen a notice whose deadline has passed.
    later = _later(tender, submission_deadline=(deadline + timedelta(days=7)).isoformat())
    moved = _context(config, later, NoticeKind.CHANGE, job={"previous": tender}, dispatched_at=deadline)
    with pytest.raises(RenderError, match="after its submission deadline"):
        channel.render(moved.notice, moved.context)
    # A cancellation is not a revision: it may come after the deadline.
    ended = _context(config, tender, NoticeKind.CANCELLATION, dispatched_at=deadline + timedelta(days=1))
    assert json.loads(channel.render(ended.notice, ended.context).body)["tag"] == ["tenderCancellation"]


@pytest.mark.parametrize("kind", [NoticeKind.CHANGE, NoticeKind.CANCELLATION])
def test_a_follow_up_without_an_earlier_notice_is_refused(
    config: Config, examples: Examples, kind: NoticeKind
) -> None:
    job = _context(config, examples["anpr-cameras"], kind, history=())
    with pytest.raises(RenderError, match="refers to an earlier notice"):
        _channel().render(job.notice, job.context)


def test_a_cancellation_is_a_uk12_with_its_reason(config: Config, examples: Examples) -> None:
    tender = examples["it-managed-service"]
    job = _context(config, tender, NoticeKind.CANCELLATION)
    job = Job(replace(job.notice, reason="Budget withdrawn by the commissioner"), job.context)
    release = json.loads(_channel().render(job.notice, job.context).body)
    section = release["tender"]
    assert release["tag"] == ["tenderCancellation"] and section["status"] == "cancelled"
    assert {lot["status"] for lot in section["lots"]} == {"cancelled"}
    assert release["previousNotice"]["id"] == "012345-2026"
    (notice,) = [d for d in section["documents"] if "noticeType" in d]
    assert (notice["documentType"], notice["noticeType"]) == ("tenderCancellationNotice", "UK12")
    assert "Budget withdrawn by the commissioner" in notice["description"]
    assert section["finalStatusDate"] == "2026-12-01T09:00:00Z"


def test_an_award_or_contract_notice_without_the_award_record_is_refused(
    config: Config, examples: Examples
) -> None:
    tender = examples["anpr-cameras"]
    for kind in (NoticeKind.AWARD, NoticeKind.CONTRACT_DETAILS):
        job = _context(config, tender, kind, job=award_options(tender, kind.value))
        with pytest.raises(RenderError, match="needs the award record"):
            _channel().render(Notice(kind, tender), job.context)


def _split_award(tender: Tender) -> Award:
    """Lot 1 awarded to two suppliers, every other lot not awarded (no suitable tenders)."""
    data = award_of(tender).model_dump(mode="json")
    first, *others = data["lots"]
    first["suppliers"].append(
        SUPPLIER
        | {
            "name": "Kerbside Analytics LLP",
            "sme": False,
            "identifier": {"scheme": "GB-COH", "id": "OC412345"},
        }
    )
    data["lots"] = [first] + [
        {"lot": lot["lot"], "outcome": "not-awarded", "reason": "no-suitable-tenders"} for lot in others
    ]
    return Award.model_validate(data)


def test_a_uk6_gives_each_lots_outcome_its_suppliers_and_the_standstill(
    config: Config, examples: Examples
) -> None:
    tender = next(t for t in examples.values() if len(t.lots) >= 2 and t.buyer != "emscu-framework")
    award = _split_award(tender)
    release = _release(config, tender, NoticeKind.AWARD, job={"award": award})
    assert release["tag"] == ["award"] and release["tender"]["status"] == "complete"
    first, *others = release["awards"]
    assert first["status"] == "pending" and first["relatedLots"] == ["lot-1"]
    assert [d["noticeType"] for d in first["documents"]] == ["UK6"]
    assert {s["id"] for s in first["suppliers"]} == {"GB-COH-04567321", "GB-COH-OC412345"}
    assert first["value"]["amountGross"] >= first["value"]["amount"]
    # sent on DISPATCHED_AT's day: eight working days counted from it, that day the first
    expected = standstill_ends(DISPATCHED_AT.date())
    assert first["standstillPeriod"]["endDate"].startswith(expected.isoformat())
    assert others and all(
        a["status"] == "unsuccessful" and "suppliers" not in a and "No suitable tenders" in a["description"]
        for a in others
    )
    suppliers = [p for p in release["parties"] if "supplier" in p["roles"]]
    assert [(p["id"], p["details"]["scale"]) for p in suppliers] == [
        ("GB-COH-04567321", "sme"),
        ("GB-COH-OC412345", "large"),
    ]
    assert release["previousNotice"]["id"] == "012345-2026"  # the UK4 it awards


def test_a_uk6_states_the_recorded_standstill_once_known(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    ends = date(2027, 2, 11)
    release = _release(
        config, tender, NoticeKind.AWARD, job={"award": award_of(tender), "standstill_ends": ends}
    )
    assert release["awards"][0]["standstillPeriod"] == {"endDate": "2027-02-11T23:59:59Z"}


def test_a_uk7_names_the_signed_contract_and_its_award(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    options = award_options(tender, "contract-details")
    release = _release(config, tender, NoticeKind.CONTRACT_DETAILS, job=options)
    assert release["tag"] == ["contract"]
    [contract] = release["contracts"]
    [awarded] = release["awards"]
    assert contract["awardID"] == awarded["id"] and awarded["status"] == "active"
    assert contract["dateSigned"].startswith(options["award"].lots[0].contract.signed_on.isoformat())
    assert [d["noticeType"] for d in contract["documents"]] == ["UK7"]


def test_a_uk7_of_an_unsigned_or_unawarded_part_is_refused(config: Config, examples: Examples) -> None:
    tender = examples["anpr-cameras"]
    with pytest.raises(RenderError, match="no signed_on"):
        _channel().render(
            *_job_parts(
                _context(
                    config,
                    tender,
                    NoticeKind.CONTRACT_DETAILS,
                    job={"award": award_of(tender), "part": _part(tender)},
                )
            )
        )


def _part(tender: Tender) -> str:
    return f"lot-{tender.lots[0].number}" if tender.lots else "whole"


def _job_parts(job: Job) -> tuple[Notice, Any]:
    return job.notice, job.context


# -- keys -----------------------------------------------------------------------------------


def _submitted(seen: list[requests.PreparedRequest]) -> Handler:
    def answer(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        return _json(202, {"submission_id": "20261201-000007", "status": "RECEIVED"})

    return answer


def test_each_buyer_sends_with_its_own_key(config: Config, examples: Examples) -> None:
    seen: list[requests.PreparedRequest] = []
    channel = _channel(_submitted(seen))
    for name in ("anpr-cameras", "it-managed-service", "it-software"):
        job = _context(config, examples[name])
        receipt = channel.submit(channel.render(job.notice, job.context), job.context.key)
        assert receipt.remote_id == f"20261201-000007@{examples[name].buyer}" and not receipt.live
    assert [r.headers["CDP-Api-Key"] for r in seen] == [
        KEYS["nottinghamshire-police"],
        KEYS["emscu"],
        KEYS["northamptonshire-police"],
    ]
    request = seen[0]
    assert request.url == "https://fts.test/api/latest/notice/submission/submit?async=1"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_the_upload_is_the_release_base64_in_the_notice_field(config: Config, examples: Examples) -> None:
    seen: list[requests.PreparedRequest] = []
    channel = _channel(_submitted(seen))
    job = _context(config, examples["anpr-cameras"])
    rendered = channel.render(job.notice, job.context)
    channel.submit(rendered, job.context.key)
    assert seen[0].body == upload_body(rendered.body)
    (notice,) = parse_qs(str(seen[0].body, "ascii"))["notice"]
    sent = json.loads(base64.b64decode(notice))
    assert sent["id"] == rendered.identity == job.context.key  # the sender's id, from our key


def test_production_needs_a_key_for_every_buyer_in_publish_mode(config: Config) -> None:
    production = replace(config, profile="production")
    publishing = [b for b, org in config.buyers.by_id.items() if org.fts_mode == "publish"]
    environ = {f"SYNDICATOR_FIND_A_TENDER_KEY_{b.upper().replace('-', '_')}": "k" for b in publishing}
    channel = build_channel(production, FTS, environ)
    assert isinstance(channel, FindATenderChannel)
    assert set(channel.settings.key) == set(publishing)  # derbyshire (adopt mode) needs none
    del environ["SYNDICATOR_FIND_A_TENDER_KEY_NOTTINGHAMSHIRE_POLICE"]
    with pytest.raises(ConfigError) as raised:
        build_channel(production, FTS, environ)
    assert "SYNDICATOR_FIND_A_TENDER_KEY_NOTTINGHAMSHIRE_POLICE" in str(raised.value)
    assert raised.value.key == "profiles.production.find-a-tender.key.nottinghamshire-police"


def test_keys_never_show_in_descriptions_errors_or_excerpts(config: Config, examples: Examples) -> None:
    def echo(request: requests.PreparedRequest) -> Response:
        return Response(400, {"Content-Type": "text/plain"}, str(dict(request.headers)).encode())

    channel = _channel(echo)
    assert all(key not in repr(channel.describe()) for key in KEYS.values())
    assert channel.describe()["key"] == dict.fromkeys(KEYS, "********")
    job = _context(config, examples["anpr-cameras"])
    with pytest.raises(RejectedError) as raised:
        channel.submit(channel.render(job.notice, job.context), job.context.key)
    shown = " ".join([raised.value.message, raised.value.excerpt or "", *raised.value.reasons])
    assert "CDP-Api-Key" in shown and KEYS["nottinghamshire-police"] not in shown


# -- answers --------------------------------------------------------------------------------


def _answering(status: int, document: Any) -> FindATenderChannel:
    return _channel(lambda request: _json(status, document))


def _sent(channel: FindATenderChannel, config: Config, examples: Examples) -> Receipt:
    job = _context(config, examples["anpr-cameras"])
    return channel.submit(channel.render(job.notice, job.context), job.context.key)


def test_access_denied_is_a_credentials_error_not_a_rejection(config: Config, examples: Examples) -> None:
    channel = _answering(400, {"status": 400, "error": "Access Denied", "message": "invalid key"})
    with pytest.raises(AuthError, match="nottinghamshire-police"):
        _sent(channel, config, examples)
    with pytest.raises(AuthError):
        channel.poll(Receipt(remote_id="20261201-000007@nottinghamshire-police", live=False))


def test_a_refused_submission_carries_find_a_tenders_words(config: Config, examples: Examples) -> None:
    channel = _answering(400, {"status": 400, "error": "Bad Request", "message": "notice is not base64"})
    with pytest.raises(RejectedError) as raised:
        _sent(channel, config, examples)
    assert raised.value.reasons == ["Bad Request", "notice is not base64"]


@pytest.mark.parametrize(
    ("status", "document", "error"),
    [
        (503, {"status": 503, "error": "Service Unavailable"}, TransientError),
        (202, {"status": "RECEIVED"}, OutcomeUnknown),  # no submission id: may be held
        (302, {}, OutcomeUnknown),
    ],
)
def test_other_answers_to_a_submission(
    config: Config, examples: Examples, status: int, document: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        _sent(_answering(status, document), config, examples)


PUBLISHED = {
    "submission_id": "20261201-000007",
    "status": "PUBLISHED",
    "no_doc_ext": "a1cc8c47",
    "publication_info": {
        "no_doc_ojs": "2026/S 000-012346",
        "publication_date": "2026-12-01T10:00:00Z",
        "truk_links": {"EN": "https://www.find-tender.service.gov.uk/Notice/012346-2026"},
        "ocids": ["ocds-h6vhtk-0a1b2c"],
    },
}


def test_a_published_submission_gives_notice_id_url_and_ocid() -> None:
    channel = _answering(200, PUBLISHED)
    receipt = channel.poll(Receipt(remote_id="20261201-000007@emscu", live=False))
    assert receipt.live and receipt.remote_id == "20261201-000007@emscu"
    assert receipt.publication_id == "012346-2026"
    assert receipt.url == "https://www.find-tender.service.gov.uk/Notice/012346-2026"
    assert "ocds-h6vhtk-0a1b2c" in receipt.status
    assert receipt.published_at == datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("document", "live", "error"),
    [
        ({**PUBLISHED, "status": "RECEIVED", "publication_info": None}, False, None),
        ({**PUBLISHED, "publication_info": None}, False, None),  # numbers not out yet
        ({**PUBLISHED, "status": "MYSTERY"}, None, OutcomeUnknown),
        (
            {
                **PUBLISHED,
                "status": "VALIDATION_FAILED",
                "reason_code": "NOTICE_RULES",
                "validation_rules_report": {
                    "errors": [{"path": "tender/value", "message": "gross below net"}]
                },
            },
            None,
            RejectedError,
        ),
    ],
)
def test_status_checks_map_each_status(
    document: Any, live: bool | None, error: type[Exception] | None
) -> None:
    channel = _answering(200, document)
    receipt = Receipt(remote_id="20261201-000007@emscu", live=False)
    if error is None:
        assert channel.poll(receipt).live is live
        return
    with pytest.raises(error) as raised:
        channel.poll(receipt)
    if isinstance(raised.value, RejectedError):
        assert raised.value.reasons == ["reason code NOTICE_RULES", "tender/value: gross below net"]


def test_a_status_check_of_an_unknown_submission_is_an_unknown_outcome() -> None:
    with pytest.raises(OutcomeUnknown):
        _answering(404, {"status": 404, "error": "Not Found"}).poll(
            Receipt(remote_id="x-1@emscu", live=False)
        )
    with pytest.raises(OutcomeUnknown, match="not <submission id>@<buyer id>"):
        _answering(200, PUBLISHED).poll(Receipt(remote_id="20261201-000007", live=False))


# -- adopt mode -----------------------------------------------------------------------------


def _fts_release(reference: str, buyer: str, number: str, tag: str = "tender", notice: str = "UK4") -> Any:
    """A release as Find a Tender publishes it."""
    return {
        "ocid": "ocds-h6vhtk-0c0ffe",
        "id": f"ocds-h6vhtk-0c0ffe-{number}",
        "date": "2026-11-30T10:00:00Z",
        "tag": [tag],
        "parties": [{"id": buyer, "roles": ["buyer"]}],
        "buyer": {"id": buyer},
        "tender": {
            "id": reference,
            "documents": [
                {
                    "id": number,
                    "documentType": "tenderNotice",
                    "noticeType": notice,
                    "url": f"https://www.find-tender.service.gov.uk/Notice/{number}",
                    "datePublished": "2026-11-30T10:00:00Z",
                }
            ],
        },
    }


def _public(pages: list[list[Any]], seen: list[requests.PreparedRequest]) -> Handler:
    """The public API serving `pages`, linked by cursors."""

    def answer(request: requests.PreparedRequest) -> Response:
        seen.append(request)
        query = parse_qs(urlsplit(request.url or "").query)
        index = int(query.get("cursor", ["0"])[0])
        package: dict[str, Any] = {"version": "1.1", "releases": pages[index]}
        if index + 1 < len(pages):
            package["links"] = {
                "next": f"https://public.fts.test/api/1.0/ocdsReleasePackages?cursor={index + 1}"
            }
        return _json(200, package)

    return answer


def _adopting(
    config: Config, examples: Examples, kind: NoticeKind = NoticeKind.CONTRACT
) -> tuple[Job, RenderContext]:
    job = _context(config, examples["agency-staff"], kind)  # derbyshire-constabulary adopts
    assert job.context.buyer.fts_mode == "adopt"
    return job, job.context


def test_adopt_mode_renders_the_notice_but_marks_it_for_looking_up(
    config: Config, examples: Examples
) -> None:
    job, context = _adopting(config, examples)
    rendered = _channel().render(job.notice, context)
    assert rendered.operation == "adopt" and json.loads(rendered.body)["tag"] == ["tender"]
    lookup = Lookup.parse(rendered.target or "")
    assert lookup == Lookup(
        "DERBYS-2026-0077", ("GB-PPON-PZLQ-6388-PQDJ",), NoticeKind.CONTRACT, DISPATCHED_AT
    )


def test_adopt_mode_finds_the_buyers_notice_on_a_later_page_and_never_submits(
    config: Config, examples: Examples
) -> None:
    seen: list[requests.PreparedRequest] = []
    pages = [
        [_fts_release("DERBYS-2026-0077", "GB-PPON-AAAA-1111-BBBB", "000100-2026")],  # another buyer
        [
            _fts_release("DERBYS-2026-0078", "GB-PPON-PZLQ-6388-PQDJ", "000101-2026"),  # another tender
            _fts_release("DERBYS-2026-0077", "GB-PPON-PZLQ-6388-PQDJ", "000102-2026"),
        ],
    ]
    channel = _channel(_public(pages, seen))
    job, context = _adopting(config, examples)
    receipt = channel.submit(channel.render(job.notice, context), context.key)
    assert receipt.live and receipt.publication_id == "000102-2026"
    assert receipt.url == "https://www.find-tender.service.gov.uk/Notice/000102-2026"
    assert "ocds-h6vhtk-0c0ffe" in receipt.status
    assert [r.method for r in seen] == ["GET", "GET"] and all("CDP-Api-Key" not in r.headers for r in seen)
    first = parse_qs(urlsplit(seen[0].url or "").query)
    assert first["stages"] == ["tender"] and first["updatedFrom"] == ["2026-11-01T09:00:00"]


def test_adopt_mode_matches_older_identifiers_and_adopts_the_next_revision(
    config: Config, examples: Examples
) -> None:
    ids = ("GB-PPON-PGLQ-4189-YYPY", "GB-FTS-135781")
    lookup = Lookup("NOTTS-1", ids, NoticeKind.CHANGE, DISPATCHED_AT, seen=1)  # one revision carried
    original = _fts_release("NOTTS-1", "GB-FTS-135781", "000001-2026")
    carried = _fts_release("NOTTS-1", "GB-FTS-135781", "000002-2026", tag="tenderUpdate")
    newer = _fts_release("NOTTS-1", "GB-FTS-135781", "000003-2026", tag="tenderUpdate")
    channel = _channel(_public([[original, carried, carried, newer]], []))
    receipt = channel.poll(Receipt(remote_id=lookup.token(), live=False))
    assert receipt.live and receipt.publication_id == "000003-2026"
    assert (
        _channel(_public([[original, carried]], [])).poll(Receipt(remote_id=lookup.token(), live=False)).live
        is False
    )


def test_the_look_up_fits_the_remote_id_column() -> None:
    ids = ("GB-PPON-PGLQ-4189-YYPY", "GB-FTS-135781", "GB-FTS-999999")
    plain = Lookup("R" * 64, ids, NoticeKind.CHANGE, DISPATCHED_AT, 2)
    assert Lookup.parse(plain.token()) == plain
    slashed = replace(plain, reference="A" + "/B" * 30 + "CCC")  # each / is written %2F
    token = slashed.token()
    assert len(token) <= 200 and Lookup.parse(token) == replace(slashed, identifiers=ids[:1])
    with pytest.raises(ValueError, match="does not fit"):
        replace(plain, reference="A" + "/" * 63).token()
    assert Lookup.parse("20261201-000007@emscu") is None
    assert Lookup.parse("adopt?r=X&k=planning&n=0&t=20261201T090000Z&b=y") is None


def test_adopt_mode_keeps_looking_then_fails_after_the_configured_time(
    config: Config, examples: Examples
) -> None:
    now = [DISPATCHED_AT]
    channel = _channel(_public([[]], []), clock=lambda: now[0], adopt_within="2h")
    job, context = _adopting(config, examples)
    receipt = channel.submit(channel.render(job.notice, context), context.key)
    assert not receipt.live and receipt.remote_id == Lookup.parse(receipt.remote_id or "").token()  # type: ignore[union-attr]
    now[0] = DISPATCHED_AT + timedelta(hours=1, minutes=59)
    assert channel.poll(Receipt(remote_id=receipt.remote_id, live=False)).live is False
    now[0] = DISPATCHED_AT + timedelta(hours=2)
    with pytest.raises(RejectedError, match="not found on Find a Tender after 2h"):
        channel.poll(Receipt(remote_id=receipt.remote_id, live=False))


def test_adopt_mode_reads_a_bounded_number_of_pages(config: Config, examples: Examples) -> None:
    seen: list[requests.PreparedRequest] = []
    channel = _channel(_public([[] for _ in range(10)], seen), adopt_pages=3)
    job, context = _adopting(config, examples)
    assert channel.submit(channel.render(job.notice, context), context.key).live is False
    assert len(seen) == 3
