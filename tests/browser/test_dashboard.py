"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright): sign in
with an operator token, open the failed list, re-push a delivery whose fault has been cleared,
and see it published. Screenshots of each step go to tests/artifacts/browser/."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from syndicator.channel.base import RejectedError
from tests.browser.conftest import ARTIFACTS
from tests.browser.session import Viewport, open_page
from tests.web.conftest import Site, crystal_only

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_an_operator_repushes_a_failed_delivery_and_sees_it_published(
    browser: Browser, served: tuple[Site, str]
) -> None:
    from playwright.sync_api import expect

    site, base = served

    # A delivery the channel rejected; then the fault is cleared (the script is empty again).
    site.channels["crystal"].sends.append(RejectedError("lot 2 has no title (HTTP 422)", status_code=422))
    title = "Body-worn video cameras and docking stations"
    [delivery_id] = site.engine.submit(crystal_only("EMSCU-2026-0420", title=title))
    site.engine.dispatcher.deliver([delivery_id])
    site.published("EMSCU-2026-0419")

    page = open_page(browser, Viewport("1366", 1366, 860))
    try:
        page.goto(f"{base}/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "01-sign-in.png"), full_page=True)

        page.get_by_label("API token").fill(site.tokens["operator"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        hot = page.locator('a.hotcount[href="/failed?destination=crystal&state=failed"]')
        expect(hot).to_have_text("1")
        page.screenshot(path=str(ARTIFACTS / "02-overview-with-a-failure.png"), full_page=True)

        hot.click()  # the failed count links to the filtered failed list
        expect(page.get_by_role("heading", name="Failed deliveries")).to_be_visible()
        row = page.locator(f"#row-{delivery_id}")
        expect(row).to_contain_text("EMSCU-2026-0420")
        expect(row.locator(".badge")).to_have_text("failed")
        expect(row).to_contain_text("lot 2 has no title")
        page.screenshot(path=str(ARTIFACTS / "03-failed-list.png"), full_page=True)

        row.get_by_label(f"Reason for re-pushing delivery {delivery_id}").fill("lot titles fixed by buyer")
        row.get_by_role("button", name="Re-push").click()
        expect(page.locator(".flash.ok")).to_contain_text(f"delivery {delivery_id} queued again")
        expect(page.locator(f"#row-{delivery_id}")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "04-repushed.png"), full_page=True)

        assert delivery_id in site.queued_ids()
        site.run_queued()  # what a worker does with the wake-up message

        page.goto(f"{base}/tenders/EMSCU-2026-0420")
        page.reload()
        card = page.locator(f"#d-{delivery_id}")
        expect(card.locator(".delivery-head .badge")).to_have_text("published")
        expect(card.locator("table.attempts")).to_contain_text("otto.operator")
        page.screenshot(path=str(ARTIFACTS / "05-published.png"), full_page=True)

        page.goto(f"{base}/")
        expect(page.locator(".stat.good .n")).to_have_text("2")
        page.screenshot(path=str(ARTIFACTS / "06-overview.png"), full_page=True)

        page.goto(f"{base}/tenders")
        expect(page.locator("table.grid")).to_contain_text("EMSCU-2026-0419")
        page.screenshot(path=str(ARTIFACTS / "07-tenders.png"), full_page=True)

        page.goto(f"{base}/audit")
        expect(page.locator("table.audit")).to_contain_text("lot titles fixed by buyer")
        page.screenshot(path=str(ARTIFACTS / "08-audit.png"), full_page=True)
    finally:
        page.context.close()


def test_the_api_reference_renders_under_the_pages_policy(browser: Browser, served: tuple[Site, str]) -> None:
    """Swagger UI and ReDoc from this site's assets, with scripts and styles from 'self' only."""
    from playwright.sync_api import expect

    site, base = served
    page = open_page(browser, Viewport("1366", 1366, 860))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    # Requests that left the page (a CSP-blocked one fails before reaching the network).
    outside: list[str] = []
    page.on("requestfinished", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    try:
        page.goto(f"{base}/signin")
        page.get_by_label("API token").fill(site.tokens["viewer"])
        page.get_by_role("button", name="Sign in").click()

        page.goto(f"{base}/docs")
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
        expect(page.locator(".swagger-ui")).to_contain_text("/api/tenders")
        page.screenshot(path=str(ARTIFACTS / "09-swagger-ui.png"))

        page.goto(f"{base}/redoc")
        heading = page.get_by_role("heading", name="Submit tenders: validate, route, persist, enqueue")
        expect(heading).to_be_visible(timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "10-redoc.png"))
    finally:
        page.context.close()
    assert outside == [] and missing == [], (outside, missing)
    # Only ReDoc's "by Redocly" logo, which it would fetch from its CDN, is blocked.
    blocked = [p for p in problems if "Content Security Policy" in p]
    assert all("cdn.redoc.ly" in p for p in blocked), blocked
