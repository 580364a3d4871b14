"""The dashboard served on a free port and Debian's Chromium driven by Playwright.

    served          an empty site, one per test (the re-push journey builds its own data)
    seeded          one site per module with a delivery in every state (tests/browser/seed.py)
    browser         one headless Chromium per module; tests open their own contexts

Chromium is never downloaded: $SYNDICATOR_TEST_CHROMIUM or /usr/bin/chromium (`.ci/run` installs
Debian's package). Without it the tests skip with the reason, except in CI, where they fail."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from syndicator.config.settings import Config
from tests.browser.seed import Seeded, seed_every_state
from tests.services import migrated_store
from tests.web.conftest import Site, build_site

if TYPE_CHECKING:
    from playwright.sync_api import Browser

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


def unavailable(reason: str) -> None:
    """Skip, or fail in CI (CI=true), where a missing browser must never hide behind a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must provide it: .ci/run installs Debian's chromium)")
    pytest.skip(reason)


def chromium() -> str:
    """Chromium's executable: $SYNDICATOR_TEST_CHROMIUM or /usr/bin/chromium."""
    path = os.environ.get("SYNDICATOR_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).is_file():
        unavailable(f"no Chromium at {path} (apt-get install chromium, or set SYNDICATOR_TEST_CHROMIUM)")
    return path


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(site: Site) -> Iterator[str]:
    """`site`'s application on a free port in a background thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            site.client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", log_config=None
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def served(tmp_path: Path, config: Config) -> Iterator[tuple[Site, str]]:
    """An empty site over its own SQLite store, served; yields the site and its base URL."""
    store = migrated_store(f"sqlite:///{tmp_path / 'browser.db'}")
    site = build_site(store, config)
    try:
        with serving(site) as base:
            yield site, base
    finally:
        site.engine.dispatcher.close()
        store.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, config: Config) -> Iterator[tuple[Seeded, str]]:
    """A site with a delivery in every state, served; shared by a module's tests, which must
    not change its data (each test that acts builds its own site with `served`)."""
    folder = tmp_path_factory.mktemp("seeded")
    store = migrated_store(f"sqlite:///{folder / 'browser.db'}")
    site = build_site(store, config)
    try:
        data = seed_every_state(site)
        with serving(site) as base:
            yield data, base
    finally:
        site.engine.dispatcher.close()
        store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), one per module."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()
