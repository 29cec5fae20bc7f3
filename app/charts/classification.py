"""Lesson 4's charts as plain Vega-Lite dicts (``vega.show``): the sigmoid, the decision regions, the
picked point's probabilities and the training curves; and the fitted runs they draw, one per setting.

Altair's building and walking of layered charts was most of a rerun. Specs are built once per language
and shape, the fixed data once per run as Arrow bytes, both in cache_resource and shared read-only.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.a11y import MARK_GREY, PAGE_TEXT
from app.charts import front
from app.i18n import lang, t
from app.vega import arrow, lines, nominal, quantitative
from app.vega import show as show_vega
from lessons import classification as lc

GRID = 40  # decision-region cells per side
CHARTS = 64  # fixed chart parts kept per server: a few dozen settings × two languages
SPECS = 256  # cached spec shapes: languages × class counts × variants
AXIS_SCALE = {"domain": [-lc.EXTENT, lc.EXTENT], "nice": False}
# Each class has a shape as well as a colour, so classes stay apart for a colour-blind student.
CLASS_SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down"]
RACE_COLORS = ["#1c7ed6", "#d9480f"]  # cross-entropy, MSE: blue and dark orange, apart for every colour vision


@front(CHARTS)
@st.cache_resource(show_spinner=False, max_entries=CHARTS)
def fitted(data: str, classes: int, noise: float, seed: int, lr: float, steps: int, loss: str) -> lc.FittedRun:
    """The training sample, the model fitted to it and its accuracies; one per setting for the whole server
    (read-only: the pages only draw it)."""
    return lc.fit_run(data, classes, noise, seed, lr, steps, loss, n_train=lc.N_TRAIN, n_test=lc.N_TEST)


def class_names(k: int) -> list[str]:
    """The legend's class names in the current language."""
    return [t("classification.class_name", k=i) for i in range(k)]


def class_color(k: int) -> dict[str, Any]:
    """One colour per class, the same in every chart of the page."""
    return {"domain": class_names(k), "scheme": "tableau10"}


def class_shape(k: int) -> dict[str, Any]:
    """One point shape per class, the same in every chart of the page."""
    return {"domain": class_names(k), "range": CLASS_SHAPES[:k]}


def number(value: float, digits: int = 2) -> str:
    """A coordinate or weight as the page prints it, with a true minus sign."""
    return f"{value:.{digits}f}".replace("-", "−")


def loss_label(loss: str) -> str:
    """A loss's name for students."""
    return t(f"classification.loss_{loss}")


# ------------------------------------------------------------------------------ the sigmoid


def curve_names() -> list[str]:
    """The two curves' names in the current language: the line's and σ's."""
    return [t("classification.curve_line"), t("classification.curve_sigmoid")]


@front(8)
@st.cache_resource(show_spinner=False, max_entries=8)
def sigmoid_spec(language: str) -> dict[str, Any]:
    """The band [0, 1] and the two curves (dataset ``curve``: x and one column per curve name), folded
    into one colour each."""
    names = curve_names()
    value = t("classification.axis_value")
    band = {
        "data": {"values": [{"lo": 0.0, "hi": 1.0}]},
        "mark": {"type": "rect", "color": "#d9480f", "opacity": 0.08},
        "encoding": {"y": quantitative("lo", title=None), "y2": {"field": "hi"}},
    }
    lines = {
        "transform": [{"fold": names, "as": ["curve", "value"]}],
        "mark": {"type": "line", "clip": True, "strokeWidth": 2.5},
        "encoding": {
            "x": quantitative("x", title="x"),
            "y": quantitative("value", title=value, scale={"domain": [-3, 3], "nice": False}),
            "color": nominal("curve", sort=names, scale={"domain": names, "range": ["#868e96", "#d9480f"]},
                             title=None, legend={"orient": "top"}),
            "strokeDash": nominal("curve", sort=names, scale={"domain": names, "range": [[6, 4], [1, 0]]},
                                  title=None, legend={"orient": "top"}),
            "tooltip": [quantitative("x", title="x", format=".2f"), nominal("curve", title=t("classification.tip_curve")),
                        quantitative("value", title=value, format=".4f")],
        },
    }
    return {"data": {"name": "curve"}, "layer": [band, lines], "height": 300}


