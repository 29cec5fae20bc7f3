"""Lesson 6: draw a digit (or photograph one), see it prepared step by step into the network's 28×28 input,
and what the network reads. The student picks which network reads (one that diverged or hardly beats
guessing never reads silently) and labels the digit before keeping it or adding it to the class collection."""

from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app import classboard, number_reading, ui, uploads
from app.charts.draw import probability_chart, show_steps
from app.readers import probabilities, reading_model
from lessons import canvas, handwriting

PAGE = "draw"
SETTINGS = canvas.SETTINGS
PREVIEW_PX = 252  # the 28×28 image shown at 9× with crisp pixels
GENERATION = f"{PAGE}.__canvas_generation"  # bumping it gives the canvas a new key: an empty canvas
KEPT_KEY = "handwriting.kept"  # this student's labelled digits, which lesson 7 reads: [(28×28, label, digest), ...]
PHOTO_CACHE = 32  # photos whose preparation is kept (by their bytes) for the class
PRESETS = [
    ui.Preset("draw.try_thin", {"stroke": 5, "source": "draw"}),
    ui.Preset("draw.try_slant", {"stroke": 24, "source": "draw"}),
    ui.Preset("draw.try_models", {"stroke": 24, "model": "course", "source": "draw"}),
    ui.Preset("draw.try_small", {"stroke": 24, "source": "draw"}),
    ui.Preset("draw.try_thick", {"stroke": 50, "source": "draw"}),
    ui.Preset("draw.try_photo", {"source": "photo"}),
]


def clear_canvas() -> None:  # a new key for the canvas: the browser mounts a fresh, empty one
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def show_reading(reading: canvas.Reading) -> None:
    """The predicted digit, large; how sure the network is; the runner-up when it is unsure."""
    st.markdown(f"<div style='font-size:6rem;font-weight:700;line-height:1;text-align:center'>{reading.digit}</div>",
                unsafe_allow_html=True)
    st.markdown(ui.t("draw.reads", digit=reading.digit, percent=f"{reading.probability:.0%}"))
    if reading.unsure:
        st.warning(ui.t("draw.unsure", digit=reading.digit, percent=f"{reading.probability:.0%}",
                        runner_up=reading.runner_up, runner_percent=f"{reading.runner_up_probability:.0%}"))


@st.cache_data(max_entries=PHOTO_CACHE, ttl=3600, show_spinner=False)
def photo_steps(blob: bytes) -> tuple[str | None, canvas.Steps | None]:
    """A photo's preparation (or its problem's code), computed once per picture for the whole class."""
    try:
        return None, canvas.preprocessing_steps(canvas.read_image_file(blob))
    except canvas.ImageError as error:
        return error.code, None


def drawn_steps(p: ui.Page) -> canvas.Steps | None:
    """The canvas, its pen and its clear button; the drawing's preparation, None while it is empty."""
    st.slider(ui.t("draw.stroke"), min_value=SETTINGS["stroke"].lo, max_value=SETTINGS["stroke"].hi, step=1, key=p.key("stroke"))
    drawing = st_canvas(stroke_width=p["stroke"], stroke_color="#000000", background_color="#ffffff",
                        height=canvas.CANVAS_PX, width=canvas.CANVAS_PX, drawing_mode="freedraw",
                        return_image_data=True,
                        # not p.key: a component's key may not hold "__", and its value is no setting to re-send
                        key=f"{PAGE}.canvas{st.session_state.get(GENERATION, 0)}")
    st.button(ui.t("draw.clear"), key=p.key("__clear"), icon="🧽", on_click=clear_canvas)
    # The way in without drawing, named beside the canvas (a keyboard cannot draw on it).
    st.caption(ui.t("access.canvas_alternative", upload=ui.t("draw.source.photo"), camera=ui.t("draw.source.camera")))
    return None if drawing.image_data is None else canvas.preprocessing_steps(drawing.image_data)


