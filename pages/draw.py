"""Lesson 6: draw a digit and watch the network read it — after preparing it the way MNIST was made."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app import ui
from lessons import canvas, mlp, mnist

PAGE = "draw"
CANVAS_PX = 280  # 10 canvas pixels per MNIST pixel
PREVIEW_PX = 280  # the 28×28 image shown at 10× with crisp pixels
STEP_PX = 140  # each stage of the preparation, in the "how" expander
GENERATION = f"{PAGE}.__canvas_generation"  # bumping it gives the canvas a new key: an empty canvas

SETTINGS = {"stroke": ui.Setting(24, 4, 50)}  # pen width in canvas pixels
PRESETS = [
    ui.Preset("draw.try_slant", {"stroke": 24}),
    ui.Preset("draw.try_small", {"stroke": 24}),
    ui.Preset("draw.try_thin", {"stroke": 5}),
    ui.Preset("draw.try_thick", {"stroke": 50}),
]


def clear_canvas() -> None:
    """The clear button: the canvas gets a new key, so the browser mounts a fresh, empty one."""
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def the_model() -> Any:
    """This student's model from the training page, else the class's course-recipe model (``mlp.recipe_for``).

    The course-recipe model is trained once per server on first need (a progress bar shows
    it) and then shared by every student.
    """
    own = st.session_state.get(ui.SESSION_MODEL)
    if own is not None:
        st.caption("🧠 " + ui.t("draw.model_own", accuracy=f"{own.accuracy:.1%}"))
        return own
    bar = st.progress(0.0, text=ui.t("draw.training", percent=0))

    def on_progress(fraction: float, _history: pd.DataFrame) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=ui.t("draw.training", percent=round(100 * fraction)))

    trained = ui.trained_model(mlp.recipe_for(ui.mnist_data()), on_progress=on_progress)
    bar.empty()
    recipe = trained.config
    st.caption(
        "🧠 "
        + ui.t(
            "draw.model_course",
            batch=recipe.batch_size,
            epochs=recipe.epochs,
            accuracy=f"{trained.accuracy:.1%}",
            seconds=f"{trained.seconds:.1f}",
        )
    )
    return trained


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
        .properties(height=260)
    )


def show_reading(probabilities: np.ndarray) -> None:
    """The predicted digit, large; how sure the network is; the runner-up when it is unsure."""
    reading = canvas.read_probabilities(probabilities)
    st.markdown(
        f"<div style='font-size:7rem;font-weight:700;line-height:1;text-align:center'>{reading.digit}</div>",
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
    """The four stages from the drawing to the network's input, side by side."""
    columns = st.columns(4)
    stages = [
        (steps.ink, "draw.step_ink"),
        (steps.cropped, "draw.step_cropped"),
        (steps.scaled, "draw.step_scaled"),
        (steps.placed, "draw.step_placed"),
    ]
    for column, (image, key) in zip(columns, stages):
        height, width = image.shape
        column.image(canvas.fit_for_display(image, STEP_PX), clamp=True, width=STEP_PX)
        column.caption(ui.t(key, height=height, width=width))


def lesson(p: ui.Page) -> None:
    """The canvas, what the network sees of the drawing, what it reads, and how the drawing was prepared."""
    trained = the_model()
    if trained.source == mnist.FALLBACK_SOURCE:
        st.warning(ui.t("draw.fallback"))

    draw_col, see_col, read_col = st.columns([1.3, 1.0, 1.3], gap="large")
    with draw_col:
        st.subheader(ui.t("draw.canvas_title"))
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
            key=p.key(f"canvas{st.session_state.get(GENERATION, 0)}"),
        )
        st.button(ui.t("draw.clear"), key=p.key("__clear"), icon="🧽", on_click=clear_canvas)

    steps = None if drawing.image_data is None else canvas.preprocessing_steps(drawing.image_data)
    with see_col:
        st.subheader(ui.t("draw.sees_title"))
        if steps is None:
            st.info(ui.t("draw.empty"))
        else:
            st.image(canvas.fit_for_display(steps.placed, PREVIEW_PX), clamp=True, width=PREVIEW_PX)
            st.caption(ui.t("draw.sees_caption"))
    with read_col:
        st.subheader(ui.t("draw.reads_title"))
        if steps is None:
            st.caption(ui.t("draw.reads_empty"))
        else:
            probabilities = mlp.predict_proba(trained.model, steps.placed)[0]
            show_reading(probabilities)
            ui.show_chart(probability_chart(probabilities))

    with st.expander(ui.t("draw.how_title"), expanded=steps is not None):
        st.markdown(ui.t("draw.how"))
        if steps is not None:
            show_steps(steps)
    st.markdown(ui.t("draw.limits"))


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        lesson(p)
