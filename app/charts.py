"""Charts more than one page draws, and the projector's large type for every chart and text."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.i18n import t

LARGE_KEY = "large"  # session state and URL parameter of the projector's large type (1 = on)
# Font sizes (px) of chart parts in large type; Vega-Lite's defaults are 10-11 px, fine on a
# laptop and unreadable from the back of a classroom.
LARGE_FONTS = {"label": 17, "title": 19, "legend_label": 16, "legend_title": 18, "heading": 22}
# Text in large type: Streamlit sizes its text in rem, so one root size scales it all.
LARGE_CSS = "<style>html { font-size: 21px; } [data-testid='stSidebar'] { font-size: 18px; }</style>"


def large_type() -> bool:
    """Whether the viewer asked for the projector's large type (sidebar toggle or ``?large=1``)."""
    if LARGE_KEY not in st.session_state:
        return st.query_params.get(LARGE_KEY) == "1"
    return bool(st.session_state[LARGE_KEY])


def large_type_switch() -> None:
    """The sidebar's projector toggle; while on, the page's text is larger (charts: ``show_chart``)."""
    if LARGE_KEY not in st.session_state:
        st.session_state[LARGE_KEY] = large_type()
    st.sidebar.toggle(t("app.large_type"), key=LARGE_KEY, help=t("app.large_type_help"))
    if st.session_state[LARGE_KEY]:
        st.html(LARGE_CSS)


def projector_config(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Vega-Lite ``config`` with the projector's large axis, legend and title fonts merged in."""
    big = {
        "axis": {"labelFontSize": LARGE_FONTS["label"], "titleFontSize": LARGE_FONTS["title"]},
        "legend": {"labelFontSize": LARGE_FONTS["legend_label"], "titleFontSize": LARGE_FONTS["legend_title"]},
        "header": {"labelFontSize": LARGE_FONTS["label"], "titleFontSize": LARGE_FONTS["title"]},
        "title": {"fontSize": LARGE_FONTS["heading"]},
        "text": {"fontSize": LARGE_FONTS["label"]},
    }
    merged = dict(config or {})
    for part, sizes in big.items():
        merged[part] = {**merged.get(part, {}), **sizes}
    return merged


def projector(chart: Any) -> Any:
    """``chart`` with large axis, legend and title fonts; the chart's own config is kept otherwise."""
    copy = chart.copy(deep=False)
    copy.config = projector_config(chart.config.to_dict() if hasattr(chart.config, "to_dict") else {})
    return copy


_UNCHECKED: dict[type, type] = {}


def unchecked(chart: Any) -> Any:
    """``chart`` (a copy) that Streamlit serialises without re-validating it.

    Altair checks the whole spec against the Vega-Lite JSON schema on every ``to_dict``: most of a
    chart's cost on a rerun. Pages pass only the fixed shapes of chart their tests check against
    the schema (``test_every_chart_is_valid_vega_lite`` and its kin in the page tests).
    """
    kind = type(chart)
    if kind not in _UNCHECKED:
        def to_dict(self, validate: bool = True, **kwargs):
            return kind.to_dict(self, validate=False, **kwargs)
        _UNCHECKED[kind] = type(f"Unchecked{kind.__name__}", (kind,), {"to_dict": to_dict})
    copy = chart.copy(deep=False)
    object.__setattr__(copy, "__class__", _UNCHECKED[kind])  # altair's own __setattr__ stores spec fields
    return copy


def show_chart(chart: Any) -> None:
    """Draw an altair chart at the container's width, in large type when the projector asks for it."""
    st.altair_chart(projector(chart) if large_type() else chart, width="stretch")


def loss_contour_chart(
    points: Any, path: Any, best: tuple[float, float] | None, box: Any, *, slope: str = "w",
    loss: str = "loss", now: tuple[float, float] | None = None, height: int = 360,
) -> Any:
    """The regression loss over (b, slope) as banded colours, the descent path on it, the
    closed-form minimum as a diamond and, if given, the replayed step ``now`` as a dot.

    ``path`` has columns iteration, b, m, error (``lessons.regression.path_frame``); ``slope``
    and ``loss`` name the axes as the page's lesson does (w and loss, or the course's m and error).
    """
    import altair as alt
    import pandas as pd

    from lessons import regression

    # Channels as objects, never "b:Q" strings: altair turns each string into a channel by hashing
    # its whole schema, which was most of this chart's cost.
    surface = regression.loss_surface_frame(points, box, steps=48)
    heat = alt.Chart(surface).mark_rect().encode(
        x=alt.X("b0:Q", title="b", scale=alt.Scale(domain=list(box[0]), nice=False)), x2=alt.X2("b1:Q"),
        y=alt.Y("w0:Q", title=slope, scale=alt.Scale(domain=list(box[1]), nice=False)), y2=alt.Y2("w1:Q"),
        color=alt.Color("log10_excess:Q", title=t("app.chart.log_excess", loss=loss),
                        scale=alt.Scale(type="quantize", scheme=alt.SchemeParams("viridis", count=10), nice=True),
                        legend=alt.Legend(orient="right")),
        tooltip=[alt.Tooltip("b:Q", format=".5g"), alt.Tooltip("w:Q", title=slope, format=".5g"),
                 alt.Tooltip("loss:Q", title=loss, format=".5g")],
    )
    track = alt.Chart(path).mark_line(color="white", strokeWidth=2, clip=True).encode(
        x=alt.X("b:Q"), y=alt.Y("m:Q"), order=alt.Order("iteration:Q"))
    steps = alt.Chart(path).mark_circle(color="white", size=16, clip=True).encode(
        x=alt.X("b:Q"), y=alt.Y("m:Q"),
        tooltip=[alt.Tooltip("iteration:Q", title=t("app.chart.iteration")), alt.Tooltip("b:Q", format=".6g"), alt.Tooltip("m:Q", title=slope, format=".6g"),
                 alt.Tooltip("error:Q", title=loss, format=".6g")],
    )
    layers = [heat, track, steps]
    if now is not None:
        layers.append(alt.Chart(pd.DataFrame({"b": [now[0]], "m": [now[1]]})).mark_point(
            shape="circle", size=160, color="#d9480f", filled=True, stroke="white", clip=True).encode(x=alt.X("b:Q"), y=alt.Y("m:Q")))
    if best is not None:
        star = pd.DataFrame({"b": [best[0]], "m": [best[1]], "what": [t("regression.line_ls")]})
        layers.append(alt.Chart(star).mark_point(shape="diamond", size=220, filled=True, color="#f03e3e",
                                                 stroke="white", strokeWidth=1.5).encode(
            x=alt.X("b:Q"), y=alt.Y("m:Q"),
            tooltip=[alt.Tooltip("what:N", title=t("app.chart.marker")), alt.Tooltip("b:Q", format=".6g"), alt.Tooltip("m:Q", title=slope, format=".6g")]))
    return alt.layer(*layers).properties(height=height)
