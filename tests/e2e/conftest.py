"""Real-browser fixtures: the app served by `streamlit run` on a free loopback port, and Debian's
Chromium driven by Playwright.

Without /usr/bin/chromium (a user's laptop) every browser test skips, saying why; with
REQUIRE_BROWSER=1 (CI, see .ci/run) a missing browser is a failure instead. A failing test
leaves a full-page screenshot in tests/e2e/artifacts/ (git-ignored), beside the server's log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from benchmarks.live import CHROMIUM, SETTLED_JS, chromium_available, serve_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Generous: the machine may be shared, and the first visit to a model page trains a network.
PAGE_TIMEOUT_MS = 240_000
STEP_TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1400, "height": 1600}

expect.set_options(timeout=STEP_TIMEOUT_MS)  # Playwright's 5 s default is too short for a busy machine


@pytest.fixture(scope="package")
def chromium() -> None:
    """Skip (fail under REQUIRE_BROWSER=1) where Debian's Chromium is not installed."""
    if not chromium_available():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium); the browser tests need it"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="package")
def app_url(chromium) -> Iterator[str]:
    """`streamlit run streamlit_app.py` on a free loopback port, for the browser tests."""
    with serve_app(log_path=ARTIFACTS / "streamlit.log") as url:
        yield url


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is open,
# so it must close when the browser tests end, before tests elsewhere call asyncio.run.
@pytest.fixture(scope="package")
def browser(chromium) -> Iterator:
    """One headless Chromium for the browser tests."""
    from playwright.sync_api import sync_playwright

    from benchmarks.live import chromium as launch

    with sync_playwright() as playwright:
        chrome = launch(playwright)
        yield chrome
        chrome.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh tab (its own Streamlit session) with generous timeouts."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(STEP_TIMEOUT_MS)
    yield tab
    context.close()


def wait_for_app(page, timeout: float = PAGE_TIMEOUT_MS) -> None:
    """Wait until the page has a title and Streamlit has finished running the script."""
    page.wait_for_function(SETTLED_JS, polling=100, timeout=timeout)


def open_app_page(page, app_url: str, url_path: str, lang: str) -> None:
    """Go to one page of the app in ``lang`` and wait until it has finished rendering."""
    page.goto(f"{app_url}/{url_path}?lang={lang}", timeout=PAGE_TIMEOUT_MS)
    wait_for_app(page)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a full-page screenshot of a browser test that failed, named after the test."""
    report = yield
    tab = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.failed and report.when in ("setup", "call") and tab is not None and not tab.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", item.nodeid.split("::")[-1])
        try:
            tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # noqa: BLE001 - the test's own failure is what matters
            report.sections.append(("screenshot", f"could not save a screenshot: {exc}"))
    return report
