"""Lesson 6: draw a digit (or photograph one on paper) and watch a network read it — after preparing it
the way MNIST was made. The student chooses which network reads: the course recipe, the best preset,
the robust one (``mlp.DRAW_DEFAULT``) or their own from 5c; a model that diverged or reads no better
than chance is never used silently (issue 12.5, issue 13 item 1)."""

from __future__ import annotations

import hashlib
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app import board, ui
from app import mnist_widgets as mw
from lessons import canvas, mlp, mnist

PAGE = "draw"
CANVAS_PX = 280  # 10 canvas pixels per MNIST pixel
PREVIEW_PX = 252  # the 28×28 image shown at 9× with crisp pixels
STEP_PX = 120  # each stage of the preparation, in the "how" section
GENERATION = f"{PAGE}.__canvas_generation"  # bumping it gives the canvas a new key: an empty canvas
# Digits this student drew and labelled, for lesson 7 when the development set is absent
# (read by pages/handwriting.py under the same key): a list of (28×28 float32, label, digest).
KEPT_KEY = "handwriting.kept"
KEPT_MAX = 200
OWN = "own"  # "your own model from 5c"
MODELS = (*mlp.PRESETS, OWN)
FALLBACK_MODEL = "course"  # what reads when the chosen model cannot
CHANCE = 0.2  # test accuracy at or below this reads no better than guessing (chance is 0.1)
SOURCES = ("draw", "photo", "camera")
PHOTO_MB = canvas.MAX_FILE_BYTES // 2**20
PHOTO_CACHE = 32  # photos whose preparation is kept (by their bytes) for the class

SETTINGS = {
    "stroke": ui.Setting(24, 4, 50),  # pen width in canvas pixels
    "model": ui.Setting(mlp.DRAW_DEFAULT, options=MODELS),
    "source": ui.Setting("draw", options=SOURCES),
}
PRESETS = [
    ui.Preset("draw.try_thin", {"stroke": 5, "source": "draw"}),
    ui.Preset("draw.try_slant", {"stroke": 24, "source": "draw"}),
    ui.Preset("draw.try_models", {"stroke": 24, "model": "course", "source": "draw"}),
    ui.Preset("draw.try_small", {"stroke": 24, "source": "draw"}),
    ui.Preset("draw.try_thick", {"stroke": 50, "source": "draw"}),
    ui.Preset("draw.try_photo", {"source": "photo"}),
]
MODEL_NAMES = {
    "course": "draw.model.course",
    "best": "draw.model.best",
    "robust": "draw.model.robust",
    OWN: "draw.model.own",
}
SOURCE_NAMES = {"draw": "draw.source.draw", "photo": "draw.source.photo", "camera": "draw.source.camera"}
STEP_NAMES = {
    "ink": "draw.step_ink",
    "cleaned": "draw.step_cleaned",
    "cropped": "draw.step_cropped",
    "thickened": "draw.step_thickened",
    "scaled": "draw.step_scaled",
    "placed": "draw.step_placed",
}
MODEL_PROBLEMS = {
    "none": "draw.model_problem.none",
    "diverged": "draw.model_problem.diverged",
    "chance": "draw.model_problem.chance",
}
IMAGE_ERRORS = {
    "too_large": "draw.err.too_large",
    "not_an_image": "draw.err.not_an_image",
    "bomb": "draw.err.bomb",
    "empty": "draw.err.empty",
}


def clear_canvas() -> None:
    """The clear button: the canvas gets a new key, so the browser mounts a fresh, empty one."""
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


# ------------------------------------------------------------------------------ which model reads


def problem_with(trained: Any) -> str | None:
    """Why a model must not read: ``"diverged"`` (a non-finite loss or accuracy), ``"chance"`` (its test
    accuracy no better than guessing), or None when it is fit to read."""
    accuracy = getattr(trained, "accuracy", None)
    history = getattr(trained, "history", None)
    losses = history["loss"].to_numpy(dtype=np.float64) if isinstance(history, pd.DataFrame) and "loss" in history else []
    if accuracy is None or not np.isfinite(accuracy) or not np.isfinite(losses).all():
        return "diverged"
    if accuracy <= CHANCE:
        return "chance"
    return None


def preset_model(name: str) -> Any:
    """The class's model for preset ``name``: trained once per server on first need, with a progress bar."""
    return ui.trained_with_bar(mlp.preset_for(name, ui.mnist_data()), "draw.training", model=ui.t(MODEL_NAMES[name]))


def own_model() -> tuple[Any, str | None]:
    """This student's model from 5c, or None with the reason: ``none`` (not trained yet), ``diverged``, ``chance``."""
    own = st.session_state.get(ui.SESSION_MODEL)
    if own is None:
        status = st.session_state.get(mw.SESSION_MODEL_STATUS) or {}
        return None, "diverged" if status.get("diverged") else "none"
    problem = problem_with(own)
    return (None, problem) if problem else (own, None)


