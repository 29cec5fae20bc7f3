"""Lesson 5a's chart as a plain Vega-Lite dict (``vega.show``): each digit's count in the two splits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import ui
from app.a11y import MARK_GREY
from app.i18n import t
from app.vega import arrow, channel, nominal, quantitative
from lessons import mnist
from lessons import network as nw

NOTES_PER_DIGIT = 7_000  # the notes: "every digit has 7000 images"


@st.cache_resource(show_spinner=False, max_entries=8)
def counts_chart(source: str, language: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Each digit's count in the training and test sets, stacked, with the notes' 7,000 as a dashed line:
    a Vega-Lite spec and its data (``ui.show_vega``'s arguments), once per data source and language."""
    data = ui.mnist_data()
    digit, split, count = t("mnist.data.digit"), t("mnist.data.split"), t("mnist.data.count")
    long = pd.concat(
        pd.DataFrame({"digit": np.arange(10), "split": t(f"mnist.data.split_{name}"), "count": mnist.class_counts(data, name)})
        for name in nw.SPLITS
    )
    bars = {
        "data": {"name": "counts"},
        "mark": {"type": "bar"},
        "encoding": {
            "x": channel("digit", "ordinal", title=digit, axis={"labelAngle": 0}),
            "y": quantitative("count", title=count, stack=True),
            # Training dark, test light, as the chart's description says (sorted by name, the test set
            # took the dark one).
            "color": nominal("split", title=None, legend={"orient": "top"},
                             scale={"domain": [t(f"mnist.data.split_{name}") for name in nw.SPLITS],
                                    "range": ["#d9480f", "#f59f00"]}),
            "order": nominal("split", sort="descending"),
            "tooltip": [
                channel("digit", "ordinal", title=digit),
                nominal("split", title=split),
                quantitative("count", title=count, format=","),
            ],
        },
    }
    layers, rows = [bars], {"counts": arrow(long)}
    if not data.is_fallback:  # the notes' 7,000 is about real MNIST; it would dwarf the small fallback
        # The line in a grey that shows on both themes (#555 vanished on the dark one), named in a legend
        # below the chart (its dash on the label; beside the splits' it ran off a phone): a dashed line
        # nobody has hovered explained nothing.
        layers.append({
            "data": {"name": "notes"},
            "mark": {"type": "rule", "color": MARK_GREY, "strokeWidth": 1.5},
            "encoding": {"y": quantitative("y"), "tooltip": nominal("label", title=t("mnist.data.notes_title")),
                         "strokeDash": nominal("label", title=None, scale={"range": [[6, 4]]},
                                               legend={"orient": "bottom", "symbolStrokeColor": MARK_GREY,
                                                       "symbolType": "stroke", "labelLimit": 0})},
        })
        rows["notes"] = arrow({"y": [NOTES_PER_DIGIT], "label": [t("mnist.data.notes_line")]})
    total = sum(mnist.class_counts(data, name) for name in nw.SPLITS)
    described = t("access.counts_chart", most=int(total.argmax()), most_n=f"{int(total.max()):,}",
                  least=int(total.argmin()), least_n=f"{int(total.min()):,}")
    if not data.is_fallback:
        described += " " + t("access.counts_chart_line")
    return {"layer": layers, "height": 300, "description": described}, rows
