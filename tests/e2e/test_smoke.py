"""Every page of the app opens in a real browser, in both languages, without an error."""

from __future__ import annotations

import os
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


def test_a_class_served_through_nginx_works_in_a_browser(browser, tmp_path):
    """``make class``: nginx in front of workers forked from the zygote, nginx sending Streamlit's
    front end itself. A real browser gets a working lesson: the page, its chart, a slider that
    reruns it, and every script with a JavaScript type (a module script of any other is refused)."""
    from serve.class_server import NGINX, ClassServer

    from .conftest import wait_for_app

    if not os.path.exists(NGINX):
        pytest.skip(f"{NGINX} is absent")
    server = ClassServer(workers=2, port=_free_port(), address="127.0.0.1", run_dir=tmp_path / "run")
    server.start()
    context = browser.new_context()
    try:
        tab = context.new_page()
        scripts = []
        tab.on("response", lambda r: scripts.append(r) if r.url.endswith(".js") else None)
        tab.goto(f"{server.url}/descent?lang=en")
        wait_for_app(tab)
        expect(tab.locator("h1").filter(has_text=STRINGS["page.descent.title"]["en"]).first).to_be_visible()
        expect(tab.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
        expect(tab.locator('[data-testid="stException"]')).to_have_count(0)
        assert scripts and all(r.status == 200 and r.headers["content-type"] == "text/javascript" for r in scripts)
        assert all(r.headers.get("server", "").startswith("nginx") and "immutable" in r.headers["cache-control"]
                   for r in scripts), "the front end comes from nginx, not a Python worker"
        slider = tab.get_by_test_id("stSlider").first.get_by_role("slider")
        before = slider.get_attribute("aria-valuenow")
        slider.focus()
        tab.keyboard.press("ArrowRight")
        wait_for_app(tab)
        expect(slider).not_to_have_attribute("aria-valuenow", before)
        expect(tab.locator('[data-testid="stException"]')).to_have_count(0)
    finally:
        context.close()
        server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
