"""The award record: the input contract of `syndicator award`, `POST /api/tenders/{ref}/awards`
and the dashboard's award form. Validated as strictly as tenders (unknown fields are an error);
what needs the stored tender (it exists, its lots, its deadline) is checked by the award
use-case with the same one-line problems.

    {"reference", "buyer", "decision_date",
     "lots": [{"lot": 1 | null, "outcome": "awarded" | "not-awarded",
               "reason": <for not-awarded>, "suppliers": [...], "value": {...},
               "contract": {"start", "end", "signed_on"?}}],
     "tenders_received": {"1": 4, "2": 0} | 4,
     "sme_tenders_received": {"1": 1, "2": 0} | 1,
     "eea_tenders_received": ..., "non_eea_tenders_received": ...}

The last three break `tenders_received` down, in the same form: tenders from SMEs, from
tenderers in EU/EEA countries, and from tenderers outside both the UK and the EEA. TED's award
notice must state them (BT-760 `t-sme`, `t-oth-eea`, `t-no-eea`); other channels ignore them.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from syndicator.domain.tender import Money, Name

_SCHEME = re.compile(r"[A-Z]{2}-[A-Z0-9]{2,10}")
_COMPANY = re.compile(
    r"(?:[0-9]{8}|(?:SC|NI|OC|SO|NC|R0|IP|SP|FC|SF|NF|LP|SL|NL|GE|GN|CE|CS|RC|SR|PC|NO|NP|NV|RS|SI|SA|ZC)[0-9]{6})"
)
_PPON = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")
_POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})")
_COUNTRY = re.compile(r"[A-Z]{2}")
MAX_SUPPLIERS = 20
# The breakdowns of `tenders_received` an award may give (Award.breakdown).
BREAKDOWNS = ("sme_tenders_received", "eea_tenders_received", "non_eea_tenders_received")


class Outcome(StrEnum):
    """What became of a lot."""

    AWARDED = "awarded"
    NOT_AWARDED = "not-awarded"


class NonAwardReason(StrEnum):
    """Why a lot was not awarded (each channel maps it to its own code list)."""

    NO_TENDERS = "no-tenders"
    NO_SUITABLE_TENDERS = "no-suitable-tenders"
    ALL_REJECTED = "all-rejected"
    REQUIREMENT_CHANGED = "requirement-changed"
    INSUFFICIENT_FUNDS = "insufficient-funds"

    @property
    def words(self) -> str:
        """The reason as a sentence a supplier reads ('No tenders were received.')."""
        return _REASON_WORDS[self]


_REASON_WORDS = {
    NonAwardReason.NO_TENDERS: "No tenders were received.",
    NonAwardReason.NO_SUITABLE_TENDERS: "No suitable tenders were received.",
    NonAwardReason.ALL_REJECTED: "All tenders received were rejected.",
    NonAwardReason.REQUIREMENT_CHANGED: "The buyer's requirement changed, so the lot was not awarded.",
    NonAwardReason.INSUFFICIENT_FUNDS: "The funds for the contract are no longer available.",
}


def _problem(kind: str, message: str, field: str | None = None) -> PydanticCustomError:
    """A validation problem; `field` names it when raised by a whole-object check."""
    return PydanticCustomError(kind, message, {"field": field} if field else None)


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise _problem("date", "must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _problem("date", f"{value!r} is not a date written YYYY-MM-DD") from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identifier(_Strict):
    """An organisation identifier from a registered list (org-id.guide), e.g. GB-COH 01234567."""

    scheme: str
    id: str

    @field_validator("scheme", mode="before")
    @classmethod
    def _scheme(cls, value: Any) -> str:
        if not isinstance(value, str) or not _SCHEME.fullmatch(value):
            raise _problem("scheme", f"{value!r} is not an identifier scheme such as GB-COH or GB-PPON")
        return value

    @model_validator(mode="after")
    def _id(self) -> Identifier:
        value = self.id.strip() if isinstance(self.id, str) else ""
        if not value or len(value) > 64 or any(not c.isprintable() for c in value):
            raise _problem("identifier", "must be 1-64 printable characters", "id")
        if self.scheme == "GB-COH" and not _COMPANY.fullmatch(value.upper()):
            raise _problem("identifier", f"{value!r} is not a Companies House number (8 characters)", "id")
        if self.scheme == "GB-PPON" and not _PPON.fullmatch(value.upper().removeprefix("GB-PPON-")):
            raise _problem("identifier", f"{value!r} is not a PPON (XXXX-XXXX-XXXX)", "id")
        return self

    def text(self) -> str:
        """'GB-COH-01234567'."""
        return f"{self.scheme}-{self.id.removeprefix(self.scheme + '-')}"


class Address(_Strict):
    """A supplier's registered address."""

    street: Name
    town: Name
    postcode: str
    country: str = "GB"

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str:
        if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
            raise _problem("country", f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. GB)")
        return value

    @model_validator(mode="after")
    def _postcode(self) -> Address:
        text = self.postcode.strip().upper() if isinstance(self.postcode, str) else ""
        if not text or len(text) > 16:
            raise _problem("postcode", "is required (at most 16 characters)", "postcode")
        if self.country == "GB" and not _POSTCODE.fullmatch(text):
            raise _problem("postcode", f"{self.postcode!r} is not a UK postcode (e.g. NG5 8PP)", "postcode")
        return self


