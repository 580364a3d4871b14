"""The transparency lists on a data set built around their edges: contracts that start or end
exactly on a quarter's last day, and values exactly at £10,000 and £25,000 (SQLite and
PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from syndicator.config.settings import Config
from syndicator.ops.contracts import Quarter, contracts_list, pcc_lists
from syndicator.ops.lists import HEADER, contracts_csv, contracts_html, contracts_ocds, pcc_csv, pcc_html
from syndicator.runtime.wiring import Store
from syndicator.store.models import AwardLotRow, AwardRow, DeliveryRow, TenderRow

NOW = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
Q4 = Quarter(2026, 4)  # ends 2026-12-31
SUPPLIER = {
    "name": "Acme =Supplies Ltd",  # a name that would be a formula in a spreadsheet
    "identifier": {"scheme": "GB-COH", "id": "01234567"},
    "address": {"street": "1 High St", "town": "Derby", "postcode": "DE1 1AA", "country": "GB"},
    "sme": True,
}


def _contract(
    store: Store,
    reference: str,
    net: str,
    start: str,
    end: str,
    *,
    buyer: str = "derbyshire-constabulary",
    lots: list[int | None] | None = None,
    suppliers: int = 1,
) -> int:
    with store.sessions.begin() as session:
        tender = TenderRow(
            buyer=buyer,
            reference=reference,
            version=1,
            title=f"Contract {reference}",
            record={"estimated_value": {"amount": net, "currency": "GBP"}, "publication_date": "2026-06-01"},
            content_hash="x",
            route={"destinations": []},
            submitted_by="t",
            created_at=NOW,
        )
        session.add(tender)
        session.flush()
        award = AwardRow(
            tender_id=tender.id,
            version=1,
            record={},
            decision_date=date(2026, 6, 1),
            created_by="t",
            created_at=NOW,
        )
        session.add(award)
        session.flush()
        for lot in lots or [None]:
            named = [SUPPLIER | {"name": f"{SUPPLIER['name']} {n}"} for n in range(suppliers)]
            session.add(
                AwardLotRow(
                    award_id=award.id,
                    tender_id=tender.id,
                    buyer=buyer,
                    lot=lot,
                    outcome="awarded",
                    suppliers=named,
                    value_net=Decimal(net),
                    value_gross=Decimal(net) * Decimal("1.2"),
                    contract_start=date.fromisoformat(start),
                    contract_end=date.fromisoformat(end),
                )
            )
        return tender.id


@pytest.fixture
def data_set(store: Store) -> Store:
    _contract(store, "ENDS-ON-LAST-DAY", "25000.00", "2026-01-01", "2026-12-31")  # current: ends on it
    _contract(store, "ENDS-DAY-BEFORE", "90000.00", "2026-01-01", "2026-12-30")  # ended before the end
    _contract(store, "STARTS-ON-LAST-DAY", "30000.00", "2026-12-31", "2027-12-31")  # current: starts on it
    _contract(store, "STARTS-DAY-AFTER", "30000.00", "2027-01-01", "2027-12-31")  # not yet started
    _contract(store, "JUST-UNDER", "24999.99", "2026-01-01", "2027-12-31")  # below the list's minimum
    _contract(store, "TWO-SUPPLIERS", "40000.00", "2026-07-01", "2028-06-30", lots=[1, 2], suppliers=2)
    _contract(store, "NOTTS-ONE", "100000.00", "2026-07-01", "2028-06-30", buyer="nottinghamshire-police")
    _contract(store, "TEN-THOUSAND", "10000.00", "2026-07-01", "2027-06-30")
    _contract(store, "TEN-THOUSAND-AND-A-PENNY", "10000.01", "2026-07-01", "2027-06-30")
    return store


def test_the_quarterly_list_holds_what_is_current_at_the_quarters_end_and_worth_25000(
    data_set: Store,
) -> None:
    with data_set.sessions() as session:
        rows = contracts_list(session, Q4)
    assert sorted({row.reference for row in rows}) == [
        "ENDS-ON-LAST-DAY",
        "NOTTS-ONE",
        "STARTS-ON-LAST-DAY",
        "TWO-SUPPLIERS",
    ]
    assert len([r for r in rows if r.reference == "TWO-SUPPLIERS"]) == 4  # one row per supplier and lot
    with data_set.sessions() as session:
        assert {row.buyer for row in contracts_list(session, Q4, "nottinghamshire-police")} == {
            "nottinghamshire-police"
        }


def test_quarters_are_parsed_and_bounded() -> None:
    assert (Quarter.parse("2026-Q1").start, Quarter.parse("2026-q1").end) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert Quarter.parse("2026-Q2").end == date(2026, 6, 30) and Quarter.parse("2026-Q3").end == date(
        2026, 9, 30
    )
    for bad in ("2026-Q5", "2026Q4", "Q4-2026", "99999-Q1", ""):
        with pytest.raises(ValueError, match="is not a quarter"):
            Quarter.parse(bad)


def test_the_csv_has_the_documented_header_and_neutralises_formulas(data_set: Store) -> None:
    with data_set.sessions() as session:
        text = contracts_csv(contracts_list(session, Q4))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    documented = "buyer,reference,title,lot,supplier,supplier_id,value_net,value_gross,start,end"
    assert ",".join(HEADER) == documented
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["value_net"] == "25000.00" and first["value_gross"] == "30000.00"
    assert first["supplier"].startswith("Acme =Supplies") and first["supplier_id"] == "GB-COH-01234567"
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_the_html_page_is_printable_and_escapes_text(data_set: Store, config: Config) -> None:
    with data_set.sessions() as session:
        rows = contracts_list(session, Q4)
    page = contracts_html(rows, Q4, config.buyers, NOW)
    assert "<h2>Chief Constable of Derbyshire Constabulary</h2>" in page and "@media print" in page
    assert "Contract ENDS-ON-LAST-DAY" in page and "£25,000.00" in page and "31 December 2026" in page


def test_the_json_is_an_ocds_release_package_of_the_contracts(data_set: Store, config: Config) -> None:
    with data_set.sessions() as session:
        rows = contracts_list(session, Q4)
    package = json.loads(contracts_ocds(rows, {}, Q4, config.buyers, NOW))
    assert package["version"] == "1.1" and package["publisher"]["name"] == config.buyers.publisher.name
    releases = {r["tender"]["id"]: r for r in package["releases"]}
    two = releases["TWO-SUPPLIERS"]
    assert two["tag"] == ["contract"] and two["ocid"].startswith(config.buyers.publisher.ocid_prefix)
    assert [c["period"]["startDate"][:10] for c in two["contracts"]] == ["2026-07-01", "2026-07-01"]
    assert [len(a["suppliers"]) for a in two["awards"]] == [2, 2]
    assert contracts_ocds(rows, {}, Q4, config.buyers, NOW) == contracts_ocds(
        rows, {}, Q4, config.buyers, NOW
    )


def test_the_pcc_lists_split_at_exactly_10000(data_set: Store, config: Config) -> None:
    with data_set.sessions.begin() as session:
        tender = session.query(TenderRow).filter_by(reference="ENDS-ON-LAST-DAY").one()
        session.add(
            DeliveryRow(
                tender_id=tender.id,
                buyer=tender.buyer,
                destination="bluelight",
                notice="contract",
                version=1,
                state="published",
                key="k-1",
                remote_url="https://bluelight.example/notice/1",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    with data_set.sessions() as session:
        lists = pcc_lists(session, "derbyshire-constabulary", config.policy.vat_rate)
    over = {row.reference for row in lists.contracts_over}
    up_to = {row.reference for row in lists.contracts_up_to}
    assert "TEN-THOUSAND" in up_to and "TEN-THOUSAND" not in over
    assert "TEN-THOUSAND-AND-A-PENNY" in over and "TEN-THOUSAND-AND-A-PENNY" not in up_to
    invitations = {item.reference: item for item in lists.invitations}
    assert "TEN-THOUSAND" not in invitations and "TEN-THOUSAND-AND-A-PENNY" in invitations
    assert invitations["ENDS-ON-LAST-DAY"].links == [("bluelight", "https://bluelight.example/notice/1")]
    text = pcc_csv(lists)
    assert "invitation-over-10000" in text and "contract-10000-or-less" in text
    page = pcc_html(lists, config.buyers, NOW)
    assert '<a href="https://bluelight.example/notice/1">bluelight</a>' in page
