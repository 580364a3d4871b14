"""`syndicator validate-award`, `award`, `contract-signed`, `standstill`, `contracts-list` and
`pcc-publication` as a user runs them: real processes over an SQLite store (no worker)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLES

AWARDS = EXAMPLES / "awards" / "notts-2026-0142.json"
TENDER = EXAMPLES / "anpr-cameras.json"  # NOTTS-2026-0142, nottinghamshire-police, PA2023


def _one_award(tmp_path: Path, **changes: object) -> Path:
    [record] = [r for r in json.loads(AWARDS.read_text()) if r["reference"] == "NOTTS-2026-0142"]
    path = tmp_path / "award.json"
    path.write_text(json.dumps(record | changes))
    return path


def test_validate_award_accepts_the_shipped_records_and_names_each_problem(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = run("validate-award", str(AWARDS))
    assert ok.returncode == 0 and "OK 4 award records valid" in ok.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"reference": "X", "buyer": "emscu", "decision_date": "2027-13-01", "lots": []}])
    )
    result = run("validate-award", str(bad))
    assert result.returncode == 2
    assert f"{bad}: X: decision_date:" in result.stdout and f"{bad}: X: lots:" in result.stdout


def test_award_stores_the_decision_and_show_lists_it(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("submit", str(TENDER)).returncode == 0
    result = run("award", str(_one_award(tmp_path)), "--as", "alice")
    assert result.returncode == 0, result.stderr
    assert "nottinghamshire-police/NOTTS-2026-0142 awarded" in result.stdout
    again = run("award", str(_one_award(tmp_path)))
    assert again.returncode == 2 and "already awarded" in again.stderr
    shown = json.loads(run("show", "NOTTS-2026-0142", "--json").stdout)
    [entry] = shown["awards"]
    assert entry["outcome"] == "awarded" and entry["decision_date"] == "2027-02-01"
    assert entry["suppliers"][0]["name"] == "Roadwatch Systems Ltd"
    assert entry["standstill_ends"] is None  # the award notice is not published yet
    text = run("show", "NOTTS-2026-0142").stdout
    assert "award" in text and "the contract: awarded Roadwatch Systems Ltd" in text


def test_an_award_for_an_unknown_tender_is_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("award", str(_one_award(tmp_path)))
    assert result.returncode == 2
    assert "award.json: NOTTS-2026-0142: reference: nottinghamshire-police has no tender" in result.stdout


def test_standstill_prints_the_last_day_alone(run) -> None:  # type: ignore[no-untyped-def]
    # Published Tuesday 22 December 2026: Christmas Day, the Boxing Day substitute (Monday 28th)
    # and New Year's Day do not count, so the eighth working day is Tuesday 5 January 2027.
    result = run("standstill", "--published-on", "2026-12-22")
    assert result.returncode == 0 and result.stdout == "2027-01-05\n"
    bad = run("standstill", "--published-on", "22/12/2026")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_the_contracts_list_has_the_awarded_contract(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("submit", str(TENDER))
    run("award", str(_one_award(tmp_path)))
    csv = run("contracts-list", "--quarter", "2027-Q1", "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    header, *rows = csv.stdout.splitlines()
    assert header == "buyer,reference,title,lot,supplier,supplier_id,value_net,value_gross,start,end"
    assert len(rows) == 1 and rows[0].startswith("nottinghamshire-police,NOTTS-2026-0142,")
    before = run("contracts-list", "--quarter", "2026-Q4", "--format", "csv")
    assert before.stdout.splitlines()[1:] == []  # the contract starts in March 2027
    html = run("contracts-list", "--quarter", "2027-Q1", "--format", "html")
    assert "<table" in html.stdout and "Roadwatch Systems Ltd" in html.stdout
    pcc = run("pcc-publication", "--buyer", "nottinghamshire-police", "--format", "csv")
    assert pcc.returncode == 0 and "NOTTS-2026-0142" in pcc.stdout
    wrong = run("contracts-list", "--quarter", "2027-Q5")
    assert wrong.returncode == 2 and "YYYY-Qn" in wrong.stderr
