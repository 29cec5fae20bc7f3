"""The draw page (pages/draw.py) and lesson 7, real handwriting (pages/handwriting.py), in AppTest:
which network reads and why (a diverged, useless or NaN model from 5c never reads silently), photos
through the same preparation with every refusal worded, digits kept for lesson 7, the distortion
sliders, and the comparison of networks trained with and without distortions.

Most tests read with the course recipe (``model=course`` in the URL), which trains in seconds; the
robust default and the comparison train bigger networks and are marked slow.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import streamlit as st
import torch
from conftest import open_page
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from app import mnist_widgets as mw
from app import ui
from app.i18n import STRINGS
from lessons import augment, canvas, handwriting, mlp

pytestmark = pytest.mark.slow  # whole pages in AppTest: left out of make test-fast

DRAW = "pages/draw.py"
PAGE7 = "pages/handwriting.py"
TIMEOUT = 600
KEPT_KEY = "handwriting.kept"


def text(key: str, lang: str = "en", **fields) -> str:
    return STRINGS[key][lang].format(**fields)


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if e.value == text("app.error_generic", "zh")] + [
        e.value for e in at.error if e.value == text("app.error_generic")], "a section failed"


def texts(at) -> list[str]:
    return [el.value for kind in ("markdown", "caption", "success", "info", "warning", "error") for el in getattr(at, kind)]


# ------------------------------------------------------------------------------ photos made here


def photo_of_digit(digit: str = "7", *, size=(900, 700), exif_rotated: bool = True, seed: int = 0) -> bytes:
    """A phone-photo-like JPEG of ``digit`` ("7" or "1") written in dark pen on shaded grey paper, blurred and
    noisy, with a few specks; ``exif_rotated``: stored sideways with the EXIF tag that turns it upright."""
    rng = np.random.default_rng(seed)
    width, height = size
    # paper: light grey, darker towards one corner, with a soft shadow blob, and warm-tinted
    rows, cols = np.mgrid[0:height, 0:width] / max(width, height)
    paper = 0.78 - 0.18 * (rows + cols) / 2 - 0.12 * np.exp(-((rows - 0.6) ** 2 + (cols - 0.2) ** 2) / 0.05)
    ink = Image.new("L", size, 0)
    pen = ImageDraw.Draw(ink)
    cx, cy, h = width // 2, height // 2, int(height * 0.55)
    if digit == "7":
        top, left, right = cy - h // 2, cx - h // 3, cx + h // 3
        pen.line([(left, top), (right, top), (cx - h // 10, cy + h // 2)], fill=255, width=max(6, h // 28), joint="curve")
    else:
        pen.line([(cx + h // 12, cy - h // 2), (cx - h // 20, cy + h // 2)], fill=255, width=max(6, h // 28))
    strokes = np.asarray(ink.filter(ImageFilter.GaussianBlur(2.0)), dtype=np.float64) / 255
    value = paper * (1 - strokes) + 0.2 * strokes + rng.normal(0, 0.025, paper.shape)
    for _ in range(3):  # specks of dirt far from the digit
        y, x = int(rng.integers(10, height // 6)), int(rng.integers(10, width - 10))
        value[y - 2 : y + 2, x - 2 : x + 2] = 0.25
    rgb = np.clip(np.dstack([value * 1.0, value * 0.97, value * 0.9]) * 255, 0, 255).astype(np.uint8)
    photo = Image.fromarray(rgb)
    buffer = io.BytesIO()
    if exif_rotated:
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90° clockwise to show": the sensor's pixels lie on their side
        photo.transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    else:
        photo.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def bomb_png() -> bytes:
    """A tiny PNG file whose header claims 60 million pixels."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_test_photo_is_a_sideways_jpeg_that_reads_upright():
    blob = photo_of_digit("7")
    with Image.open(io.BytesIO(blob)) as stored:
        assert stored.size == (700, 900)  # stored sideways
    upright = canvas.read_image_file(blob)
    assert upright.shape[:2] == (700, 900)
    steps = canvas.preprocessing_steps(upright)
    # the 7's bar is at the top once upright: more ink in the top rows of the 28×28 than the bottom
    assert steps.placed[:10].sum() > steps.placed[-10:].sum()


