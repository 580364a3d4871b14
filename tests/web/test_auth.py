"""Who may do what: tokens and roles on the API, sessions and CSRF in the browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from syndicator.store.models import ApiTokenRow, AuditRow, WebSessionRow
from syndicator.web.tokens import hash_token, revoke_token
from tests.web.conftest import Site, build_site, form_value

READS = ["/api/deliveries", "/api/tenders", "/api/tenders/1", "/api/channels", "/api/audit", "/api/me"]


@pytest.mark.parametrize("path", READS)
def test_the_api_needs_a_token(site: Site, path: str) -> None:
    answer = site.client.get(path)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in answer.json()["error"]


def test_a_wrong_or_malformed_token_is_401(site: Site) -> None:
    for header in ("Bearer syn_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", site.tokens["viewer"]):
        assert site.client.get("/api/me", headers={"Authorization": header}).status_code == 401, header


def test_a_viewer_may_not_repush_cancel_reconcile_or_submit(site: Site) -> None:
    delivery_id = site.failed()
    viewer = site.auth("viewer")
    for path, body in (
        (f"/api/deliveries/{delivery_id}/repush", {"reason": "x"}),
        ("/api/deliveries/repush", {"reason": "x"}),
        (f"/api/deliveries/{delivery_id}/reconcile", {"reason": "x", "resend": True}),
        ("/api/tenders/FAIL-1/cancel", {"reason": "x"}),
        ("/api/tenders", {"reference": "X"}),
    ):
        answer = site.client.post(path, json=body, headers=viewer)
        assert answer.status_code == 403, path
        assert "role viewer" in answer.json()["error"] and "operator" in answer.json()["error"]
    with site.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 0


def test_a_revoked_token_stops_working_at_once(site: Site) -> None:
    assert site.client.get("/api/me", headers=site.auth("operator")).status_code == 200
    revoke_token(site.store.sessions, "otto.operator", site.clock())
    assert site.client.get("/api/me", headers=site.auth("operator")).status_code == 401


def test_only_the_hash_is_stored_and_use_is_recorded(site: Site) -> None:
    site.client.get("/api/me", headers=site.auth("viewer"))
    with site.store.sessions() as session:
        row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == "vera.viewer")).one()
    assert row.token_hash == hash_token(site.tokens["viewer"]) and site.tokens["viewer"] not in row.token_hash
    assert row.last_used_at == site.clock()


def test_healthz_is_anonymous(site: Site) -> None:
    answer = site.client.get("/healthz")
    assert answer.status_code == 200 and answer.json()["database"] == "ok"


def test_metrics_are_anonymous_by_default(site: Site) -> None:
    assert site.client.get("/metrics").status_code == 200


def test_private_metrics_need_a_viewer_token(store, config) -> None:
    site = build_site(store, config, metrics_public=False)
    try:
        assert site.client.get("/metrics").status_code == 401
        assert site.client.get("/metrics", headers=site.auth("viewer")).status_code == 200
    finally:
        site.engine.dispatcher.close()


# -- browser sessions -------------------------------------------------------------------------


def test_pages_redirect_to_sign_in_without_a_session(site: Site) -> None:
    for path in ("/", "/tenders", "/failed?state=failed", "/audit", "/tenders/1"):
        answer = site.client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin"), path
    assert site.client.get("/failed?state=failed", follow_redirects=False).headers["location"] == (
        "/signin?next=%2Ffailed%3Fstate%3Dfailed"
    )


def test_pages_do_not_accept_a_bearer_token(site: Site) -> None:
    answer = site.client.get("/", headers=site.auth("admin"), follow_redirects=False)
    assert answer.status_code == 303


def test_sign_in_sets_a_safe_session_cookie(site: Site) -> None:
    page = site.client.get("/signin")
    answer = site.client.post(
        "/signin",
        data={
            "token": site.tokens["operator"],
            "signin_token": form_value(page.text, "signin_token"),
            "next": "/failed",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/failed"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("syndicator_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http in this test; see the next test
    value = cookie.split(";")[0].split("=", 1)[1]
    with site.store.sessions() as session:
        ids = list(session.scalars(select(WebSessionRow.id)))
    assert value not in ids and len(ids) == 1  # only the cookie's hash is stored
    assert "otto.operator" in site.client.get("/").text


def session_cookie_flags(site: Site) -> set[str]:
    page = site.client.get("/signin")
    answer = site.client.post(
        "/signin",
        data={"token": site.tokens["viewer"], "signin_token": form_value(page.text, "signin_token")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("syndicator_session="))
    return {part.strip().lower() for part in cookie.split(";")}


def test_the_cookies_are_secure_when_configured(store, config) -> None:
    site = build_site(store, config, cookie_secure=True)
    try:
        cookie = site.client.get("/signin").headers["set-cookie"]
        assert cookie.startswith("syndicator_signin=") and "secure" in cookie.lower()
    finally:
        site.engine.dispatcher.close()


def test_the_session_cookie_is_secure_over_https(site: Site) -> None:
    from fastapi.testclient import TestClient

    site.client = TestClient(site.client.app, base_url="https://testserver")
    assert "secure" in session_cookie_flags(site)


def test_sign_in_refuses_a_bad_token_and_a_forged_form(site: Site) -> None:
    page = site.client.get("/signin")
    wrong = site.client.post(
        "/signin", data={"token": "syn_wrong", "signin_token": form_value(page.text, "signin_token")}
    )
    assert wrong.status_code == 401 and "not valid" in wrong.text
    site.client.cookies.clear()
    forged = site.client.post("/signin", data={"token": site.tokens["admin"], "signin_token": "guess"})
    assert forged.status_code == 403 and "syndicator_session" not in site.client.cookies


def test_sign_in_only_redirects_within_the_site(site: Site) -> None:
    page = site.client.get("/signin")
    answer = site.client.post(
        "/signin",
        data={
            "token": site.tokens["viewer"],
            "signin_token": form_value(page.text, "signin_token"),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_a_form_post_without_or_with_a_wrong_csrf_token_is_refused(site: Site) -> None:
    delivery_id = site.failed()
    csrf = site.sign_in("operator")
    path = f"/deliveries/{delivery_id}/repush"
    missing = site.client.post(path, data={"reason": "r"}, follow_redirects=False)
    wrong = site.client.post(
        path, data={"reason": "r", "csrf_token": csrf[:-2] + "xx"}, follow_redirects=False
    )
    assert missing.status_code in (403, 422) and wrong.status_code == 403
    assert "CSRF" in wrong.text
    with site.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 0
    right = site.client.post(path, data={"reason": "r", "csrf_token": csrf}, follow_redirects=False)
    assert right.status_code == 303


def test_a_csrf_token_belongs_to_its_session(site: Site, store, config) -> None:
    delivery_id = site.failed()
    other_csrf = site.sign_in("admin")
    site.client.cookies.clear()
    site.sign_in("operator")
    answer = site.client.post(
        f"/deliveries/{delivery_id}/repush",
        data={"reason": "r", "csrf_token": other_csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 403


def test_a_viewer_session_may_not_act(site: Site) -> None:
    delivery_id = site.failed()
    csrf = site.sign_in("viewer")
    answer = site.client.post(
        f"/deliveries/{delivery_id}/repush", data={"reason": "r", "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 403 and "needs the operator role" in answer.text
    assert f'action="/deliveries/{delivery_id}/repush"' not in site.client.get("/failed").text


def test_sign_out_deletes_the_session(site: Site) -> None:
    csrf = site.sign_in("viewer")
    cookie = site.client.cookies.get("syndicator_session")
    answer = site.client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    with site.store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebSessionRow)) == 0
    site.client.cookies.set("syndicator_session", cookie or "")
    assert site.client.get("/", follow_redirects=False).status_code == 303  # the old cookie is worthless


def test_sign_out_needs_the_csrf_token(site: Site) -> None:
    site.sign_in("viewer")
    assert site.client.post("/signout", data={"csrf_token": "nope"}).status_code == 403
    assert site.client.get("/", follow_redirects=False).status_code == 200


def test_a_session_expires_and_ends_with_its_token(site: Site) -> None:
    site.sign_in("viewer")
    assert site.client.get("/", follow_redirects=False).status_code == 200
    site.clock.advance(hours=13)
    assert site.client.get("/", follow_redirects=False).status_code == 303
    site.clock.advance(hours=-13)
    site.sign_in("operator")
    revoke_token(site.store.sessions, "otto.operator", site.clock() + timedelta(seconds=1))
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_only_an_admin_manages_tokens(site: Site) -> None:
    site.sign_in("operator")
    assert site.client.get("/tokens").status_code == 403
    site.client.cookies.clear()
    csrf = site.sign_in("admin")
    page = site.client.get("/tokens")
    assert page.status_code == 200 and "otto.operator" in page.text
    assert site.tokens["viewer"] not in page.text
    created = site.client.post("/tokens", data={"csrf_token": csrf, "name": "new.person", "role": "operator"})
    token = created.text.split('id="new-token">')[1].split("<")[0]
    assert token.startswith("syn_") and created.headers["cache-control"] == "no-store"
    assert (
        site.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "operator"
    )
    assert token not in site.client.get("/tokens").text  # shown once
    site.client.post("/tokens/new.person/revoke", data={"csrf_token": csrf})
    assert site.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
