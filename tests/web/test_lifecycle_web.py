"""Amending and withdrawing through the JSON API and the dashboard, over the real store."""

from __future__ import annotations

import json

from syndicator.domain.states import State
from syndicator.store.models import TenderRow
from tests.web.conftest import Site, crystal_only


def _pending(site: Site, reference: str) -> int:
    """A crystal-only tender whose contract notice has not left yet."""
    [delivery_id] = site.engine.submit(crystal_only(reference))
    return delivery_id


def test_the_api_amends_a_tender_and_says_what_each_destination_gets(site: Site) -> None:
    first = _pending(site, "AM-1")
    body = {"tender": crystal_only("AM-1", title="Framework call-off (revised)"), "reason": "Scope clarified"}
    viewer = site.client.post("/api/tenders/AM-1/amendments", json=body, headers=site.auth("viewer"))
    assert viewer.status_code == 403
    answer = site.client.post("/api/tenders/AM-1/amendments", json=body, headers=site.auth("operator"))
    assert answer.status_code == 201, answer.text
    data = answer.json()
    assert data["version"] == 2 and [c["field"] for c in data["changes"]] == ["title"]
    assert data["destinations"] == [
        {"destination": "crystal", "notice": "contract", "text": "contract notice v2"}
    ]
    assert site.queued_ids() == data["deliveries"]
    detail = site.client.get("/api/tenders/AM-1", headers=site.auth("viewer")).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    states = {(d["id"], d["notice"], d["version"]): d["state"] for d in detail["deliveries"]}
    assert states[(first, "contract", 1)] == State.SUPERSEDED


def test_the_api_refuses_what_cannot_be_amended_with_the_right_status(site: Site) -> None:
    _pending(site, "AM-2")
    ops = site.auth("operator")
    same = site.client.post(
        "/api/tenders/AM-2/amendments", json={"tender": crystal_only("AM-2"), "reason": "x"}, headers=ops
    )
    assert same.status_code == 409 and "nothing changed" in same.json()["error"]
    invalid = site.client.post(
        "/api/tenders/AM-2/amendments",
        json={"tender": crystal_only("AM-2", title=""), "reason": "x"},
        headers=ops,
    )
    assert invalid.status_code == 422
    assert {"record": "AM-2", "field": "title", "message": "must not be empty"} in invalid.json()["problems"]
    other = site.client.post(
        "/api/tenders/AM-2/amendments", json={"tender": crystal_only("OTHER"), "reason": "x"}, headers=ops
    )
    assert other.status_code == 409 and "buyer and reference cannot change" in other.json()["error"]
    missing = site.client.post(
        "/api/tenders/NOPE/amendments", json={"tender": crystal_only("NOPE"), "reason": "x"}, headers=ops
    )
    assert missing.status_code == 404


def test_the_api_withdraws_once(site: Site) -> None:
    delivery_id = _pending(site, "WD-1")
    ops = site.auth("operator")
    answer = site.client.post(
        "/api/tenders/WD-1/withdrawal", json={"reason": "Budget withdrawn"}, headers=ops
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["destinations"][0]["destination"] == "crystal"
    detail = site.client.get("/api/tenders/WD-1", headers=ops).json()
    assert detail["tender"]["withdrawal_reason"] == "Budget withdrawn"
    assert {d["id"]: d["state"] for d in detail["deliveries"]}[delivery_id] == State.CANCELLED
    again = site.client.post("/api/tenders/WD-1/withdrawal", json={"reason": "again"}, headers=ops)
    assert again.status_code == 409 and "was withdrawn" in again.json()["error"]


def test_the_dashboard_amends_with_a_form_that_keeps_what_was_typed(site: Site) -> None:
    _pending(site, "AM-3")
    csrf = site.sign_in("operator")
    tender_id = site.client.get("/api/tenders/AM-3", headers=site.auth("viewer")).json()["tender"]["id"]
    form = site.client.get(f"/tenders/{tender_id}/amend")
    assert form.status_code == 200 and "&#34;reference&#34;: &#34;AM-3&#34;" in form.text
    bad = site.client.post(
        f"/tenders/{tender_id}/amend", data={"csrf_token": csrf, "record": "{not json", "reason": "typo fix"}
    )
    assert bad.status_code == 422 and "not JSON" in bad.text and "typo fix" in bad.text
    record = crystal_only("AM-3", title="Call-off, corrected")
    done = site.client.post(
        f"/tenders/{tender_id}/amend",
        data={
            "csrf_token": csrf,
            "record": json.dumps(record),
            "reason": "Title corrected",
            "kind": "correction",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = site.client.get(f"/tenders/{tender_id}").text
    assert "is now version 2" in page
    assert "Version 2" in page and "(correction)" in page and "Title corrected" in page
    assert "Call-off, corrected" in page  # the diff's new value


def test_the_dashboard_asks_before_withdrawing_and_says_what_each_destination_gets(site: Site) -> None:
    site.published("WD-2")
    csrf = site.sign_in("operator")
    tender_id = site.client.get("/api/tenders/WD-2", headers=site.auth("viewer")).json()["tender"]["id"]
    ask = site.client.post(f"/tenders/{tender_id}/withdraw", data={"csrf_token": csrf, "reason": "Cancelled"})
    assert ask.status_code == 200 and "Withdraw WD-2?" in ask.text
    assert "crystal" in ask.text
    with site.store.sessions() as session:
        assert session.get(TenderRow, tender_id).withdrawn_at is None  # type: ignore[union-attr]
    page = site.client.get(f"/tenders/{tender_id}").text
    assert f'action="/tenders/{tender_id}/withdraw"' in page