def photo_input(p: ui.Page, source: str) -> canvas.Steps | None:
    """A photo of a digit on paper, uploaded or taken with the camera, prepared like a drawing."""
    if source == "camera":
        shot = st.camera_input(ui.t("draw.camera"), key=p.key("__camera"), help=ui.t("draw.photo_help"))
    else:
        shot = uploads.file_uploader(ui.t("draw.upload"), types=uploads.PHOTO_TYPES, key=p.key("__upload"), help=ui.t("draw.photo_help"))
    if shot is None:
        st.caption(ui.t("draw.photo_tip"))
        return None
    problem, steps = photo_steps(shot.getvalue())
    if problem is not None:
        st.error(ui.t(f"draw.err.{problem}", mb=canvas.MAX_FILE_MB))
    elif steps is None:
        st.warning(ui.t("draw.photo_blank"))
    return steps


def keep_for_lesson_7(image: np.ndarray, guess: int) -> None:
    """"Which digit is this really?": the student picks the label (no default; the network's guess is
    shown beside it), and lesson 7 can test the networks on the digit."""
    kept = st.session_state.setdefault(KEPT_KEY, [])
    with st.form(f"{PAGE}.__keep_form", border=True):
        # the drawing in the key: a new drawing starts with no label picked
        label = st.segmented_control(ui.t("draw.keep_label"), list(range(10)), default=None, help=ui.t("draw.keep_help"),
                                     key=f"{PAGE}.__keep_label{handwriting.digest(image)[:12]}")
        st.caption(ui.t("draw.keep_guess", digit=guess))
        pressed = st.form_submit_button(ui.t("draw.keep"), icon="📌")
    if not pressed:
        st.caption(ui.t("draw.kept_count", count=len(kept)))
    elif label is None:
        st.warning(ui.t("draw.keep_no_label"))
    elif handwriting.keep(kept, image, label):
        st.success(ui.t("draw.kept", label=label, count=len(kept)))
    else:
        st.info(ui.t("draw.kept_already"))


@ui.fragment
def lesson(p: ui.Page) -> None:
    """The input, what the network sees and reads, how it was prepared: one fragment, so a stroke reruns only it."""
    draw_col, see_col, read_col = st.columns([1.25, 1.0, 1.35], gap="medium")
    with draw_col:
        st.segmented_control(ui.t("draw.source_label"), canvas.SOURCES, format_func={s: ui.t(f"draw.source.{s}") for s in canvas.SOURCES}.get,
                             key=p.key("source"), label_visibility="collapsed", required=True)
        source = p["source"]
        if number_reading.number_mode(p):  # several digits: cut apart, boxed and read one by one
            return number_reading.lesson(p, source, (draw_col, see_col, read_col))
        steps = drawn_steps(p) if source == "draw" else photo_input(p, source)
    with see_col:
        st.markdown("##### " + ui.t("draw.sees_title"))
        if steps is None:
            st.info(ui.t("draw.empty" if source == "draw" else "draw.empty_photo"))
        else:
            st.image(canvas.fit_for_display(steps.placed, PREVIEW_PX), clamp=True, width=PREVIEW_PX,
                     alt=ui.t("access.draw_sees"))
            st.caption(ui.t("draw.sees_caption"))
    with read_col:
        trained, name = reading_model(p)
        if steps is None:
            st.caption(ui.t("draw.reads_empty"))
        else:
            read = probabilities(trained, name, steps.placed)
            reading = canvas.read_probabilities(read)
            show_reading(reading)
            ui.show_chart(probability_chart(read),
                          description=ui.t("access.draw_chart", digit=reading.digit, p=f"{reading.probability:.0%}"))

    if steps is not None:
        keep_col, board_col = st.columns(2)
        with keep_col:
            keep_for_lesson_7(steps.placed, reading.digit)
        with board_col:
            classboard.add_drawing_button(PAGE, steps.placed, reading.digit)

    with st.expander(ui.t("draw.how_title"), expanded=steps is not None):
        st.markdown(ui.t("draw.how"))
        if steps is not None:
            show_steps(steps)


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        lesson(p)
    st.markdown(ui.t("draw.limits"))
    st.page_link("pages/handwriting.py", label=ui.t("draw.next"), icon="🖋️")
