"""Opening the dashboard in a browser tab: a viewport (1280 px for a laptop, 960 px for a tablet
or a laptop zoomed in, 320 px for reflow, 640 px at twice the pixel density for a 1280 px screen
zoomed to 200%) and a sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.browser.axe import install

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@dataclass(frozen=True)
class Viewport:
    """A window size in CSS pixels, and how many device pixels each takes."""

    name: str
    width: int
    height: int
    scale: int = 1


DESKTOP = Viewport("1280", 1280, 800)
TABLET = Viewport("960", 960, 720)  # wide tables scroll inside their box here
ZOOM_200 = Viewport("1280-at-200pc", 640, 400, 2)
NARROW = Viewport("320", 320, 640)


def open_page(browser: Browser, viewport: Viewport = DESKTOP, *, audit: bool = False) -> Page:
    """A tab in a fresh context (no cookies) at `viewport`, with axe-core in every page when
    `audit`; close its context when done."""
    context = browser.new_context(
        viewport={"width": viewport.width, "height": viewport.height},
        device_scale_factor=viewport.scale,
        locale="en-GB",
        timezone_id="UTC",
    )
    # Nothing here waits on a clock; the long default only turns a hang into a clear failure.
    context.set_default_timeout(15_000)
    if audit:
        install(context)
    return context.new_page()


def sign_in(page: Page, base: str, token: str) -> None:
    """Sign in through the form, as a person would; ends on the overview."""
    page.goto(f"{base}/signin")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
