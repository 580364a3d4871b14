"""WCAG 2.2 AA, audited with axe-core in Chromium: every page the router serves, signed in as a
viewer, an operator and an admin, over data with a delivery in every state; the sign-in page;
and the pages a form leads to (outcome messages, the re-push confirmation, a new token).
Each page is audited with its <details> opened, so nothing behind a summary escapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from syndicator.ops import actions
from tests.browser.axe import open_disclosures, report, scan
from tests.browser.conftest import ARTIFACTS
from tests.browser.pages import page_routes, visits
from tests.browser.seed import Seeded, seed_every_state
from tests.browser.session import open_page, sign_in
from tests.web.conftest import Site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

ROLES = ["viewer", "operator", "admin"]
# The pages the dashboard has today; the audit finds every route by itself, this only proves it does.
KNOWN = {"/", "/signin", "/tenders", "/tenders/{reference:path}", "/failed", "/audit", "/tokens"}


def audit(page: Page, where: str, screenshot: str | None = None) -> str:
    """axe's report on the page as it is now (empty when clean), with every disclosure open;
    a screenshot first (as the person sees it) when named."""
    if screenshot:
        page.screenshot(path=str(ARTIFACTS / f"form-{screenshot}.png"), full_page=True)
    open_disclosures(page)
    return report(where, scan(page))


def test_the_audit_finds_every_page_route_by_itself(seeded: tuple[Seeded, str]) -> None:
    data, _ = seeded
    app = data.site.client.app
    found = set(page_routes(app))  # type: ignore[arg-type]
    assert found >= KNOWN, f"the router no longer lists {sorted(KNOWN - found)}"
    paths = [v.path for v in visits(app, data.parameters())]  # type: ignore[arg-type]
    assert f"/tenders/{data.failed_reference}" in paths and "/tokens" in paths


@pytest.mark.parametrize("role", ROLES)
def test_every_page_meets_wcag_a_and_aa_for_each_role(
    browser: Browser, seeded: tuple[Seeded, str], role: str
) -> None:
    data, base = seeded
    page = open_page(browser, audit=True)
    try:
        sign_in(page, base, data.site.tokens[role])
        problems = []
        for visit in visits(data.site.client.app, data.parameters()):  # type: ignore[arg-type]
            response = page.goto(base + visit.path)
            assert response is not None and "text/html" in response.headers["content-type"], (
                f"{visit.path} did not answer with a page: add it to NOT_PAGES in tests/browser/pages.py "
                "if it is not one"
            )
            assert response.status in (200, 403, 404, 422), f"{visit.path}: HTTP {response.status}"
            if role == "admin":
                assert response.status != 403, f"{visit.path} refused an admin"
            problems.append(audit(page, f"{visit.path} ({role})"))
        found = "\n".join(p for p in problems if p)
        assert not found, f"axe-core found WCAG A/AA violations:\n{found}"
    finally:
        page.context.close()


def test_the_sign_in_page_and_its_error_meet_wcag_a_and_aa(
    browser: Browser, seeded: tuple[Seeded, str]
) -> None:
    _, base = seeded
    page = open_page(browser, audit=True)
    try:
        page.goto(f"{base}/tenders")  # signed out: sent to sign in
        assert page.url.startswith(f"{base}/signin")
        problems = [audit(page, "/signin")]
        page.get_by_label("API token").fill("syn_not-a-token")
        page.get_by_role("button", name="Sign in").click()
        token = page.get_by_label("API token")
        assert token.get_attribute("aria-invalid") == "true"
        assert token.evaluate("el => el === document.activeElement"), "the refused field is not focused"
        described = token.get_attribute("aria-describedby") or ""
        assert "not valid" in page.locator(f"#{described}").inner_text()
        problems.append(audit(page, "/signin with a refused token", "signin-refused"))
        found = "\n".join(p for p in problems if p)
        assert not found, f"axe-core found WCAG A/AA violations:\n{found}"
    finally:
        page.context.close()


def _outcome(page: Page, text: str) -> None:
    """The outcome of an action is shown, and focus is on it (so a screen reader reads it)."""
    message = page.locator("[data-outcome]")
    assert text in message.inner_text()
    assert message.evaluate("el => el === document.activeElement"), "focus is not on the outcome"


def test_pages_reached_through_forms_meet_wcag_a_and_aa(browser: Browser, served: tuple[Site, str]) -> None:
    site, base = served
    data = seed_every_state(site)
    page = open_page(browser, audit=True)
    page.on("dialog", lambda dialog: dialog.accept())
    problems: list[str] = []
    try:
        sign_in(page, base, site.tokens["admin"])
        page.goto(f"{base}/failed")
        row = page.locator(f"#row-{data.failed_delivery}")
        row.get_by_label("Reason").first.fill("lot titles fixed by the buyer")
        row.get_by_role("button", name="Re-push").click()
        _outcome(page, f"delivery {data.failed_delivery} queued again")
        problems.append(audit(page, "/failed after a re-push", "repushed"))

        needs = data.states["needs_reconcile"]
        page.goto(f"{base}/failed")
        page.locator(f"#row-{needs}").get_by_label("Reason").first.fill("channel back")
        # another operator re-pushes it first
        actions.repush(site.store.sessions, needs, actor="someone.else", reason="x", now=site.clock())
        page.locator(f"#row-{needs}").get_by_role("button", name="Re-push").click()
        _outcome(page, "only failed or needs_reconcile deliveries can be re-pushed")
        problems.append(audit(page, "/failed after a refused action", "refused"))

        site.failed("EMSCU-2026-0700")
        page.goto(f"{base}/failed")
        page.get_by_label("Reason for re-pushing all matching").fill("portal outage over")
        page.get_by_role("button", name="Review re-push").click()
        question = page.get_by_role("heading", name="Re-push 1 delivery?")
        assert question.evaluate("el => el === document.activeElement"), "the question is not focused"
        problems.append(audit(page, "/failed/repush (confirm)", "confirm-repush"))
        page.get_by_role("button", name="Yes, re-push 1").click()
        _outcome(page, "1 re-pushed")

        page.goto(f"{base}/tokens")
        page.get_by_label("Name").fill("nina.new")
        page.get_by_role("button", name="Create token").click()
        _outcome(page, "Token for nina.new")
        problems.append(audit(page, "/tokens with a new token shown", "token-created"))
        page.get_by_label("Name").fill("nina.new")
        page.get_by_role("button", name="Create token").click()
        name = page.get_by_label("Name")
        assert name.get_attribute("aria-invalid") == "true"
        problems.append(audit(page, "/tokens with a refused name", "token-refused"))
        page.get_by_role("row", name="nina.new").get_by_role("button", name="Revoke").click()
        _outcome(page, "token 'nina.new' revoked")
        problems.append(audit(page, "/tokens after revoking"))
    finally:
        page.context.close()
    found = "\n".join(p for p in problems if p)
    assert not found, f"axe-core found WCAG A/AA violations:\n{found}"