def upload(at, blob: bytes, name: str = "digit.jpg", mime: str = "image/jpeg"):
    at.segmented_control(key="draw.source").set_value("photo").run()
    at.file_uploader(key="draw.__upload").set_value((name, blob, mime)).run()
    return at


# ------------------------------------------------------------------------------ the draw page


@pytest.mark.slow
def test_the_draw_page_reads_with_the_robust_model_by_default_and_says_so():
    at = open_page(DRAW, lang="zh", timeout=TIMEOUT)
    no_exception(at)
    assert mlp.DRAW_DEFAULT == "robust" and at.radio(key="draw.model").value == "robust"
    trained = ui.trained_model(mlp.preset_for("robust", ui.mnist_data()))
    expected = "🧠 " + text("draw.model_reading", "zh", model=text("draw.model.robust", "zh"),
                           accuracy=f"{trained.accuracy:.1%}", seconds=f"{trained.seconds:.0f}")
    assert expected in [c.value for c in at.caption]
    assert text("draw.empty", "zh") in [i.value for i in at.info]


def test_the_course_model_reads_when_chosen_and_the_first_try_it_is_visible():
    at = open_page(DRAW, lang="en", query={"model": "course"}, timeout=TIMEOUT)
    no_exception(at)
    assert any(c.value.startswith("🧠 " + text("draw.model_reading", model=text("draw.model.course"),
                                                accuracy="X", seconds="Y").split("X")[0]) for c in at.caption)
    assert "💡 " + text("draw.try_thin") in [m.value for m in at.markdown]  # outside any expander
    at.button(key="draw.__try").click().run()
    assert at.slider(key="draw.stroke").value == 5


@pytest.mark.parametrize("status,message", [
    (None, "draw.model_problem.none"),
    ({"diverged": True, "stopped": False, "accuracy": None}, "draw.model_problem.diverged"),
])
def test_without_a_usable_model_from_5c_the_course_model_reads_and_the_page_says_why(status, message):
    at = open_page(DRAW, lang="zh", query={"model": "own"}, timeout=TIMEOUT)
    if status is not None:
        at.session_state[mw.SESSION_MODEL_STATUS] = status
        at.run()
    no_exception(at)
    assert at.radio(key="draw.model").value == "own"
    assert text(message, "zh", model=text("draw.model.course", "zh")) in texts(at)
    assert any(text("draw.model.course", "zh") in c.value for c in at.caption if c.value.startswith("🧠"))


def own_model(accuracy: float, *, broken: bool = False, history=None) -> mlp.TrainedModel:
    import pandas as pd

    config = mlp.TrainConfig(hidden=(16,), loss="cross_entropy")
    model = mlp.MLP(config.hidden)
    if broken:
        with torch.no_grad():
            for weight in model.parameters():
                weight.fill_(float("nan"))
    history = pd.DataFrame({"loss": [2.3, 1.0]}) if history is None else history
    return mlp.TrainedModel(model, history, accuracy, config, "test", 0.0)


@pytest.mark.parametrize("accuracy,loss,problem", [
    (0.09, [2.3, 2.3], "draw.model_problem.chance"),
    (0.8, [2.3, float("nan")], "draw.model_problem.diverged"),
    (float("nan"), [2.3, 1.0], "draw.model_problem.diverged"),
])
def test_a_useless_or_diverged_own_model_is_never_used_silently(accuracy, loss, problem):
    import pandas as pd

    at = open_page(DRAW, lang="en", query={"model": "own"}, timeout=TIMEOUT)
    at.session_state[ui.SESSION_MODEL] = own_model(accuracy, history=pd.DataFrame({"loss": loss}))
    at.run()
    no_exception(at)
    assert text(problem, model=text("draw.model.course"), accuracy=f"{accuracy:.1%}") in [w.value for w in at.warning]
    assert not any(c.value.startswith("🧠 " + text("draw.model_own", accuracy="X").split("(")[0]) for c in at.caption)


def test_the_students_own_model_reads_when_it_is_usable():
    at = open_page(DRAW, lang="en", query={"model": "own"}, timeout=TIMEOUT)
    at.session_state[ui.SESSION_MODEL] = own_model(0.5)
    at.run()
    no_exception(at)
    assert "🧠 " + text("draw.model_own", accuracy="50.0%") in [c.value for c in at.caption]
    assert not at.warning


