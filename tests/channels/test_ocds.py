"""`channels/ocds/`, the building blocks of every OCDS-based channel: deterministic JSON, the
codelists against the standard, the schema check (offline, same verdicts as the simulator's
own), and the builders' output, valid against OCDS 1.1.5 and, where Find a Tender needs it,
against the UK profile."""

from __future__ import annotations

import csv
import json
import socket
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from channels.ocds import codelists
from channels.ocds.amendments import amendment, describe
from channels.ocds.codelists import CLOSED, OPEN, PartyRole, ReleaseTag
from channels.ocds.documents import primary_notice
from channels.ocds.parties import party, reference
from channels.ocds.release import TAGS, mint_ocid, package, publisher, release, tag
from channels.ocds.schema import OCDS_1_1_5, OcdsSchema, schema
from channels.ocds.serialize import dumps, instant
from channels.ocds.tender import section
from channels.ocds.values import period, value
from syndicator.channel.errors import RenderError
from syndicator.config.settings import Config
from syndicator.domain.notices import FieldChange, Notice, NoticeKind, NoticeRef
from syndicator.domain.tender import Money, Tender
from syndicator.sandbox.sem import package_validator, schema_errors
from tests.conftest import DISPATCHED_AT, shared_standards

Examples = dict[str, Tender]


def _codes(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["Code"] for row in csv.DictReader(handle)]


def _enum(where: str) -> list[str]:
    """The enum of a release-schema.json field ('tag', 'Tender.status')."""
    found: dict[str, Any] = schema().release_schema
    if "." in where:
        definition, name = where.split(".")
        field = found["definitions"][definition]["properties"][name]
    else:
        field = found["properties"][where]
    enum = field.get("enum") or field["items"]["enum"]
    return [code for code in enum if code is not None]


def _package(config: Config, tender: Tender, **options: Any) -> dict[str, Any]:
    """A package built from the builders alone, as an OCDS-based channel would."""
    buyer = config.buyers.get(tender.buyer)
    one = release(
        ocid=mint_ocid("ocds-test01", tender.buyer, tender.reference),
        release_id="r-1",
        date=DISPATCHED_AT,
        tags=[ReleaseTag.TENDER],
        parties=[party(buyer, [PartyRole.BUYER], contact=tender.contact, **options.pop("party", {}))],
        buyer=reference(buyer),
        tender=section(tender, buyer=buyer, vat_rate=Decimal("0.20"), opened=DISPATCHED_AT, **options),
    )
    return package([one], uri="urn:example:1", published=DISPATCHED_AT, by=publisher("EMSCU"))


# -- deterministic JSON ----------------------------------------------------------------------


def test_dumps_keeps_the_built_order_and_layout() -> None:
    document = {"z": 1, "a": [True, None, "x"], "m": {}, "e": [], "t": ("tuple",)}
    assert dumps(document) == (
        b'{\n  "z": 1,\n  "a": [\n    true,\n    null,\n    "x"\n  ],\n  "m": {},\n  "e": [],\n'
        b'  "t": [\n    "tuple"\n  ]\n}\n'
    )
    assert dumps(document) == dumps(dict(document))


@pytest.mark.parametrize(
    ("amount", "written"),
    [("380000", b"380000.00"), ("1234.5", b"1234.50"), ("0.1", b"0.10"), ("1E+3", b"1000.00")],
)
def test_money_has_exactly_two_decimals(amount: str, written: bytes) -> None:
    assert dumps({"amount": Decimal(amount)}) == b'{\n  "amount": ' + written + b"\n}\n"


def test_what_is_not_an_amount_or_an_instant_is_refused() -> None:
    for bad in (Decimal("NaN"), Decimal("Infinity"), datetime(2026, 12, 1, 9, 0)):
        with pytest.raises(RenderError):
            dumps({"x": bad})
    with pytest.raises(TypeError):
        dumps({"amount": 1.5})  # a float cannot hold every pence value


