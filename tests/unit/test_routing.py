"""The shipped routing policy: every rule, regime and limit at and around its boundary."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from syndicator.config.settings import Config
from syndicator.intake.records import read_bytes
from syndicator.routing.destinations import Route, route
from syndicator.runtime.wiring import route_check, tender_context
from tests.unit.records_factory import valued

PUBLIC = ["bluelight", "crystal", "source-east-midlands"]
FTS, CF, TED = "find-a-tender", "contracts-finder", "ted"
SUPPLIES = ["39000000-2"]  # matches no trade publication


def routed(config: Config, data: dict[str, object]) -> Route:
    parsed, problems = read_bytes(json.dumps(data).encode(), tender_context(config, date(2026, 11, 26)))
    assert not problems, problems
    return route(parsed[0].tender, config.policy, config.thresholds)


def names(config: Config, data: dict[str, object]) -> list[str]:
    return routed(config, data).names()


def problems(config: Config, data: dict[str, object]) -> list[tuple[str, str]]:
    context = tender_context(config, date(2026, 11, 26))
    return [
        (p.field, p.message) for p in read_bytes(json.dumps(data).encode(), context, route_check(config))[1]
    ]


def commenced(day: str, amount: str = "500000", **changes: object) -> dict[str, object]:
    """A record of a procurement commenced on `day`, its notice published that day."""
    deadline = (date.fromisoformat(day) + timedelta(days=40)).isoformat() + "T12:00:00Z"
    fields: dict[str, object] = {
        "publication_date": day,
        "procurement_commenced_on": day,
        "submission_deadline": deadline,
        "cpv": SUPPLIES,
    }
    return valued(amount, **(fields | changes))


# -- local rules and the Procurement Act's notifiable below-threshold contracts (2026) --------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", []),
        ("9999.99", []),
        ("10000.00", []),
        ("10000.01", ["bluelight"]),
        ("24999.99", ["bluelight"]),  # £29,999.99 including VAT: not notifiable
        ("25000.00", [FTS, *PUBLIC]),  # £30,000.00 including VAT: notifiable, on Find a Tender
    ],
)
def test_local_limits_and_the_notifiable_limit(config: Config, amount: str, expected: list[str]) -> None:
    assert names(config, valued(amount, cpv=SUPPLIES)) == expected


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
        ("30000.00", [FTS, *PUBLIC]),
    ],
)
def test_vat_inclusive_values(config: Config, gross: str, expected: list[str]) -> None:
    assert names(config, valued(gross, vat_included=True, cpv=SUPPLIES)) == expected


def test_a_notifiable_below_threshold_contract_is_a_uk4_with_above_threshold_false(config: Config) -> None:
    plan = routed(config, valued("50000", cpv=SUPPLIES))
    assert plan.regime == "pa2023" and plan.primary == FTS and plan.above_threshold is False
    assert "notifiable below-threshold" in plan.destinations[0].reasons[0]
    assert all(entry.after == FTS for entry in plan.destinations[1:])


# -- the regime, by the day the procurement commenced --------------------------------------


@pytest.mark.parametrize(
    ("day", "regime", "primary"),
    [
        ("2020-12-31", "ojeu", TED),
        ("2021-01-01", "pcr-uk", FTS),
        ("2025-02-23", "pcr-uk", FTS),
        ("2025-02-24", "pa2023", FTS),
    ],
)
def test_regime_boundaries(config: Config, day: str, regime: str, primary: str) -> None:
    procedure = "open"
    plan = routed(config, commenced(day, procedure=procedure))
    assert (plan.regime, plan.primary, plan.names()[0]) == (regime, primary, primary)
    assert all(entry.after == primary for entry in plan.destinations[1:])
    assert f"(it commenced on {day})" in plan.law


def test_the_regime_follows_the_commencement_not_the_publication(config: Config) -> None:
    # commenced in 2020 on TED; a notice of it published in 2026 still goes to TED
    data = commenced("2020-11-16") | {
        "publication_date": "2026-12-10",
        "submission_deadline": "2027-01-29T12:00:00Z",
    }
    plan = routed(config, data)
    assert plan.regime == "ojeu" and plan.primary == TED
    data = commenced("2026-11-30") | {"procurement_commenced_on": "2026-12-01"}
    assert problems(config, data) == [
        (
            "procurement_commenced_on",
            "2026-12-01 is after the publication date 2026-11-30: a procurement commences on or before its "
            "first notice",
        )
    ]


@pytest.mark.parametrize(
    ("procedure", "day", "allowed"),
    [
        ("restricted", "2026-12-01", False),
        ("competitive-dialogue", "2025-02-24", False),
        ("competitive-flexible", "2026-12-01", True),
        ("competitive-flexible", "2025-02-23", False),
        ("competitive-flexible", "2020-06-01", False),
        ("restricted", "2025-02-23", True),
    ],
)
def test_procedures_follow_the_regime(config: Config, procedure: str, day: str, allowed: bool) -> None:
    found = [
        message
        for field, message in problems(config, commenced(day, procedure=procedure))
        if field == "procedure"
    ]
    if allowed:
        assert found == []
    else:
        assert len(found) == 1 and f"{procedure!r} is not a procedure under the" in found[0]
        assert "allowed: " in found[0]


# -- thresholds: the table in force when the procurement commenced --------------------------

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
    vat_included = basis == "gross"  # give the value on the threshold's own basis
    primary = TED if day < "2021-01-01" else FTS
    at = routed(
        config,
        commenced(day, str(limit), contract_type=contract_type)
        | {"estimated_value": {"amount": str(limit), "currency": "GBP", "vat_included": vat_included}},
    )
    below = routed(
        config,
        commenced(day, str(limit), contract_type=contract_type)
        | {
            "estimated_value": {
                "amount": str(limit - Decimal("0.01")),
                "currency": "GBP",
                "vat_included": vat_included,
            }
        },
    )
    assert at.primary == primary and at.above_threshold is True
    assert below.above_threshold is False
    if day < "2025-02-24":  # under the PCR a below-threshold tender has no primary
        assert primary not in below.names()


def test_gross_thresholds_compare_net_values_with_vat_added(config: Config) -> None:
    # 2026: £207,720 including VAT is £173,100 net.
    assert routed(config, valued("173100.00", cpv=SUPPLIES)).above_threshold is True
    assert routed(config, valued("173099.99", cpv=SUPPLIES)).above_threshold is False


def test_net_thresholds_compare_net_values(config: Config) -> None:
    assert TED in names(config, commenced("2019-03-01", "181302.00"))
    assert TED not in names(config, commenced("2019-03-01", "181301.99"))
    # a VAT-inclusive figure is converted to net first: 217,562.40 / 1.2 = 181,302.00
    assert TED in names(config, commenced("2019-03-01", "217562.40", vat_included=True))


def test_works_use_the_works_threshold(config: Config) -> None:
    works = {"contract_type": "works", "cpv": ["45000000-7"]}
    assert routed(config, valued("1000000", **works)).above_threshold is False
    assert routed(config, valued("4327500", **works)).above_threshold is True


# -- Contracts Finder ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "amount", "vat_included", "expected"),
    [
        ("2015-02-25", "25000.00", False, False),  # before the duty began
        ("2015-02-26", "25000.00", False, True),
        ("2015-02-26", "24999.99", False, False),
        ("2021-12-31", "25000.00", False, True),  # £25,000 net until 2021
        ("2022-01-01", "25000.00", False, True),  # £30,000.00 including VAT from 2022
        ("2022-01-01", "24999.99", False, False),  # £29,999.99 including VAT
        ("2022-01-01", "30000.00", True, True),
        ("2025-02-23", "50000.00", False, True),
        ("2025-02-24", "50000.00", False, False),  # never under the Procurement Act
    ],
)
def test_contracts_finder_limits_by_commencement(
    config: Config, day: str, amount: str, vat_included: bool, expected: bool
) -> None:
    plan = routed(config, commenced(day, amount, vat_included=vat_included))
    assert (CF in plan.names()) is expected


def test_contracts_finder_follows_the_primary_above_the_threshold_and_goes_alone_below(
    config: Config,
) -> None:
    above = routed(config, commenced("2023-05-02", "500000"))
    assert above.names()[0] == FTS and above.destinations[above.names().index(CF)].after == FTS
    below = routed(config, commenced("2023-05-02", "50000"))
    assert FTS not in below.names() and below.destinations[below.names().index(CF)].after is None


@pytest.mark.parametrize("day", ["2020-06-01", "2023-05-02", "2026-12-01"])
@pytest.mark.parametrize(
    ("amount", "expected"), [("24999.99", []), ("25000.00", ["crystal"]), ("900000.00", ["crystal"])]
)
def test_framework_call_offs_go_to_crystal_only_in_every_regime(
    config: Config, day: str, amount: str, expected: list[str]
) -> None:
    data = commenced(day, amount, procedure="framework-call-off", submission_deadline=..., cpv=["35125300-2"])
    plan = routed(config, data)
    assert plan.names() == expected
    assert all(entry.after is None for entry in plan.destinations)
    if not expected:
        assert "framework call-off" in (plan.not_advertised or "")


# -- trade press -----------------------------------------------------------------------------


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


# -- time limits, per regime ----------------------------------------------------------------


def test_short_tender_periods_warn_above_threshold_per_regime(config: Config) -> None:
    pa2023 = valued("500000", submission_deadline="2026-12-20T12:00:00Z")  # 19 days
    warning = routed(config, pa2023).warnings
    assert len(warning) == 1 and "at least 25 days" in warning[0] and "s.54" in warning[0]
    assert routed(config, valued("500000", submission_deadline="2026-12-26T12:00:00Z")).warnings == []
    flexible = routed(config, valued("500000", procedure="competitive-flexible")).warnings
    assert len(flexible) == 1 and "not confirmed here: check Procurement Act 2023 s.54(3)" in flexible[0]
    pcr_open = commenced("2023-05-02", submission_deadline="2023-05-27T12:00:00Z")  # 25 days
    assert "at least 30 days" in routed(config, pcr_open).warnings[0]
    pcr_restricted = commenced(
        "2023-05-02", procedure="restricted", submission_deadline="2023-05-27T12:00:00Z"
    )
    assert routed(config, pcr_restricted).warnings == []
    assert routed(config, valued("50000", submission_deadline="2026-12-05T12:00:00Z")).warnings == []


# -- shape and examples ------------------------------------------------------------------------


def test_route_json_shape(config: Config) -> None:
    data = routed(config, valued("50000", cpv=["45000000-7"])).as_dict()
    assert set(data) == {
        "reference", "buyer", "regime", "law", "above_threshold", "primary",
        "destinations", "not_advertised", "warnings",
    }  # fmt: skip
    assert data["regime"] == "pa2023" and data["primary"] == FTS
    assert set(data["destinations"][0]) == {"destination", "reasons", "after"}
    assert all(entry["reasons"] for entry in data["destinations"])
    assert {entry["after"] for entry in data["destinations"][1:]} == {FTS}


def test_shipped_examples_route_as_documented(config: Config, examples: dict) -> None:
    got = {name: route(t, config.policy, config.thresholds) for name, t in examples.items()}
    assert got["below-threshold"].names() == []
    assert got["framework-call-off"].names() == ["crystal"]
    assert got["anpr-cameras"].names()[0] == FTS and got["anpr-cameras"].above_threshold
    assert got["it-managed-service"].names()[0] == FTS
    assert got["construction-works"].names()[0] == FTS and not got["construction-works"].above_threshold
    assert "trade-press:construction-press" in got["construction-works"].names()
    assert got["agency-staff"].names() == [FTS, *PUBLIC, "trade-press:recruitment-press"]
    assert got["ted-legacy"].regime == "ojeu" and got["ted-legacy"].names()[0] == TED
    assert got["pcr-legacy"].regime == "pcr-uk" and got["pcr-legacy"].names()[0] == FTS
    assert CF in got["pcr-legacy"].names()
    assert all(plan.regime == "pa2023" for name, plan in got.items() if not name.endswith("legacy"))


@pytest.mark.parametrize(("day", "primary"), [("2020-06-01", "TED"), ("2026-12-01", "Find a Tender")])
def test_a_tender_for_the_primary_needs_a_documents_url(config: Config, day: str, primary: str) -> None:
    above = commenced(day, "500000", documents_url=...)
    assert [(f, primary in m) for f, m in problems(config, above)] == [("documents_url", True)]
    below = commenced(day, "20000", documents_url=...)
    assert problems(config, below) == []
