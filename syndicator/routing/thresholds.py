"""Dated EU procurement thresholds (`config/thresholds.toml`) and the test against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from syndicator.config.files import ConfigError, read_toml, validate
from syndicator.domain.tender import ContractType, Money


class Basis(StrEnum):
    """Whether a threshold figure is net of VAT or includes it."""

    NET = "net"
    GROSS = "gross"


class Period(BaseModel):
    """The thresholds in force between two dates (inclusive)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")
    basis: Basis
    supplies: Decimal = Field(gt=0)
    services: Decimal = Field(gt=0)
    works: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end is not None and self.end < self.start:
            raise ValueError("'to' is before 'from'")
        return self

    def covers(self, day: date) -> bool:
        """True when `day` falls inside this period."""
        return self.start <= day and (self.end is None or day <= self.end)

    def threshold(self, contract_type: ContractType) -> Decimal:
        """The figure for a contract type."""
        return {
            ContractType.SUPPLIES: self.supplies,
            ContractType.SERVICES: self.services,
            ContractType.WORKS: self.works,
        }[contract_type]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: list[Period] = Field(min_length=1)


@dataclass(frozen=True)
class Comparison:
    """The outcome of testing a value against the threshold in force."""

    reached: bool
    threshold: Decimal
    compared: Decimal
    basis: Basis
    period: Period


class Thresholds:
    """The dated threshold table."""

    def __init__(self, periods: list[Period]) -> None:
        self.periods = sorted(periods, key=lambda period: period.start)

    @property
    def earliest(self) -> date:
        """The first date the table covers."""
        return self.periods[0].start

    def period_for(self, day: date) -> Period | None:
        """The period in force on `day`, if any."""
        return next((period for period in self.periods if period.covers(day)), None)

    def compare(
        self, value: Money, contract_type: ContractType, day: date, vat_rate: Decimal
    ) -> Comparison | None:
        """Compare like with like: net figures with net value, gross with gross."""
        period = self.period_for(day)
        if period is None:
            return None
        compared = value.net(vat_rate) if period.basis is Basis.NET else value.gross(vat_rate)
        limit = period.threshold(contract_type)
        return Comparison(compared >= limit, limit, compared, period.basis, period)


def load_thresholds(path: Path) -> Thresholds:
    """Read `thresholds.toml` and check its periods neither overlap nor leave gaps."""
    table = validate(_File, read_toml(path), str(path))
    thresholds = Thresholds(table.period)
    for index, (earlier, later) in enumerate(zip(thresholds.periods, thresholds.periods[1:], strict=False)):
        if earlier.end is None or earlier.end.toordinal() + 1 != later.start.toordinal():
            raise ConfigError(
                str(path),
                f"period[{index + 1}].from",
                f"{later.start} does not follow the previous period's end ({earlier.end})",
            )
    return thresholds
