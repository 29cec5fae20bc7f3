"""A classroom in real browsers: sessions stay apart, and an oversized upload is refused clearly.

Many students at once are tested at the protocol level (tests/test_load_smoke.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.i18n import STRINGS

from .conftest import VIEWPORT, open_app_page, wait_for_app

pytestmark = pytest.mark.browser
SLIDER = '[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]'  # a slider's keyboard handle


def first_slider(page):
    return page.locator(SLIDER).first


def test_one_students_settings_never_show_up_in_anothers_session(browser, app_url):
    alice = browser.new_context(viewport=VIEWPORT).new_page()
    bob = browser.new_context(viewport=VIEWPORT).new_page()
    try:
        open_app_page(alice, app_url, "classification", "en")
        default = first_slider(alice).input_value()
        first_slider(alice).focus()
        for _ in range(5):
            alice.keyboard.press("ArrowRight")
        expect(alice).to_have_url(re.compile(r"[?&]w="))  # her setting reached her URL: the rerun ran
        wait_for_app(alice)
        moved = first_slider(alice).input_value()
        assert moved != default

        open_app_page(bob, app_url, "classification", "en")
        assert first_slider(bob).input_value() == default, "Bob sees Alice's slider position"
        assert "w=" not in bob.url
        alice.reload()  # and Alice's session still has her own value
        wait_for_app(alice)
        assert first_slider(alice).input_value() == moved
    finally:
        alice.context.close()
        bob.context.close()


def test_an_oversized_upload_is_refused_clearly_and_the_page_carries_on(page, app_url):
    """A file over the 15 MB cap of .streamlit/config.toml is refused in the browser, in the app's own
    words (app/uploads.py), before it is sent; the page carries on and a proper file still works."""
    open_app_page(page, app_url, "regression", "en")
    page.get_by_text(STRINGS["regression.data_upload"]["en"]).click()
    wait_for_app(page)
    dropzone = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    dropzone.set_input_files({"name": "huge.csv", "mimeType": "text/csv", "buffer": b"1,2\n" * 4_000_000})  # 16 MB
    refusal = page.get_by_role("alert").filter(has_text="huge.csv")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("15 MB")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    dropzone.set_input_files({"name": "line.csv", "mimeType": "text/csv", "buffer": b"x,y\n1,2\n2,4\n3,6\n"})
    wait_for_app(page)
    expect(page.get_by_text("Starting gradient descent at b = 0, m = 0, error = 18.666666666666668")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
