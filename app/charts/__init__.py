"""Charts more than one page draws: altair charts at the projector's size, and the shared loss contour.
Each topic's own Vega-Lite specs live beside it in ``app/charts/<topic>.py``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.display import large_type, projector_config
from app.i18n import t
from app.vega import arrow


def projector(chart: Any) -> Any:
    """``chart`` with large axis, legend and title fonts; the chart's own config is kept otherwise."""
    copy = chart.copy(deep=False)
    copy.config = projector_config(chart.config.to_dict() if hasattr(chart.config, "to_dict") else {})
    return copy


def show_chart(chart: Any) -> None:
    """Draw an altair chart at the container's width, in large type when the projector asks for it."""
    st.altair_chart(projector(chart) if large_type() else chart, width="stretch")


# The loss surface's heat map is the same for a given data set and box: its rows (48×48 cells) go to
# the browser as Arrow bytes made once, so replaying a descent (every Play frame) only re-sends them.
@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def _surface_arrow(points: Any, box: Any) -> bytes:
    from lessons import regression

    return arrow(regression.loss_surface_frame(points, box, steps=48))


def _quantitative(field: str, **extra: Any) -> dict[str, Any]:
    """A Vega-Lite channel (or tooltip entry) of a number column."""
    return {"field": field, "type": "quantitative", **extra}


def loss_contour_chart(
    points: Any, path: Any, best: tuple[float, float] | None, box: Any, *, slope: str = "w",
    loss: str = "loss", now: tuple[float, float] | None = None, height: int = 360,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The regression loss over (b, slope) as banded colours, the descent path on it, the
    closed-form minimum as a diamond and, if given, the replayed step ``now`` as a dot.

    ``path`` has columns iteration, b, m, error (``lessons.regression.path_frame``); ``slope``
    and ``loss`` name the axes as the page's lesson does (w and loss, or the course's m and error).
    Returns ``(spec, data)`` for ``ui.show_vega``: a Vega-Lite dict and its named datasets
    (surface, path, and now and best when given).
    """
    box = tuple((float(lo), float(hi)) for lo, hi in box)
    at_b = {"x": _quantitative("b"), "y": _quantitative("m")}
    heat = {
        "data": {"name": "surface"},
        "mark": {"type": "rect"},
        "encoding": {
            "x": _quantitative("b0", title="b", scale={"domain": list(box[0]), "nice": False}), "x2": {"field": "b1"},
            "y": _quantitative("w0", title=slope, scale={"domain": list(box[1]), "nice": False}), "y2": {"field": "w1"},
            "color": _quantitative("log10_excess", title=t("app.chart.log_excess", loss=loss), legend={"orient": "right"},
                                   scale={"type": "quantize", "scheme": {"name": "viridis", "count": 10}, "nice": True}),
            "tooltip": [_quantitative("b", format=".5g"), _quantitative("w", title=slope, format=".5g"),
                        _quantitative("loss", title=loss, format=".5g")],
        },
    }
    track = {"data": {"name": "path"}, "mark": {"type": "line", "color": "white", "strokeWidth": 2, "clip": True},
             "encoding": {**at_b, "order": _quantitative("iteration")}}
    steps = {"data": {"name": "path"}, "mark": {"type": "circle", "color": "white", "size": 16, "clip": True},
             "encoding": {**at_b, "tooltip": [
                 _quantitative("iteration", title=t("app.chart.iteration")), _quantitative("b", format=".6g"),
                 _quantitative("m", title=slope, format=".6g"), _quantitative("error", title=loss, format=".6g")]}}
    layers = [heat, track, steps]
    data: dict[str, Any] = {"surface": _surface_arrow(points, box), "path": path}
    if now is not None:
        layers.append({"data": {"name": "now"}, "encoding": at_b, "mark": {
            "type": "point", "shape": "circle", "size": 160, "color": "#d9480f", "filled": True, "stroke": "white", "clip": True}})
        data["now"] = {"b": [float(now[0])], "m": [float(now[1])]}
    if best is not None:
        layers.append({"data": {"name": "best"}, "mark": {
            "type": "point", "shape": "diamond", "size": 220, "filled": True, "color": "#f03e3e", "stroke": "white", "strokeWidth": 1.5},
            "encoding": {**at_b, "tooltip": [
                {"field": "what", "type": "nominal", "title": t("app.chart.marker")}, _quantitative("b", format=".6g"),
                _quantitative("m", title=slope, format=".6g")]}})
        data["best"] = {"b": [float(best[0])], "m": [float(best[1])], "what": [t("regression.line_ls")]}
    return {"height": height, "layer": layers}, data
