"""The JSON API, endpoint by endpoint, over SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from syndicator.domain.states import State
from syndicator.store.models import AuditRow, DeliveryRow
from tests.unit.records_factory import record, valued
from tests.web.conftest import Site, crystal_only


def audit_rows(site: Site) -> list[AuditRow]:
    with site.store.sessions() as session:
        return list(session.scalars(select(AuditRow).order_by(AuditRow.id)))


def state_of(site: Site, delivery_id: int) -> str:
    with site.store.sessions() as session:
        row = session.get(DeliveryRow, delivery_id)
        assert row is not None
        return row.state


# -- POST /api/tenders ------------------------------------------------------------------------


def test_submitting_a_tender_persists_routes_and_enqueues(site: Site) -> None:
    answer = site.client.post(
        "/api/tenders", json=valued("50000", cpv=["45000000-7"]), headers=site.auth("operator")
    )
    assert answer.status_code == 201, answer.text
    [submission] = answer.json()["submissions"]
    assert submission["outcome"] == "created" and submission["reference"] == "TEST-2026-0001"
    assert sorted(submission["destinations"]) == [
        "bluelight",
        "crystal",
        "find-a-tender",
        "source-east-midlands",
        "trade-press:construction-press",
    ]
    with site.store.sessions() as session:
        rows = {r.destination: r for r in session.scalars(select(DeliveryRow))}
    # Procurement Act 2023: Find a Tender first; the others wait for its notice.
    assert site.queued_ids() == [rows["find-a-tender"].id]
    assert {r.state for name, r in rows.items() if name != "find-a-tender"} == {State.HELD}


def test_the_submitter_is_the_tokens_name(site: Site) -> None:
    site.client.post("/api/tenders", json=crystal_only("WHO-1"), headers=site.auth("operator"))
    detail = site.client.get("/api/tenders/WHO-1", headers=site.auth("viewer")).json()
    assert detail["tender"]["submitted_by"] == "otto.operator"


def test_an_array_is_accepted_and_a_resubmission_is_200_unchanged(site: Site) -> None:
    body = [crystal_only("ARR-1"), crystal_only("ARR-2")]
    first = site.client.post("/api/tenders", json=body, headers=site.auth("operator"))
    assert first.status_code == 201 and len(first.json()["submissions"]) == 2
    again = site.client.post("/api/tenders", json=body, headers=site.auth("operator"))
    assert again.status_code == 200
    assert [s["outcome"] for s in again.json()["submissions"]] == ["unchanged", "unchanged"]


def test_same_reference_different_content_is_409(site: Site) -> None:
    site.client.post("/api/tenders", json=crystal_only("CONF-1"), headers=site.auth("operator"))
    answer = site.client.post(
        "/api/tenders", json=crystal_only("CONF-1", title="Another title"), headers=site.auth("operator")
    )
    assert answer.status_code == 409
    assert "syndicator amend" in answer.json()["error"]
    assert answer.json()["submissions"][0]["outcome"] == "conflict"


def test_invalid_records_answer_422_with_the_problems_validate_prints(site: Site) -> None:
    bad = record(reference="BAD-1", cpv=["not-a-cpv"], contact=...)
    answer = site.client.post("/api/tenders", json=[bad], headers=site.auth("operator"))
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert {"record", "field", "message"} == set(problems[0])
    assert {p["field"] for p in problems} >= {"contact"} and all(p["record"] == "BAD-1" for p in problems)
    assert any(p["field"].startswith("cpv") for p in problems)
    # the very lines `syndicator validate` prints, from the same function
    from syndicator.intake.records import read_bytes
    from syndicator.runtime.wiring import route_check, tender_context

    _, expected = read_bytes(
        json.dumps([bad]).encode(), tender_context(site.config, site.clock().date()), route_check(site.config)
    )
    assert problems == [p.as_dict() for p in expected]
    assert site.queued == []


def test_route_dependent_problems_are_reported_too(site: Site) -> None:
    above_ted = valued("5000000", documents_url=..., reference="TED-NO-DOCS")
    answer = site.client.post("/api/tenders", json=above_ted, headers=site.auth("operator"))
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["problems"]] == ["documents_url"]


def test_malformed_json_is_422_naming_the_position(site: Site) -> None:
    answer = site.client.post(
        "/api/tenders",
        content=b'{"reference": ',
        headers=site.auth("operator") | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert "malformed JSON at line 1" in answer.json()["problems"][0]["message"]


def test_idempotency_key_replays_the_first_answer(site: Site) -> None:
    headers = site.auth("operator") | {"Idempotency-Key": "create-IDEM-1"}
    first = site.client.post("/api/tenders", json=crystal_only("IDEM-1"), headers=headers)
    again = site.client.post("/api/tenders", json=crystal_only("IDEM-1"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(site.queued) == 1  # the replay did nothing


def test_an_idempotency_key_reused_with_another_body_is_refused(site: Site) -> None:
    headers = site.auth("operator") | {"Idempotency-Key": "k-1"}
    site.client.post("/api/tenders", json=crystal_only("IDEM-2"), headers=headers)
    answer = site.client.post("/api/tenders", json=crystal_only("IDEM-3"), headers=headers)
    assert answer.status_code == 422
    assert "already used with a different request body" in answer.json()["error"]
    assert site.client.get("/api/tenders/IDEM-3", headers=site.auth("viewer")).status_code == 404


def test_idempotency_keys_belong_to_one_token(site: Site) -> None:
    headers = {"Idempotency-Key": "shared"}
    site.client.post("/api/tenders", json=crystal_only("IDEM-4"), headers=site.auth("operator") | headers)
    other = site.client.post(
        "/api/tenders", json=crystal_only("IDEM-5"), headers=site.auth("admin") | headers
    )
    assert other.status_code == 201


def test_an_enqueue_failure_does_not_fail_the_submission(site: Site) -> None:
    def broken(ids: list[int]) -> None:
        raise ConnectionError("broker down")

    from syndicator.web.app import never_raises

    site.client.app.state.web.enqueue = never_raises(broken)  # type: ignore[attr-defined]
    answer = site.client.post("/api/tenders", json=crystal_only("NOBROKER"), headers=site.auth("operator"))
    assert answer.status_code == 201
    listed = site.client.get("/api/deliveries", headers=site.auth("viewer")).json()
    assert listed["counts"] == {"pending": 1}  # saved and due: the sweeper will send it


# -- reads ------------------------------------------------------------------------------------


def test_get_tender_has_route_deliveries_and_attempts(site: Site) -> None:
    delivery_id = site.failed("SHOW-1")
    answer = site.client.get("/api/tenders/SHOW-1", headers=site.auth("viewer"))
    assert answer.status_code == 200
    data = answer.json()
    assert data["tender"]["reference"] == "SHOW-1" and data["route"]["destinations"][0]["reasons"]
    [delivery] = data["deliveries"]
    assert delivery["id"] == delivery_id and delivery["state"] == "failed"
    [attempt] = delivery["timeline"]
    assert attempt["outcome"] == "rejected" and attempt["status_code"] == 422 and attempt["trigger"] == "auto"
    by_id = site.client.get(f"/api/tenders/{data['tender']['id']}", headers=site.auth("viewer")).json()
    by_buyer = site.client.get("/api/tenders/emscu/SHOW-1", headers=site.auth("viewer")).json()
    assert by_id == by_buyer == data


def test_an_unknown_tender_is_404_json(site: Site) -> None:
    answer = site.client.get("/api/tenders/NOPE", headers=site.auth("viewer"))
    assert answer.status_code == 404 and answer.json() == {"error": "no tender 'NOPE'"}


def test_list_tenders_pages_with_one_state_per_destination(site: Site) -> None:
    site.failed("LIST-1")
    site.published("LIST-2")
    answer = site.client.get("/api/tenders?size=1", headers=site.auth("viewer")).json()
    assert answer["total"] == 2 and answer["pages"] == 2
    assert answer["tenders"][0]["reference"] == "LIST-2"
    assert answer["tenders"][0]["deliveries"][0]["state"] == "published"
    failed = site.client.get("/api/tenders?state=failed", headers=site.auth("viewer")).json()
    assert [t["reference"] for t in failed["tenders"]] == ["LIST-1"]


def test_list_deliveries_filters_and_counts_like_status_json(site: Site) -> None:
    failed_id = site.failed("DEL-1")
    site.published("DEL-2")
    answer = site.client.get("/api/deliveries", headers=site.auth("viewer")).json()
    assert answer["total"] == 2 and answer["counts"] == {"failed": 1, "published": 1}
    assert set(answer["deliveries"][0]) == {
        "id", "tender_id", "tender_reference", "title", "buyer", "destination", "notice", "version",
        "state", "attempts", "last_error", "remote_id", "url", "created_at", "updated_at", "next_attempt_at",
    }  # fmt: skip
    only = site.client.get(
        "/api/deliveries?state=failed&destination=crystal&buyer=emscu&since=1d", headers=site.auth("viewer")
    ).json()
    assert [d["id"] for d in only["deliveries"]] == [failed_id] and only["pages"] == 1
    assert site.client.get("/api/deliveries?buyer=nobody", headers=site.auth("viewer")).json()["total"] == 0


def test_bad_filters_are_422_with_a_message(site: Site) -> None:
    for query, words in (
        ("state=broken", "is not one of"),
        ("since=yesterday", "since:"),
        ("size=1000", "size: must be at most 200"),
        ("page=0", "page: must be at least 1"),
    ):
        answer = site.client.get(f"/api/deliveries?{query}", headers=site.auth("viewer"))
        assert answer.status_code == 422 and words in answer.json()["error"], query


def test_channels_reports_every_destination(site: Site) -> None:
    site.failed()
    answer = site.client.get("/api/channels", headers=site.auth("viewer")).json()
    names = [c["destination"] for c in answer["channels"]]
    assert set(site.config.policy.destinations()) <= set(names)
    crystal = next(c for c in answer["channels"] if c["destination"] == "crystal")
    assert crystal["counts"] == {"failed": 1} and crystal["breaker"] == "closed"


def test_me_names_the_token(site: Site) -> None:
    assert site.client.get("/api/me", headers=site.auth("viewer")).json() == {
        "name": "vera.viewer",
        "role": "viewer",
    }


# -- actions ----------------------------------------------------------------------------------


def test_repush_one_queues_it_and_audits_the_token_name(site: Site) -> None:
    delivery_id = site.failed()
    answer = site.client.post(
        f"/api/deliveries/{delivery_id}/repush", json={"reason": "field fixed"}, headers=site.auth("operator")
    )
    assert answer.status_code == 200 and answer.json()["changed"] == [delivery_id]
    assert state_of(site, delivery_id) == State.PENDING and site.queued_ids() == [delivery_id]
    [row] = audit_rows(site)
    assert (row.actor, row.action, row.delivery_id, row.reason) == (
        "otto.operator",
        "repush",
        delivery_id,
        "field fixed",
    )
    site.run_queued()
    assert state_of(site, delivery_id) == State.PUBLISHED
    attempts = site.engine.attempts(delivery_id)
    assert (attempts[-1].trigger, attempts[-1].actor) == ("manual", "otto.operator")


def test_repush_refusals_are_json_with_the_right_status(site: Site) -> None:
    published = site.published()
    ops = site.auth("operator")
    answer = site.client.post(f"/api/deliveries/{published}/repush", json={"reason": "again"}, headers=ops)
    assert answer.status_code == 409 and "already published" in answer.json()["error"]
    missing = site.client.post("/api/deliveries/999999/repush", json={"reason": "x"}, headers=ops)
    assert missing.status_code == 404 and missing.json() == {"error": "no delivery 999999"}
    no_reason = site.client.post(f"/api/deliveries/{published}/repush", json={"reason": "  "}, headers=ops)
    assert no_reason.status_code == 422 and no_reason.json()["problems"][0]["field"] == "reason"
    assert audit_rows(site) == []


def test_forced_repush_of_a_published_delivery(site: Site) -> None:
    published = site.published()
    answer = site.client.post(
        f"/api/deliveries/{published}/repush",
        json={"reason": "portal lost it", "force": True},
        headers=site.auth("operator"),
    )
    assert answer.status_code == 200 and state_of(site, published) == State.PENDING
    assert audit_rows(site)[0].details["forced"] is True


def test_bulk_repush_dry_run_then_for_real(site: Site) -> None:
    first, second = site.failed("BULK-1"), site.failed("BULK-2")
    site.published("BULK-3")
    body = {"reason": "portal fixed", "destination": "crystal", "dry_run": True}
    dry = site.client.post("/api/deliveries/repush", json=body, headers=site.auth("operator"))
    assert dry.status_code == 200 and sorted(dry.json()["changed"]) == [first, second]
    assert dry.json()["dry_run"] is True and site.queued == [] and audit_rows(site) == []
    real = site.client.post(
        "/api/deliveries/repush", json=body | {"dry_run": False}, headers=site.auth("operator")
    )
    assert sorted(real.json()["changed"]) == [first, second]
    assert sorted(site.queued_ids()) == [first, second]
    rows = audit_rows(site)
    assert [r.actor for r in rows] == ["otto.operator"] * 2 and rows[0].details["bulk"] is True


def test_bulk_repush_refuses_a_state_it_cannot_repush(site: Site) -> None:
    answer = site.client.post(
        "/api/deliveries/repush", json={"reason": "x", "state": "published"}, headers=site.auth("operator")
    )
    message = answer.json()["error"]
    assert answer.status_code == 422 and "state" in message and "'failed' or 'needs_reconcile'" in message


def test_cancel_a_tender(site: Site) -> None:
    failed = site.failed("CANCEL-1")
    answer = site.client.post(
        "/api/tenders/CANCEL-1/cancel", json={"reason": "withdrawn"}, headers=site.auth("operator")
    )
    assert answer.status_code == 200 and answer.json()["changed"] == [failed]
    assert state_of(site, failed) == State.CANCELLED
    [row] = audit_rows(site)
    assert (row.actor, row.action, row.reason) == ("otto.operator", "cancel", "withdrawn")
    missing = site.client.post(
        "/api/tenders/NOPE/cancel", json={"reason": "x"}, headers=site.auth("operator")
    )
    assert missing.status_code == 404


def test_reconcile_published_and_resend(site: Site) -> None:
    first, second = site.unknown("REC-1"), site.unknown("REC-2")
    ops = site.auth("operator")
    published = site.client.post(
        f"/api/deliveries/{first}/reconcile",
        json={
            "reason": "seen on the portal",
            "published_remote_id": "CR-77",
            "url": "https://example.test/77",
        },
        headers=ops,
    )
    assert published.status_code == 200 and published.json()["action"] == "reconcile-published"
    assert state_of(site, first) == State.PUBLISHED
    resent = site.client.post(
        f"/api/deliveries/{second}/reconcile",
        json={"reason": "not on the portal", "resend": True},
        headers=ops,
    )
    assert resent.status_code == 200 and site.queued_ids() == [second]
    both = site.client.post(
        f"/api/deliveries/{second}/reconcile",
        json={"reason": "x", "resend": True, "published_remote_id": "A"},
        headers=ops,
    )
    assert both.status_code == 409 and "either" in both.json()["error"]
    rows = audit_rows(site)
    assert [(r.actor, r.action) for r in rows] == [
        ("otto.operator", "reconcile-published"),
        ("otto.operator", "repush"),
    ]


def test_audit_endpoint_filters_and_pages(site: Site) -> None:
    ids = [site.failed(f"AUD-{n}") for n in range(3)]
    for delivery_id in ids:
        site.client.post(
            f"/api/deliveries/{delivery_id}/repush", json={"reason": "r"}, headers=site.auth("operator")
        )
    page = site.client.get("/api/audit?size=2", headers=site.auth("viewer")).json()
    assert len(page["audit"]) == 2 and page["has_more"] is True
    assert page["audit"][0]["delivery_id"] == ids[-1] and page["audit"][0]["actor"] == "otto.operator"
    rest = site.client.get("/api/audit?size=2&page=2", headers=site.auth("viewer")).json()
    assert len(rest["audit"]) == 1 and rest["has_more"] is False
    assert site.client.get("/api/audit?actor=nobody", headers=site.auth("viewer")).json()["audit"] == []
    assert len(site.client.get("/api/audit?action=repush", headers=site.auth("viewer")).json()["audit"]) == 3


# -- the description and the error contract ---------------------------------------------------


def test_openapi_describes_the_api_for_token_holders(site: Site) -> None:
    assert site.client.get("/openapi.json").status_code == 401
    spec = site.client.get("/openapi.json", headers=site.auth("viewer")).json()
    for path in (
        "/api/tenders",
        "/api/tenders/{reference}",
        "/api/deliveries",
        "/api/deliveries/repush",
        "/api/deliveries/{delivery_id}/repush",
        "/api/deliveries/{delivery_id}/reconcile",
        "/api/tenders/{reference}/cancel",
        "/api/channels",
        "/api/audit",
    ):
        assert path in spec["paths"], path
    assert "requestBody" in spec["paths"]["/api/tenders"]["post"]
    for reference in ("/docs", "/redoc"):
        page = site.client.get(reference, headers=site.auth("viewer"))
        assert page.status_code == 200
        assert "/openapi.json" in page.text or "swagger-init.js" in page.text
        # works offline: every script and style comes from this site, and is there
        assets = re.findall(r"(?:src|href)='([^']+)'", page.text)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            assert site.client.get(asset).status_code == 200, asset


def test_an_unexpected_error_is_a_json_500_without_a_traceback(site: Site) -> None:
    from fastapi.testclient import TestClient

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    import syndicator.web.api as api

    original = api.channel_health
    api.channel_health = explode  # type: ignore[assignment]
    try:
        client = TestClient(site.client.app, raise_server_exceptions=False)
        answer = client.get("/api/channels", headers=site.auth("viewer"))
    finally:
        api.channel_health = original
    assert answer.status_code == 500
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
    assert answer.json()["error"].startswith("internal error")


def test_unknown_api_paths_are_json_404(site: Site) -> None:
    answer = site.client.get("/api/nothing", headers=site.auth("viewer"))
    assert answer.status_code == 404 and "error" in answer.json()