def sigmoid_note(w: float, b: float) -> str:
    """The sigmoid chart's figure in words: where σ = 0.5 (x = −b/w, ``lc.sigmoid_midpoint``), or, when
    w = 0 and there is no such x, the value σ(b) it keeps everywhere."""
    middle = lc.sigmoid_midpoint(w, b)
    if middle is not None:
        return t("classification.sigmoid_half", x=f"{middle:.2f}")
    return t("classification.sigmoid_flat", p=f"{float(lc.sigmoid(b)):.3f}")


@functools.lru_cache(maxsize=CHARTS)
def sigmoid_data(w: float, b: float, language: str) -> bytes:
    """The line and σ over x as Arrow (a column per curve name in ``language``), once per w and b."""
    curve = lc.sigmoid_curve(w, b)
    line, squashed = curve_names()
    return arrow({"x": curve["x"].to_numpy(), line: curve["z"].to_numpy(), squashed: curve["sigma"].to_numpy()})


def show_sigmoid(w: float, b: float) -> None:
    """The line z = w·x + b and σ(z) over x, with the band [0, 1]."""
    described = t("access.cls_sigmoid", w=number(w, 1), b=number(b, 1), where=sigmoid_note(w, b))
    language = lang()
    show_vega(sigmoid_spec(language), {"curve": sigmoid_data(w, b, language)}, description=described)


# ------------------------------------------------------------------------- decision regions


def sample_frame(X: np.ndarray, y: np.ndarray, model: Any, names: list[str]) -> pd.DataFrame:
    """The training points with their class name and the model's prediction, for tooltips."""
    return pd.DataFrame(
        {"x1": X[:, 0], "x2": X[:, 1], "label": [names[i] for i in y], "predicted": [names[i] for i in model.predict(X)]}
    )


@front(CHARTS)
@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def regions_data(key: tuple, language: str) -> dict[str, bytes]:
    """The decision-region cells and the training points of the run ``key`` as Arrow, once per run and
    language (the class names are in the points' rows). The grid's 1,600 cells carry only what the chart
    cannot work out (``regions_spec`` adds the edges and class names): centres, the predicted class's
    number and the probabilities in float32, a third of the bytes of every column in full (150 KB a chart
    was most of a student's first page)."""
    run = fitted(*key)
    grid = lc.probability_grid(run.model, resolution=GRID)
    cells = {"x1": grid["x1"], "x2": grid["x2"], "cls": grid["cls"].astype(np.int8),
             **{name: grid[name].astype(np.float32) for name in ("confidence", *(f"p{i}" for i in range(run.k)))}}
    return {"cells": arrow(cells), "points": arrow(sample_frame(run.X, run.y, run.model, class_names(run.k)))}


LEGEND = {"orient": "bottom", "direction": "horizontal", "columns": 3, "symbolSize": 90, "symbolStrokeWidth": 0}


