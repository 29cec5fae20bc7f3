"""Every page of the app opens in a real browser, in both languages, without an error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app import ui
from app.i18n import LANGUAGES, STRINGS

from .conftest import open_app_page

pytestmark = pytest.mark.browser

MISSING_KEY = re.compile(r"⟨[\w.]+⟩")  # how ui.t shows a key the string table lacks


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("spec", ui.PAGES, ids=lambda spec: spec.url_path)
def test_every_page_opens_without_an_error(page, app_url, spec, lang):
    url_path = "" if spec is ui.HOME else spec.url_path  # the home page is the app's root
    open_app_page(page, app_url, url_path, lang)

    title = STRINGS["app.title" if spec is ui.HOME else f"page.{spec.name}.title"][lang]
    expect(page.locator("h1").filter(has_text=title).first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    body = page.locator("body").inner_text()
    caught = STRINGS["app.error_generic"][lang]
    assert caught not in body, f"{spec.url_path} ({lang}) caught an error: {body[body.find(caught):][:300]}"
    assert not MISSING_KEY.findall(body), f"{spec.url_path} ({lang}) shows missing strings"


def test_a_fresh_servers_first_requests_deep_links_get_the_apps_navigation(browser):
    """A folder named pages/ makes Streamlit run a page file bare on a fresh server's first
    requests; the app switches that off, so shared links work even right after a restart, and
    even when a whole class opens them at the same moment."""
    from benchmarks.live import serve_app

    from .conftest import ARTIFACTS, wait_for_app

    names = ["noise", "mnist_train", "descent", "classification"]
    with serve_app(log_path=ARTIFACTS / "streamlit-fresh.log") as fresh_url:
        context = browser.new_context()
        try:
            tabs = [context.new_page() for _ in names]
            for tab, name in zip(tabs, names):  # all four first runs start together
                tab.goto(f"{fresh_url}/{name}?lang=en", wait_until="commit")
            for tab, name in zip(tabs, names):
                wait_for_app(tab)
                expect(tab.locator("h1").filter(has_text=STRINGS[f"page.{name}.title"]["en"]).first).to_be_visible()
                expect(tab.get_by_text("Page not found")).to_have_count(0)
                sidebar = tab.locator('[data-testid="stSidebar"]')
                expect(sidebar.get_by_text(STRINGS["app.language"]["en"])).to_be_visible()
                expect(sidebar.get_by_text(STRINGS["page.draw.title"]["en"])).to_be_visible()
                expect(sidebar.get_by_text("streamlit app", exact=True)).to_have_count(0)  # no raw file list
                expect(tab.locator('[data-testid="stException"]')).to_have_count(0)
        finally:
            context.close()
