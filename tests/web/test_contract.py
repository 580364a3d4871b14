"""What the API promises in /openapi.json, checked against what it does: the security scheme,
the documented errors of every operation, 415 for every JSON body sent as something else,
throttled authentication failures, a crash logged once off the event loop, and pages that
cannot be framed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from syndicator.web import api, errors
from tests.web.conftest import Site

METHODS = ("get", "post", "put", "patch", "delete")


def spec(site: Site) -> dict[str, Any]:
    return site.client.get("/openapi.json", headers=site.auth("viewer")).json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def concrete(path: str) -> str:
    return path.replace("{reference}", "NO-SUCH-TENDER").replace("{delivery_id}", "1")


def test_the_description_declares_the_bearer_scheme_on_every_operation(site: Site) -> None:
    document = spec(site)
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, method, operation in operations(document):
        assert operation.get("security") == [{"bearer": []}], (method, path)


def test_every_operation_documents_the_errors_it_can_answer(site: Site) -> None:
    for path, method, operation in operations(spec(site)):
        codes = set(operation["responses"])
        expected = {"401", "429"}
        if "{" in path:
            expected |= {"404", "422"}
        if "requestBody" in operation:
            expected |= {"413", "415", "422"}
        if method == "post":  # every action needs the operator role
            expected |= {"403"}
        assert expected <= codes, (method, path, expected - codes)
        for code in codes - {"200", "201"}:
            schema = operation["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)


def test_constraints_are_in_the_description(site: Site) -> None:
    document = spec(site)
    params = {p["name"]: p["schema"] for p in document["paths"]["/api/deliveries"]["get"]["parameters"]}
    assert params["page"]["minimum"] == 1 and params["page"]["maximum"] == 100_000
    assert params["size"]["minimum"] == 1 and params["size"]["maximum"] == 200
    states = document["components"]["schemas"]["State"]["enum"]
    assert "failed" in states and params["state"]["anyOf"][0] == {"$ref": "#/components/schemas/State"}
    assert {"format": "date", "type": "string", "maxLength": 40} in params["since"]["anyOf"][0]["anyOf"]
    assert params["search"]["anyOf"][0]["maxLength"] == 200
    body = document["paths"]["/api/tenders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][0] == {"$ref": "#/components/schemas/Tender"}
    tender = document["components"]["schemas"]["Tender"]
    assert "emscu" in tender["properties"]["buyer"]["enum"] and "reference" in tender["required"]
    bulk = document["components"]["schemas"]["BulkRepushBody"]["properties"]
    assert bulk["dry_run"]["type"] == "boolean"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_every_json_body_refuses_another_media_type_with_415(site: Site, content_type: str | None) -> None:
    with_body = [(p, m) for p, m, o in operations(spec(site)) if "requestBody" in o]
    assert len(with_body) >= 5
    for path, method in with_body:
        headers = site.auth("operator") | ({"Content-Type": content_type} if content_type else {})
        answer = site.client.request(
            method.upper(), concrete(path), content=b'{"reason": "x"}', headers=headers
        )
        assert answer.status_code == 415, (path, content_type, answer.text)
        assert "application/json" in answer.json()["error"]


def test_an_anonymous_body_is_refused_before_it_is_read(site: Site) -> None:
    answer = site.client.post(
        "/api/tenders", content=b"x" * 1000, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 401
    too_big = site.client.post(
        "/api/tenders",
        content=b" " * (20 * 1024 * 1024 + 1),
        headers=site.auth("operator") | {"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413 and "larger than" in too_big.json()["error"]


def test_bad_tokens_are_throttled_per_address(site: Site) -> None:
    bad = {"Authorization": "Bearer syn_not-a-token"}
    codes = [site.client.get("/api/me", headers=bad).status_code for _ in range(15)]
    assert codes == [401] * 10 + [429] * 5
    refused = site.client.get("/api/me", headers=site.auth("viewer"))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert site.client.post("/api/tenders", json={}, headers=bad).status_code == 429


def test_failed_sign_ins_are_throttled(site: Site) -> None:
    from tests.web.conftest import form_value

    statuses = []
    for _ in range(12):
        signin_token = form_value(site.client.get("/signin").text, "signin_token")
        answer = site.client.post("/signin", data={"token": "syn_wrong", "signin_token": signin_token})
        statuses.append(answer.status_code)
    assert statuses == [401] * 10 + [429] * 2
    assert "Too many failed sign-ins" in answer.text and int(answer.headers["retry-after"]) > 0


def test_a_crash_is_logged_once_off_the_event_loop(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []

    def record(method: str, path: str, exc: Exception) -> None:
        try:
            asyncio.get_running_loop()
            seen.append("on the event loop")
        except RuntimeError:
            seen.append((method, path, type(exc).__name__))

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(errors, "_log_crash", record)
    monkeypatch.setattr(api, "channel_health", explode)
    # The test client re-raises anything the application lets escape: nothing does.
    answer = site.client.get("/api/channels", headers=site.auth("viewer"))
    assert answer.status_code == 500 and "secret" not in answer.text
    assert seen == [("GET", "/api/channels", "RuntimeError")]
    assert answer.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_reference_cannot_be_framed_and_loads_only_from_this_site(site: Site, path: str) -> None:
    answer = site.client.get(path, headers=site.auth("viewer"))
    assert answer.status_code == 200
    assert answer.headers["x-frame-options"] == "DENY"
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
    # ReDoc's bundled styled-components cannot take a nonce: inline styles on /redoc only
    styles = "style-src 'self' 'unsafe-inline';" if path == "/redoc" else "style-src 'self';"
    assert styles in policy and policy.count("unsafe") == (path == "/redoc")


def test_a_body_that_is_not_utf8_is_422_not_400(site: Site) -> None:
    answer = site.client.post(
        "/api/deliveries/repush",
        content=b'{"reason": "\xff"}',
        headers=site.auth("operator") | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 422 and "not UTF-8" in answer.json()["error"]


def test_allow_names_the_methods_of_the_most_specific_resource(site: Site) -> None:
    # /api/tenders/X/cancel is also the tender "X/cancel" to GET; the resource is the action
    answer = site.client.options("/api/tenders/X/cancel", headers=site.auth("viewer"))
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"


@pytest.mark.integration
def test_a_shared_throttle_counts_failures_across_web_processes(store: Any, config: Any) -> None:
    import redis
    from fastapi.testclient import TestClient

    from syndicator.config.settings import Settings
    from syndicator.web.app import create_app
    from syndicator.web.options import WebOptions
    from tests.services import redis_url
    from tests.web.conftest import build_site

    url = redis_url()
    redis.Redis.from_url(url).flushdb()  # this suite's own database (SYNDICATOR_TEST_REDIS_URL)
    first = build_site(store, config, throttle_storage=url).client
    other = create_app(
        Settings(database_url="sqlite://", _env_file=None),  # type: ignore[call-arg]
        store=store,
        config=config,
        enqueue=lambda ids: None,
        options=WebOptions(_env_file=None, throttle_storage=url),  # type: ignore[call-arg]
    )
    second = TestClient(other)
    bad = {"Authorization": "Bearer syn_not-a-token"}
    codes = [client.get("/api/me", headers=bad).status_code for client in (first, second) * 6]
    assert codes == [401] * 10 + [429] * 2