@front(SPECS)
@st.cache_resource(show_spinner=False, max_entries=SPECS)
def regions_spec(k: int, language: str, selectable: bool, height: int, marked: bool) -> dict[str, Any]:
    """The decision regions (coloured by predicted class, faded where unsure) under the training points,
    clickable if ``selectable``, with the picked point (dataset ``picked``) as a cross if ``marked``."""
    names = class_names(k)
    xy_tips = [quantitative("x1", title="x₁", format=".2f"), quantitative("x2", title="x₂", format=".2f")]
    predicted_tip = nominal("predicted", title=t("classification.tip_predicted"))
    at_point = {"x": quantitative("x1", scale=AXIS_SCALE), "y": quantitative("x2", scale=AXIS_SCALE)}
    cells = {
        "data": {"name": "cells"},
        "transform": [
            {"calculate": f"{json.dumps(names, ensure_ascii=False)}[datum.cls]", "as": "predicted"},
            {"calculate": "datum.predicted", "as": "label"},
            # Each cell's edges from its centre: the grid spans ±EXTENT in GRID cells a side.
            *({"calculate": f"datum.{axis} {sign} {lc.EXTENT / GRID!r}", "as": f"{axis}_{end}"}
              for axis in ("x1", "x2") for sign, end in (("-", "lo"), ("+", "hi"))),
        ],
        "mark": {"type": "rect"},
        "encoding": {
            # No grid: its lines would show through the half-transparent cells.
            "x": quantitative("x1_lo", title="x₁", scale=AXIS_SCALE, axis={"grid": False}),
            "x2": {"field": "x1_hi"},
            "y": quantitative("x2_lo", title="x₂", scale=AXIS_SCALE, axis={"grid": False}),
            "y2": {"field": "x2_hi"},
            # Coloured by the field the points are coloured and shaped by (the predicted class, renamed), so
            # colour and shape merge into one legend of coloured shapes, not two identical ones.
            "color": nominal("label", scale=class_color(k), title=t("classification.legend_class"), legend=LEGEND),
            "opacity": quantitative("confidence", scale={"domain": [1 / k, 1.0], "range": [0.05, 0.6]}, legend=None),
            "tooltip": [*xy_tips, predicted_tip,
                        *(quantitative(f"p{i}", title=f"P({names[i]})", format=".3f") for i in range(k))],
        },
    }
    points = {
        "data": {"name": "points"},
        # Clipped to the plane: at large noise a few points lie beyond it, and would sit on the axis labels.
        "mark": {"type": "point", "filled": True, "size": 45, "opacity": 0.95, "stroke": "white", "strokeWidth": 0.8,
                 "clip": True},
        "encoding": {
            **at_point,
            # One legend of coloured shapes, three classes a row:
            # two legends one class a row took 130 px of the chart's height, leaving the side-by-side maps
            # a strip; three a row still fits a phone's chart. Its shapes as large as the points, without
            # the points' white rim (it hid the small triangle).
            "color": nominal("label", scale=class_color(k), title=t("classification.legend_class"), legend=LEGEND),
            "shape": nominal("label", scale=class_shape(k), title=t("classification.legend_class"), legend=LEGEND),
            "tooltip": [*xy_tips, nominal("label", title=t("classification.tip_label")), predicted_tip],
        },
    }
    if selectable:  # picked_point reads these two selections by name
        for layer, name in ((cells, "pick_cell"), (points, "pick_point")):
            layer["params"] = [{"name": name, "select": {"type": "point", "fields": ["x1", "x2"], "on": "click"}}]
    layers = [cells, points]
    if marked:
        layers.append({
            "data": {"name": "picked"},
            "mark": {"type": "point", "shape": "cross", "size": 260, "filled": True, "color": "black",
                     "stroke": "white", "strokeWidth": 1, "clip": True},
            "encoding": {**at_point, "tooltip": [quantitative("x1", title="x₁"), quantitative("x2", title="x₂")]},
        })
    return {"height": height, "layer": layers}


def show_regions(run_key: tuple, picked: tuple[float, float] | None, *, height: int, **select: Any) -> None:
    """Draw the run ``run_key``'s decision regions under its training points, with the picked point as a cross;
    clickable when ``select`` holds ``st.vega_lite_chart``'s ``key``, ``on_select`` and ``selection_mode``."""
    data: dict[str, Any] = dict(regions_data(run_key, lang()))
    if picked is not None:
        data["picked"] = {"x1": [picked[0]], "x2": [picked[1]]}
    run = fitted(*run_key)
    spec = regions_spec(run.k, lang(), bool(select), height, picked is not None)
    described = t("access.cls_regions", k=run.k, n=len(run.X), train=f"{run.train_accuracy:.1%}")
    if picked is not None:
        described += " " + t("access.cls_regions_picked", x1=number(picked[0], 1), x2=number(picked[1], 1))
    show_vega(spec, data, description=described, **select)


def picked_point(state: Any) -> tuple[float, float] | None:
    """The point a click on the region chart chose (its widget ``state``), kept inside the plane, or None."""
    selection = (state or {}).get("selection", {})
    for name in ("pick_point", "pick_cell"):
        chosen = selection.get(name) or []
        if chosen and "x1" in chosen[0] and "x2" in chosen[0]:
            x1, x2 = (round(float(np.clip(float(chosen[0][axis]), -lc.EXTENT, lc.EXTENT)), 1) for axis in ("x1", "x2"))
            return x1, x2
    return None


