"""Lessons 2 and 3's charts as plain Vega-Lite dicts (``ui.show_vega``): the points with the fitted lines,
the loss surface with the descent's path, the error against the iteration, the runs compared, the noise."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from app.a11y import MARK_GREY
from app.i18n import t
from app.vega import arrow, quantitative
from lessons import regression

# Tick labels in at most 6 significant digits, trailing zeros dropped: a domain a diverged run stretched
# printed 17 ("3.0000000000000004"). The precision is explicit: without it Vega takes the tick step's,
# and 10 prints as "1e+1".
TICKS = ".6~g"
# Each line's words, colour and dash: the closed form dashed, so it stays told apart without its hue; the
# true line dotted in violet and drawn last, so it shows where a fitted line lies right on it.
LINES = {
    "true": ("regression.line_true", "#7048e8", [2, 3]),
    "gd": ("regression.line_gd", "#d9480f", [1, 0]),
    "now": ("regression.line_now", "#d9480f", [1, 0]),
    "ls": ("regression.line_ls", "#1c7ed6", [6, 4]),
}


def scatter_chart(points, lines: list[tuple[str, float, float]], x_lo: float, x_hi: float, kinds: list[str], *,
                  height: int, number_format: str, clip: bool = False) -> tuple[dict, dict]:
    """The points and the lines drawn over them across [x_lo, x_hi]. ``lines``: (kind, b, slope) of each,
    a kind of ``LINES``; ``kinds``: every kind the page may draw, in the legend's order."""
    order = [t(LINES[k][0]) for k in kinds]
    # x from the data, not from 0 (the course's data start at x = 20), with a few px to spare so the points at
    # either end are drawn whole, inside the axes
    x_axis = {"title": "x", "axis": {"format": TICKS}, "scale": {"zero": False, "padding": 8}}
    y_axis = {"title": "y", "axis": {"format": TICKS}}
    if clip:  # the axes hold the points; a line that ran away is cut at the plot's edge, not squashing them
        low, high = float(points[:, 1].min()), float(points[:, 1].max())
        pad = 0.05 * (high - low or 1.0)
        y_axis["scale"] = {"domain": [low - pad, high + pad]}
    dots = {"data": {"name": "points"}, "mark": {"type": "circle", "size": 30, "opacity": 0.6, "color": MARK_GREY},
            "encoding": {"x": quantitative("x", **x_axis), "y": quantitative("y", **y_axis),
                         "tooltip": [quantitative("x", format=number_format), quantitative("y", format=number_format)]}}
    mark = {"type": "line", "strokeWidth": 2.5, **({"clip": True} if clip else {})}
    drawn = {"data": {"name": "lines"}, "mark": mark, "encoding": {
        "x": quantitative("x"), "y": quantitative("y"),
        "color": {"field": "line", "type": "nominal", "title": None,
                  # one line's name a row: two side by side ran off a phone's chart
                  "legend": {"orient": "bottom", "columns": 1},
                  "scale": {"domain": order, "range": [LINES[k][1] for k in kinds]}},
        "strokeDash": {"field": "line", "type": "nominal", "legend": None,
                       "scale": {"domain": order, "range": [LINES[k][2] for k in kinds]}},
        "tooltip": [{"field": "line", "type": "nominal", "title": t("regression.col_line")}]}}
    labelled = [(t(LINES[kind][0]), b, slope) for kind, b, slope in lines]
    layers = [dots, drawn]
    if "true" in kinds:  # the fitted lines first, the true line over them
        true = json.dumps(t(LINES["true"][0]))
        layers = [dots, {**drawn, "transform": [{"filter": f"datum.line != {true}"}]},
                  {**drawn, "transform": [{"filter": f"datum.line == {true}"}]}]
    return {"height": height, "layer": layers}, {"points": {"x": points[:, 0], "y": points[:, 1]},
                                                     "lines": regression.line_columns(labelled, x_lo, x_hi)}


def error_chart(path: pd.DataFrame, *, at: int | None = None, height: int = 300, title: str = "regression.mse_log",
                number_format: str = ".10g") -> tuple[dict, dict]:
    """The error against the iteration on a log axis (the slow tail stays visible), with the replayed step ``at``
    marked when given. Errors of exactly 0 have no place on a log axis and are left out."""
    shown = path[path["error"] > 0]
    curve = {"data": {"name": "error"}, "mark": {"type": "line", "color": "#d9480f"}, "encoding": {
        "x": quantitative("iteration", title=t("regression.iteration")),
        "y": quantitative("error", title=t(title), scale={"type": "log"}, axis={"format": TICKS}),
        "tooltip": [quantitative("iteration", title=t("regression.iteration")),
                    quantitative("error", title=t("regression.mse"), format=number_format)]}}
    data: dict[str, Any] = {"error": {"iteration": shown["iteration"], "error": shown["error"]}}
    layers = [curve]
    if at is not None:
        layers.append({"data": {"name": "at"}, "mark": {"type": "rule", "color": MARK_GREY, "strokeDash": [4, 3]},
                       "encoding": {"x": quantitative("iteration")}})
        data["at"] = {"iteration": [at]}
    return {"height": height, "layer": layers}, data


