"""Lesson 7's chart and pictures: each network's accuracy on each set, and digits enlarged with crisp pixels."""

from __future__ import annotations

import io

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from app.a11y import digit_alt
from app.i18n import t
from lessons import canvas, handwriting

SHOWN_MISREAD = 24
MISREAD_PX = 84


def accuracy_chart(table: pd.DataFrame) -> alt.Chart:
    """Accuracy of each network on each set (columns network, set, accuracy), bars side by side per network."""
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("network:N", title=None, sort=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
            xOffset=alt.XOffset("set:N", sort=None),
            y=alt.Y("accuracy:Q", title=t("handwriting.axis_accuracy"), scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%", titleAngle=0, titleAlign="left", titleX=-30, titleY=-12)),
            color=alt.Color("set:N", title=None, sort=None,
                            legend=alt.Legend(orient="bottom", columns=2, labelLimit=300)),
            tooltip=[
                alt.Tooltip("network:N", title=t("handwriting.col.network")),
                alt.Tooltip("set:N", title=t("handwriting.col.set")),
                alt.Tooltip("accuracy:Q", title=t("handwriting.axis_accuracy"), format=".1%"),
            ],
        )
        .properties(height=260)
    )


def accuracy_tables(sets: dict[str, dict[str, float]], networks: dict[str, str], network_title: str,
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``sets`` (set name -> network -> accuracy) as the chart's long table (network, set, accuracy) and
    the page's wide one (networks down, sets across, as percentages); ``networks``: name -> shown name."""
    long = pd.DataFrame([{"network": shown, "set": label, "accuracy": scores[name]}
                         for name, shown in networks.items() for label, scores in sets.items()])
    wide = long.pivot(index="network", columns="set", values="accuracy")
    wide = wide.reindex(index=list(networks.values()), columns=list(sets))
    wide.index.name, wide.columns.name = network_title, None
    return long, wide.map(lambda a: f"{a:.1%}")


def tiled(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """Images (n, h, w) in [0, 1] tiled left to right in rows of ``columns``, ``gap`` pixels apart."""
    n, h, w = images.shape
    rows = -(-n // columns)
    picture = np.zeros((rows * (h + gap) - gap, columns * (w + gap) - gap), dtype=np.float32)
    for k, image in enumerate(images):
        r, c = divmod(k, columns)
        picture[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = image
    return picture


def enlarged(image: np.ndarray, zoom: int) -> bytes:
    """A [0, 1] picture with each pixel a crisp ``zoom``×``zoom`` square, as PNG bytes.

    st.image turns an array into a JPEG on every run; the fixed pictures are encoded once (cached)
    and passed as PNG, which it sends as they are."""
    pixels = (np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(np.repeat(np.repeat(pixels, zoom, axis=0), zoom, axis=1)).save(out, format="PNG")
    return out.getvalue()


def misread_pictures(images: np.ndarray, truth: np.ndarray, reading: handwriting.HandwritingReport) -> None:
    """How many were misread, then the misread digits, most confident mistakes first, each captioned."""
    order = reading.misread[:SHOWN_MISREAD]
    st.caption(t("handwriting.misread_count", wrong=f"{len(reading.misread):,}", total=f"{len(truth):,}"))
    if not len(order):
        st.success(t("handwriting.no_misread"))
        return
    st.image([canvas.fit_for_display(images[i], MISREAD_PX) for i in order], clamp=True, width=MISREAD_PX,
             caption=[t("handwriting.misread_caption", read=int(reading.predictions[i]), truth=int(truth[i]),
                           percent=f"{reading.confidence[i]:.0%}") for i in order],
             alt=[digit_alt(int(truth[i]), int(reading.predictions[i])) for i in order])
