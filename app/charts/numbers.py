"""The draw page's number view: each digit's probabilities as small bars, one panel per digit, in reading order."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from app.charts.draw import ANSWER_COLOUR, OTHER_COLOUR
from app.i18n import t

PANELS_PER_ROW = 3  # three small panels fit a phone's width


def digit_table(probabilities: np.ndarray) -> pd.DataFrame:
    """One row per (digit in the number, candidate 0–9): its probability, and whether it is the one read."""
    rows = np.asarray(probabilities, dtype=np.float64).reshape(-1, 10)
    position = np.repeat(np.arange(1, len(rows) + 1), 10)
    candidate = np.tile(np.arange(10), len(rows))
    chosen = candidate == np.repeat(rows.argmax(axis=1), 10)
    panel = [t("numbers.panel", position=p, digit=d) for p, d in zip(position, np.repeat(rows.argmax(axis=1), 10))]
    return pd.DataFrame({"panel": panel, "order": position, "digit": candidate, "probability": rows.ravel(),
                         "chosen": chosen})


def digit_bars(probabilities: np.ndarray) -> alt.Chart:
    """Small bars for each digit of the number (0–9 each), the digit read highlighted, panels in reading order."""
    table = digit_table(probabilities)
    answer, other = t("draw.legend_answer"), t("draw.legend_other")
    table["label"] = np.where(table["chosen"], answer, other)
    panels = list(dict.fromkeys(table["panel"]))
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("digit:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("probability:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%", tickCount=2)),
            color=alt.Color("label:N", scale=alt.Scale(domain=[answer, other], range=[ANSWER_COLOUR, OTHER_COLOUR]),
                            legend=None),
            tooltip=[
                alt.Tooltip("panel:N", title=t("numbers.axis_position")),
                alt.Tooltip("digit:O", title=t("draw.axis_digit")),
                alt.Tooltip("probability:Q", title=t("draw.axis_probability"), format=".1%"),
            ],
        )
        .properties(width=110, height=70)
        .facet(facet=alt.Facet("panel:N", title=None, sort=panels), columns=PANELS_PER_ROW)
    )
