"""The tender record contract: every rule gives one problem naming its field."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from syndicator.domain.tender import TenderContext
from syndicator.intake.records import read_bytes, read_file
from tests.unit.records_factory import BASE, record

CONTEXT = TenderContext(
    buyers=frozenset({"emscu", "derbyshire-constabulary"}),
    earliest_publication=date(2012, 1, 1),
    today=date(2026, 11, 26),
)


def problems(data: object) -> list[tuple[str, str]]:
    """(field, message) of every problem found in `data`."""
    _, found = read_bytes(json.dumps(data).encode(), CONTEXT)
    return [(p.field, p.message) for p in found]


def fields(data: object) -> list[str]:
    return [field for field, _ in problems(data)]


def test_the_base_record_is_valid() -> None:
    parsed, found = read_bytes(json.dumps(BASE).encode(), CONTEXT)
    assert found == []
    tender = parsed[0].tender
    assert tender.estimated_value.amount == Decimal("100000.00")
    assert tender.publication_date == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference": ""}, "reference"),
        ({"reference": "-starts-with-dash"}, "reference"),
        ({"reference": "has space"}, "reference"),
        ({"reference": "x" * 65}, "reference"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "tab\there"}, "title"),
        ({"description": ""}, "description"),
        ({"description": "x" * 10_001}, "description"),
        ({"description": "bell\x07"}, "description"),
        ({"buyer": "west-mercia-police"}, "buyer"),
        ({"contract_type": "goods"}, "contract_type"),
        ({"procedure": "negotiated"}, "procedure"),
        ({"cpv": []}, "cpv"),
        ({"cpv": ["1234567"]}, "cpv"),
        ({"cpv": ["12345678-12"]}, "cpv"),
        ({"cpv": ["35125300"] * 21}, "cpv"),
        ({"place_of_performance": {"postcode": "NG5 8PP"}}, "place_of_performance.town"),
        (
            {"place_of_performance": {"town": "N", "postcode": "12345"}},
            "place_of_performance.postcode",
        ),
        ({"place_of_performance": {"town": "N", "country": "FR"}}, "place_of_performance.country"),
        ({"publication_date": "01/12/2026"}, "publication_date"),
        ({"publication_date": "2011-12-31"}, "publication_date"),
        ({"publication_date": "2028-01-01"}, "publication_date"),
        ({"submission_deadline": "2027-01-15"}, "submission_deadline"),
        ({"submission_deadline": "2027-01-15T12:00:00"}, "submission_deadline"),
        ({"submission_deadline": ...}, "submission_deadline"),
        ({"submission_deadline": "2026-12-01T23:00:00Z"}, "submission_deadline"),
        ({"submission_deadline": "2031-01-01T12:00:00Z"}, "submission_deadline"),
        ({"duration_months": 0}, "duration_months"),
        ({"duration_months": 241}, "duration_months"),
        ({"duration_months": "12"}, "duration_months"),
        ({"duration_months": True}, "duration_months"),
        ({"documents_url": "http://example.org/docs"}, "documents_url"),
        ({"documents_url": "not a url"}, "documents_url"),
        ({"contact": {"name": "A", "email": "not-an-email"}}, "contact.email"),
        ({"contact": {"name": "A", "email": "a@b.uk", "phone": "call me"}}, "contact.phone"),
        ({"contact": {"email": "a@b.uk"}}, "contact.name"),
        ({"sme_suitable": "yes"}, "sme_suitable"),
        ({"colour": "blue"}, "colour"),
        ({"lots": [{"number": 0, "title": "A"}]}, "lots[0].number"),
        ({"lots": [{"number": 1}]}, "lots[0].title"),
        ({"lots": [{"number": 1, "title": "A"}, {"number": 1, "title": "B"}]}, "lots"),
        ({"lots": [{"number": 1, "title": "A", "cpv": ["x"]}]}, "lots[0].cpv"),
    ],
)
def test_each_rule_names_its_field(change: dict[str, object], field: str) -> None:
    made = record(**change)
    assert fields(made) == [field], problems(made)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "must not be negative"),
        ("12.345", "more than 2 decimal places"),
        ("abc", "is not a number"),
        ("1e13", "implausibly large"),
        (True, "must be a number"),
        (None, "must be a number"),
    ],
)
def test_amounts_are_exact_and_sane(amount: object, message: str) -> None:
    made = record(estimated_value={"amount": amount, "currency": "GBP"})
    found = problems(made)
    assert [f for f, _ in found] == ["estimated_value.amount"]
    assert message in found[0][1]


def test_a_json_number_amount_is_kept_exact() -> None:
    raw = json.dumps(record()).replace('"100000.00"', "100000.10").encode()
    parsed, found = read_bytes(raw, CONTEXT)
    assert not found
    assert parsed[0].tender.estimated_value.amount == Decimal("100000.10")


def test_only_gbp() -> None:
    assert fields(record(estimated_value={"amount": "1", "currency": "EUR"})) == ["estimated_value.currency"]


def test_framework_call_off_needs_no_deadline() -> None:
    assert fields(record(procedure="framework-call-off", submission_deadline=...)) == []


def test_publication_date_defaults_to_today() -> None:
    parsed, _ = read_bytes(
        json.dumps(record(publication_date=..., submission_deadline="2027-01-15T12:00:00Z")).encode(),
        CONTEXT,
    )
    assert parsed[0].tender.publication_date == CONTEXT.today


def test_lot_values_must_not_exceed_the_tender_value() -> None:
    lots = [
        {"number": 1, "title": "A", "estimated_value": {"amount": "60000", "currency": "GBP"}},
        {"number": 2, "title": "B", "estimated_value": {"amount": "50000", "currency": "GBP"}},
    ]
    found = problems(record(lots=lots))
    assert found[0][0] == "lots" and "£110,000.00" in found[0][1]


def test_lot_values_are_compared_net_of_vat() -> None:
    lots = [
        {
            "number": 1,
            "title": "A",
            "estimated_value": {"amount": "120000", "currency": "GBP", "vat_included": True},
        }
    ]
    assert fields(record(lots=lots)) == []


def test_postcode_is_normalised() -> None:
    parsed, _ = read_bytes(
        json.dumps(record(place_of_performance={"town": "Derby", "postcode": "de53rs"})).encode(),
        CONTEXT,
    )
    assert parsed[0].tender.place_of_performance.postcode == "DE5 3RS"


def test_title_is_trimmed() -> None:
    parsed, _ = read_bytes(json.dumps(record(title="  ANPR  ")).encode(), CONTEXT)
    assert parsed[0].tender.title == "ANPR"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "malformed JSON"),
        (b"{", "malformed JSON"),
        (b"[]", "the array is empty"),
        (b"NaN", "not a number JSON allows"),
        (b"\xff\xfe", "not UTF-8"),
        (b"42", "must be a JSON object"),
        (b"[1, 2]", "must be a JSON object"),
    ],
)
def test_broken_documents_get_a_line_not_a_traceback(raw: bytes, expected: str) -> None:
    _, found = read_bytes(raw, CONTEXT)
    assert found and expected in found[0].message


def test_problems_name_the_record_by_reference_or_position() -> None:
    data = [record(reference="GOOD-1"), record(reference="BAD-1", title=""), {"title": "x"}]
    _, found = read_bytes(json.dumps(data).encode(), CONTEXT)
    assert {p.record for p in found} == {"BAD-1", "#3"}


def test_the_same_reference_twice_in_one_file_is_refused() -> None:
    _, found = read_bytes(json.dumps([record(), record()]).encode(), CONTEXT)
    assert [(p.record, p.field) for p in found] == [("TEST-2026-0001", "reference")]


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert read_file(tmp_path / "nope.json", CONTEXT)[1][0].message == "no such file"
    assert "directory" in read_file(tmp_path, CONTEXT)[1][0].message


def test_problem_line_format() -> None:
    _, found = read_bytes(json.dumps(record(buyer="nobody")).encode(), CONTEXT)
    assert found[0].line("t.json").startswith("t.json: TEST-2026-0001: buyer: 'nobody' is not a known buyer")


def _text_fields(value: object, path: str = "") -> list[tuple[str, list[str | int]]]:
    """(field path, location) of every string in a record, lots included."""
    if isinstance(value, str):
        return [(path, [])]
    found: list[tuple[str, list[str | int]]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, item in items:
        sub = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
        found += [(p, [key, *loc]) for p, loc in _text_fields(item, sub)]
    return found


FULL = record(
    contact={"name": "EMSCU", "email": "emscu@example.police.uk", "phone": "0115 967 0999"},
    lots=[{"number": 1, "title": "Cameras", "description": "Lot one.", "cpv": ["35125300-2"]}],
)


@pytest.mark.parametrize(("field", "location"), _text_fields(FULL), ids=[p for p, _ in _text_fields(FULL)])
@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x85"])
@pytest.mark.parametrize("where", [3, -2])
def test_no_text_field_accepts_a_control_character(
    field: str, location: list, character: str, where: int
) -> None:
    # PostgreSQL refuses NUL in text (a 500), and a control character would reach notices and e-mail.
    changed = json.loads(json.dumps(FULL))
    target = changed
    for key in location[:-1]:
        target = target[key]
    text = target[location[-1]]
    target[location[-1]] = text[:where] + character + text[where:]
    found = problems(changed)
    assert found and all(field == f or field.startswith(f"{f}[") for f, _ in found), (field, found)


def test_a_description_may_hold_newlines_and_tabs() -> None:
    assert problems(record(description="Line one.\n\tLine two.\r\n")) == []
