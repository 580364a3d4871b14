"""The transparency lists in the forms a force publishes: CSV (one row per supplier and lot),
a clean printable HTML page, and for the quarterly list an OCDS release package of the
contracts (one release per procurement, tagged "contract").

    contracts_csv(rows) / contracts_html(...) / contracts_ocds(...)
    pcc_csv(lists) / pcc_html(...)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from syndicator.config.buyers import Buyers
from syndicator.domain.jsontext import dumps
from syndicator.domain.keys import uuid4_shaped
from syndicator.ops.contracts import ContractRow, PccLists, Quarter
from syndicator.store.models import AwardRow

HEADER = [
    "buyer",
    "reference",
    "title",
    "lot",
    "supplier",
    "supplier_id",
    "value_net",
    "value_gross",
    "start",
    "end",
]
TEMPLATES = Path(__file__).resolve().parent / "templates"
OCDS_VERSION = "1.1"


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True
    )
    env.filters["money"] = lambda value: f"£{Decimal(value):,.2f}"
    return env


def _csv_text(value: Any) -> str:
    """A cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def contracts_csv(rows: Sequence[ContractRow]) -> str:
    """The quarterly list as CSV, with the documented header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                _csv_text(row.buyer),
                _csv_text(row.reference),
                _csv_text(row.title),
                "" if row.lot is None else row.lot,
                _csv_text(row.supplier),
                _csv_text(row.supplier_id),
                f"{row.value_net:.2f}",
                f"{row.value_gross:.2f}",
                row.start.isoformat(),
                row.end.isoformat(),
            ]
        )
    return out.getvalue()


def _by_buyer(rows: Sequence[ContractRow], buyers: Buyers) -> list[tuple[str, list[ContractRow]]]:
    grouped: dict[str, list[ContractRow]] = {}
    for row in rows:
        grouped.setdefault(row.buyer, []).append(row)
    return [(buyers.by_id[b].legal_name if b in buyers.by_id else b, grouped[b]) for b in sorted(grouped)]


def contracts_html(rows: Sequence[ContractRow], quarter: Quarter, buyers: Buyers, generated: datetime) -> str:
    """A printable page of the quarterly list, one section per member force."""
    return (
        _env()
        .get_template("contracts_list.html")
        .render(
            quarter=quarter, groups=_by_buyer(rows, buyers), publisher=buyers.publisher, generated=generated
        )
    )


def contracts_ocds(
    rows: Sequence[ContractRow],
    awards: dict[int, AwardRow],
    quarter: Quarter,
    buyers: Buyers,
    generated: datetime,
) -> str:
    """An OCDS 1.1 release package: one release per procurement, tagged "contract"."""
    publisher = buyers.publisher
    per_tender: dict[int, list[ContractRow]] = {}
    for row in rows:
        per_tender.setdefault(row.tender_id, []).append(row)
    releases = []
    for tender_id, contracts in per_tender.items():
        first = contracts[0]
        buyer = buyers.by_id.get(first.buyer)
        buyer_id = (buyer.ppon or buyer.org_id) if buyer else first.buyer
        ocid = f"{publisher.ocid_prefix}-{first.buyer}_{first.reference.replace('/', '~')}"
        parties: dict[str, dict[str, Any]] = {
            buyer_id: {"id": buyer_id, "name": buyer.legal_name if buyer else first.buyer, "roles": ["buyer"]}
        }
        awards_out: list[dict[str, Any]] = []
        contracts_out: list[dict[str, Any]] = []
        lots: dict[int | None, list[ContractRow]] = {}
        for row in contracts:
            lots.setdefault(row.lot, []).append(row)
            parties.setdefault(
                row.supplier_id, {"id": row.supplier_id, "name": row.supplier, "roles": ["supplier"]}
            )
        award = awards.get(tender_id)
        for lot, suppliers in lots.items():
            award_id = f"{ocid}-award-{'whole' if lot is None else lot}"
            value = {"amount": suppliers[0].value_net, "currency": "GBP"}
            award_out: dict[str, Any] = {"id": award_id, "status": "active"}
            if award is not None:
                award_out["date"] = f"{award.decision_date.isoformat()}T00:00:00Z"
            award_out |= {
                "value": value,
                "suppliers": [{"id": s.supplier_id, "name": s.supplier} for s in suppliers],
            }
            if lot is not None:
                award_out["relatedLots"] = [f"lot-{lot}"]
            awards_out.append(award_out)
            contract: dict[str, Any] = {
                "id": f"{ocid}-contract-{'whole' if lot is None else lot}",
                "awardID": award_id,
                "status": "active",
                "period": {
                    "startDate": f"{suppliers[0].start}T00:00:00Z",
                    "endDate": f"{suppliers[0].end}T23:59:59Z",
                },
                "value": value,
            }
            if suppliers[0].signed_on:
                contract["dateSigned"] = f"{suppliers[0].signed_on}T00:00:00Z"
            contracts_out.append(contract)
        when = generated.strftime("%Y-%m-%dT%H:%M:%SZ")
        releases.append(
            {
                "ocid": ocid,
                "id": f"{ocid}-contracts-{quarter}",
                "date": when,
                "tag": ["contract"],
                "initiationType": "tender",
                "parties": list(parties.values()),
                "buyer": {"id": buyer_id, "name": parties[buyer_id]["name"]},
                "tender": {"id": first.reference, "title": first.title},
                "awards": awards_out,
                "contracts": contracts_out,
            }
        )
    tenders = sorted(str(t) for t in per_tender)
    package = {
        "uri": f"urn:uuid:{uuid4_shaped('contracts-list', str(quarter), *tenders)}",
        "version": OCDS_VERSION,
        "publishedDate": generated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publisher": {"name": publisher.name, "uri": publisher.uri},
        "releases": releases,
    }
    return dumps(package)


def pcc_csv(lists: PccLists) -> str:
    """The specified information as one CSV: a `list` column says which list a row is on."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "list",
            "reference",
            "title",
            "lot",
            "supplier",
            "supplier_id",
            "value_net",
            "start",
            "end",
            "advertised_at",
        ]
    )
    for item in lists.invitations:
        links = " ".join(url for _, url in item.links)
        writer.writerow(
            [
                "invitation-over-10000",
                _csv_text(item.reference),
                _csv_text(item.title),
                "",
                "",
                "",
                f"{item.value_net:.2f}",
                item.published or "",
                item.deadline or "",
                _csv_text(links),
            ]
        )
    for name, rows in (
        ("contract-over-10000", lists.contracts_over),
        ("contract-10000-or-less", lists.contracts_up_to),
    ):
        for row in rows:
            writer.writerow(
                [
                    name,
                    _csv_text(row.reference),
                    _csv_text(row.title),
                    "" if row.lot is None else row.lot,
                    _csv_text(row.supplier),
                    _csv_text(row.supplier_id),
                    f"{row.value_net:.2f}",
                    row.start.isoformat(),
                    row.end.isoformat(),
                    "",
                ]
            )
    return out.getvalue()


def pcc_html(lists: PccLists, buyers: Buyers, generated: datetime) -> str:
    """A printable page of the specified information."""
    buyer = buyers.by_id.get(lists.buyer)
    return (
        _env()
        .get_template("pcc_publication.html")
        .render(
            lists=lists,
            buyer_name=buyer.legal_name if buyer else lists.buyer,
            publisher=buyers.publisher,
            generated=generated,
        )
    )