def test_a_model_with_nan_outputs_is_named_and_the_course_model_reads_the_photo():
    at = open_page(DRAW, lang="en", query={"model": "own"}, timeout=TIMEOUT)
    at.session_state[ui.SESSION_MODEL] = own_model(0.5, broken=True)  # finite history, NaN weights
    upload(at.run(), photo_of_digit("7"))
    no_exception(at)
    assert text("draw.model_problem.nan", model=text("draw.model.course")) in [w.value for w in at.warning]
    read = [m.value for m in at.markdown if m.value.startswith("The network reads **")]
    assert len(read) == 1 and "nan" not in read[0].lower()


def test_a_photo_goes_through_the_same_preparation_and_is_read():
    at = upload(open_page(DRAW, lang="en", query={"model": "course"}, timeout=TIMEOUT), photo_of_digit("7"))
    no_exception(at)
    steps = canvas.preprocessing_steps(canvas.read_image_file(photo_of_digit("7")))
    course = ui.trained_model(mlp.preset_for("course", ui.mnist_data()))
    reading = canvas.read_probabilities(mlp.predict_proba(course.model, steps.placed)[0])
    shown = [m.value for m in at.markdown if m.value.startswith("The network reads **")]
    assert shown == [text("draw.reads", digit=reading.digit, percent=f"{reading.probability:.0%}")]
    # every stage of the preparation is captioned, with its size
    captions = [c.value for c in at.caption]
    for name, image in steps.stages():
        key = {"ink": "draw.step_ink", "cleaned": "draw.step_cleaned", "cropped": "draw.step_cropped",
               "thickened": "draw.step_thickened", "scaled": "draw.step_scaled", "placed": "draw.step_placed"}[name]
        assert text(key, height=image.shape[0], width=image.shape[1]) in captions


@pytest.mark.parametrize("blob,name,key", [
    (bomb_png(), "bomb.png", "draw.err.bomb"),
    (b"this is not a picture at all", "notes.png", "draw.err.not_an_image"),
])
def test_bad_uploads_get_a_translated_message_and_the_page_keeps_working(blob, name, key):
    at = upload(open_page(DRAW, lang="zh", query={"model": "course"}, timeout=TIMEOUT), blob, name, "image/png")
    no_exception(at)
    assert text(key, "zh", mb=canvas.MAX_FILE_MB) in [e.value for e in at.error]
    assert text("draw.empty_photo", "zh") in [i.value for i in at.info]
    at.segmented_control(key="draw.source").set_value("draw").run()  # back to the canvas
    no_exception(at)
    assert text("draw.empty", "zh") in [i.value for i in at.info]


def phone_sized(jpeg: bytes, side=(4032, 3024), grain: float = 14.0) -> bytes:
    """A small photo blown up to a 12-megapixel phone's JPEG with sensor grain: about 7.5 MB."""
    with Image.open(io.BytesIO(jpeg)) as small:
        upright = ImageOps.exif_transpose(small).convert("RGB").resize(side, Image.Resampling.BILINEAR)
    noise = np.random.default_rng(0).normal(0, grain, (side[1], side[0], 1))
    out = io.BytesIO()
    Image.fromarray(np.clip(np.asarray(upright) + noise, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=97)
    return out.getvalue()


def test_one_upload_limit_stated_in_the_page_language_is_the_servers_and_the_uploaders():
    import tomllib

    from conftest import ROOT

    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert server == canvas.MAX_FILE_MB and canvas.MAX_FILE_BYTES == canvas.MAX_FILE_MB * 2**20
    at = open_page(DRAW, lang="zh", query={"model": "course", "source": "photo"}, timeout=TIMEOUT)
    no_exception(at)
    assert at.get("file_uploader")[0].proto.max_upload_size_mb == canvas.MAX_FILE_MB
    assert text("draw.upload_limit", "zh", mb=canvas.MAX_FILE_MB) in [c.value for c in at.caption]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_phone_photo_is_read_and_a_larger_file_refused_in_the_pages_language(lang):
    photo = phone_sized(photo_of_digit("7"))
    assert 7 * 2**20 < len(photo) < canvas.MAX_FILE_BYTES  # today's phone photos are 3-12 MB
    at = upload(open_page(DRAW, lang=lang, query={"model": "course"}, timeout=TIMEOUT), photo)
    no_exception(at)
    assert not at.error and len(at.get("button_group")) >= 1  # read: its label can be picked
    too_big = photo + bytes(canvas.MAX_FILE_BYTES + 1 - len(photo))
    upload(at, too_big, "huge.jpg")
    no_exception(at)
    assert [e.value for e in at.error] == [text("draw.err.too_large", lang, mb=canvas.MAX_FILE_MB)]


def test_a_blank_photo_is_worded():
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 200, 190)).save(blank, "PNG")
    at = upload(open_page(DRAW, lang="en", query={"model": "course"}, timeout=TIMEOUT), blank.getvalue(), "blank.png",
                "image/png")
    no_exception(at)
    assert text("draw.photo_blank") in [w.value for w in at.warning]