def test_instants_are_rfc_3339_with_their_offset() -> None:
    assert instant(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == "2026-12-01T09:00:00Z"
    summer = timezone(timedelta(hours=1))
    assert instant(datetime(2027, 6, 1, 12, 0, tzinfo=summer)) == "2027-06-01T12:00:00+01:00"
    assert dumps({"d": datetime(2026, 12, 1, 9, 0, tzinfo=UTC)}) == b'{\n  "d": "2026-12-01T09:00:00Z"\n}\n'


def test_hostile_text_is_string_content() -> None:
    text = 'a"b\\c</script>]]>{"x": 1}\x00\x07\x1b\n\u2028 £ 東京 🚓'
    body = dumps({"text": text, 'key "quoted"': text})
    assert json.loads(body) == {"text": text, 'key "quoted"': text}
    assert b"\\u0000" in body and b"\\u001b" in body and "£ 東京 🚓".encode() in body
    assert not any(byte < 0x20 and byte != 0x0A for byte in body)


def test_text_that_is_not_unicode_is_refused() -> None:
    with pytest.raises(RenderError, match="not Unicode"):
        dumps({"text": "half a pair \ud800"})


# -- codelists -------------------------------------------------------------------------------


@pytest.mark.parametrize("enum", list(CLOSED), ids=lambda e: e.__name__)
def test_closed_codelists_are_the_schema_enums(enum: type[StrEnum]) -> None:
    _, where = CLOSED[enum]
    assert [member.value for member in enum] == _enum(where)


@pytest.mark.parametrize("enum", list(CLOSED), ids=lambda e: e.__name__)
def test_closed_codelists_are_the_standard_csvs(enum: type[StrEnum]) -> None:
    csv_name, _ = CLOSED[enum]
    assert [member.value for member in enum] == _codes(shared_standards() / "ocds/1.1.5/codelists" / csv_name)


@pytest.mark.parametrize("enum", list(OPEN), ids=lambda e: e.__name__)
def test_open_codelist_codes_are_in_the_standard(enum: type[StrEnum]) -> None:
    codes = set(_codes(shared_standards() / "ocds/1.1.5/codelists" / OPEN[enum]))
    assert {member.value for member in enum} <= codes


def test_every_codelist_enum_is_listed() -> None:
    enums = {v for v in vars(codelists).values() if isinstance(v, type) and issubclass(v, StrEnum)}
    assert enums - {StrEnum} == set(CLOSED) | set(OPEN)


def test_every_notice_kind_has_a_release_tag() -> None:
    assert set(TAGS) == set(NoticeKind)
    tender: Any = None
    assert tag(Notice(NoticeKind.CHANGE, tender)) is ReleaseTag.TENDER_AMENDMENT
    assert tag(Notice(NoticeKind.CHANGE, tender, correction=True)) is ReleaseTag.TENDER_UPDATE
    assert tag(Notice(NoticeKind.CANCELLATION, tender)) is ReleaseTag.TENDER_CANCELLATION


# -- schema check ----------------------------------------------------------------------------

VENDORED = ("release-schema.json", "release-package-schema.json", "LICENSE")


def test_the_vendored_schema_is_the_reference_copy() -> None:
    reference_copy = shared_standards() / "ocds" / "1.1.5"
    for name in VENDORED:
        assert (OCDS_1_1_5 / name).read_bytes() == (reference_copy / name).read_bytes(), name


def test_the_schema_loads_and_checks_without_the_network(
    config: Config, examples: Examples, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the schema check tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    checked = OcdsSchema(OCDS_1_1_5)  # the release schema is reached through its canonical URL
    document = json.loads(dumps(_package(config, examples["anpr-cameras"])))
    assert checked.package_errors(document) == []
    assert len(checked.package_errors(_tampered(config, examples))) == 4


def _tampered(config: Config, examples: Examples) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(dumps(_package(config, examples["anpr-cameras"])))
    document["releases"][0]["tender"]["procurementMethod"] = "negotiated"
    document["releases"][0]["date"] = "1 December 2026"
    document["releases"][0]["tag"] = ["tenderWithdrawal"]
    del document["publisher"]
    return document


def test_the_schema_refuses_what_ocds_refuses(config: Config, examples: Examples) -> None:
    document = _tampered(config, examples)
    errors = schema().package_errors(document)
    assert [e.path for e in errors] == [
        "",
        "releases/0/date",
        "releases/0/tag/0",
        "releases/0/tender/procurementMethod",
    ]
    assert schema().release_errors(document["releases"][0]) != []
    with pytest.raises(RenderError) as caught:
        schema().check_package(document, "some-portal")
    assert caught.value.message.startswith("some-portal: the release package breaks ocds-1.1.5: (root): ")
    assert "releases/0/tender/procurementMethod: 'negotiated' is not one of" in caught.value.message


def test_the_simulator_s_own_check_gives_the_same_verdicts(config: Config, examples: Examples) -> None:
    """The sandbox validates by path, never through channels/: both must agree."""
    good = json.loads(dumps(_package(config, examples["it-managed-service"])))
    for document in (good, _tampered(config, examples)):
        ours = [(e.path, e.message) for e in schema().package_errors(document)]
        theirs = [(e["path"], e["message"]) for e in schema_errors(package_validator(), document)]
        assert ours == theirs


# -- builders --------------------------------------------------------------------------------


def test_values_are_net_with_gross_on_request() -> None:
    gross = Money(amount=Decimal("600000.00"), currency="GBP", vat_included=True)
    assert value(gross, Decimal("0.20")) == {"amount": Decimal("500000.00"), "currency": "GBP"}
    assert value(gross, Decimal("0.20"), gross=True) == {
        "amount": Decimal("500000.00"),
        "amountGross": Decimal("600000.00"),
        "currency": "GBP",
    }
    assert period(DISPATCHED_AT) == {"startDate": DISPATCHED_AT}
    assert period(days=30) == {"durationInDays": 30}


def test_an_amendment_names_both_releases() -> None:
    changes = (
        FieldChange("submission_deadline", "Submission deadline", "2027-01-15T12:00Z", "2027-01-29T12:00Z"),
        FieldChange("description", "Description", "x" * 200, "y" * 200),
        FieldChange("lots[number=3]", "Lot 3", None, "Body armour"),
    )
    assert describe(changes) == (
        "Submission deadline: 2027-01-15T12:00Z -> 2027-01-29T12:00Z\n"
        "Description: changed\n"
        "Lot 3: added (Body armour)"
    )
    assert describe(()) is None
    entry = amendment("change-v2", DISPATCHED_AT, amends="r-1", release="r-2", rationale="why")
    assert list(entry) == ["id", "date", "rationale", "amendsReleaseID", "releaseID"]
    assert list(amendment("a", DISPATCHED_AT, amends="r-1", release="r-2")) == [
        "id",
        "date",
        "amendsReleaseID",
        "releaseID",
    ]


def test_the_primary_notice_is_described_from_what_is_known() -> None:
    bare = NoticeRef("find-a-tender", NoticeKind.CONTRACT, 1, "submitted", "k", title="Find a Tender")
    assert primary_notice(bare)["description"] == "Find a Tender notice"
    sent = NoticeRef(
        "find-a-tender",
        NoticeKind.AWARD,
        3,
        "submitted",
        "k",
        remote_id="FTS-77",
        dispatched_at=datetime(2027, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-1))),
    )
    document = primary_notice(sent)
    assert (document["id"], document["documentType"], document["title"]) == (
        "find-a-tender-award-v3",
        "awardNotice",
        "Contract award notice sent to find-a-tender",
    )
    assert document["description"] == "find-a-tender notice FTS-77, dispatched on 2027-03-02"  # in UTC