# ------------------------------------------------------------------------ the picked point


@front(SPECS)
@st.cache_resource(show_spinner=False, max_entries=SPECS)
def probability_specs(k: int, language: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The point's probability charts for ``k`` classes (dataset ``bars``): one stacked bar that ends
    exactly at 1, and one bar per class. Two charts, not one concatenated: each then takes its column's
    width, on a phone too."""
    names = class_names(k)
    color = nominal("name", scale=class_color(k), title=t("classification.legend_class"), legend=None)
    tips = [nominal("name", title=t("classification.legend_class")), quantitative("p", title="p", format=".4f")]
    stacked = {
        "data": {"name": "bars"},
        "layer": [
            {"mark": {"type": "bar", "height": 28},
             "encoding": {"x": quantitative("start", scale={"domain": [0, 1]}, title=None), "x2": {"field": "end"},
                          "y": nominal("row", title=None), "color": color, "tooltip": tips}},
            # The line at 1 only frames the bar (the description says the sum is 1): hidden from screen readers.
            {"mark": {"type": "rule", "color": MARK_GREY, "strokeWidth": 2, "aria": False}, "encoding": {"x": {"datum": 1.0}}},
        ],
        "height": 100,
        "title": {"text": lines(t("classification.axis_sum")), "fontWeight": "normal"},
    }
    per_class = {
        "data": {"name": "bars"},
        "encoding": {
            "x": nominal("name", title=None, sort=names, axis={"labelAngle": 0}),
            "y": quantitative("p", scale={"domain": [0, 1.12]}, title=t("classification.axis_probability"),
                              axis={"values": [0, 0.25, 0.5, 0.75, 1], "format": ".2~f"}),
            "color": color,
            "tooltip": tips,
        },
        "layer": [
            {"mark": {"type": "bar"}},
            # In the page's text colour (PAGE_TEXT), on either theme: black vanished on the dark one.
            {"name": PAGE_TEXT, "mark": {"type": "text", "dy": -8},
             "encoding": {"text": quantitative("p", format=".2f"), "color": {"value": "black"}}},
        ],
        "height": 180,
    }
    return stacked, per_class


def probabilities_text(probabilities: np.ndarray, point: tuple[float, float]) -> str:
    """The probability charts' figures in words: each class's probability at the point."""
    names = class_names(len(probabilities))
    bars = ", ".join(f"{names[i]} {p:.3f}" for i, p in enumerate(probabilities))
    return t("access.cls_probabilities", x1=number(point[0], 1), x2=number(point[1], 1), bars=bars)


def point_sentence(probabilities: np.ndarray, point: tuple[float, float]) -> str:
    """What the picked point's move changed, in one sentence: the class the model gives the point
    (the most probable one, as ``predict`` picks it) and its probability."""
    best = int(np.argmax(probabilities))
    return t("access.cls_point", x1=number(point[0], 1), x2=number(point[1], 1), name=class_names(len(probabilities))[best],
             p=f"{probabilities[best]:.3f}")


def show_probabilities(probabilities: np.ndarray, k: int, point: tuple[float, float]) -> None:
    """The point's class probabilities as a stacked bar ending at 1, then one bar per class."""
    names = class_names(k)
    bars = lc.probability_bars(probabilities)
    bars["name"] = [names[i] for i in bars["cls"]]
    bars["row"] = t("classification.bar_total")
    described, data = probabilities_text(probabilities, point), {"bars": arrow(bars)}  # once for both charts
    for spec in probability_specs(k, lang()):
        show_vega(spec, data, description=described)


# ------------------------------------------------------------------------- training curves


@front(CHARTS)
@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def history_data(key: tuple) -> bytes:
    """The run ``key``'s training history (loss and accuracy per step) as Arrow, once per run."""
    return arrow(lc.history_frame(fitted(*key).model.history))


@front(SPECS)
@st.cache_resource(show_spinner=False, max_entries=SPECS)
def curve_spec(language: str, column: str, height: int) -> dict[str, Any]:
    """One training curve (loss or accuracy, dataset ``history``) against the step."""
    title = t(f"classification.axis_{column}")
    step = t("classification.axis_step")
    return {
        "data": {"name": "history"},
        "mark": {"type": "line"},
        "encoding": {
            "x": quantitative("step", title=step, axis={"tickMinStep": 1, "format": "d"}),
            "y": quantitative(column, title=title, scale={"domain": [0, 1]} if column == "accuracy" else {"zero": True}),
            "tooltip": [quantitative("step", title=step), quantitative(column, title=title, format=".4f")],
        },
        "height": height,
    }


def curve_text(run: lc.FittedRun, column: str) -> str:
    """A training curve's figures in words: its value before training and after the last step."""
    values = getattr(run.model.history, column)
    shown = (lambda v: f"{v:.1%}") if column == "accuracy" else (lambda v: f"{v:.4f}")
    return t("access.cls_curve", what=t(f"classification.axis_{column}"), first=shown(values[0]),
             last=shown(values[-1]), steps=len(values) - 1)


def show_curve(key: tuple, column: str, height: int = 150) -> None:
    """One training curve (loss or accuracy) of the run ``key`` against the step."""
    show_vega(curve_spec(lang(), column, height), {"history": history_data(key)},
              description=curve_text(fitted(*key), column))


@front(CHARTS)
@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def race_data(keys: tuple[tuple, ...], language: str) -> bytes:
    """Both losses' training histories, each row named by its loss, as Arrow."""
    return arrow(pd.concat(lc.history_frame(fitted(*key).model.history).assign(loss_name=loss_label(key[-1]))
                           for key in keys))


@front(8)
@st.cache_resource(show_spinner=False, max_entries=8)
def race_spec(language: str) -> dict[str, Any]:
    """Both losses' training accuracy (dataset ``race``) against the step, in one chart."""
    step, loss, accuracy = t("classification.axis_step"), t("classification.loss"), t("classification.axis_accuracy")
    names = [loss_label("cross_entropy"), loss_label("mse")]
    return {
        "data": {"name": "race"},
        "mark": {"type": "line"},
        "encoding": {
            "x": quantitative("step", title=step, axis={"tickMinStep": 1, "format": "d"}),
            "y": quantitative("accuracy", title=accuracy, scale={"domain": [0, 1]}),
            # Two hues apart in lightness too (Streamlit's own palette starts with two blues); the legend
            # one name a row, whole: the MSE's name is longer than Vega's 160 px label limit.
            "color": nominal("loss_name", title=loss, scale={"domain": names, "range": RACE_COLORS},
                             legend={"orient": "bottom", "direction": "vertical", "labelLimit": 0}),
            # Dashed MSE stays visible where the two curves lie on top of each other.
            "strokeDash": nominal("loss_name", legend=None, scale={"domain": names, "range": [[1, 0], [6, 4]]}),
            "tooltip": [nominal("loss_name", title=loss), quantitative("step", title=step),
                        quantitative("accuracy", title=accuracy, format=".3f")],
        },
        "height": 280,  # the legend and the axis take 130 px: the rest is the plot
    }


def race_text(runs: dict[str, lc.FittedRun]) -> str:
    """The race's figures in words: each loss's training accuracy after the last step."""
    final = {loss: f"{run.model.history.accuracy[-1]:.1%}" for loss, run in runs.items()}
    return t("access.cls_race", ce=final["cross_entropy"], mse=final["mse"])


def show_race(keys: tuple[tuple, ...]) -> None:
    """Both losses' training accuracy against the step, in one chart (each key's last item is its loss)."""
    show_vega(race_spec(lang()), {"race": race_data(keys, lang())},
              description=race_text({key[-1]: fitted(*key) for key in keys}))


def trained_sentence(run: lc.FittedRun, loss: str) -> str:
    """What a change of the training settings did, in one sentence: the steps taken, the final loss and
    the training and test accuracies (the page's metrics)."""
    return t("access.cls_trained", loss=loss_label(loss), steps=len(run.model.history.loss) - 1,
             loss_value=f"{run.model.history.loss[-1]:.4f}", train=f"{run.train_accuracy:.1%}",
             test=f"{run.test_accuracy:.1%}")