def keep_button(at):
    return next(b for b in at.button if b.label == text("draw.keep"))


def test_the_label_starts_unpicked_and_nothing_is_kept_until_the_student_picks_one():
    at = upload(open_page(DRAW, lang="en", query={"model": "course"}, timeout=TIMEOUT), photo_of_digit("7"))
    no_exception(at)
    label = next(s for s in at.segmented_control if s.key.startswith("draw.__keep_label"))
    assert label.value is None  # no default: pressing the button must not confirm the network's guess
    guess = next(m.value for m in at.markdown if m.value.startswith("The network reads **"))
    digit = int(guess.split("**")[1])
    assert text("draw.keep_guess", digit=digit) in [c.value for c in at.caption]  # the guess, beside the label
    keep_button(at).click().run()
    no_exception(at)
    assert text("draw.keep_no_label") in [w.value for w in at.warning]
    assert not at.session_state[KEPT_KEY]


def test_a_digit_is_kept_for_lesson_7_with_the_label_the_student_picks():
    at = upload(open_page(DRAW, lang="en", query={"model": "course"}, timeout=TIMEOUT), photo_of_digit("7"))
    label = next(s for s in at.segmented_control if s.key.startswith("draw.__keep_label"))
    label.set_value(7)
    keep_button(at).click().run()
    no_exception(at)
    kept = at.session_state[KEPT_KEY]
    assert len(kept) == 1 and kept[0][1] == 7 and kept[0][0].shape == (28, 28)
    assert text("draw.kept", label=7, count=1) in [s.value for s in at.success]
    keep_button(at).click().run()
    assert len(at.session_state[KEPT_KEY]) == 1 and text("draw.kept_already") in [i.value for i in at.info]
    # another picture starts with no label again
    upload(at, photo_of_digit("1"))
    assert next(s for s in at.segmented_control if s.key.startswith("draw.__keep_label")).value is None


def test_the_class_collection_button_asks_to_join_a_class_first():
    at = upload(open_page(DRAW, lang="en", query={"model": "course"}, timeout=TIMEOUT), photo_of_digit("7"))
    no_exception(at)
    assert "👩‍🏫 " + text("classboard.join_hint") in [c.value for c in at.caption]


def test_no_english_on_the_zh_draw_page_and_no_left_in_the_instructions():
    at = open_page(DRAW, lang="zh", query={"model": "course"}, timeout=TIMEOUT)
    no_exception(at)
    for key in ("draw.empty", "draw.empty_photo", "draw.reads_empty"):
        assert "左" not in STRINGS[key]["zh"] and "left" not in STRINGS[key]["en"]
    assert [r.options for r in at.radio if r.key == "draw.model"] == [
        [text(f"draw.model.{m}", "zh") for m in ("course", "best", "robust", "own", "class")]]


# ------------------------------------------------------------------------------ lesson 7


def test_lesson_7_follows_the_draw_page():
    names = [spec.name for spec in ui.LESSONS]
    assert names.index("handwriting") == names.index("draw") + 1


