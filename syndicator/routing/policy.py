"""The routing policy as data: the whole of `config/routing.toml` as checked models.

[[regime]]          the law a procurement is under, by the day it commenced: its primary
                    destination (the official journal every other destination follows),
                    its procedures and time limits
[[rule]]            local advertising rules (PCC duty, EMSCU minimum, framework call-offs)
[contracts_finder]  Contracts Finder under the PCR regimes, with its dated value limits
[[trade_press]]     trade publications matched on the main CPV code
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from syndicator.config.files import read_toml, validate
from syndicator.domain.tender import Procedure
from syndicator.routing.thresholds import Basis

TRADE_PRESS = "trade-press"


def money(amount: Decimal) -> str:
    """£1,234.50"""
    return f"£{amount:,.2f}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Limited(_Model):
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


class TimeLimit(_Model):
    """The shortest tender period the law allows for a procedure above the threshold; `days`
    left out where the figure is not confirmed: the warning then names the provision to check."""

    procedure: Procedure
    days: int | None = Field(default=None, ge=1, le=365)
    provision: str


class Regime(_Model):
    """The law a procurement is under, by the day it commenced (it stays under it for all its
    notices: UK-NOTICES.md section 1, "later notices of that process stay on the old notice
    types")."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    law: str  # how people name it
    commenced_from: date | None = None
    commenced_before: date | None = None
    primary: str  # the official journal: notices go there first, every other destination follows
    primary_title: str
    procedures: list[Procedure] = Field(min_length=1)
    primary_excluded_procedures: list[Procedure] = Field(default_factory=list)
    # Below the threshold the primary still carries an advertised contract whose value including
    # VAT is at least this (PA2023 s.86 "notifiable below-threshold contract").
    notifiable_at_least_gross: Decimal | None = Field(default=None, ge=0)
    gate_reason: str  # why the other destinations wait for the primary
    requires: list[str] = Field(default_factory=list)  # record fields the primary's notice needs
    time_limits: list[TimeLimit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Regime:
        if self.commenced_from and self.commenced_before and self.commenced_before <= self.commenced_from:
            raise ValueError("'commenced_before' is not after 'commenced_from'")
        return self

    def covers(self, day: date) -> bool:
        """Whether a procurement commenced on `day` is under this regime."""
        after = self.commenced_from is None or day >= self.commenced_from
        before = self.commenced_before is None or day < self.commenced_before
        return after and before

    def span(self) -> str:
        """'commenced on or after 2021-01-01 and before 2025-02-24'."""
        parts = []
        if self.commenced_from:
            parts.append(f"on or after {self.commenced_from}")
        if self.commenced_before:
            parts.append(f"before {self.commenced_before}")
        return "commenced " + " and ".join(parts)


class DatedLimit(_Model):
    """A value limit in force for procurements commenced between two dates (inclusive)."""

    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")
    at_least: Decimal = Field(ge=0)
    basis: Basis

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def covers(self, day: date) -> bool:
        """True when `day` falls inside this period."""
        return self.start <= day and (self.end is None or day <= self.end)


class ContractsFinder(_Model):
    """Contracts Finder: procurements under the PCR regimes (PCR 2015 regs 106-112), above and
    below the threshold, at or above a dated value limit; never under the Procurement Act."""

    destination: str = "contracts-finder"
    regimes: list[str] = Field(min_length=1)
    excluded_procedures: list[Procedure] = Field(default_factory=list)
    limit: list[DatedLimit] = Field(min_length=1)
    why: str

    def limit_on(self, day: date) -> DatedLimit | None:
        """The limit in force for a procurement commenced on `day` (None before the duty began)."""
        return next((limit for limit in self.limit if limit.covers(day)), None)


class Publication(_Limited):
    """A trade publication, matched on the tender's main CPV code."""

    publication: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    cpv_prefixes: list[str] = Field(min_length=1)


class RoutingPolicy(_Model):
    """The whole of `routing.toml`."""

    vat_rate: Decimal = Field(ge=0, le=1)
    regime: list[Regime] = Field(min_length=1)
    rule: list[Rule] = Field(min_length=1)
    contracts_finder: ContractsFinder | None = None
    trade_press: list[Publication] = Field(default_factory=list)

    @model_validator(mode="after")
    def _regimes_cover_time(self) -> RoutingPolicy:
        ordered = sorted(self.regime, key=lambda r: r.commenced_from or date.min)
        if ordered[0].commenced_from is not None:
            raise ValueError("the first regime must have no 'commenced_from' (it covers everything before)")
        if ordered[-1].commenced_before is not None:
            raise ValueError("the last regime must have no 'commenced_before' (it covers everything after)")
        for earlier, later in pairwise(ordered):
            if earlier.commenced_before != later.commenced_from:
                raise ValueError(
                    f"regime {later.name!r} must commence when {earlier.name!r} ends "
                    f"({earlier.commenced_before})"
                )
        if self.contracts_finder:
            names = {r.name for r in self.regime}
            unknown = set(self.contracts_finder.regimes) - names
            if unknown:
                raise ValueError(f"contracts_finder names unknown regimes: {sorted(unknown)}")
        return self

    def regime_for(self, commenced: date) -> Regime:
        """The regime a procurement commenced on `commenced` is under."""
        return next(r for r in self.regime if r.covers(commenced))

    def destinations(self) -> list[str]:
        """Every destination the policy can produce."""
        names = list(dict.fromkeys(r.primary for r in self.regime))
        for rule in self.rule:
            names += [name for name in rule.destinations if name not in names]
        if self.contracts_finder:
            names.append(self.contracts_finder.destination)
        return names + [f"{TRADE_PRESS}:{pub.publication}" for pub in self.trade_press]


def load_policy(path: Path) -> RoutingPolicy:
    """Read `routing.toml`."""
    return validate(RoutingPolicy, read_toml(path), str(path))