def test_ocids_are_url_safe_and_distinct() -> None:
    assert mint_ocid("ocds-emsx01", "emscu", "EMSCU/2026/1") == "ocds-emsx01-emscu_EMSCU~2026~1"
    slashed, underscored = "EMSCU/2026/1", "EMSCU_2026_1"
    assert mint_ocid("ocds-emsx01", "emscu", slashed) != mint_ocid("ocds-emsx01", "emscu", underscored)
    assert mint_ocid("ocds-emsx01", "a-b", "c") != mint_ocid("ocds-emsx01", "a", "b-c")


def test_the_builders_make_valid_ocds_1_1_5(config: Config, examples: Examples) -> None:
    for name, tender in examples.items():
        document = json.loads(dumps(_package(config, tender)))
        assert schema().package_errors(document) == [], name


def test_the_builders_fit_the_uk_profile_find_a_tender_uses(config: Config, examples: Examples) -> None:
    """Gross values and a GB-PPON identifier, as a UK4 needs, valid against the UK profile."""
    uk = OcdsSchema(shared_standards() / "ocds" / "profiles" / "uk")
    identifier = {"scheme": "GB-PPON", "id": "PGLQ-4189-YYPY"}
    for name, tender in examples.items():
        built = _package(config, tender, gross=True, party={"identifier": identifier})
        document = json.loads(dumps(built))
        assert uk.package_errors(document) == [], name
        section_ = document["releases"][0]["tender"]
        values = [section_["value"], *(lot["value"] for lot in section_.get("lots", []) if "value" in lot)]
        assert all(set(v) == {"amount", "amountGross", "currency"} for v in values), name


# -- awards and contracts --------------------------------------------------------------------


def test_a_supplier_winning_two_lots_is_one_party_and_ids_pair_awards_with_contracts(
    examples: dict[str, Tender],
) -> None:
    from channels.ocds import awards as awarding
    from tests.channels.awards import award_of

    tender = examples["it-software"]  # two lots, one supplier for both
    award = award_of(tender, signed=True)
    (supplier,) = awarding.supplier_parties(award)
    assert (supplier["id"], supplier["roles"]) == ("GB-COH-04567321", ["supplier"])
    listed = awarding.awards(award, tender, vat_rate=Decimal("0.20"))
    signed = awarding.contracts(award, [1, 2], tender, vat_rate=Decimal("0.20"))
    assert [a["id"] for a in listed] == [c["awardID"] for c in signed] == ["award-lot-1", "award-lot-2"]
    assert [c["id"] for c in signed] == ["contract-lot-1", "contract-lot-2"]
    undivided = award_of(examples["anpr-cameras"]).model_copy(update={"tenders_received": None})
    assert awarding.bid_statistics(undivided) is None
    assert [
        a["id"] for a in awarding.awards(undivided, examples["anpr-cameras"], vat_rate=Decimal("0.20"))
    ] == ["award-whole"]
    with pytest.raises(RenderError, match="names none"):
        awarding.contracts(award, [], tender, vat_rate=Decimal("0.20"))
