"""The draw page's number view: a number of several digits written on a wide canvas, uploaded or
photographed is cut into its digits (``canvas.segment_digits``, the page's network judging doubtful
cuts), a box drawn round each, and each digit read by that network (``readers``), with small
probability bars per digit and the number read.

A class writes seat numbers and years, so the canvas in this view is wider than tall
(``NUMBER_CANVAS``, still narrower than a 390 px phone); a longer number is best photographed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from app import readers, ui, uploads
from app.charts.numbers import digit_bars
from lessons import canvas, mlp, segment

NUMBER_CANVAS = (360, 180)  # width, height in px: four or five digits about 120 px tall
OVERLAY_PX = 480  # the input is shown with its boxes at most this wide
BOX_COLOUR = (217, 72, 15)  # the answer's orange on the probability bars
BOX_LINE = 3  # px of the box's outline in the shown picture
STRIP_SCALE = 3  # the 28×28 digits shown 3× with crisp pixels
PHOTO_CACHE = 32  # photos whose digits are kept (by their bytes) for the class
GENERATION = "draw.__number_canvas_generation"  # bumping it gives the wide canvas a new key: an empty canvas



def number_mode(p: ui.Page) -> bool:
    """The switch between one digit (the page as it always was) and a whole number."""
    return bool(st.toggle(ui.t("numbers.toggle"), key=p.key("number"), help=ui.t("numbers.toggle_help")))


@st.cache_data(max_entries=PHOTO_CACHE, ttl=3600, show_spinner=False)
def _shared_photo_digits(blob: bytes, name: str, _read: Callable[[np.ndarray], np.ndarray]) -> tuple[str | None, np.ndarray | None, list[segment.Digit]]:
    return _photo_digits(blob, _read)


def _photo_digits(blob: bytes, read: Callable[[np.ndarray], np.ndarray]) -> tuple[str | None, np.ndarray | None, list[segment.Digit]]:
    try:
        image = canvas.read_image_file(blob)
    except canvas.ImageError as error:
        return error.code, None, []
    return None, image, canvas.segment_digits(image, read)


def photo_digits(blob: bytes, name: str, read: Callable[[np.ndarray], np.ndarray]) -> tuple[str | None, np.ndarray | None, list[segment.Digit]]:
    """A photo's problem code (or None), the picture, and its digits cut as the network ``name`` judges
    (``read``): computed once per picture and preset network for the class. A student's own network
    and the class's change under the same name, so their cuts are not kept."""
    if name in mlp.PRESETS:
        return _shared_photo_digits(blob, name, read)
    return _photo_digits(blob, read)


def _clear() -> None:
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def drawn_number(p: ui.Page, read: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray | None, list[segment.Digit]]:
    """The wide canvas, its pen and clear button; the drawing and its digits, cut as ``read`` judges."""
    # registers a component: importable only inside a running page
    from streamlit_drawable_canvas import st_canvas

    pen = canvas.SETTINGS["stroke"]
    st.slider(ui.t("draw.stroke"), min_value=pen.lo, max_value=pen.hi, step=1, key=p.key("stroke"))
    drawing = st_canvas(stroke_width=p["stroke"], stroke_color="#000000", background_color="#ffffff",
                        width=NUMBER_CANVAS[0], height=NUMBER_CANVAS[1], drawing_mode="freedraw", return_image_data=True,
                        key=f"{p.name}.number_canvas{st.session_state.get(GENERATION, 0)}")
    st.button(ui.t("draw.clear"), key=p.key("__number_clear"), icon="🧽", on_click=_clear)
    if drawing.image_data is None:
        return None, []
    return drawing.image_data, canvas.segment_digits(np.asarray(drawing.image_data), read)


def photo_number(p: ui.Page, source: str, name: str,
                 read: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray | None, list[segment.Digit]]:
    """A photo of a number on paper, uploaded or taken with the camera; the picture and its digits
    (cut as the network ``name``, through ``read``, judges)."""
    if source == "camera":
        shot = st.camera_input(ui.t("draw.camera"), key=p.key("__number_camera"), help=ui.t("numbers.photo_help"))
    else:
        shot = uploads.file_uploader(ui.t("numbers.upload"), types=uploads.PHOTO_TYPES, key=p.key("__number_upload"),
                                     help=ui.t("numbers.photo_help"))
    if shot is None:
        st.caption(ui.t("numbers.photo_tip"))
        return None, []
    problem, image, digits = photo_digits(shot.getvalue(), name, read)
    if problem is not None:
        st.error(ui.t(f"draw.err.{problem}", mb=canvas.MAX_FILE_MB))
    return image, digits


