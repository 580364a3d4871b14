"""The dashboard's pages render what a person needs, and its forms act through ops."""

from __future__ import annotations

import re

from sqlalchemy import select

from syndicator.domain.states import State
from syndicator.store.models import AuditRow, DeliveryRow
from tests.web.conftest import Site, form_value


def audit_rows(site: Site) -> list[AuditRow]:
    with site.store.sessions() as session:
        return list(session.scalars(select(AuditRow).order_by(AuditRow.id)))


def state_of(site: Site, delivery_id: int) -> str:
    with site.store.sessions() as session:
        row = session.get(DeliveryRow, delivery_id)
        assert row is not None
        return row.state


def test_overview_counts_by_destination_and_makes_failures_stand_out(site: Site) -> None:
    site.failed("OV-1")
    site.unknown("OV-2")
    site.published("OV-3")
    site.sign_in("viewer")
    page = site.client.get("/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    # a row heading's text, without the markup that lets "trade-press:<publication>" wrap
    rows = {re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<th scope="row">(.*?)</th>', html)}
    for destination in site.config.policy.destinations():
        assert destination in rows
    assert 'class="hotcount" href="/failed?destination=crystal&amp;state=failed">1</a>' in html
    assert 'href="/failed?destination=crystal&amp;state=needs_reconcile">1</a>' in html
    assert 'class="stat hot" href="/failed?state=failed"' in html
    assert re.search(r'<span class="pill hot"[^>]*>2</span>', html)  # the navigation's badge


def test_tenders_are_searchable_and_paged_with_one_badge_per_destination(site: Site) -> None:
    site.failed("SEARCH-ME")
    for n in range(26):
        site.engine.submit({**_crystal(f"PAGE-{n:02}")})
    site.sign_in("viewer")
    first = site.client.get("/tenders").text
    assert "Page 1 of 2" in first and "27 tenders" in first and 'rel="next" href="/tenders?page=2"' in first
    found = site.client.get("/tenders?search=search-me").text
    assert "SEARCH-ME" in found and "PAGE-00" not in found
    assert re.search(r'class="chip s-failed"[^>]*title="crystal: failed"><b>crystal</b> failed', found)
    assert "No tenders match" in site.client.get("/tenders?search=zzz").text


def _crystal(reference: str) -> dict:
    from tests.web.conftest import crystal_only

    return crystal_only(reference)


def test_the_tender_page_explains_the_route_timeline_and_notice(site: Site) -> None:
    delivery_id = site.failed("PAGE-T")
    with site.store.sessions() as session:
        tender_id = session.get(DeliveryRow, delivery_id).tender_id  # type: ignore[union-attr]
    site.sign_in("operator")
    html = site.client.get(f"/tenders/{tender_id}").text
    assert "PAGE-T" in html and "Route: why these destinations" in html
    assert "advertised on Crystal only (framework call-off)" in html  # the route's reason
    assert f'id="d-{delivery_id}"' in html and '<span class="badge s-failed">failed</span>' in html
    assert "field &#39;lots&#39; refused" in html  # the error, escaped
    assert '<span class="outcome o-rejected">rejected</span>' in html and ">422<" in html
    assert "Notice as sent" in html and "&#34;reference&#34;: &#34;PAGE-T&#34;" in html  # pretty JSON
    assert f'action="/deliveries/{delivery_id}/repush"' in html
    assert site.client.get("/tenders/PAGE-T").status_code == 200  # by reference too
    missing = site.client.get("/tenders/NOPE")
    assert missing.status_code == 404 and "no tender" in missing.text


def test_untrusted_text_is_escaped_and_remote_links_are_http_only(site: Site) -> None:
    from syndicator.channel.base import Receipt

    site.channels["crystal"].sends.append(
        Receipt(remote_id="<script>x</script>", live=True, url="javascript:alert(1)")
    )
    [delivery_id] = site.engine.submit(_crystal("XSS-1") | {"title": "<img src=x onerror=alert(1)>"})
    site.engine.dispatcher.deliver([delivery_id])
    site.sign_in("viewer")
    html = site.client.get("/tenders/XSS-1").text
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<script>x</script>" not in html and "javascript:" not in html


def test_failed_list_filters_and_repushes_one(site: Site) -> None:
    failed, unknown = site.failed("F-1"), site.unknown("F-2")
    site.published("F-3")
    csrf = site.sign_in("operator")
    html = site.client.get("/failed").text
    assert f'id="row-{failed}"' in html and f'id="row-{unknown}"' in html and "F-3" not in html
    only = site.client.get("/failed?state=needs_reconcile").text
    assert f'id="row-{unknown}"' in only and f'id="row-{failed}"' not in only
    assert "Resend" in only  # reconcile choices for an unknown outcome
    answer = site.client.post(
        f"/deliveries/{failed}/repush",
        data={"csrf_token": csrf, "reason": "channel fixed", "next": "/failed"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/failed"
    assert site.queued_ids() == [failed] and state_of(site, failed) == State.PENDING
    after = site.client.get("/failed").text
    assert f"delivery {failed} queued again" in after and f'id="row-{failed}"' not in after
    assert f"delivery {failed} queued again" not in site.client.get("/failed").text  # shown once
    [row] = audit_rows(site)
    assert (row.actor, row.action, row.reason) == ("otto.operator", "repush", "channel fixed")


def test_a_refused_action_is_explained_not_crashed(site: Site) -> None:
    published = site.published()
    csrf = site.sign_in("operator")
    refused = site.client.post(
        f"/deliveries/{published}/repush", data={"csrf_token": csrf, "reason": "again"}
    )
    assert refused.status_code == 200 and 'class="flash error"' in refused.text
    assert "already published" in refused.text
    bare = site.client.post(f"/deliveries/{published}/repush", data={"csrf_token": csrf, "reason": ""})
    assert "a reason is required" in bare.text
    assert audit_rows(site) == []


def test_repush_all_matching_shows_the_count_then_needs_confirming(site: Site) -> None:
    ids = [site.failed(f"ALL-{n}") for n in range(3)]
    csrf = site.sign_in("operator")
    form = {"csrf_token": csrf, "reason": "portal back", "destination": "crystal", "state": "", "since": ""}
    preview = site.client.post("/failed/repush", data=form | {"buyer": ""})
    assert preview.status_code == 200 and "Re-push 3 deliveries?" in preview.text
    assert site.queued == [] and audit_rows(site) == []  # nothing happened yet
    expected = form_value(preview.text, "expected")
    assert expected == "3"
    site.failed("ALL-LATE")  # the list changes before the person confirms
    again = site.client.post("/failed/repush", data=form | {"buyer": "", "expected": expected})
    assert "Re-push 4 deliveries?" in again.text and "The list changed" in again.text and site.queued == []
    done = site.client.post(
        "/failed/repush", data=form | {"buyer": "", "expected": "4"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/failed?destination=crystal"
    assert len(site.queued_ids()) == 4 and set(ids) <= set(site.queued_ids())
    assert {r.actor for r in audit_rows(site)} == {"otto.operator"} and len(audit_rows(site)) == 4


def test_cancel_and_reconcile_from_the_browser(site: Site) -> None:
    failed, unknown = site.failed("C-1"), site.unknown("C-2")
    with site.store.sessions() as session:
        tender_id = session.get(DeliveryRow, failed).tender_id  # type: ignore[union-attr]
    csrf = site.sign_in("operator")
    site.client.post(f"/tenders/{tender_id}/cancel", data={"csrf_token": csrf, "reason": "withdrawn"})
    assert state_of(site, failed) == State.CANCELLED
    site.client.post(
        f"/deliveries/{unknown}/reconcile",
        data={"csrf_token": csrf, "reason": "checked", "mode": "published", "remote_id": "CR-9", "url": ""},
    )
    assert state_of(site, unknown) == State.PUBLISHED
    assert [(r.actor, r.action) for r in audit_rows(site)] == [
        ("otto.operator", "cancel"),
        ("otto.operator", "reconcile-published"),
    ]


def test_audit_page_lists_and_filters_actions(site: Site) -> None:
    delivery_id = site.failed()
    site.client.post(
        f"/api/deliveries/{delivery_id}/repush", json={"reason": "r1"}, headers=site.auth("operator")
    )
    site.sign_in("viewer")
    html = site.client.get("/audit").text
    assert "otto.operator" in html and "r1" in html and f"delivery {delivery_id}" in html
    assert "No manual actions match" in site.client.get("/audit?actor=someone-else").text
    assert site.client.get("/audit?since=soon").status_code == 422


def test_pages_send_security_headers(site: Site) -> None:
    site.sign_in("viewer")
    headers = site.client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_static_files_are_served(site: Site) -> None:
    assert ".s-failed" in site.client.get("/static/app.css").text
    assert "data-ago" in site.client.get("/static/app.js").text