def runs_chart(curves: pd.DataFrame) -> tuple[dict, dict]:
    """Every logged run's error against the iteration, one line per run, on a log axis."""
    shown = curves[curves["value"] > 0]
    spec = {"height": 300, "data": {"name": "runs"}, "mark": {"type": "line"}, "encoding": {
        "x": quantitative("step", title=t("regression.iteration")),
        "y": quantitative("value", title=t("regression.mse_log"), scale={"type": "log"}, axis={"format": TICKS}),
        "color": {"field": "name", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
        # a dash per run too: runs stay apart without their hue
        "strokeDash": {"field": "name", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
        "tooltip": [{"field": "name", "type": "nominal", "title": t("regression.runs.col.run")},
                    quantitative("step", title=t("regression.iteration")),
                    quantitative("value", title=t("regression.mse"), format=".6g")]}}
    names = shown["run"].map(lambda n: t("regression.runs.name", n=n))
    spec["description"] = t("access.runs_chart")
    return spec, {"runs": {"step": shown["step"], "value": shown["value"], "name": names}}


def noise_chart(noise) -> tuple[dict, dict]:
    """A histogram of the noise the points carry around the true line."""
    count = {"aggregate": "count", "type": "quantitative", "title": t("regression.count")}
    spec = {"height": 260, "data": {"name": "noise"}, "mark": {"type": "bar", "color": "#868e96"}, "encoding": {
        "x": quantitative("noise", bin={"maxbins": 30}, title="ε = y − (w·x + b)"), "y": count, "tooltip": [count]}}
    return spec, {"noise": {"noise": noise}}


# The loss surface's heat map is the same for a given data set and box: its rows (48×48 cells) go to
# the browser as Arrow bytes made once, so replaying a descent (every Play frame) only re-sends them.
@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def _surface_arrow(points: Any, box: Any) -> bytes:
    return arrow(regression.loss_surface_frame(points, box, steps=48))


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
    at_b = {"x": quantitative("b"), "y": quantitative("m")}
    heat = {
        "data": {"name": "surface"},
        "mark": {"type": "rect"},
        "encoding": {
            "x": quantitative("b0", title="b", scale={"domain": list(box[0]), "nice": False}), "x2": {"field": "b1"},
            "y": quantitative("w0", title=slope, scale={"domain": list(box[1]), "nice": False}), "y2": {"field": "w1"},
            "color": quantitative("log10_excess", title=t("app.chart.log_excess", loss=loss), legend={"orient": "right"},
                                  scale={"type": "quantize", "scheme": {"name": "viridis", "count": 10}, "nice": True}),
            "tooltip": [quantitative("b", format=".5g"), quantitative("w", title=slope, format=".5g"),
                        quantitative("loss", title=loss, format=".5g")],
        },
    }
    track = {"data": {"name": "path"}, "mark": {"type": "line", "color": "white", "strokeWidth": 2, "clip": True},
             "encoding": {**at_b, "order": quantitative("iteration")}}
    steps = {"data": {"name": "path"}, "mark": {"type": "circle", "color": "white", "size": 16, "clip": True},
             "encoding": {**at_b, "tooltip": [
                 quantitative("iteration", title=t("app.chart.iteration")), quantitative("b", format=".6g"),
                 quantitative("m", title=slope, format=".6g"), quantitative("error", title=loss, format=".6g")]}}
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
                {"field": "what", "type": "nominal", "title": t("app.chart.marker")}, quantitative("b", format=".6g"),
                quantitative("m", title=slope, format=".6g")]}})
        data["best"] = {"b": [float(best[0])], "m": [float(best[1])], "what": [t("regression.line_ls")]}
    return {"height": height, "layer": layers}, data


def fit_sentence(run: regression.Descent, verdict: regression.FitVerdict, best: tuple[float, float] | None,
                 slope: str) -> str:
    """What the descent did, in one sentence, from the figures the charts draw: after its steps, the slope
    (named ``slope``: the course's m, or w), b and the error, with the least-squares answer ``best`` (b, slope)
    beside them; or, when the rate is too large (``verdict.code`` not FIT_OK), the step from which the error
    grew and the last finite error."""
    last = verdict.last_finite
    if verdict.code != regression.FIT_OK:
        return t("access.fit_grew", lr=f"{verdict.lr:g}", step=verdict.step, last=last, error=f"{run.error[last]:.6g}")
    said = t("access.fit_done", steps=run.iterations, slope=slope, m=f"{run.m[last]:.4f}", b=f"{run.b[last]:.4f}",
             error=f"{run.error[last]:.6g}")
    if best is not None:
        said += t("access.fit_best", slope=slope, m=f"{best[1]:.4f}", b=f"{best[0]:.4f}")
    return said


def printout(run, verdict, points, best, b0: float, m0: float, iters: int) -> None:
    """The course's three printed lines for this run, what they are, and the closed form beside them."""
    last = verdict.last_finite
    b, m, start, error = float(run.b[last]), float(run.m[last]), float(run.error[0]), float(run.error[last])
    if run.scaling is None:  # the course's own error function: its printout to the last digit
        start, error = (regression.compute_error_for_line_given_points(b0, m0, points),
                        regression.compute_error_for_line_given_points(b, m, points))
    st.code(regression.transcript(b0, m0, start, last, b, m, error), language=None, wrap_lines=True)
    if last < iters:
        st.caption(t("regression.transcript_overflow", k=verdict.overflow_step, last=last))
    elif run.scaling is not None:
        st.info(t("regression.normalised_note", mean=f"{run.scaling.mean:.6g}", std=f"{run.scaling.std:.6g}"))
    else:
        st.caption(t("regression.transcript_caption"))
    if best is not None:
        best_error = regression.compute_error_for_line_given_points(best[0], best[1], points)
        st.markdown(t("regression.compare", b=f"{best[0]:.6g}", m=f"{best[1]:.6g}", err=f"{best_error:.6g}",
                         k=last, gb=f"{b:.6g}", gm=f"{m:.6g}", gerr=f"{error:.6g}"))
