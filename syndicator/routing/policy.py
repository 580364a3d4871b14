"""Which destinations a tender needs, and why: the policy in `config/routing.toml` applied to a
validated tender. Pure: no I/O once the policy is loaded.

    tender --rules (net value, procedure)--> bluelight, crystal, source-east-midlands
           --dated EU threshold (thresholds.toml)--> ted  (gates every other destination)
           --main CPV prefix + net value--> trade-press:<publication>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from syndicator.config.files import read_toml, validate
from syndicator.domain.tender import Procedure, Tender
from syndicator.routing.thresholds import Basis, Thresholds

TED = "ted"
TRADE_PRESS = "trade-press"
OPEN_MIN_DAYS = 30  # PCR 2015 reg 27: 35 days, less 5 for electronic submission
RESTRICTED_MIN_DAYS = 25  # PCR 2015 reg 28: 30 days for tenders, less 5 for electronic


def money(amount: Decimal) -> str:
    """£1,234.50"""
    return f"£{amount:,.2f}"


class _Limited(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    above: Decimal | None = Field(default=None, ge=0)
    at_least: Decimal | None = Field(default=None, ge=0)
    procedures: list[Procedure] | None = None
    excluded_procedures: list[Procedure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_limit(self) -> _Limited:
        if (self.above is None) == (self.at_least is None):
            raise ValueError("give exactly one of 'above' or 'at_least'")
        return self

    def applies_to(self, procedure: Procedure) -> bool:
        """Whether the rule concerns this procedure at all."""
        if procedure in self.excluded_procedures:
            return False
        return self.procedures is None or procedure in self.procedures

    def passes(self, net: Decimal) -> bool:
        """Whether the net value clears the limit."""
        return net > self.above if self.above is not None else net >= (self.at_least or 0)

    def limit_text(self) -> str:
        """'exceeds £10,000.00' / 'is at least £25,000.00'."""
        if self.above is not None:
            return f"exceeds {money(self.above)}"
        return f"is at least {money(self.at_least or Decimal(0))}"

    def fail_text(self) -> str:
        """'does not exceed £10,000.00' / 'is below £25,000.00'."""
        if self.above is not None:
            return f"does not exceed {money(self.above)}"
        return f"is below {money(self.at_least or Decimal(0))}"


class Rule(_Limited):
    """A local advertising rule: destinations for a net value and procedure."""

    name: str
    destinations: list[str] = Field(min_length=1)
    why: str


class TedRule(BaseModel):
    """When the EU threshold applies, and whether TED gates the other destinations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    destination: str = TED
    excluded_procedures: list[Procedure] = Field(default_factory=list)
    gate_others: bool = True


class Publication(_Limited):
    """A trade publication, matched on the tender's main CPV code."""

    publication: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    cpv_prefixes: list[str] = Field(min_length=1)


class RoutingPolicy(BaseModel):
    """The whole of `routing.toml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vat_rate: Decimal = Field(ge=0, le=1)
    rule: list[Rule] = Field(min_length=1)
    ted: TedRule
    trade_press: list[Publication] = Field(default_factory=list)

    def destinations(self) -> list[str]:
        """Every destination the policy can produce."""
        names = [self.ted.destination]
        for rule in self.rule:
            names += [name for name in rule.destinations if name not in names]
        return names + [f"{TRADE_PRESS}:{pub.publication}" for pub in self.trade_press]


@dataclass
class RouteEntry:
    """One destination of a route, with the sentences that justify it."""

    destination: str
    reasons: list[str] = field(default_factory=list)
    after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"destination": self.destination, "reasons": self.reasons, "after": self.after}


@dataclass
class Route:
    """Where a tender goes, or why it goes nowhere, and warnings for a person to read."""

    reference: str
    buyer: str
    destinations: list[RouteEntry]
    not_advertised: str | None
    warnings: list[str]
    primary: str | None = None  # the official journal every other destination follows

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by `syndicator route --json`."""
        return {
            "reference": self.reference,
            "buyer": self.buyer,
            "destinations": [entry.as_dict() for entry in self.destinations],
            "not_advertised": self.not_advertised,
            "warnings": self.warnings,
            "primary": self.primary,
        }

    def names(self) -> list[str]:
        """The destination names in route order."""
        return [entry.destination for entry in self.destinations]


def load_policy(path: Path) -> RoutingPolicy:
    """Read `routing.toml`."""
    return validate(RoutingPolicy, read_toml(path), str(path))


