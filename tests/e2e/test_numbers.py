"""The draw page reading a whole number in Chromium: a photo-like picture of a three-digit number
(real handwritten digits on shaded, ruled paper, as a JPEG) is uploaded in the number view, each
digit gets a box, and the number is read, in both languages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.i18n import STRINGS

from .conftest import PAGE_TIMEOUT_MS, wait_for_app

pytestmark = pytest.mark.browser


def text(key: str, lang: str) -> str:
    """The visible form of a string-table entry (markdown emphasis removed)."""
    return STRINGS[key][lang].replace("**", "")


def reads_number(lang: str, number: str | None = None) -> re.Pattern:
    """The sentence that says which number the network read (any three digits: None)."""
    before, after = text("numbers.reads", lang).split("{number}")
    return re.compile(re.escape(before) + (r"\d{3}" if number is None else number) + re.escape(after.format(count=3)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_draw_page_reads_a_three_digit_number_from_an_uploaded_photo(page, app_url, lang):
    from test_pages_numbers import NUMBER, number_picture

    photo = number_picture(fmt="JPEG")
    page.goto(f"{app_url}/draw?lang={lang}&model=course&source=photo", timeout=PAGE_TIMEOUT_MS)
    wait_for_app(page)
    page.get_by_text(text("numbers.toggle", lang), exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text(text("numbers.photo_tip", lang))).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.wait_for(state="attached")
    uploader.set_input_files(files=[{"name": "number.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    expect(page.get_by_text(reads_number(lang))).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_text(text("numbers.boxes_caption", lang).format(count=3))).to_be_visible()
    expect(page.locator('[data-testid="stImage"] img').first).to_be_visible()
    if page.get_by_text(text("draw.fallback", lang)).count():
        pytest.skip("real MNIST is absent (set MNIST_DIR): the fallback model is not held to the right number")
    expect(page.get_by_text(reads_number(lang, "".join(map(str, NUMBER))))).to_be_visible()
