"""The shipped routing policy: every rule at and around its boundary."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from syndicator.config.settings import Config
from syndicator.intake.records import read_bytes
from syndicator.routing.policy import Route, route
from syndicator.runtime.wiring import tender_context
from tests.unit.records_factory import valued

PUBLIC = ["bluelight", "crystal", "source-east-midlands"]


def routed(config: Config, data: dict[str, object]) -> Route:
    parsed, problems = read_bytes(json.dumps(data).encode(), tender_context(config, date(2026, 11, 26)))
    assert not problems, problems
    return route(parsed[0].tender, config.policy, config.thresholds)


def names(config: Config, data: dict[str, object]) -> list[str]:
    return routed(config, data).names()


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", []),
        ("9999.99", []),
        ("10000.00", []),
        ("10000.01", ["bluelight"]),
        ("24999.99", ["bluelight"]),
        ("25000.00", PUBLIC),
    ],
)
def test_local_limits(config: Config, amount: str, expected: list[str]) -> None:
    assert names(config, valued(amount, cpv=["39000000-2"])) == expected


def test_exactly_ten_thousand_says_why(config: Config) -> None:
    plan = routed(config, valued("10000.00"))
    assert plan.not_advertised is not None
    assert "£10,000.00 does not exceed £10,000.00" in plan.not_advertised


@pytest.mark.parametrize(
    ("gross", "expected"),
    [
        ("12000.00", []),
        ("12000.02", ["bluelight"]),
        ("29999.99", ["bluelight"]),
        ("30000.00", PUBLIC),
    ],
)
def test_vat_inclusive_values_are_converted_to_net(config: Config, gross: str, expected: list[str]) -> None:
    assert names(config, valued(gross, vat_included=True, cpv=["39000000-2"])) == expected


# (period start, basis, supplies/services threshold, works threshold) from thresholds.toml
PERIODS = [
    ("2012-06-01", "net", "173934", "4348350"),
    ("2014-06-01", "net", "172514", "4322012"),
    ("2016-06-01", "net", "164176", "4104394"),
    ("2018-06-01", "net", "181302", "4551413"),
    ("2020-06-01", "net", "189330", "4733252"),
    ("2022-06-01", "gross", "213477", "5336937"),
    ("2024-06-01", "gross", "214904", "5372609"),
    ("2026-06-01", "gross", "207720", "5193000"),
]


@pytest.mark.parametrize(("day", "basis", "supplies", "works"), PERIODS)
@pytest.mark.parametrize("contract_type", ["supplies", "services", "works"])
def test_each_dated_threshold(
    config: Config, day: str, basis: str, supplies: str, works: str, contract_type: str
) -> None:
    limit = Decimal(works if contract_type == "works" else supplies)
    deadline = (date.fromisoformat(day) + timedelta(days=40)).isoformat() + "T12:00:00Z"
    vat_included = basis == "gross"  # give the value on the threshold's own basis
    at = valued(
        str(limit),
        vat_included,
        publication_date=day,
        submission_deadline=deadline,
        contract_type=contract_type,
        cpv=["39000000-2"],
    )
    below = valued(
        str(limit - Decimal("0.01")),
        vat_included,
        publication_date=day,
        submission_deadline=deadline,
        contract_type=contract_type,
        cpv=["39000000-2"],
    )
    assert "ted" in names(config, at)
    assert "ted" not in names(config, below)


def test_gross_thresholds_compare_net_values_with_vat_added(config: Config) -> None:
    # 2026: £207,720 including VAT is £173,100 net.
    assert "ted" in names(config, valued("173100.00", cpv=["39000000-2"]))
    assert "ted" not in names(config, valued("173099.99", cpv=["39000000-2"]))


def test_net_thresholds_compare_net_values(config: Config) -> None:
    day = {
        "publication_date": "2019-03-01",
        "submission_deadline": "2019-05-01T12:00:00Z",
        "cpv": ["39000000-2"],
    }
    assert "ted" in names(config, valued("181302.00", **day))
    assert "ted" not in names(config, valued("181301.99", **day))
    # a VAT-inclusive figure is converted to net first: 217,562.40 / 1.2 = 181,302.00
    assert "ted" in names(config, valued("217562.40", vat_included=True, **day))


def test_works_use_the_works_threshold(config: Config) -> None:
    assert "ted" not in names(config, valued("1000000", contract_type="works", cpv=["45000000-7"]))
    assert "ted" in names(config, valued("4327500", contract_type="works", cpv=["45000000-7"]))


def test_ted_gates_every_other_destination(config: Config) -> None:
    plan = routed(config, valued("500000", cpv=["35125300-2"]))
    assert plan.names()[0] == "ted"
    assert plan.destinations[0].after is None
    assert all(entry.after == "ted" for entry in plan.destinations[1:])
    assert "trade-press:police-technology-press" in plan.names()


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("24999.99", []), ("25000.00", ["crystal"]), ("900000.00", ["crystal"])],
)
def test_framework_call_offs_go_to_crystal_only(config: Config, amount: str, expected: list[str]) -> None:
    data = valued(amount, procedure="framework-call-off", submission_deadline=..., cpv=["35125300-2"])
    plan = routed(config, data)
    assert plan.names() == expected
    assert all(entry.after is None for entry in plan.destinations)
    if not expected:
        assert "framework call-off" in (plan.not_advertised or "")


@pytest.mark.parametrize(
    ("cpv", "publication"),
    [
        ("45216111-5", "construction-press"),
        ("71319000-7", "construction-press"),
        ("34970000-2", "police-technology-press"),
        ("35125300-2", "police-technology-press"),
        ("48000000-8", "police-technology-press"),
        ("72500000-0", "police-technology-press"),
        ("79620000-6", "recruitment-press"),
    ],
)
def test_trade_press_matches_the_main_cpv(config: Config, cpv: str, publication: str) -> None:
    assert names(config, valued("50000", cpv=[cpv]))[-1] == f"trade-press:{publication}"


def test_trade_press_ignores_secondary_cpv_codes_and_small_values(config: Config) -> None:
    assert not any(
        n.startswith("trade-press") for n in names(config, valued("50000", cpv=["39000000-2", "45000000-7"]))
    )
    assert not any(n.startswith("trade-press") for n in names(config, valued("24999.99", cpv=["45000000-7"])))
    assert not any(n.startswith("trade-press") for n in names(config, valued("50000", cpv=["79700000-1"])))


def test_short_tender_periods_warn_above_threshold(config: Config) -> None:
    short_open = valued("500000", submission_deadline="2026-12-20T12:00:00Z")
    assert "19 days" in routed(config, short_open).warnings[0]
    short_restricted = valued("500000", procedure="restricted", submission_deadline="2026-12-20T12:00:00Z")
    assert "at least 25 days" in routed(config, short_restricted).warnings[0]
    long_restricted = valued("500000", procedure="restricted", submission_deadline="2026-12-27T12:00:00Z")
    assert routed(config, long_restricted).warnings == []
    below_threshold = valued("50000", submission_deadline="2026-12-05T12:00:00Z")
    assert routed(config, below_threshold).warnings == []


def test_route_json_shape(config: Config) -> None:
    data = routed(config, valued("50000", cpv=["45000000-7"])).as_dict()
    assert set(data) == {"reference", "buyer", "destinations", "not_advertised", "warnings", "primary"}
    assert set(data["destinations"][0]) == {"destination", "reasons", "after"}
    assert all(entry["reasons"] for entry in data["destinations"])


def test_shipped_examples_route_as_documented(config: Config, examples: dict) -> None:
    got = {name: route(t, config.policy, config.thresholds).names() for name, t in examples.items()}
    assert got["below-threshold"] == []
    assert got["framework-call-off"] == ["crystal"]
    assert got["anpr-cameras"][0] == "ted"
    assert got["it-managed-service"][0] == "ted"
    assert (
        "ted" not in got["construction-works"]
        and "trade-press:construction-press" in got["construction-works"]
    )
    assert got["agency-staff"] == [*PUBLIC, "trade-press:recruitment-press"]


def test_a_tender_for_ted_needs_a_documents_url(config: Config) -> None:
    from syndicator.runtime.wiring import route_check

    context = tender_context(config, date(2026, 11, 26))
    above = valued("500000", documents_url=...)
    _, problems = read_bytes(json.dumps(above).encode(), context, route_check(config))
    assert [(p.field, "BT-15" in p.message) for p in problems] == [("documents_url", True)]
    below = valued("50000", documents_url=...)
    assert read_bytes(json.dumps(below).encode(), context, route_check(config))[1] == []
