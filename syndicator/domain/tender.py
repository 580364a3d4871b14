"""The tender record: the input contract every intake path (CLI, HTTP API, Python) shares.

A record is validated against this model with a `TenderContext` (the known buyers, the first
date the threshold table covers, and today's date), so that every problem, including the ones
that depend on configuration, is reported in one pass with the field it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from syndicator.domain import limits
from syndicator.domain.limits import control_character

MAX_AMOUNT = Decimal("1000000000000")  # £1 trillion: anything above is a typo, not a tender
MAX_PLANNED_AHEAD = timedelta(days=366)
MAX_TENDER_PERIOD = timedelta(days=3 * 366)

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.\-]{0,63}")
_CPV = re.compile(r"\d{8}(-\d)?")
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"\+?[0-9 ()\-]{7,25}")
_POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})")


class ContractType(StrEnum):
    """The nature of the contract (TED BT-23)."""

    SUPPLIES = "supplies"
    SERVICES = "services"
    WORKS = "works"


class Procedure(StrEnum):
    """The procurement procedure the tender runs. Which ones a tender may use depends on the law
    its procurement commenced under (routing.toml `[[regime]] procedures`): the Public Contracts
    Regulations 2015 know the first four; the Procurement Act 2023 (s.20) has the open and the
    competitive flexible procedure. Both know call-offs under a framework."""

    OPEN = "open"
    RESTRICTED = "restricted"
    COMPETITIVE_DIALOGUE = "competitive-dialogue"
    COMPETITIVE_NEGOTIATED = "competitive-negotiated"
    COMPETITIVE_FLEXIBLE = "competitive-flexible"
    FRAMEWORK_CALL_OFF = "framework-call-off"


@dataclass(frozen=True)
class TenderContext:
    """What validation needs beyond the record itself."""

    buyers: frozenset[str]
    earliest_publication: date
    today: date
    vat_rate: Decimal = Decimal("0.20")


def _problem(kind: str, message: str, field: str | None = None) -> PydanticCustomError:
    """A validation problem; `field` names it when raised by a whole-record check."""
    return PydanticCustomError(kind, message, {"field": field} if field else None)


def _context(info: ValidationInfo) -> TenderContext | None:
    return info.context if isinstance(info.context, TenderContext) else None


def _text(value: Any, *, limit: int, layout: bool) -> str:
    if not isinstance(value, str):
        raise _problem("text", "must be a string")
    text = value.strip()
    if not text:
        raise _problem("text", "must not be empty")
    if len(text) > limit:
        raise _problem("text", f"is {len(text)} characters long; at most {limit} are allowed")
    found = control_character(text, layout=layout)
    if found:
        raise _problem("text", f"contains the control character {found}")
    return text


def _title(value: Any) -> str:
    return _text(value, limit=200, layout=False)


def _description(value: Any) -> str:
    return _text(value, limit=10_000, layout=True)


def _name(value: Any) -> str:
    return _text(value, limit=200, layout=False)


Title = Annotated[str, BeforeValidator(_title)]
Description = Annotated[str, BeforeValidator(_description)]
Name = Annotated[str, BeforeValidator(_name)]


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _problem("amount", 'must be a number or a string such as "250000.00"')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _problem("amount", f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise _problem("amount", "must be a finite number")
    if amount < 0:
        raise _problem("amount", "must not be negative")
    if amount > MAX_AMOUNT:
        raise _problem("amount", f"{amount} is implausibly large (at most {MAX_AMOUNT})")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise _problem("amount", "has more than 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def _cpv_codes(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _problem("cpv", 'must be a list of CPV codes such as ["35125300-2"]')
    if not 1 <= len(value) <= 20:
        raise _problem("cpv", f"must hold 1 to 20 CPV codes, not {len(value)}")
    for position, code in enumerate(value):
        if not isinstance(code, str) or not _CPV.fullmatch(code):
            raise _problem("cpv", f"item {position}: {code!r} is not a CPV code (8 digits, or NNNNNNNN-N)")
    return list(value)


Amount = Annotated[Decimal, BeforeValidator(_amount)]
CpvCodes = Annotated[list[str], BeforeValidator(_cpv_codes)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(_Strict):
    """An amount in GBP, net of VAT unless `vat_included`."""

    amount: Amount
    currency: str
    vat_included: StrictBool = False

    @field_validator("currency", mode="before")
    @classmethod
    def _gbp_only(cls, value: Any) -> str:
        if value != "GBP":
            raise _problem("currency", f"{value!r} is not supported; only GBP is")
        return "GBP"

    def net(self, vat_rate: Decimal) -> Decimal:
        """The amount net of VAT (a VAT-inclusive amount divided by 1 + rate)."""
        if not self.vat_included:
            return self.amount
        return (self.amount / (1 + vat_rate)).quantize(Decimal("0.01"))

    def gross(self, vat_rate: Decimal) -> Decimal:
        """The amount including VAT."""
        if self.vat_included:
            return self.amount
        return (self.amount * (1 + vat_rate)).quantize(Decimal("0.01"))


class Place(_Strict):
    """Where the contract is performed."""

    town: Name
    postcode: str | None = None
    country: str = "GB"

    @field_validator("postcode", mode="before")
    @classmethod
    def _uk_postcode(cls, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _POSTCODE.fullmatch(value.strip().upper()):
            raise _problem("postcode", f"{value!r} is not a UK postcode (e.g. NG5 8PP)")
        compact = value.strip().upper().replace(" ", "")
        return f"{compact[:-3]} {compact[-3:]}"

    @field_validator("country", mode="before")
    @classmethod
    def _gb_only(cls, value: Any) -> str:
        if value != "GB":
            raise _problem("country", f"{value!r} is not supported; contracts are performed in GB")
        return "GB"


class Contact(_Strict):
    """Who answers questions about the tender."""

    name: Name
    email: str
    phone: str | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str:
        if not isinstance(value, str) or len(value) > 254 or not _EMAIL.fullmatch(value.strip()):
            raise _problem("email", f"{value!r} is not an e-mail address")
        # The address goes into e-mail headers and notices: a NUL or a line break would corrupt them.
        if found := control_character(value):
            raise _problem("email", f"contains the control character {found}")
        return value.strip()

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _PHONE.fullmatch(value.strip()):
            raise _problem("phone", f"{value!r} is not a telephone number")
        return value.strip()


class Lot(_Strict):
    """One lot of a tender divided into lots."""

    number: StrictInt = Field(ge=1, le=9999)
    title: Title
    description: Description | None = None
    estimated_value: Money | None = None
    cpv: CpvCodes | None = None


class Tender(_Strict):
    """An invitation to tender, as validated from the input record."""

    reference: str
    title: Title
    description: Description
    buyer: str
    contract_type: ContractType
    procedure: Procedure
    estimated_value: Money
    cpv: CpvCodes
    place_of_performance: Place
    publication_date: date | None = None
    # The day the procurement commenced: it decides the law that applies and the thresholds in
    # force, for every notice of the procurement (defaults to the publication date).
    procurement_commenced_on: date | None = None
    submission_deadline: datetime | None = None
    duration_months: StrictInt | None = Field(default=None, ge=1, le=240)
    lots: list[Lot] = Field(default_factory=list, max_length=100)
    documents_url: str | None = None
    contact: Contact
    sme_suitable: StrictBool = False

    @field_validator("reference", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> str:
        if not isinstance(value, str) or not _REFERENCE.fullmatch(value):
            raise _problem(
                "reference",
                "must be 1-64 letters, digits or / _ . -, starting with a letter or digit",
            )
        return value

    @field_validator("buyer", mode="before")
    @classmethod
    def _known_buyer(cls, value: Any, info: ValidationInfo) -> str:
        context = _context(info)
        if not isinstance(value, str):
            raise _problem("buyer", "must be a buyer id from config/buyers.toml")
        if context is not None and value not in context.buyers:
            known = ", ".join(sorted(context.buyers))
            raise _problem("buyer", f"{value!r} is not a known buyer (known: {known})")
        return value

    @field_validator("publication_date", "procurement_commenced_on", mode="before")
    @classmethod
    def _publication_date(cls, value: Any, info: ValidationInfo) -> date | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise _problem("date", "must be a date written YYYY-MM-DD")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise _problem("date", f"{value!r} is not a date written YYYY-MM-DD") from None
        context = _context(info)
        if context is not None:
            if parsed < context.earliest_publication:
                raise _problem(
                    "date",
                    f"{parsed} is before {context.earliest_publication}, the first date the "
                    "threshold table (config/thresholds.toml) covers",
                )
            if parsed > context.today + MAX_PLANNED_AHEAD:
                raise _problem("date", f"{parsed} is more than a year ahead")
        return parsed

    @field_validator("submission_deadline", mode="before")
    @classmethod
    def _deadline(cls, value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise _problem("datetime", "must be an ISO 8601 date and time with a UTC offset")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _problem(
                "datetime", f"{value!r} is not an ISO 8601 date and time (2027-01-08T12:00:00Z)"
            ) from None
        if parsed.tzinfo is None or "T" not in value:
            raise _problem("datetime", f"{value!r} needs a time and a UTC offset (Z or +01:00)")
        return parsed

    @field_validator("documents_url", mode="before")
    @classmethod
    def _https(cls, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > limits.URL:
            raise _problem("url", f"must be an https URL of at most {limits.URL} characters")
        if found := control_character(value):
            raise _problem("url", f"contains the control character {found}")
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
            raise _problem("url", f"{value!r} is not an https URL")
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Tender:
        context = _context(info)
        if self.publication_date is None and context is not None:
            object.__setattr__(self, "publication_date", context.today)
        if self.procurement_commenced_on is None and self.publication_date is not None:
            object.__setattr__(self, "procurement_commenced_on", self.publication_date)
        if (
            self.procurement_commenced_on is not None
            and self.publication_date is not None
            and self.procurement_commenced_on > self.publication_date
        ):
            raise _problem(
                "date",
                f"{self.procurement_commenced_on} is after the publication date {self.publication_date}: "
                "a procurement commences on or before its first notice",
                "procurement_commenced_on",
            )
        if self.procedure is not Procedure.FRAMEWORK_CALL_OFF and self.submission_deadline is None:
            raise _problem(
                "deadline",
                f"is required for a {self.procedure.value} procedure",
                "submission_deadline",
            )
        if self.submission_deadline is not None and self.publication_date is not None:
            deadline_day = self.submission_deadline.astimezone(UTC).date()
            if deadline_day <= self.publication_date:
                raise _problem(
                    "deadline",
                    f"{self.submission_deadline.isoformat()} is not after "
                    f"the publication date {self.publication_date}",
                    "submission_deadline",
                )
            if deadline_day - self.publication_date > MAX_TENDER_PERIOD:
                raise _problem(
                    "deadline", "is more than three years after publication", "submission_deadline"
                )
        numbers = [lot.number for lot in self.lots]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            raise _problem("lots", f"lot numbers must be unique; repeated: {duplicates}", "lots")
        valued = [lot.estimated_value for lot in self.lots if lot.estimated_value is not None]
        if valued:
            rate = context.vat_rate if context else Decimal("0.20")
            total = sum((money.net(rate) for money in valued), Decimal(0))
            if total > self.estimated_value.net(rate):
                raise _problem(
                    "lots",
                    f"the lots' values add up to £{total:,.2f} net, more than the "
                    f"tender's £{self.estimated_value.net(rate):,.2f}",
                    "lots",
                )
        return self

    @property
    def published_on(self) -> date:
        """The planned dispatch date (always set once validated with a context)."""
        return self.publication_date or datetime.now(UTC).date()

    @property
    def commenced_on(self) -> date:
        """The day the procurement commenced (its law and thresholds are those in force then)."""
        return self.procurement_commenced_on or self.published_on

    def main_cpv(self) -> str:
        """The main CPV code, without its check digit."""
        return self.cpv[0].split("-")[0]