def _ted_entry(tender: Tender, policy: RoutingPolicy, thresholds: Thresholds) -> RouteEntry | None:
    if tender.procedure in policy.ted.excluded_procedures:
        return None
    day = tender.published_on
    outcome = thresholds.compare(tender.estimated_value, tender.contract_type, day, policy.vat_rate)
    if outcome is None or not outcome.reached:
        return None
    basis = "net of VAT" if outcome.basis is Basis.NET else "including VAT"
    period = outcome.period
    span = f"from {period.start}" + (f" to {period.end}" if period.end else "")
    return RouteEntry(
        policy.ted.destination,
        [
            f"value {money(outcome.compared)} {basis} is at or above the EU threshold of "
            f"{money(outcome.threshold)} for {tender.contract_type.value} contracts "
            f"(sub-central authorities, in force {span})"
        ],
    )


def short_tender_period(tender: Tender, above_threshold: bool) -> str | None:
    """Why the tender period looks shorter than the law's minimum, or None."""
    if not above_threshold or tender.submission_deadline is None:
        return None
    days = (tender.submission_deadline.astimezone(UTC).date() - tender.published_on).days
    minimum = {Procedure.OPEN: OPEN_MIN_DAYS, Procedure.RESTRICTED: RESTRICTED_MIN_DAYS}
    needed = minimum.get(tender.procedure)
    if needed is None or days >= needed:
        return None
    return (
        f"the tender period is {days} days; an above-threshold {tender.procedure.value} "
        f"procedure normally allows at least {needed} days for electronic tenders"
    )


def _warnings(tender: Tender, above_threshold: bool) -> list[str]:
    found = short_tender_period(tender, above_threshold)
    return [found] if found else []


def route(tender: Tender, policy: RoutingPolicy, thresholds: Thresholds) -> Route:
    """Apply the policy to a validated tender."""
    net = tender.estimated_value.net(policy.vat_rate)
    value_text = f"net value {money(net)}"
    entries: dict[str, RouteEntry] = {}
    refusals: list[str] = []

    ted = _ted_entry(tender, policy, thresholds)
    if ted is not None:
        entries[ted.destination] = ted
    for rule in policy.rule:
        if not rule.applies_to(tender.procedure):
            continue
        if not rule.passes(net):
            refusals.append(f"{value_text} {rule.fail_text()} ({rule.name})")
            continue
        for name in rule.destinations:
            entry = entries.setdefault(name, RouteEntry(name))
            entry.reasons.append(f"{value_text} {rule.limit_text()}: {rule.why} ({rule.name})")
    main_cpv = tender.main_cpv()
    for pub in policy.trade_press:
        prefix = next((p for p in pub.cpv_prefixes if main_cpv.startswith(p)), None)
        if prefix is None or not pub.applies_to(tender.procedure) or not pub.passes(net):
            continue
        name = f"{TRADE_PRESS}:{pub.publication}"
        entries[name] = RouteEntry(
            name,
            [
                f"main CPV code {main_cpv} matches the {pub.title} prefix {prefix}, and the "
                f"{value_text} {pub.limit_text()}"
            ],
        )
    if ted is not None and policy.ted.gate_others:
        for entry in entries.values():
            if entry.destination != ted.destination:
                entry.after = ted.destination
                entry.reasons.append(
                    "waits for the TED notice: national adverts may not appear before the "
                    "OJEU notice is published (or 48 hours after TED acknowledged it)"
                )
    primary = ted.destination if ted is not None and policy.ted.gate_others else None
    not_advertised = None
    if not entries:
        not_advertised = "; ".join(refusals) or f"no rule applies to a {tender.procedure.value} procedure"
    return Route(
        tender.reference,
        tender.buyer,
        list(entries.values()),
        not_advertised,
        _warnings(tender, ted is not None),
        primary,
    )


def requirements(tender: Tender, plan: Route, policy: RoutingPolicy) -> list[tuple[str, str]]:
    """What a destination on the route needs from the record beyond the record contract:
    (field, problem) pairs, reported by validation like any other problem."""
    problems = []
    if policy.ted.destination in plan.names() and not tender.documents_url:
        problems.append(
            (
                "documents_url",
                "is required because the tender goes to TED: an eForms contract notice must give the "
                "address of the procurement documents and of tender submission (BT-15, BT-18)",
            )
        )
    return problems