def overlay(image: np.ndarray, digits: list[segment.Digit], width: int = OVERLAY_PX) -> np.ndarray:
    """The input on white, at most ``width`` px wide, with an outline round each digit's box (uint8 RGB)."""
    rgba = np.asarray(image, dtype=np.float32) / 255.0
    rgb = rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])  # a drawing's clear pixels are paper
    scale = min(1.0, width / rgb.shape[1])
    rows = np.minimum((np.arange(int(rgb.shape[0] * scale)) / scale).astype(int), rgb.shape[0] - 1)
    cols = np.minimum((np.arange(int(rgb.shape[1] * scale)) / scale).astype(int), rgb.shape[1] - 1)
    shown = (rgb[rows][:, cols] * 255).round().astype(np.uint8)
    height, wide = shown.shape[:2]
    for digit in digits:
        x0, y0, x1, y1 = (int(v * scale) for v in digit.box)
        x0, y0 = max(0, x0 - BOX_LINE), max(0, y0 - BOX_LINE)
        x1, y1 = min(wide, x1 + BOX_LINE), min(height, y1 + BOX_LINE)
        shown[y0:y0 + BOX_LINE, x0:x1] = shown[max(y0, y1 - BOX_LINE):y1, x0:x1] = BOX_COLOUR
        shown[y0:y1, x0:x0 + BOX_LINE] = shown[y0:y1, max(x0, x1 - BOX_LINE):x1] = BOX_COLOUR
    return shown


def strip(digits: list[segment.Digit], scale: int = STRIP_SCALE) -> np.ndarray:
    """The network's 28×28 inputs side by side, in reading order, enlarged with crisp pixels, a grey gap between."""
    gap = np.full((28, 2), 0.4, np.float32)
    row = np.concatenate([part for d in digits for part in (d.image, gap)][:-1], axis=1)
    return np.kron(row, np.ones((scale, scale), np.float32))


def show_number(digits: list[segment.Digit], probabilities: np.ndarray) -> str:
    """The number read, large, and each digit's probabilities as small bars; returns the number."""
    number = segment.read_number(digits, probabilities)
    st.markdown(f"<div style='font-size:4.5rem;font-weight:700;line-height:1.1;text-align:center;"
                f"letter-spacing:0.1em'>{number}</div>", unsafe_allow_html=True)
    st.markdown(ui.t("numbers.reads", number=number, count=len(digits)))
    ui.show_chart(digit_bars(probabilities), ui.t("numbers.chart_description", count=len(digits)))
    return number


def lesson(p: ui.Page, source: str, columns: tuple) -> None:
    """The number view in the page's three columns: the input; the boxes and what the network sees;
    the number read. The network chosen (``readers.reading_model``, the one choice the page offers)
    is asked first: it also judges where a number of touching digits is cut."""
    draw_col, see_col, read_col = columns
    with read_col:
        trained, name = readers.reading_model(p)
    read = readers.batch_reader(trained, name)
    with draw_col:
        image, digits = drawn_number(p, read) if source == "draw" else photo_number(p, source, name, read)
    with see_col:
        st.markdown("##### " + ui.t("draw.sees_title"))
        if not digits:
            # no digits: nothing written yet, or (a picture) nothing stood out from the paper
            st.info(ui.t("numbers.empty" if image is None else "numbers.none_found"))
        else:
            st.image(overlay(image, digits), caption=ui.t("numbers.boxes_caption", count=len(digits)),
                     alt=ui.t("numbers.boxes_alt", count=len(digits)))
            st.image(strip(digits), clamp=True, caption=ui.t("numbers.strip_caption"), alt=ui.t("numbers.strip_alt"))
    with read_col:
        if not digits:
            st.caption(ui.t("numbers.reads_empty"))
            return
        show_number(digits, np.stack([readers.probabilities(trained, name, d.image) for d in digits]))
    st.caption(ui.t("numbers.keep_one"))
