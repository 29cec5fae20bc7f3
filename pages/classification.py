"""Lesson 4: from regression to classification — the sigmoid, decision regions, softmax, MSE vs cross-entropy."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import ui
from app.vega import arrow
from lessons import classification as lc

PAGE = "classification"
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
N_TRAIN, N_TEST = 200, 1000
GRID = 40  # decision-region cells per side
REGIONS_KEY = f"{PAGE}.__regions"  # the clickable decision-region chart
CHARTS = 64  # fixed chart parts kept per server: a few dozen settings × two languages

SETTINGS = {
    "w": ui.Setting(1.0, -10.0, 10.0),
    "b": ui.Setting(0.0, -10.0, 10.0),
    "data": ui.Setting("blobs", options=lc.DATASETS),
    "classes": ui.Setting(3, 2, lc.MAX_CLASSES),
    "noise": ui.Setting(0.3, 0.0, 1.5),
    "seed": ui.Setting(0, 0, 99),
    "lr": ui.Setting(0.3, options=LEARNING_RATES),
    "steps": ui.Setting(200, 1, 1000),
    "loss": ui.Setting("cross_entropy", options=lc.LOSSES),
    "px": ui.Setting(0.5, -lc.EXTENT, lc.EXTENT),
    "py": ui.Setting(0.5, -lc.EXTENT, lc.EXTENT),
}
PRESETS = [
    ui.Preset("classification.try_steep", {"w": 10.0, "b": -5.0}),
    ui.Preset("classification.try_xor", {"data": "xor", "noise": 0.3, "steps": 1000, "lr": 1.0}),
    ui.Preset("classification.try_noise", {"data": "overlap", "classes": 3, "noise": 1.5}),
    ui.Preset("classification.try_moons", {"data": "moons", "noise": 0.3}),
    ui.Preset("classification.try_slow", {"data": "blobs", "classes": 4, "lr": 0.03, "steps": 50}),
]
# A wide formula scrolls inside its own box on a phone instead of widening the page.
FORMULA_CSS = (
    "<style>.st-key-classification-formula .katex-display { overflow-x: auto; overflow-y: hidden; }"
    "@media (max-width: 640px) { .st-key-classification-formula .katex { font-size: 0.85em; } }</style>"
)


@st.cache_resource(show_spinner=False, max_entries=CHARTS)
def trained(data: str, classes: int, noise: float, seed: int, lr: float, steps: int, loss: str) -> lc.FittedRun:
    """The training sample, the model fitted to it and its accuracies; one per setting for the whole server
    (read-only: the pages only draw it)."""
    return lc.fit_run(data, classes, noise, seed, lr, steps, loss, n_train=N_TRAIN, n_test=N_TEST)


# ------------------------------------------------------------------------------ helpers
# The charts are plain Vega-Lite dicts (``ui.show_vega``): altair's building and walking of
# layered charts was most of a rerun. Specs are built once per language and shape, the fixed
# data once per run as Arrow bytes, both in cache_resource (a page script is re-executed on every
# run, so an lru_cache here would start empty each time); both are shared read-only.

Q, N = "quantitative", "nominal"
AXIS_SCALE = {"domain": [-lc.EXTENT, lc.EXTENT], "nice": False}
SPECS = 256  # cached spec shapes: languages × class counts × variants


def channel(field: str, kind: str, **props: Any) -> dict[str, Any]:
    """A Vega-Lite encoding channel (``title=None`` hides the title, as altair's does)."""
    return {"field": field, "type": kind, **props}


def class_names(k: int) -> list[str]:
    """The legend's class names in the current language."""
    return [ui.t("classification.class_name", k=i) for i in range(k)]


def class_color(k: int) -> dict[str, Any]:
    """One colour per class, the same in every chart of the page."""
    return {"domain": class_names(k), "scheme": "tableau10"}


def loss_label(loss: str) -> str:
    """A loss's name for students."""
    return ui.t(f"classification.loss_{loss}")


def on_pick(p: ui.Page) -> None:
    """Click on the decision-region chart: move the picked point there (runs before the widgets)."""
    state = st.session_state.get(REGIONS_KEY)
    selection = (state or {}).get("selection", {})
    for name in ("pick_point", "pick_cell"):
        chosen = selection.get(name) or []
        if chosen and "x1" in chosen[0] and "x2" in chosen[0]:
            for axis, coord in (("px", chosen[0]["x1"]), ("py", chosen[0]["x2"])):
                clamped = float(np.clip(float(coord), -lc.EXTENT, lc.EXTENT))
                p[axis] = round(clamped, 1)
            return


def sample_frame(X: np.ndarray, y: np.ndarray, model: Any, names: list[str]) -> pd.DataFrame:
    """The training points with their class name and the model's prediction, for tooltips."""
    return pd.DataFrame(
        {"x1": X[:, 0], "x2": X[:, 1], "label": [names[i] for i in y], "predicted": [names[i] for i in model.predict(X)]}
    )


@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def regions_data(key: tuple, lang: str) -> dict[str, bytes]:
    """The decision-region cells and the training points of the run ``key`` (``data_args`` + loss) as Arrow,
    once per run and language (the class names are in the rows): the grid alone is 1,600 cells."""
    run = trained(*key)
    names = class_names(run.k)
    grid = lc.probability_grid(run.model, resolution=GRID)
    grid["predicted"] = [names[i] for i in grid["cls"]]
    columns = ["x1", "x2", "x1_lo", "x1_hi", "x2_lo", "x2_hi", "confidence", "predicted", *(f"p{i}" for i in range(run.k))]
    return {"cells": arrow(grid[columns]), "points": arrow(sample_frame(run.X, run.y, run.model, names))}


@st.cache_resource(show_spinner=False, max_entries=SPECS)
def regions_spec(k: int, lang: str, selectable: bool, height: int, marked: bool) -> dict[str, Any]:
    """The decision regions (coloured by predicted class, faded where unsure) under the training points,
    clickable if ``selectable``, with the picked point (dataset ``picked``) as a cross if ``marked``."""
    names = class_names(k)
    xy_tips = [channel("x1", Q, title="x₁", format=".2f"), channel("x2", Q, title="x₂", format=".2f")]
    predicted_tip = channel("predicted", N, title=ui.t("classification.tip_predicted"))
    at_point = {"x": channel("x1", Q, scale=AXIS_SCALE), "y": channel("x2", Q, scale=AXIS_SCALE)}
    cells = {
        "data": {"name": "cells"},
        "mark": {"type": "rect"},
        "encoding": {
            # No grid: its lines would show through the half-transparent cells.
            "x": channel("x1_lo", Q, title="x₁", scale=AXIS_SCALE, axis={"grid": False}),
            "x2": {"field": "x1_hi"},
            "y": channel("x2_lo", Q, title="x₂", scale=AXIS_SCALE, axis={"grid": False}),
            "y2": {"field": "x2_hi"},
            "color": channel("predicted", N, scale=class_color(k), title=ui.t("classification.legend_class"),
                             legend={"orient": "bottom"}),
            "opacity": channel("confidence", Q, scale={"domain": [1 / k, 1.0], "range": [0.05, 0.6]}, legend=None),
            "tooltip": [*xy_tips, predicted_tip,
                        *(channel(f"p{i}", Q, title=f"P({names[i]})", format=".3f") for i in range(k))],
        },
    }
    points = {
        "data": {"name": "points"},
        "mark": {"type": "circle", "size": 45, "opacity": 0.95, "stroke": "white", "strokeWidth": 0.8},
        "encoding": {
            **at_point,
            "color": channel("label", N, scale=class_color(k), legend=None),
            "tooltip": [*xy_tips, channel("label", N, title=ui.t("classification.tip_label")), predicted_tip],
        },
    }
    if selectable:  # on_pick reads these two selections by name
        for layer, name in ((cells, "pick_cell"), (points, "pick_point")):
            layer["params"] = [{"name": name, "select": {"type": "point", "fields": ["x1", "x2"], "on": "click"}}]
    layers = [cells, points]
    if marked:
        layers.append({
            "data": {"name": "picked"},
            "mark": {"type": "point", "shape": "cross", "size": 260, "filled": True, "color": "black",
                     "stroke": "white", "strokeWidth": 1},
            "encoding": {**at_point, "tooltip": [channel("x1", Q, title="x₁"), channel("x2", Q, title="x₂")]},
        })
    return {"height": height, "layer": layers}


def show_regions(run_key: tuple, picked: tuple[float, float] | None, *, height: int, **select: Any) -> None:
    """Draw the run ``run_key``'s decision regions under its training points, with the picked point as a cross;
    clickable when ``select`` holds ``st.vega_lite_chart``'s ``key``, ``on_select`` and ``selection_mode``."""
    data: dict[str, Any] = dict(regions_data(run_key, ui.lang()))
    if picked is not None:
        data["picked"] = {"x1": [picked[0]], "x2": [picked[1]]}
    spec = regions_spec(trained(*run_key).k, ui.lang(), bool(select), height, picked is not None)
    ui.show_vega(spec, data, **select)


@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def history_data(key: tuple) -> bytes:
    """The run ``key``'s training history (loss and accuracy per step) as Arrow, once per run."""
    return arrow(lc.history_frame(trained(*key).model.history))


@st.cache_resource(show_spinner=False, max_entries=SPECS)
def curve_spec(lang: str, column: str, height: int) -> dict[str, Any]:
    """One training curve (loss or accuracy, dataset ``history``) against the step."""
    title = ui.t(f"classification.axis_{column}")
    step = ui.t("classification.axis_step")
    return {
        "data": {"name": "history"},
        "mark": {"type": "line"},
        "encoding": {
            "x": channel("step", Q, title=step, axis={"tickMinStep": 1, "format": "d"}),
            "y": channel(column, Q, title=title, scale={"domain": [0, 1]} if column == "accuracy" else {"zero": True}),
            "tooltip": [channel("step", Q, title=step), channel(column, Q, title=title, format=".4f")],
        },
        "height": height,
    }


def show_curve(key: tuple, column: str, height: int = 150) -> None:
    """One training curve (loss or accuracy) of the run ``key`` against the step."""
    ui.show_vega(curve_spec(ui.lang(), column, height), {"history": history_data(key)})


@st.cache_resource(show_spinner=False, max_entries=SPECS)
def probability_specs(k: int, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The point's probability charts for ``k`` classes (dataset ``bars``, ``probability_data``): one stacked
    bar that ends exactly at 1, and one bar per class. Two charts, not one concatenated: each then takes
    its column's width, on a phone too."""
    names = class_names(k)
    color = channel("name", N, scale=class_color(k), title=ui.t("classification.legend_class"), legend=None)
    tips = [channel("name", N, title=ui.t("classification.legend_class")), channel("p", Q, title="p", format=".4f")]
    stacked = {
        "data": {"name": "bars"},
        "layer": [
            {"mark": {"type": "bar", "height": 28},
             "encoding": {"x": channel("start", Q, scale={"domain": [0, 1]}, title=None), "x2": {"field": "end"},
                          "y": channel("row", N, title=None), "color": color, "tooltip": tips}},
            {"mark": {"type": "rule", "color": "black", "strokeWidth": 2}, "encoding": {"x": {"datum": 1.0}}},
        ],
        "height": 100,
        "title": {"text": ui.t("classification.axis_sum"), "fontSize": 12, "fontWeight": "normal"},
    }
    per_class = {
        "data": {"name": "bars"},
        "encoding": {
            "x": channel("name", N, title=None, sort=names, axis={"labelAngle": 0}),
            "y": channel("p", Q, scale={"domain": [0, 1.12]}, title=ui.t("classification.axis_probability"),
                         axis={"values": [0, 0.25, 0.5, 0.75, 1], "format": ".2~f"}),
            "color": color,
            "tooltip": tips,
        },
        "layer": [
            {"mark": {"type": "bar"}},
            {"mark": {"type": "text", "dy": -8},
             "encoding": {"text": channel("p", Q, format=".2f"), "color": {"value": "black"}}},
        ],
        "height": 180,
    }
    return stacked, per_class


def probability_data(probabilities: np.ndarray, k: int) -> pd.DataFrame:
    """The point's class probabilities as bars: each class's p, where it starts and ends in the stack."""
    names = class_names(k)
    bars = lc.probability_bars(probabilities)
    bars["name"] = [names[i] for i in bars["cls"]]
    bars["row"] = ui.t("classification.bar_total")
    return bars


def metric_line(run: lc.FittedRun) -> str:
    """Final loss, training and held-out accuracy of one fitted model, in one line that never gets cut."""
    return " · ".join([
        f"{ui.t('classification.metric_loss')} **{run.model.history.loss[-1]:.4f}**",
        f"{ui.t('classification.metric_train')} **{run.train_accuracy:.1%}**",
        f"{ui.t('classification.metric_test')} **{run.test_accuracy:.1%}**",
    ])


def run_metrics(run: lc.FittedRun) -> None:
    """Final loss, training and held-out accuracy of one fitted model, as metrics wide enough for 100.0%."""
    a, b, c = st.columns(3)
    a.metric(ui.t("classification.metric_loss"), f"{run.model.history.loss[-1]:.4f}")
    b.metric(ui.t("classification.metric_train"), f"{run.train_accuracy:.1%}")
    c.metric(ui.t("classification.metric_test"), f"{run.test_accuracy:.1%}", help=ui.t("classification.metric_test_help"))


# ------------------------------------------------------------------------------- the sections


@st.fragment
def sigmoid_section(p: ui.Page) -> None:
    """1. The sigmoid squashes a line into [0, 1]: w and b sliders, the line and σ drawn together."""
    st.header(ui.t("classification.sigmoid_header"))
    controls, picture = st.columns([1, 2])
    with controls:
        st.markdown(ui.t("classification.sigmoid_intro"))
        st.slider(ui.t("classification.w"), -10.0, 10.0, step=0.1, key=p.key("w"))
        st.slider(ui.t("classification.b"), -10.0, 10.0, step=0.1, key=p.key("b"))
        st.latex(r"\sigma(z) = \frac{1}{1 + e^{-z}}")
        st.latex(r"z = w\cdot x + b")
        w, b = p["w"], p["b"]
        if w != 0:
            st.caption(ui.t("classification.sigmoid_half", x=f"{-b / w + 0.0:.2f}"))
        else:
            st.caption(ui.t("classification.sigmoid_flat", p=f"{float(lc.sigmoid(b)):.3f}"))
    with picture, ui.caught():
        ui.show_vega(sigmoid_spec(ui.lang()), {"curve": sigmoid_data(w, b)})
        st.caption(ui.t("classification.sigmoid_caption"))
    p.sync_to_url()  # a fragment rerun skips the page's own URL sync


def curve_names() -> list[str]:
    """The two curves' names in the current language: the line's and σ's."""
    return [ui.t("classification.curve_line"), ui.t("classification.curve_sigmoid")]


@st.cache_resource(show_spinner=False, max_entries=8)
def sigmoid_spec(lang: str) -> dict[str, Any]:
    """The band [0, 1] and the two curves (dataset ``curve``: x and one column per curve name), folded
    into one colour each."""
    names = curve_names()
    value = ui.t("classification.axis_value")
    band = {
        "data": {"values": [{"lo": 0.0, "hi": 1.0}]},
        "mark": {"type": "rect", "color": "#d9480f", "opacity": 0.08},
        "encoding": {"y": channel("lo", Q, title=None), "y2": {"field": "hi"}},
    }
    lines = {
        "transform": [{"fold": names, "as": ["curve", "value"]}],
        "mark": {"type": "line", "clip": True, "strokeWidth": 2.5},
        "encoding": {
            "x": channel("x", Q, title="x"),
            "y": channel("value", Q, title=value, scale={"domain": [-3, 3], "nice": False}),
            "color": channel("curve", N, sort=names, scale={"domain": names, "range": ["#868e96", "#d9480f"]},
                             title=None, legend={"orient": "top"}),
            "tooltip": [channel("x", Q, title="x", format=".2f"), channel("curve", N, title=ui.t("classification.tip_curve")),
                        channel("value", Q, title=value, format=".4f")],
        },
    }
    return {"data": {"name": "curve"}, "layer": [band, lines], "height": 300}


def sigmoid_data(w: float, b: float) -> dict[str, np.ndarray]:
    """The line z = w·x + b and σ(z), one column per curve name (``sigmoid_spec`` folds them)."""
    curve = lc.sigmoid_curve(w, b)
    line, squashed = curve_names()
    return {"x": curve["x"].to_numpy(), line: curve["z"].to_numpy(), squashed: curve["sigma"].to_numpy()}


def data_args(p: ui.Page) -> tuple:
    """The cache key of a fit, without the loss: data set, classes, noise, seed, learning rate, steps."""
    # moons and XOR ignore the slider: one cache entry for them, whatever it shows
    return (p["data"], lc.dataset_classes(p["data"], p["classes"]), p["noise"], p["seed"], p["lr"], p["steps"])


def fit_controls(p: ui.Page) -> None:
    """2. Classification in 2-D: the data and training settings (a change retrains: the whole page follows)."""
    st.header(ui.t("classification.fit_header"))
    st.markdown(ui.t("classification.fit_intro"))
    c1, c2, c3 = st.columns(3)
    c1.selectbox(
        ui.t("classification.data"),
        lc.DATASETS,
        # A fixed table, not a call to ui.t: the label must not depend on when it is asked for.
        format_func={name: ui.t(f"classification.data_{name}") for name in lc.DATASETS}.__getitem__,
        key=p.key("data"),
    )
    fixed = not lc.takes_class_count(p["data"])
    c1.slider(ui.t("classification.classes"), 2, lc.MAX_CLASSES, key=p.key("classes"), disabled=fixed,
              help=ui.t("classification.classes_help"))
    c2.slider(ui.t("classification.noise"), 0.0, 1.5, step=0.05, key=p.key("noise"))
    c2.slider(ui.t("classification.seed"), 0, 99, key=p.key("seed"))
    c3.select_slider(ui.t("classification.lr"), options=LEARNING_RATES, key=p.key("lr"), help=ui.t("classification.lr_help"))
    c3.slider(ui.t("classification.steps"), 1, 1000, key=p.key("steps"))
    loss_col, reset_col = st.columns([4, 1], vertical_alignment="bottom")
    loss_col.radio(ui.t("classification.loss"), lc.LOSSES, format_func={loss: loss_label(loss) for loss in lc.LOSSES}.__getitem__,
                   key=p.key("loss"), horizontal=True)
    p.reset_button(where=reset_col)
    if fixed:
        st.caption(ui.t("classification.two_only"))


@st.fragment
def explore_section(p: ui.Page) -> None:
    """The decision regions beside the picked point's probabilities: clicking the chart or moving x₁, x₂
    reruns only this part."""
    key = (*data_args(p), p["loss"])
    with ui.caught():
        with st.spinner(ui.t("classification.training")):
            run = trained(*key)
        st.header(ui.t("classification.point_header"))
        left, right = st.columns([3, 2])
        with left:
            show_regions(key, (p["px"], p["py"]), height=440, key=REGIONS_KEY,
                         on_select=functools.partial(on_pick, p), selection_mode=["pick_cell", "pick_point"])
            st.caption(ui.t("classification.regions_caption"))
        with right:
            st.caption(ui.t("classification.point_intro"))
            s1, s2 = st.columns(2)
            s1.slider("x₁", -lc.EXTENT, lc.EXTENT, step=0.1, key=p.key("px"))
            s2.slider("x₂", -lc.EXTENT, lc.EXTENT, step=0.1, key=p.key("py"))
            point = np.array([p["px"], p["py"]])
            breakdown = lc.point_breakdown(run.model, point)
            bars = probability_data(breakdown.probabilities, run.k)
            for spec in probability_specs(run.k, ui.lang()):
                ui.show_vega(spec, {"bars": bars})
        with st.expander(ui.t("classification.formula"), icon="🧮"):
            st.html(FORMULA_CSS)
            with st.container(key="classification-formula"):
                st.latex(lc.point_latex(run.model, point, breakdown))
            if run.k == 2:
                st.caption(ui.t("classification.two_is_softmax"))
    p.sync_to_url()  # a fragment rerun skips the page's own URL sync


def fit_results(p: ui.Page) -> lc.FittedRun | None:
    """The fitted model's numbers and training curves, and what the data set teaches."""
    key = (*data_args(p), p["loss"])
    run = None
    with ui.caught():
        run = trained(*key)
        st.markdown(ui.t(f"classification.model_{'logistic' if run.k == 2 else 'softmax'}", k=run.k))
        run_metrics(run)
        loss_col, accuracy_col = st.columns(2)
        with loss_col:
            show_curve(key, "loss")
        with accuracy_col:
            show_curve(key, "accuracy")
        if p["data"] == "xor":
            st.warning(ui.t("classification.xor_fails", acc=f"{run.test_accuracy:.0%}"))
        elif p["data"] == "moons":
            st.info(ui.t("classification.moons_note"))
    return run


def compare_section(p: ui.Page) -> None:
    """4. MSE against cross-entropy, trained side by side on the same data."""
    st.header(ui.t("classification.compare_header"))
    st.markdown(ui.t("classification.compare_intro"))
    with ui.caught():
        keys = {loss: (*data_args(p), loss) for loss in lc.LOSSES}
        for column, (loss, key) in zip(st.columns(len(lc.LOSSES)), keys.items(), strict=True):
            with column:
                st.subheader(loss_label(loss))
                show_regions(key, None, height=300)
                st.markdown(metric_line(trained(*key)))
                show_curve(key, "loss", height=130)
        ui.show_vega(race_spec(ui.lang()), {"race": race_data(tuple(keys.values()), ui.lang())})
        st.caption(ui.t("classification.compare_caption"))


@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def race_data(keys: tuple[tuple, ...], lang: str) -> bytes:
    """Both losses' training histories, each row named by its loss, as Arrow."""
    return arrow(pd.concat(lc.history_frame(trained(*key).model.history).assign(loss_name=loss_label(key[-1]))
                           for key in keys))


@st.cache_resource(show_spinner=False, max_entries=8)
def race_spec(lang: str) -> dict[str, Any]:
    """Both losses' training accuracy (dataset ``race``) against the step, in one chart."""
    step, loss, accuracy = ui.t("classification.axis_step"), ui.t("classification.loss"), ui.t("classification.axis_accuracy")
    return {
        "data": {"name": "race"},
        "mark": {"type": "line"},
        "encoding": {
            "x": channel("step", Q, title=step, axis={"tickMinStep": 1, "format": "d"}),
            "y": channel("accuracy", Q, title=accuracy, scale={"domain": [0, 1]}),
            "color": channel("loss_name", N, title=loss, legend={"orient": "bottom"}),
            # Dashed MSE stays visible where the two curves lie on top of each other.
            "strokeDash": channel("loss_name", N, legend=None),
            "tooltip": [channel("loss_name", N, title=loss), channel("step", Q, title=step),
                        channel("accuracy", Q, title=accuracy, format=".3f")],
        },
        "height": 200,
    }


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    sigmoid_section(p)
    fit_controls(p)
    explore_section(p)
    fit_results(p)
    ui.take_home(p, SETTINGS)
    compare_section(p)