def reading_model(choice: str) -> tuple[Any, str]:
    """The model that reads, and its name (a preset or ``OWN``), saying so when it is not the one chosen."""
    if choice == OWN:
        trained, problem = own_model()
    else:
        trained = preset_model(choice)
        problem = problem_with(trained)
    if problem is None:
        describe(trained, choice)
        return trained, choice
    fallback = ui.t(MODEL_NAMES[FALLBACK_MODEL])
    (st.info if problem == "none" else st.warning)(ui.t(MODEL_PROBLEMS[problem], model=fallback))
    trained = preset_model(FALLBACK_MODEL)
    describe(trained, FALLBACK_MODEL)
    return trained, FALLBACK_MODEL


def describe(trained: Any, name: str) -> None:
    """One caption saying which model is reading, and how well it did on the MNIST test set."""
    if name == OWN:
        st.caption("🧠 " + ui.t("draw.model_own", accuracy=f"{trained.accuracy:.1%}"))
        return
    st.caption("🧠 " + ui.t("draw.model_reading", model=ui.t(MODEL_NAMES[name]),
                            accuracy=f"{trained.accuracy:.1%}", seconds=f"{trained.seconds:.0f}"))


def probabilities(trained: Any, name: str, image: np.ndarray) -> np.ndarray:
    """The digit probabilities of ``image``; never NaN: a model whose outputs are not finite numbers is
    named and the course model reads instead (a 5c model may blow up on just this drawing)."""
    result = mlp.predict_proba(trained.model, image)[0]
    if np.isfinite(result).all() or name == FALLBACK_MODEL:
        return result
    st.warning(ui.t("draw.model_problem.nan", model=ui.t(MODEL_NAMES[FALLBACK_MODEL])))
    return mlp.predict_proba(preset_model(FALLBACK_MODEL).model, image)[0]


# ------------------------------------------------------------------------------ pictures and charts


def probability_chart(probabilities: np.ndarray) -> alt.Chart:
    """Bars for the digits 0–9, the network's answer highlighted, with tooltips."""
    table = canvas.probability_table(probabilities)
    table["label"] = np.where(table["chosen"], ui.t("draw.legend_answer"), ui.t("draw.legend_other"))
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("digit:O", title=ui.t("draw.axis_digit"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "probability:Q",
                title=ui.t("draw.axis_probability"),
                scale=alt.Scale(domain=[0, 1]),
                # a horizontal title above the axis: rotated Chinese characters are hard to read
                axis=alt.Axis(format="%", titleAngle=0, titleAlign="left", titleX=-30, titleY=-12),
            ),
            color=alt.Color(
                "label:N",
                title=None,
                scale=alt.Scale(
                    domain=[ui.t("draw.legend_answer"), ui.t("draw.legend_other")], range=["#d9480f", "#adb5bd"]
                ),
                legend=None,  # the highlighted bar is the big digit beside it
            ),
            tooltip=[
                alt.Tooltip("digit:O", title=ui.t("draw.axis_digit")),
                alt.Tooltip("probability:Q", title=ui.t("draw.axis_probability"), format=".1%"),
                alt.Tooltip("label:N", title=" "),
            ],
        )
        .properties(height=220)
    )


def show_reading(reading: canvas.Reading) -> None:
    """The predicted digit, large; how sure the network is; the runner-up when it is unsure."""
    st.markdown(
        f"<div style='font-size:6rem;font-weight:700;line-height:1;text-align:center'>{reading.digit}</div>",
        unsafe_allow_html=True,
    )
    st.markdown(ui.t("draw.reads", digit=reading.digit, percent=f"{reading.probability:.0%}"))
    if reading.unsure:
        st.warning(
            ui.t(
                "draw.unsure",
                digit=reading.digit,
                percent=f"{reading.probability:.0%}",
                runner_up=reading.runner_up,
                runner_percent=f"{reading.runner_up_probability:.0%}",
            )
        )


def show_steps(steps: canvas.Steps) -> None:
    """Every stage from the drawing to the network's input, side by side (three to a row on a phone)."""
    stages = steps.stages()
    for row in (stages[:3], stages[3:]):
        for column, (name, image) in zip(st.columns(3), row):
            height, width = image.shape
            column.image(canvas.fit_for_display(image, STEP_PX), clamp=True, width=STEP_PX)
            column.caption(ui.t(STEP_NAMES[name], height=height, width=width))


# ------------------------------------------------------------------------------ input


@st.cache_data(max_entries=PHOTO_CACHE, ttl=3600, show_spinner=False)
def photo_steps(blob: bytes) -> tuple[str | None, canvas.Steps | None]:
    """A photo's preparation (or its problem's code), computed once per picture for the whole class."""
    try:
        return None, canvas.preprocessing_steps(canvas.read_image_file(blob))
    except canvas.ImageError as error:
        return error.code, None


