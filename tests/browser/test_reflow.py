"""Reflow (WCAG 1.4.10) and a laptop screen, in Chromium: every page at 320 px wide, at 1280 px
zoomed to 200% (640 px) and at 960 px reads without scrolling sideways or cutting anything off,
with every navigation link and the account controls on screen; where tables become cards they
stay tables for screen readers; at 1280 px every table fits. axe-core audits each page at the
narrower widths too (colours and targets change when tables become cards). Screenshots of every
page at each width go to tests/artifacts/browser/ (`320-*.png`, `1280-*.png`, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.axe import open_disclosures, report, scan
from tests.browser.conftest import ARTIFACTS
from tests.browser.layout import (
    account,
    lost_table_semantics,
    navigation,
    sideways_scroll,
    sticking_out,
    wide_tables,
)
from tests.browser.pages import SIGNED_OUT, visits
from tests.browser.seed import Seeded
from tests.browser.session import DESKTOP, NARROW, TABLET, ZOOM_200, Viewport, open_page, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

NARROWEST_TABLE = 640  # CSS px: at this width and below, table rows stack as cards (app.css)
MAIN_LINKS = ["Overview", "Tenders", "Failed", "Contracts", "Audit log", "Tokens"]  # an admin sees them all


def reflow_problems(page: Page, where: str, signed_in: bool = True) -> list[str]:
    """Everything that makes this page scroll sideways or hides part of it at this width."""
    page.evaluate("() => window.scrollTo(0, 0)")
    width = page.evaluate("() => document.documentElement.clientWidth")
    found = []
    if (extra := sideways_scroll(page)) > 0:
        found.append(f"{where}: the page scrolls sideways by {extra} px")
    found += [f"{where}: {what}" for what in sticking_out(page)]
    if width <= NARROWEST_TABLE:  # tables are cards here: nothing left to scroll, nothing lost
        found += [f"{where}: a table scrolls sideways: {what}" for what in wide_tables(page)]
        found += [f"{where}: table semantics lost: {what}" for what in lost_table_semantics(page)]
    if signed_in:
        links = navigation(page)
        # "Failed 2 need attention" is the Failed link with its count
        names = ["Failed" if link["text"].startswith("Failed") else link["text"] for link in links]
        if names != MAIN_LINKS:
            found.append(f"{where}: the main navigation has {names}, not {MAIN_LINKS}")
        for link in links:
            if link["width"] < 1 or link["left"] < 0 or link["right"] > width or not link["reachable"]:
                found.append(f"{where}: navigation link {link['text']!r} is not fully on screen: {link}")
        for item in account(page):
            if item["width"] < 1 or item["left"] < 0 or item["right"] > width:
                found.append(f"{where}: {item['text']!r} is not fully on screen: {item}")
    return found


def check_every_page(browser: Browser, seeded: tuple[Seeded, str], viewport: Viewport) -> None:
    data, base = seeded
    page = open_page(browser, viewport, audit=True)
    problems: list[str] = []
    audits: list[str] = []
    try:
        page.goto(f"{base}/signin")
        problems += reflow_problems(page, f"/signin at {viewport.name}", signed_in=False)
        page.screenshot(path=str(ARTIFACTS / f"{viewport.name}-signin.png"), full_page=True)
        sign_in(page, base, data.site.tokens["admin"])
        for visit in visits(data.site.client.app, data.parameters()):  # type: ignore[arg-type]
            where = f"{visit.path} at {viewport.name}"
            page.goto(base + visit.path)
            signed_in = visit.path.partition("?")[0] not in SIGNED_OUT
            problems += reflow_problems(page, where, signed_in)
            page.screenshot(path=str(ARTIFACTS / f"{viewport.name}-{visit.slug}.png"), full_page=True)
            open_disclosures(page)  # the forms and notices behind "More" must reflow too
            problems += reflow_problems(page, f"{where}, details open", signed_in)
            if viewport != DESKTOP:
                audits.append(report(where, scan(page)))
    finally:
        page.context.close()
    found = "\n".join([*problems, *(a for a in audits if a)])
    assert not found, f"at {viewport.name}:\n{found}"


@pytest.mark.parametrize("viewport", [NARROW, ZOOM_200, TABLET], ids=lambda v: v.name)
def test_every_page_reflows_without_sideways_scrolling(
    browser: Browser, seeded: tuple[Seeded, str], viewport: Viewport
) -> None:
    check_every_page(browser, seeded, viewport)


def test_every_page_and_table_fits_a_1280_px_screen(browser: Browser, seeded: tuple[Seeded, str]) -> None:
    check_every_page(browser, seeded, DESKTOP)
    data, base = seeded
    page = open_page(browser, DESKTOP)
    try:
        sign_in(page, base, data.site.tokens["admin"])
        cut = []
        for visit in visits(data.site.client.app, data.parameters()):  # type: ignore[arg-type]
            page.goto(base + visit.path)
            cut += [f"{visit.path}: {table}" for table in wide_tables(page)]
        wide = "\n".join(cut)
        assert not cut, f"tables wider than a 1280 px screen (their last columns are cut off):\n{wide}"
    finally:
        page.context.close()
