"""The page says which language it is in (``<html lang>``), and a first visit without ``?lang=``
follows the browser's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.i18n import HTML_LANG, STRINGS

from .conftest import (
    PAGE_TIMEOUT_MS,
    STEP_TIMEOUT_MS,
    VIEWPORT,
    open_app_page,
    wait_for_app,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", list(HTML_LANG))
def test_html_lang_follows_the_page_language(page, app_url, lang):
    open_app_page(page, app_url, "descent", lang)
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("zh-TW", "zh")])
def test_a_first_visit_follows_the_browsers_language(browser, app_url, locale, lang):
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    try:
        tab = context.new_page()
        tab.set_default_timeout(STEP_TIMEOUT_MS)
        tab.goto(f"{app_url}/descent", timeout=PAGE_TIMEOUT_MS)
        wait_for_app(tab)
        expect(tab.locator("h1").filter(has_text=STRINGS["page.descent.title"][lang]).first).to_be_visible()
        expect(tab.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    finally:
        context.close()
