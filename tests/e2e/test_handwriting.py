"""Issue 12 in a real browser: a digit drawn with a THIN pen on the canvas and a photo-like picture of a
digit on shaded paper (an EXIF-rotated JPEG, made here) are both read correctly by the draw page's
default model; the draw page and lesson 7 fit a classroom laptop's first screen and a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_pages_draw_handwriting import photo_of_digit

from app.i18n import STRINGS

from .conftest import PAGE_TIMEOUT_MS, open_app_page, wait_for_app
from .test_draw import CANVAS, expect_reading, reads, stroke, text

pytestmark = pytest.mark.browser

THIN_SEVEN = [(90, 60), (200, 60), (120, 240)]  # a bar and a long diagonal
FIRST_TRAINING_MS = 900_000  # the first visit trains the class's robust model: minutes on a busy 2-core machine


def test_a_thin_pen_digit_and_a_photo_of_paper_are_both_read(page, app_url):
    page.goto(f"{app_url}/draw?lang=en", timeout=PAGE_TIMEOUT_MS)
    robust = STRINGS["draw.model.robust"]["en"]
    reading_with = page.get_by_text(STRINGS["draw.model_reading"]["en"].split("{model}")[0] + robust)
    expect(reading_with).to_be_visible(timeout=FIRST_TRAINING_MS)
    wait_for_app(page)

    # the first try-it, in plain sight: a 5 px pen
    page.get_by_role("button", name=text("app.load", "en")).first.click()
    expect(page.get_by_role("slider", name=text("draw.stroke", "en"))).to_have_value("5")
    wait_for_app(page)
    canvas = page.locator(CANVAS)
    canvas.scroll_into_view_if_needed()
    stroke(page, canvas, THIN_SEVEN)
    expect_reading(page, 7, "en")

    # a phone photo of a "1" on grey, shaded paper, stored sideways with its EXIF rotation
    page.get_by_role("radio", name=text("draw.source.photo", "en").split(" ", 1)[-1]).click()  # without its emoji
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.wait_for(state="attached")
    uploader.set_input_files(files=[{"name": "digit.jpg", "mimeType": "image/jpeg", "buffer": photo_of_digit("1")}])
    expect(page.get_by_text(reads(1, "en"))).to_be_visible()
    expect(page.get_by_text(reads(7, "en"))).to_have_count(0)


@pytest.mark.parametrize("url_path,first", [("draw", CANVAS), ("handwriting", '[data-testid="stSlider"]')])
def test_the_experiment_is_on_the_first_screen_and_the_page_fits_a_phone(browser, app_url, url_path, first):
    for viewport, lang in (({"width": 1366, "height": 768}, "zh"), ({"width": 390, "height": 844}, "en")):
        context = browser.new_context(viewport=viewport)
        tab = context.new_page()
        try:
            open_app_page(tab, app_url, url_path, lang)
            element = tab.locator(first).first
            element.wait_for(timeout=PAGE_TIMEOUT_MS)
            if viewport["width"] > 390:
                box = element.bounding_box()
                assert box is not None and box["y"] < viewport["height"], (url_path, box)
            width = tab.evaluate("() => document.documentElement.scrollWidth")
            assert width <= viewport["width"], (url_path, lang, width)
        finally:
            context.close()