class Supplier(_Strict):
    """A winning supplier."""

    name: Name
    identifier: Identifier
    address: Address
    sme: StrictBool


class ContractTerms(_Strict):
    """When the awarded contract runs, and when it was signed (entered into)."""

    start: date
    end: date
    signed_on: date | None = None

    @field_validator("start", "end", "signed_on", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> date | None:
        return None if value is None else _date(value)

    @model_validator(mode="after")
    def _ordered(self) -> ContractTerms:
        if self.end <= self.start:
            raise _problem("date", f"the end {self.end} is not after the start {self.start}", "end")
        return self


class LotAward(_Strict):
    """The outcome of one lot (`lot` null for a tender not divided into lots)."""

    lot: StrictInt | None = Field(default=None, ge=1, le=9999)
    outcome: Outcome
    reason: NonAwardReason | None = None
    suppliers: list[Supplier] = Field(default_factory=list)
    value: Money | None = None
    contract: ContractTerms | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LotAward:
        if self.outcome is Outcome.AWARDED:
            if self.reason is not None:
                raise _problem("award", "an awarded lot has no non-award reason", "reason")
            if not 1 <= len(self.suppliers) <= MAX_SUPPLIERS:
                raise _problem("award", f"an awarded lot names 1 to {MAX_SUPPLIERS} suppliers", "suppliers")
            if self.value is None:
                raise _problem("award", "is required for an awarded lot", "value")
            if self.contract is None:
                raise _problem("award", "is required for an awarded lot (start and end)", "contract")
        else:
            if self.reason is None:
                raise _problem("award", "is required for a lot that is not awarded", "reason")
            for name in ("suppliers", "value", "contract"):
                if getattr(self, name):
                    raise _problem("award", "is only given for an awarded lot", name)
        return self

    @property
    def label(self) -> str:
        """'lot 2' or 'the contract'."""
        return f"lot {self.lot}" if self.lot is not None else "the contract"


class Award(_Strict):
    """The decision to award a tender's lots (or not), with the contracts that follow."""

    reference: str
    buyer: str
    decision_date: date
    lots: list[LotAward] = Field(min_length=1, max_length=100)
    tenders_received: dict[str, StrictInt] | StrictInt | None = None
    sme_tenders_received: dict[str, StrictInt] | StrictInt | None = None
    eea_tenders_received: dict[str, StrictInt] | StrictInt | None = None
    non_eea_tenders_received: dict[str, StrictInt] | StrictInt | None = None

    @field_validator("decision_date", mode="before")
    @classmethod
    def _decision(cls, value: Any) -> date:
        return _date(value)

    @field_validator("reference", "buyer", mode="before")
    @classmethod
    def _names(cls, value: Any) -> str:
        if not isinstance(value, str) or not value or len(value) > 64 or not value.isprintable():
            raise _problem("text", "must name the tender: 1-64 printable characters")
        return value

    @model_validator(mode="after")
    def _lots(self) -> Award:
        numbers = [lot.lot for lot in self.lots]
        if None in numbers and len(numbers) > 1:
            raise _problem(
                "lots", "a lot with `lot: null` (an undivided tender) must be the only entry", "lots"
            )
        repeated = sorted({n for n in numbers if n is not None and numbers.count(n) > 1})
        if repeated:
            raise _problem("lots", f"each lot once; repeated: {repeated}", "lots")
        received = self.tenders_received
        if isinstance(received, int):
            if numbers != [None]:
                raise _problem(
                    "tenders_received",
                    'a single count is for an undivided tender; give one per lot: {"1": 4, "2": 0}',
                    "tenders_received",
                )
            if received < 0:
                raise _problem("tenders_received", "must not be negative", "tenders_received")
        elif isinstance(received, dict):
            known = {str(n) for n in numbers if n is not None}
            for key, count in received.items():
                if key not in known:
                    raise _problem(
                        "tenders_received", f"{key!r} is not a lot of this award", "tenders_received"
                    )
                if count < 0:
                    raise _problem("tenders_received", f"lot {key}: must not be negative", "tenders_received")
        for name in BREAKDOWNS:
            self._breakdown(name, numbers)
        self._origins(numbers)
        for lot in self.lots:
            if lot.contract and lot.contract.signed_on and lot.contract.signed_on < self.decision_date:
                raise _problem(
                    "date",
                    f"{lot.label}: signed on {lot.contract.signed_on}, "
                    f"before the decision {self.decision_date}",
                    "lots",
                )
        return self

    def _breakdown(self, field: str, numbers: list[int | None]) -> None:
        """A breakdown of the tenders received: of lots this award has, never more than the
        tenders received."""
        given = getattr(self, field)
        if given is None:
            return
        if isinstance(given, int) and numbers != [None]:
            raise _problem(
                field, 'a single count is for an undivided tender; give one per lot: {"1": 1}', field
            )
        counts: dict[int | None, int] = {}
        if isinstance(given, int):
            counts[None] = given
        else:
            counts.update({int(k): v for k, v in given.items() if k.isdigit()})
        if len(counts) != (1 if isinstance(given, int) else len(given)) or set(counts) - set(numbers):
            raise _problem(field, "names a lot that is not in this award", field)
        for number, count in counts.items():
            label = "the contract" if number is None else f"lot {number}"
            received = self.received(number)
            if count < 0:
                raise _problem(field, f"{label}: must not be negative", field)
            if received is None or count > received:
                raise _problem(field, f"{label}: {count} of {received} tenders received", field)

    def _origins(self, numbers: list[int | None]) -> None:
        """Tenders from the EEA and from elsewhere abroad are never more than were received."""
        for number in numbers:
            eea, elsewhere = self.breakdown("eea", number), self.breakdown("non_eea", number)
            received = self.received(number)
            if (
                eea is not None
                and elsewhere is not None
                and received is not None
                and eea + elsewhere > received
            ):
                label = "the contract" if number is None else f"lot {number}"
                raise _problem(
                    "tenders_received",
                    f"{label}: {eea} EEA and {elsewhere} other foreign tenders, but {received} received",
                    "non_eea_tenders_received",
                )

    def breakdown(self, kind: str, lot: int | None) -> int | None:
        """Of the tenders received for a lot, how many were `kind` ("sme", "eea", "non_eea")."""
        given = getattr(self, f"{kind}_tenders_received")
        if isinstance(given, int):
            return given
        if isinstance(given, dict) and lot is not None:
            value = given.get(str(lot))
            return value if isinstance(value, int) else None
        return None

    def received(self, lot: int | None) -> int | None:
        """The number of tenders received for a lot, if given."""
        if isinstance(self.tenders_received, int):
            return self.tenders_received
        if isinstance(self.tenders_received, dict) and lot is not None:
            return self.tenders_received.get(str(lot))
        return None

    def lot(self, number: int | None) -> LotAward | None:
        """One lot's outcome."""
        return next((lot for lot in self.lots if lot.lot == number), None)

    def total_net(self, vat_rate: Decimal) -> Decimal:
        """Every awarded lot's value, net of VAT."""
        return sum((lot.value.net(vat_rate) for lot in self.lots if lot.value), Decimal(0))