def drawn_steps(p: ui.Page) -> canvas.Steps | None:
    """The canvas, its pen and its clear button; the drawing's preparation, None while it is empty."""
    pen = SETTINGS["stroke"]
    st.slider(ui.t("draw.stroke"), min_value=pen.lo, max_value=pen.hi, step=1, key=p.key("stroke"))
    drawing = st_canvas(
        stroke_width=p["stroke"],
        stroke_color="#000000",
        background_color="#ffffff",
        height=CANVAS_PX,
        width=CANVAS_PX,
        drawing_mode="freedraw",
        return_image_data=True,
        # not p.key: a component's key may not hold "__", and its value is no setting to re-send
        key=f"{PAGE}.canvas{st.session_state.get(GENERATION, 0)}",
    )
    st.button(ui.t("draw.clear"), key=p.key("__clear"), icon="🧽", on_click=clear_canvas)
    return None if drawing.image_data is None else canvas.preprocessing_steps(drawing.image_data)


def photo_input(p: ui.Page, source: str) -> canvas.Steps | None:
    """A photo of a digit on paper, uploaded or taken with the camera, prepared like a drawing."""
    if source == "camera":
        shot = st.camera_input(ui.t("draw.camera"), key=p.key("__camera"), help=ui.t("draw.photo_help"))
    else:
        shot = st.file_uploader(ui.t("draw.upload"), type=["png", "jpg", "jpeg"], key=p.key("__upload"),
                                max_upload_size=PHOTO_MB, help=ui.t("draw.photo_help"))
    if shot is None:
        st.caption(ui.t("draw.photo_tip"))
        return None
    problem, steps = photo_steps(shot.getvalue())
    if problem is not None:
        st.error(ui.t(IMAGE_ERRORS[problem], mb=PHOTO_MB))
    elif steps is None:
        st.warning(ui.t("draw.photo_blank"))
    return steps


def keep_for_lesson_7(image: np.ndarray, suggested: int) -> None:
    """"This is a 7: keep it for lesson 7": the student confirms the label, and page 7 can test the models on it."""
    kept = st.session_state.setdefault(KEPT_KEY, [])
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    with st.form(f"{PAGE}.__keep_form", border=True):
        # the suggestion in the key: a new reading starts from its own digit, not the last one confirmed
        label = st.segmented_control(ui.t("draw.keep_label"), list(range(10)), default=suggested,
                                     key=f"{PAGE}.__keep_label{suggested}")
        pressed = st.form_submit_button(ui.t("draw.keep"), icon="📌")
    if not pressed:
        st.caption(ui.t("draw.kept_count", count=len(kept)))
        return
    if label is None:
        st.warning(ui.t("draw.keep_no_label"))
        return
    if any(entry[2] == digest for entry in kept):
        st.info(ui.t("draw.kept_already"))
        return
    kept.append((np.asarray(image, dtype=np.float32), int(label), digest))
    del kept[:-KEPT_MAX]
    st.success(ui.t("draw.kept", label=label, count=len(kept)))


# ------------------------------------------------------------------------------ the page


@st.fragment
def lesson(p: ui.Page) -> None:
    """The input, what the network sees of it, what it reads, and how the drawing was prepared:
    one fragment, so a stroke reruns only this section."""
    draw_col, see_col, read_col = st.columns([1.25, 1.0, 1.35], gap="medium")
    with draw_col:
        st.segmented_control(ui.t("draw.source_label"), SOURCES, format_func={s: ui.t(k) for s, k in SOURCE_NAMES.items()}.get,
                             key=p.key("source"), label_visibility="collapsed", required=True)
        source = p["source"]
        steps = drawn_steps(p) if source == "draw" else photo_input(p, source)

    with see_col:
        st.markdown("##### " + ui.t("draw.sees_title"))
        if steps is None:
            st.info(ui.t("draw.empty" if source == "draw" else "draw.empty_photo"))
        else:
            st.image(canvas.fit_for_display(steps.placed, PREVIEW_PX), clamp=True, width=PREVIEW_PX)
            st.caption(ui.t("draw.sees_caption"))
    with read_col:
        st.radio(ui.t("draw.model_choice"), MODELS, format_func={m: ui.t(k) for m, k in MODEL_NAMES.items()}.get, key=p.key("model"),
                 horizontal=True)
        trained, name = reading_model(p["model"])
        if trained.source == mnist.FALLBACK_SOURCE:
            st.warning(ui.t("draw.fallback"))
        if steps is None:
            st.caption(ui.t("draw.reads_empty"))
        else:
            read = probabilities(trained, name, steps.placed)
            reading = canvas.read_probabilities(read)
            show_reading(reading)
            ui.show_chart(probability_chart(read))

    if steps is not None:
        keep_col, board_col = st.columns(2)
        with keep_col:
            keep_for_lesson_7(steps.placed, reading.digit)
        with board_col:
            board.add_drawing_button(PAGE, steps.placed, reading.digit)

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
