"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright): sign in
with an operator token, open the failed list, re-push a delivery whose fault has been cleared,
and see it published. Screenshots of each step go to tests/artifacts/browser/."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicator.channel.base import RejectedError
from syndicator.config.settings import Config
from tests.services import migrated_store
from tests.web.conftest import Site, build_site, crystal_only

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "browser"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must provide it: .ci/run installs Debian's chromium)")
    pytest.skip(reason)


def chromium() -> str:
    """Chromium's executable: $SYNDICATOR_TEST_CHROMIUM or /usr/bin/chromium."""
    path = os.environ.get("SYNDICATOR_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).is_file():
        _unavailable(f"no Chromium at {path} (apt-get install chromium, or set SYNDICATOR_TEST_CHROMIUM)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, config: Config) -> Iterator[tuple[Site, str]]:
    """The web application on a free port, over its own SQLite store, in a background thread."""
    import uvicorn

    store = migrated_store(f"sqlite:///{tmp_path / 'browser.db'}")
    site = build_site(store, config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(site.client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    try:
        yield site, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        site.engine.dispatcher.close()
        store.dispose()


def test_an_operator_repushes_a_failed_delivery_and_sees_it_published(
    served: tuple[Site, str], tmp_path: Path
) -> None:
    executable = chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    site, base = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # A delivery the channel rejected; then the fault is cleared (the script is empty again).
    site.channels["crystal"].sends.append(RejectedError("lot 2 has no title (HTTP 422)", status_code=422))
    title = "Body-worn video cameras and docking stations"
    [delivery_id] = site.engine.submit(crystal_only("EMSCU-2026-0420", title=title))
    site.engine.dispatcher.deliver([delivery_id])
    site.published("EMSCU-2026-0419")

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            args=ARGS,
            headless=True,
            viewport={"width": 1366, "height": 860},
        )
        try:
            page = context.new_page()
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

            row.get_by_label(f"Reason for re-pushing delivery {delivery_id}").fill(
                "lot titles fixed by buyer"
            )
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
            context.close()


def test_the_api_reference_renders_under_the_pages_policy(served: tuple[Site, str], tmp_path: Path) -> None:
    """Swagger UI and ReDoc from this site's assets, with scripts and styles from 'self' only."""
    executable = chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    site, base = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=executable, args=ARGS, headless=True
        )
        try:
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            # Requests that left the page (a CSP-blocked one fails before reaching the network).
            outside: list[str] = []
            page.on(
                "requestfinished", lambda r: outside.append(r.url) if not r.url.startswith(base) else None
            )
            missing: list[str] = []
            page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
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
            context.close()
    assert outside == [] and missing == [], (outside, missing)
    # Only ReDoc's "by Redocly" logo, which it would fetch from its CDN, is blocked.
    blocked = [p for p in problems if "Content Security Policy" in p]
    assert all("cdn.redoc.ly" in p for p in blocked), blocked
