"""Uploads over the limit in Chromium: a phone's full-resolution photo of a digit is made smaller in
the browser and read; a large file that is no picture is refused in the page's language before it is
sent; Streamlit's English "…MB per file" is never what a zh page shows. Test files are made here, at
test time (noise keeps JPEG and CSV from compressing them), never kept in the repository."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageOps
from playwright.sync_api import expect

from app import uploads
from app.i18n import STRINGS

from .conftest import PAGE_TIMEOUT_MS, STEP_TIMEOUT_MS, VIEWPORT, wait_for_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
INPUT = '[data-testid="stFileUploaderDropzoneInput"]'
# Streamlit's own English words ("15MB per file", "File must be 15.0MB or smaller.", a 413 from a proxy);
# ours put a space before MB
STREAMLIT_LIMIT = re.compile(r"\dMB per file|MB or smaller|AxiosError|status code 413")


def text(key: str, lang: str) -> str:
    return STRINGS[key][lang].replace("**", "")


def before_field(key: str, lang: str, field: str = "{") -> str:
    """A message's words up to its first field (the file's name or size is filled in by the page)."""
    return text(key, lang).split(field)[0]


def huge_photo_of_a_digit(megabytes: float = 20.5) -> bytes:
    """A phone's full-resolution JPEG (about 24 megapixels) of a 7 on shaded paper, with sensor grain:
    more than ``megabytes`` MB."""
    from test_pages_draw_handwriting import photo_of_digit

    with Image.open(io.BytesIO(photo_of_digit("7"))) as small:
        upright = np.asarray(ImageOps.exif_transpose(small).convert("RGB").resize((6000, 4000), Image.Resampling.BILINEAR))
    rng = np.random.default_rng(0)
    for grain in (18.0, 26.0, 36.0):
        noisy = np.clip(upright + rng.normal(0, grain, (4000, 6000, 1)), 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(noisy).save(out, "JPEG", quality=98)
        if len(out.getvalue()) > megabytes * 2**20:
            return out.getvalue()
    raise AssertionError("could not make a photo that large")


def huge_csv(megabytes: float = 20.5) -> bytes:
    """A CSV of random points, more than ``megabytes`` MB."""
    rows = int(megabytes * 2**20 / 30) + 1000  # a line is about 35 bytes
    points = np.random.default_rng(0).normal(0, 1e3, (rows, 2))
    out = io.StringIO()
    np.savetxt(out, points, fmt="%.12f", delimiter=",")
    blob = out.getvalue().encode()
    assert len(blob) > megabytes * 2**20
    return blob


def shown_text(tab) -> str:
    """The page's text as a reader sees it (innerText leaves out what is hidden)."""
    return tab.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').innerText")


def open_page(browser, app_url: str, path: str, *, phone: bool):
    context = browser.new_context(viewport=PHONE if phone else VIEWPORT, is_mobile=phone, has_touch=phone)
    tab = context.new_page()
    tab.set_default_timeout(STEP_TIMEOUT_MS)
    tab.goto(f"{app_url}/{path}", timeout=PAGE_TIMEOUT_MS)
    wait_for_app(tab)
    return context, tab


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "phone"), [("zh", True), ("en", False)])
def test_a_20_mb_phone_photo_is_made_smaller_in_the_browser_and_read(browser, app_url, lang, phone):
    from .test_draw import reads

    photo = huge_photo_of_a_digit()
    assert len(photo) > 20 * 2**20 > uploads.LIMIT_MB * 2**20
    context, tab = open_page(browser, app_url, f"draw?lang={lang}&model=course&source=photo", phone=phone)
    try:
        expect(tab.get_by_text(text("draw.upload_limit", lang).format(mb=uploads.LIMIT_MB))).to_be_visible()
        uploader = tab.locator(INPUT)
        uploader.wait_for(state="attached")
        uploader.set_input_files(files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        note = tab.locator(".dl-upload-note")
        expect(note).to_contain_text(before_field("uploads.shrunk", lang), timeout=PAGE_TIMEOUT_MS)
        expect(tab.get_by_text(reads(None, lang))).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        # what reached the server: a JPEG under the limit, named as the photo was
        expect(tab.get_by_test_id("stFileUploader")).to_contain_text(re.compile(r"IMG_0001\.jpg\s*[\d.]+\s*MB"))
        sent = float(re.findall(r"\d+(?:\.\d+)?", note.inner_text())[-1])  # the size sent, last in both languages
        assert 0 < sent <= uploads.LIMIT_MB
        assert not STREAMLIT_LIMIT.search(shown_text(tab))
    finally:
        context.close()


@pytest.mark.parametrize(("lang", "phone"), [("zh", False), ("en", True)])
def test_a_20_mb_file_that_is_no_picture_is_refused_in_the_pages_language(browser, app_url, lang, phone):
    blob = huge_csv()
    context, tab = open_page(browser, app_url, f"regression?lang={lang}&data=upload", phone=phone)
    try:
        expect(tab.get_by_text(text("uploads.limit_file", lang).format(mb=uploads.LIMIT_MB))).to_be_visible()
        uploader = tab.locator(INPUT)
        uploader.wait_for(state="attached")
        uploader.set_input_files(files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": blob}])
        refusal = tab.get_by_role("alert").filter(has_text=before_field("uploads.refused", lang, "{size}").replace("{name}", "points.csv"))
        expect(refusal).to_be_visible()
        expect(refusal).to_contain_text(f"{len(blob) / 2**20:.1f}")
        expect(tab.get_by_text(text("regression.upload_waiting", lang))).to_be_visible()  # nothing was sent
        assert not STREAMLIT_LIMIT.search(shown_text(tab))
    finally:
        context.close()


@pytest.mark.parametrize("path", ["draw?lang=zh&model=course&source=photo", "regression?lang=zh&data=upload"])
def test_no_english_streamlit_limit_is_shown_on_a_zh_page(browser, app_url, path):
    context, tab = open_page(browser, app_url, path, phone=False)
    try:
        uploader = tab.get_by_test_id("stFileUploader")
        expect(uploader).to_be_visible()
        expect(tab.get_by_test_id("stFileUploaderDropzoneInstructions")).to_be_hidden()
        shown = shown_text(tab)
        assert not re.search(r"per file|MB per|Limit", shown), shown
        assert f"{uploads.LIMIT_MB} MB" in shown  # ours, once per uploader
        assert shown.count(f"{uploads.LIMIT_MB} MB") == 1
    finally:
        context.close()
