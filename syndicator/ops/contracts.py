"""The transparency lists, as read models over the awards: what a member force must publish.

    contracts list (quarterly)   every contract current at the end of the quarter (started on or
                                 before it, ending on or after it) worth £25,000 or more, net
    PCC specified information    invitations to tender over £10,000 with where they are
                                 advertised; contracts over £10,000; contracts of £10,000 or less
                                 (Elected Local Policing Bodies (Specified Information) Order 2011)

Values are per lot and net of VAT unless a column says gross; a lot with several suppliers (a
framework) appears once per supplier, each row giving the lot's value.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syndicator.domain.states import State
from syndicator.store.models import AwardLotRow, AwardRow, DeliveryRow, TenderRow

LIST_MINIMUM = Decimal("25000")  # EMSCU's quarterly list: contracts of £25,000 and above
PCC_LIMIT = Decimal("10000")  # SI 2011/3050 as amended: over £10,000, and a list of the rest
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, e.g. 2026-Q4 (1 October to 31 December 2026)."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """'2026-Q4' -> Quarter(2026, 4); ValueError otherwise."""
        found = _QUARTER.fullmatch(text.strip().upper())
        if not found or not 1900 <= int(found.group(1)) <= 9998:
            raise ValueError(f"{text!r} is not a quarter written YYYY-Qn (e.g. 2026-Q4)")
        return cls(int(found.group(1)), int(found.group(2)))

    @property
    def start(self) -> date:
        """Its first day."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """Its last day."""
        month = 3 * self.number
        return date(self.year, month, 31 if month in (3, 12) else 30)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


@dataclass(frozen=True)
class ContractRow:
    """One supplier of one lot's contract: a row of the lists."""

    buyer: str
    reference: str
    title: str
    lot: int | None
    supplier: str
    supplier_id: str
    value_net: Decimal
    value_gross: Decimal
    start: date
    end: date
    signed_on: date | None = None
    sme: bool | None = None
    tender_id: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (dates ISO, money as strings with two decimals)."""
        data = asdict(self)
        for name in ("value_net", "value_gross"):
            data[name] = f"{data[name]:.2f}"
        for name in ("start", "end", "signed_on"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


def _supplier_id(supplier: dict[str, Any]) -> str:
    identifier = supplier.get("identifier") or {}
    scheme, value = str(identifier.get("scheme", "")), str(identifier.get("id", ""))
    return value if value.startswith(scheme) else f"{scheme}-{value}"


def _rows(found: Any) -> list[ContractRow]:
    rows = []
    for lot, reference, title in found:
        for supplier in lot.suppliers:
            rows.append(
                ContractRow(
                    buyer=lot.buyer,
                    reference=reference,
                    title=title,
                    lot=lot.lot,
                    supplier=str(supplier.get("name", "")),
                    supplier_id=_supplier_id(supplier),
                    value_net=lot.value_net,
                    value_gross=lot.value_gross,
                    start=lot.contract_start,
                    end=lot.contract_end,
                    signed_on=lot.signed_on,
                    sme=supplier.get("sme"),
                    tender_id=lot.tender_id,
                )
            )
    return rows


def _contracts(session: Session, buyer: str | None) -> Any:
    query = (
        select(AwardLotRow, TenderRow.reference, TenderRow.title)
        .join(TenderRow, TenderRow.id == AwardLotRow.tender_id)
        .where(AwardLotRow.outcome == "awarded", AwardLotRow.contract_start.is_not(None))
        .order_by(AwardLotRow.buyer, TenderRow.reference, AwardLotRow.lot)
    )
    return query.where(AwardLotRow.buyer == buyer) if buyer else query


def contracts_list(session: Session, quarter: Quarter, buyer: str | None = None) -> list[ContractRow]:
    """Every contract current at the end of `quarter` worth £25,000 or more (net)."""
    query = _contracts(session, buyer).where(
        AwardLotRow.contract_start <= quarter.end,
        AwardLotRow.contract_end >= quarter.end,
        AwardLotRow.value_net >= LIST_MINIMUM,
    )
    return _rows(session.execute(query))


@dataclass(frozen=True)
class Invitation:
    """An invitation to tender over £10,000, and where it is advertised."""

    reference: str
    title: str
    value_net: Decimal
    published: str | None  # the first publication date of its advert
    deadline: str | None
    links: list[tuple[str, str]] = field(default_factory=list)  # (destination, url)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "reference": self.reference,
            "title": self.title,
            "value_net": f"{self.value_net:.2f}",
            "published": self.published,
            "deadline": self.deadline,
            "links": [{"destination": d, "url": u} for d, u in self.links],
        }


@dataclass(frozen=True)
class PccLists:
    """The specified information a police and crime commissioner publishes."""

    buyer: str
    invitations: list[Invitation]
    contracts_over: list[ContractRow]
    contracts_up_to: list[ContractRow]


def pcc_lists(session: Session, buyer: str, vat_rate: Decimal) -> PccLists:
    """Invitations over £10,000 with their advert links, and the two contract lists."""
    invitations = []
    tenders = session.scalars(select(TenderRow).where(TenderRow.buyer == buyer).order_by(TenderRow.id))
    links_query = select(DeliveryRow.tender_id, DeliveryRow.destination, DeliveryRow.remote_url).where(
        DeliveryRow.buyer == buyer,
        DeliveryRow.state == State.PUBLISHED.value,
        DeliveryRow.notice == "contract",
        DeliveryRow.remote_url.is_not(None),
    )
    links: dict[int, list[tuple[str, str]]] = {}
    for tender_id, destination, url in session.execute(links_query.order_by(DeliveryRow.id)):
        links.setdefault(tender_id, []).append((destination, str(url)))
    for tender in tenders:
        money = tender.record.get("estimated_value") or {}
        amount = Decimal(str(money.get("amount", "0")))
        net = (amount / (1 + vat_rate)).quantize(Decimal("0.01")) if money.get("vat_included") else amount
        if net <= PCC_LIMIT or tender.withdrawn_at is not None:
            continue
        invitations.append(
            Invitation(
                tender.reference,
                tender.title,
                net,
                tender.record.get("publication_date"),
                tender.record.get("submission_deadline"),
                links.get(tender.id, []),
            )
        )
    contracts = _rows(session.execute(_contracts(session, buyer)))
    return PccLists(
        buyer,
        invitations,
        [row for row in contracts if row.value_net > PCC_LIMIT],
        [row for row in contracts if row.value_net <= PCC_LIMIT],
    )


def awards_of(session: Session, tender_ids: list[int]) -> dict[int, AwardRow]:
    """The award rows of some tenders (for the OCDS form of the list)."""
    if not tender_ids:
        return {}
    return {
        row.tender_id: row
        for row in session.scalars(select(AwardRow).where(AwardRow.tender_id.in_(tender_ids)))
    }
