"""The draw page's number view (app/number_reading.py): an uploaded picture of a three-digit number,
made here from real handwritten digits (MNIST's test set, else scikit-learn's), is cut into three
boxed digits and read whole, in both languages; one digit still reads as before; the boxes are
drawn where the digits are, and the bars are each digit's probabilities."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import open_page
from PIL import Image

from app import number_reading, ui
from app.charts import numbers as number_charts
from app.i18n import STRINGS
from lessons import canvas, mlp, mnist, segment

DRAW = "pages/draw.py"
TIMEOUT = 600
NUMBER = (2, 0, 7)


def text(key: str, lang: str = "en", **fields) -> str:
    return STRINGS[key][lang].format(**fields)


def handwritten(number=NUMBER) -> list[np.ndarray]:
    """One real handwritten 28×28 digit (uint8, ink high) per digit of ``number``: MNIST test's first
    of each where MNIST is here, else scikit-learn's."""
    import os

    try:
        data = mnist.read_mnist_folder(os.environ["MNIST_DIR"])
    except (KeyError, OSError, ValueError):
        data = mnist.fallback_digits()
    labels = np.asarray(data.test_labels)
    return [data.test_images[int(np.flatnonzero(labels == d)[0])] for d in number]


def number_picture(number=NUMBER, *, gap: int = 20, height: int = 150, fmt: str = "PNG", seed: int = 0) -> bytes:
    """A photo-like picture of ``number`` in dark ink on shaded, faintly ruled paper (PNG or JPEG bytes)."""
    rng = np.random.default_rng(seed)
    digits = [np.asarray(Image.fromarray(d).resize((height, height), Image.Resampling.BICUBIC), np.float32) / 255
              for d in handwritten(number)]
    crops = [d[:, np.flatnonzero((d > 0.1).any(axis=0))[0]:np.flatnonzero((d > 0.1).any(axis=0))[-1] + 1] for d in digits]
    width = sum(c.shape[1] for c in crops) + gap * (len(crops) + 3)
    sheet = np.zeros((height + 2 * gap, width), np.float32)
    x = 2 * gap
    for crop in crops:
        sheet[gap:gap + height, x:x + crop.shape[1]] = np.maximum(sheet[gap:gap + height, x:x + crop.shape[1]], crop)
        x += crop.shape[1] + gap
    paper = np.linspace(0.95, 0.7, width)[None, :] * np.ones((sheet.shape[0], 1))
    paper[::45] *= 0.85  # faint rules
    grey = paper * (1 - 0.85 * np.clip(sheet, 0, 1)) + rng.normal(0, 0.01, sheet.shape)
    rgb = np.repeat((np.clip(grey, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format=fmt)
    return out.getvalue()


def expected_reading(blob: bytes, model_name: str = "course") -> str:
    """The number as lessons read it, independently of the page: cut by ``segment`` with the same network
    judging the cuts, and read by it."""
    trained = ui.trained_model(mlp.preset_for(model_name, ui.mnist_data()))

    def read(images: np.ndarray) -> np.ndarray:
        return mlp.predict_proba(trained.model, images)

    digits = segment.segment_digits(canvas.read_image_file(blob), read)
    return segment.read_number(digits, read(np.stack([d.image for d in digits])))


# ------------------------------------------------------------------------------ the pieces


def test_the_picture_holds_three_digits_where_they_were_written():
    digits = segment.segment_digits(canvas.read_image_file(number_picture()))
    assert len(digits) == 3
    assert [d.box[0] for d in digits] == sorted(d.box[0] for d in digits)


def test_each_box_is_outlined_in_the_overlay_and_nothing_else_is_coloured():
    image = canvas.read_image_file(number_picture())
    digits = segment.segment_digits(image)
    shown = number_reading.overlay(image, digits, width=image.shape[1])  # no scaling: boxes at their pixels
    orange = (shown == number_reading.BOX_COLOUR).all(axis=2)
    for digit in digits:
        x0, y0, x1, y1 = digit.box
        line = number_reading.BOX_LINE
        assert orange[max(0, y0 - line), x0:x1].all() and orange[y0:y1, max(0, x0 - line)].all()
        assert not orange[y0:y1, x0:x1].any()  # the digit itself is never painted over
    outside = np.ones_like(orange)
    for x0, y0, x1, y1 in (d.box for d in digits):
        line = number_reading.BOX_LINE
        outside[max(0, y0 - line):y1 + line, max(0, x0 - line):x1 + line] = False
    assert not orange[outside].any()


def test_the_strip_shows_each_digit_the_network_reads_in_order():
    digits = segment.segment_digits(canvas.read_image_file(number_picture()))
    row = number_reading.strip(digits, scale=1)
    assert row.shape == (28, 3 * 28 + 2 * 2)
    for k, digit in enumerate(digits):
        np.testing.assert_array_equal(row[:, k * 30:k * 30 + 28], digit.image)


def test_the_bars_are_each_digits_probabilities_and_the_highlight_is_the_digit_read():
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(10), size=4)
    table = number_charts.digit_table(proba)
    assert len(table) == 40
    for position, part in table.groupby("order"):
        np.testing.assert_allclose(part["probability"].to_numpy(), proba[position - 1])
        assert part.loc[part["chosen"], "digit"].tolist() == [int(proba[position - 1].argmax())]
    number_charts.digit_bars(proba).to_dict()  # a valid chart


# ------------------------------------------------------------------------------ the page


def upload_number(at, blob: bytes, name: str = "number.png", mime: str = "image/png"):
    at.toggle(key="draw.number").set_value(True).run()
    at.segmented_control(key="draw.source").set_value("photo").run()
    at.file_uploader(key="draw.__number_upload").set_value((name, blob, mime)).run()
    return at


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_draw_page_reads_an_uploaded_three_digit_number_and_boxes_each_digit(lang):
    blob = number_picture()
    at = upload_number(open_page(DRAW, lang=lang, query={"model": "course"}, timeout=TIMEOUT), blob)
    assert not at.exception, [e.value for e in at.exception]
    number = expected_reading(blob)
    assert len(number) == 3
    markdown = [m.value for m in at.markdown]
    assert text("numbers.reads", lang, number=number, count=3) in markdown
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert text("numbers.boxes_caption", lang, count=3) in captions and text("numbers.strip_caption", lang) in captions
    if not ui.mnist_data().is_fallback:  # the course network on clean, real digits: the number written
        assert number == "".join(map(str, NUMBER))


@pytest.mark.slow
def test_one_digit_still_reads_as_before_with_the_number_view_off():
    at = open_page(DRAW, lang="en", query={"model": "course"}, timeout=TIMEOUT)
    assert at.toggle(key="draw.number").value is False
    assert text("draw.empty") in [i.value for i in at.info]
    shown = [el.value for kind in ("markdown", "caption", "info") for el in getattr(at, kind)]
    number_view = [STRINGS[k]["en"].split("{")[0] for k in STRINGS if k.startswith("numbers.") and k != "numbers.toggle"]
    assert not [s for s in shown if any(s.startswith(prefix) for prefix in number_view if prefix)]
