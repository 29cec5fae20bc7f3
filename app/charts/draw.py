"""The draw page's chart: the network's probability for each digit, its answer highlighted."""

from __future__ import annotations

import altair as alt
import numpy as np
import streamlit as st

from app.i18n import t
from lessons import canvas

STEP_PX = 120  # each stage of the preparation, in the "how" section

ANSWER_COLOUR, OTHER_COLOUR = "#d9480f", "#adb5bd"


def probability_chart(probabilities: np.ndarray) -> alt.Chart:
    """Bars for the digits 0–9, the network's answer highlighted, with tooltips."""
    table = canvas.probability_table(probabilities)
    answer, other = t("draw.legend_answer"), t("draw.legend_other")
    table["label"] = np.where(table["chosen"], answer, other)
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("digit:O", title=t("draw.axis_digit"), axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "probability:Q",
                title=t("draw.axis_probability"),
                scale=alt.Scale(domain=[0, 1]),
                # a horizontal title above the axis: rotated Chinese characters are hard to read
                axis=alt.Axis(format="%", titleAngle=0, titleAlign="left", titleX=-30, titleY=-12),
            ),
            color=alt.Color(
                "label:N",
                title=None,
                scale=alt.Scale(domain=[answer, other], range=[ANSWER_COLOUR, OTHER_COLOUR]),
                legend=None,  # the highlighted bar is the big digit beside it
            ),
            tooltip=[
                alt.Tooltip("digit:O", title=t("draw.axis_digit")),
                alt.Tooltip("probability:Q", title=t("draw.axis_probability"), format=".1%"),
                alt.Tooltip("label:N", title=" "),
            ],
        )
        .properties(height=220)
    )


def show_steps(steps: canvas.Steps) -> None:
    """Every stage from the drawing to the network's input, side by side (three to a row on a phone)."""
    stages = steps.stages()
    for row in (stages[:3], stages[3:]):
        for column, (name, image) in zip(st.columns(3), row):
            said = t(f"draw.step_{name}", height=image.shape[0], width=image.shape[1])
            column.image(canvas.fit_for_display(image, STEP_PX), clamp=True, width=STEP_PX,
                         alt=t("access.draw_step", step=said))
            column.caption(said)
