"""The keyboard alone, in Chromium: an operator signs in, re-pushes a failed delivery and finds
it published, amends a tender and withdraws it, without a mouse; and on every page, tabbing
forwards then backwards, each control shows its focus ring, on screen and uncovered (WCAG 2.1.1,
2.4.1, 2.4.3, 2.4.7, 2.4.11, 4.1.3), on a laptop screen, at 960 px and zoomed to 200%."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from syndicator.channel.base import RejectedError
from syndicator.store.models import TenderRow
from tests.browser import journeys
from tests.browser.conftest import ARTIFACTS
from tests.browser.keyboard import Keyboard
from tests.browser.pages import PRINTABLE, visits
from tests.browser.seed import Seeded
from tests.browser.session import DESKTOP, TABLET, ZOOM_200, Viewport, open_page, sign_in
from tests.web.conftest import Site, crystal_only

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


def test_an_operator_repushes_a_failed_delivery_with_the_keyboard_alone(
    browser: Browser, served: tuple[Site, str]
) -> None:
    site, base = served
    site.channels["crystal"].sends.append(RejectedError("lot 2 has no title (HTTP 422)", status_code=422))
    title = "Body-worn video cameras and docking stations"
    [delivery_id] = site.engine.submit(crystal_only("EMSCU-2026-0420", title=title))
    site.engine.dispatcher.deliver([delivery_id])
    page = open_page(browser, ZOOM_200)  # where a sticky bar used to hide the focus
    kb = Keyboard(page)
    try:
        journeys.sign_in(kb, base, site.tokens["operator"])
        journeys.repush(kb, delivery_id, "lot titles fixed by the buyer")
        page.screenshot(path=str(ARTIFACTS / "keyboard-repushed.png"), full_page=True)
        assert delivery_id in site.queued_ids()
        site.run_queued()  # what a worker does with the wake-up message

        journeys.open_from_navigation(kb, "Tenders")
        kb.follow(page.get_by_role("link", name="EMSCU-2026-0420"))
        card = page.locator(f"#d-{delivery_id}")
        assert card.locator(".delivery-head .badge").inner_text() == "published"
        assert "otto.operator" in card.locator("table.attempts").inner_text()
    finally:
        page.context.close()


def test_an_operator_amends_then_withdraws_a_tender_with_the_keyboard_alone(
    browser: Browser, served: tuple[Site, str]
) -> None:
    site, base = served
    record = crystal_only("EMSCU-2026-0430", title="Custody suite cleaning")
    site.engine.dispatcher.deliver(site.engine.submit(record))
    page = open_page(browser, ZOOM_200)
    kb = Keyboard(page)
    try:
        journeys.sign_in(kb, base, site.tokens["operator"])
        later = record | {"title": "Custody suite cleaning and hygiene"}
        journeys.amend(kb, "EMSCU-2026-0430", later, "Scope widened to hygiene supplies")
        assert "Version 2" in page.locator("#versions ~ section").first.inner_text()
        journeys.withdraw(kb, "EMSCU-2026-0430", "The requirement was withdrawn by the force")
        page.screenshot(path=str(ARTIFACTS / "keyboard-withdrawn.png"), full_page=True)
        assert "Withdrawn" in page.locator("main").inner_text()
    finally:
        page.context.close()
    with site.store.sessions() as session:
        tender = session.scalars(select(TenderRow).where(TenderRow.reference == "EMSCU-2026-0430")).one()
    assert (tender.version, tender.withdrawn_by) == (2, "otto.operator")


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET, ZOOM_200], ids=lambda v: v.name)
def test_every_control_shows_its_focus_tabbing_both_ways(
    browser: Browser, seeded: tuple[Seeded, str], viewport: Viewport
) -> None:
    data, base = seeded
    page = open_page(browser, viewport)
    kb = Keyboard(page)
    reached: dict[str, int] = {}
    try:
        sign_in(page, base, data.site.tokens["admin"])
        for visit in visits(data.site.client.app, data.parameters()):  # type: ignore[arg-type]
            page.goto(base + visit.path)
            forwards = kb.sweep()
            backwards = kb.sweep(backwards=True)
            printable = visit.path.partition("?")[0] in PRINTABLE
            assert forwards or printable, f"{visit.path}: Tab reached nothing"
            assert {str(s) for s in backwards} == {str(s) for s in forwards}, (
                f"{visit.path}: Shift+Tab reached different controls than Tab"
            )
            reached[visit.path] = len(forwards)
    finally:
        page.context.close()
    assert reached["/failed"] > reached["/audit?actor=nobody"]  # the sweep saw the row actions