def test_the_distortion_sliders_bend_the_digit_as_lessons_augment_does():
    at = open_page(PAGE7, lang="zh", timeout=TIMEOUT)
    no_exception(at)
    for kind, spec in augment.DISTORTIONS.items():
        slider = at.slider(key=f"handwriting.{kind}")
        assert (slider.min, slider.max, slider.value) == (spec.low, spec.high, spec.neutral)
    at.slider(key="handwriting.slant").set_value(0.4).run()
    no_exception(at)
    assert at.query_params["slant"] in ("0.4", ["0.4"])  # shared in the link
    at.button(key="handwriting.__reset").click().run()
    assert at.slider(key="handwriting.slant").value == 0.0
    assert text("handwriting.compare", "zh") in [b.label for b in at.button]
    assert at.segmented_control(key="handwriting.digit").value == 7


def test_lesson_7_tells_the_fine_tuning_story_and_asks_to_join_a_class_for_an_example():
    at = open_page(PAGE7, lang="zh", timeout=TIMEOUT)
    no_exception(at)
    assert text("finetune.story_title", "zh") in [s.value for s in at.subheader]
    assert text("finetune.story_no_class", "zh") in [c.value for c in at.caption]


def test_the_first_try_it_loads_a_slant():
    at = open_page(PAGE7, lang="en", timeout=TIMEOUT)
    assert "💡 " + text("handwriting.try_slant") in [m.value for m in at.markdown]
    at.button(key="handwriting.__try").click().run()
    no_exception(at)
    assert at.slider(key="handwriting.slant").value == pytest.approx(0.4)
    assert at.segmented_control(key="handwriting.digit").value == 7


@pytest.mark.slow
def test_without_the_development_set_the_networks_are_compared_on_the_students_kept_digits(monkeypatch, tmp_path):
    monkeypatch.setenv(handwriting.ENV_DIR, str(tmp_path / "absent"))
    st.cache_resource.clear()  # the page reads the set once per server
    at = open_page(PAGE7, lang="en", timeout=TIMEOUT)
    data = ui.mnist_data()
    pick = np.arange(40)
    images = data.test_images[pick].astype(np.float32) / 255
    labels = np.asarray(data.test_labels[pick])
    at.session_state[KEPT_KEY] = [(image, int(label), str(i)) for i, (image, label) in enumerate(zip(images, labels))]
    at.button(key="handwriting.__compare").click().run()
    no_exception(at)
    assert text("handwriting.err.absent") in [c.value for c in at.caption]
    table = at.dataframe[0].value
    for name in ("course", "best", "robust_plain", "robust"):
        config = mlp.preset_for("robust" if name == "robust_plain" else name, data)
        if name == "robust_plain":
            from dataclasses import replace

            config = replace(config, augment=0.0)
        model = ui.trained_model(config)
        right = (mlp.predict_proba(model.model, images).argmax(axis=1) == labels).mean()
        row = table.loc[text(f"handwriting.model.{name}")]
        assert row[text("handwriting.set.mnist")] == f"{model.accuracy:.1%}"
        assert row[text("handwriting.set.kept", count=40)] == f"{right:.1%}"
    assert ui.trained_model(mlp.preset_for("robust", data)).config.augment > 0
    # the credit is only for the development set's images
    assert text("handwriting.credit") not in [c.value for c in at.caption]


@pytest.mark.slow
def test_with_the_development_set_every_network_is_scored_on_real_handwriting_with_the_credit():
    from conftest import shared_file

    shared_file("data", "handwriting", "labels.csv")
    st.cache_resource.clear()  # the page reads the set once per server
    at = open_page(PAGE7, lang="zh", timeout=TIMEOUT)
    at.button(key="handwriting.__compare").click().run()
    no_exception(at)
    dev = handwriting.load_handwriting()
    course = ui.trained_model(mlp.preset_for("course", ui.mnist_data()))
    expected = handwriting.read_handwriting(course.model, handwriting.prepare(handwriting.variant_images(dev, "plain")), dev)
    table = at.dataframe[0].value
    assert table.loc[text("handwriting.model.course", "zh"), text("handwriting.variant.plain", "zh")] == \
        f"{expected.accuracy:.1%}"
    assert text("handwriting.misread_count", "zh", wrong=f"{len(expected.misread):,}", total=f"{len(dev):,}") in \
        [c.value for c in at.caption]
    assert text("handwriting.credit", "zh") in [c.value for c in at.caption]
    at.radio(key="handwriting.variant").set_value("thin").run()
    no_exception(at)
