"""Lesson 4: from regression to classification — the sigmoid, decision regions, softmax, MSE vs cross-entropy."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import ui
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


def show(chart: Any) -> None:
    """Draw a chart at its column's width, unvalidated (see ``unchecked``)."""
    ui.show_chart(ui.unchecked(chart))


# ------------------------------------------------------------------------------ helpers


def class_names(k: int) -> list[str]:
    """The legend's class names in the current language."""
    return [ui.t("classification.class_name", k=i) for i in range(k)]


def class_color(k: int) -> alt.Scale:
    """One colour per class, the same in every chart of the page."""
    return alt.Scale(domain=class_names(k), scheme="tableau10")


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


AXIS_SCALE = alt.Scale(domain=[-lc.EXTENT, lc.EXTENT], nice=False)


@st.cache_resource(show_spinner=False, max_entries=CHARTS)
def regions_layers(key: tuple, lang: str, selectable: bool) -> tuple[alt.Chart, alt.Chart]:
    """The decision regions (coloured by predicted class, faded where unsure) and the training points
    of the run ``key`` (``data_args`` + loss), built once per run and language: the grid alone is 1,600 cells."""
    run = trained(*key)
    k, model = run.k, run.model
    names = class_names(k)
    grid = lc.probability_grid(model, resolution=GRID)
    grid["predicted"] = [names[i] for i in grid["cls"]]
    # No grid: its lines would show through the half-transparent cells.
    x_axis = alt.X("x1_lo:Q", title="x₁", scale=AXIS_SCALE, axis=alt.Axis(grid=False))
    y_axis = alt.Y("x2_lo:Q", title="x₂", scale=AXIS_SCALE, axis=alt.Axis(grid=False))
    color = alt.Color("predicted:N", scale=class_color(k), title=ui.t("classification.legend_class"),
                      legend=alt.Legend(orient="bottom"))
    prob_tips = [alt.Tooltip(f"p{i}:Q", title=f"P({names[i]})", format=".3f") for i in range(k)]
    cells = (
        alt.Chart(grid[["x1", "x2", "x1_lo", "x1_hi", "x2_lo", "x2_hi", "confidence", "predicted", *(f"p{i}" for i in range(k))]])
        .mark_rect()
        .encode(
            x=x_axis,
            x2="x1_hi:Q",
            y=y_axis,
            y2="x2_hi:Q",
            color=color,
            opacity=alt.Opacity(
                "confidence:Q", scale=alt.Scale(domain=[1 / k, 1.0], range=[0.05, 0.6]), legend=None
            ),
            tooltip=[
                alt.Tooltip("x1:Q", title="x₁", format=".2f"),
                alt.Tooltip("x2:Q", title="x₂", format=".2f"),
                alt.Tooltip("predicted:N", title=ui.t("classification.tip_predicted")),
                *prob_tips,
            ],
        )
    )
    points = (
        alt.Chart(sample_frame(run.X, run.y, model, names))
        .mark_circle(size=45, opacity=0.95, stroke="white", strokeWidth=0.8)
        .encode(
            x=alt.X("x1:Q", scale=AXIS_SCALE),
            y=alt.Y("x2:Q", scale=AXIS_SCALE),
            color=alt.Color("label:N", scale=class_color(k), legend=None),
            tooltip=[
                alt.Tooltip("x1:Q", title="x₁", format=".2f"),
                alt.Tooltip("x2:Q", title="x₂", format=".2f"),
                alt.Tooltip("label:N", title=ui.t("classification.tip_label")),
                alt.Tooltip("predicted:N", title=ui.t("classification.tip_predicted")),
            ],
        )
    )
    if selectable:
        cells = cells.add_params(alt.selection_point(name="pick_cell", fields=["x1", "x2"], on="click"))
        points = points.add_params(alt.selection_point(name="pick_point", fields=["x1", "x2"], on="click"))
    return cells, points


def regions_chart(key: tuple, picked: tuple[float, float] | None, *, selectable: bool, height: int) -> alt.LayerChart:
    """The run's decision regions under its training points, with the picked point as a cross."""
    layers = list(regions_layers(key, ui.lang(), selectable))
    if picked is not None:
        marker = pd.DataFrame({"x1": [picked[0]], "x2": [picked[1]]})
        layers.append(
            alt.Chart(marker)
            .mark_point(shape="cross", size=260, filled=True, color="black", stroke="white", strokeWidth=1)
            .encode(
                x=alt.X("x1:Q", scale=AXIS_SCALE),
                y=alt.Y("x2:Q", scale=AXIS_SCALE),
                tooltip=[alt.Tooltip("x1:Q", title="x₁"), alt.Tooltip("x2:Q", title="x₂")],
            )
        )
    return alt.layer(*layers).properties(height=height)


@st.cache_resource(show_spinner=False, max_entries=CHARTS)
def curves_chart(key: tuple, lang: str, column: str, height: int = 150) -> alt.Chart:
    """One training curve (loss or accuracy) of the run ``key`` against the step; built once per run and language."""
    frame = lc.history_frame(trained(*key).model.history)
    y_scale = alt.Scale(domain=[0, 1]) if column == "accuracy" else alt.Scale(zero=True)
    title = ui.t(f"classification.axis_{column}")
    step = ui.t("classification.axis_step")
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title=step, axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(f"{column}:Q", title=title, scale=y_scale),
            tooltip=[alt.Tooltip("step:Q", title=step), alt.Tooltip(f"{column}:Q", title=title, format=".4f")],
        )
        .properties(height=height)
    )


@st.cache_resource(show_spinner=False, max_entries=2 * lc.MAX_CLASSES)
def probability_templates(k: int, lang: str) -> tuple[alt.LayerChart, alt.LayerChart]:
    """The point's probability charts for ``k`` classes without their data (``probability_charts`` adds it):
    the encodings, scales and texts are the same for every point. Two charts, not one concatenated:
    each then takes its column's width, on a phone too."""
    names = class_names(k)
    color = alt.Color("name:N", scale=class_color(k), title=ui.t("classification.legend_class"), legend=None)
    tips = [alt.Tooltip("name:N", title=ui.t("classification.legend_class")), alt.Tooltip("p:Q", title="p", format=".4f")]
    stacked = (
        alt.Chart()
        .mark_bar(height=28)
        .encode(
            x=alt.X("start:Q", scale=alt.Scale(domain=[0, 1]), title=None),
            x2="end:Q",
            y=alt.Y("row:N", title=None),
            color=color,
            tooltip=tips,
        )
    )
    one = alt.Chart().mark_rule(color="black", strokeWidth=2).encode(x=alt.datum(1.0))
    per_class = alt.Chart().encode(
        x=alt.X("name:N", title=None, sort=names, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("p:Q", scale=alt.Scale(domain=[0, 1.12]), title=ui.t("classification.axis_probability"),
                axis=alt.Axis(values=[0, 0.25, 0.5, 0.75, 1], format=".2~f")),
        color=color,
        tooltip=tips,
    )
    per_class = per_class.mark_bar() + per_class.mark_text(dy=-8).encode(text=alt.Text("p:Q", format=".2f"), color=alt.value("black"))
    return (stacked + one).properties(height=100, title=alt.Title(ui.t("classification.axis_sum"), fontSize=12, fontWeight="normal")), \
        per_class.properties(height=180)


def probability_charts(probabilities: np.ndarray, k: int) -> list[alt.LayerChart]:
    """The point's class probabilities: one stacked bar that ends exactly at 1, and one bar per class."""
    names = class_names(k)
    bars = lc.probability_bars(probabilities)
    bars["name"] = [names[i] for i in bars["cls"]]
    bars["row"] = ui.t("classification.bar_total")
    charts = []
    for template in probability_templates(k, ui.lang()):
        chart = template.copy(deep=False)
        chart.data = bars
        charts.append(chart)
    return charts


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


def try_first(p: ui.Page) -> None:
    """The first "try it" prompt in plain view, its Load button beside it; all of them in the expander below."""
    text_col, button_col = st.columns([5, 1], vertical_alignment="center")
    text_col.markdown("💡 " + ui.t(PRESETS[0].text_key))
    button_col.button(ui.t("app.load"), key=p.key("__try"), on_click=p.apply, args=(dict(PRESETS[0].values),))


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
        show(sigmoid_chart(w, b))
        st.caption(ui.t("classification.sigmoid_caption"))
    p.sync_to_url()  # a fragment rerun skips the page's own URL sync


@st.cache_resource(show_spinner=False, max_entries=4)
def sigmoid_template(lang: str) -> alt.LayerChart:
    """The band [0, 1] and the two curves' encodings, without the curves' data (``sigmoid_chart`` adds it)."""
    names = [ui.t("classification.curve_line"), ui.t("classification.curve_sigmoid")]
    band = alt.Chart(pd.DataFrame({"lo": [0.0], "hi": [1.0]})).mark_rect(color="#d9480f", opacity=0.08).encode(
        y=alt.Y("lo:Q", title=None), y2="hi:Q")
    value = ui.t("classification.axis_value")
    lines = (
        alt.Chart()
        .transform_fold(names, as_=["curve", "value"])
        .mark_line(clip=True, strokeWidth=2.5)
        .encode(
            x=alt.X("x:Q", title="x"),
            y=alt.Y("value:Q", title=value, scale=alt.Scale(domain=[-3, 3], nice=False)),
            color=alt.Color("curve:N", sort=names, scale=alt.Scale(domain=names, range=["#868e96", "#d9480f"]),
                            title=None, legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("x:Q", title="x", format=".2f"), alt.Tooltip("curve:N", title=ui.t("classification.tip_curve")),
                     alt.Tooltip("value:Q", title=value, format=".4f")],
        )
    )
    return alt.layer(band, lines).properties(height=300)


def sigmoid_chart(w: float, b: float) -> alt.LayerChart:
    """The line z = w·x + b and σ(z) over the band [0, 1] they are compared in."""
    names = [ui.t("classification.curve_line"), ui.t("classification.curve_sigmoid")]
    chart = sigmoid_template(ui.lang()).copy(deep=False)
    chart.data = lc.sigmoid_curve(w, b).rename(columns={"z": names[0], "sigma": names[1]})
    return chart


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
            st.altair_chart(
                ui.unchecked(regions_chart(key, (p["px"], p["py"]), selectable=True, height=440)),
                width="stretch", key=REGIONS_KEY, on_select=functools.partial(on_pick, p),
                selection_mode=["pick_cell", "pick_point"],
            )
            st.caption(ui.t("classification.regions_caption"))
        with right:
            st.caption(ui.t("classification.point_intro"))
            s1, s2 = st.columns(2)
            s1.slider("x₁", -lc.EXTENT, lc.EXTENT, step=0.1, key=p.key("px"))
            s2.slider("x₂", -lc.EXTENT, lc.EXTENT, step=0.1, key=p.key("py"))
            point = np.array([p["px"], p["py"]])
            breakdown = lc.point_breakdown(run.model, point)
            for chart in probability_charts(breakdown.probabilities, run.k):
                show(chart)
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
            show(curves_chart(key, ui.lang(), "loss"))
        with accuracy_col:
            show(curves_chart(key, ui.lang(), "accuracy"))
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
                show(regions_chart(key, None, selectable=False, height=300))
                st.markdown(metric_line(trained(*key)))
                show(curves_chart(key, ui.lang(), "loss", height=130))
        show(accuracy_race_chart(tuple(keys.values()), ui.lang()))
        st.caption(ui.t("classification.compare_caption"))


@st.cache_resource(show_spinner=False, max_entries=CHARTS)
def accuracy_race_chart(keys: tuple[tuple, ...], lang: str) -> alt.Chart:
    """Both losses' training accuracy against the step, in one chart."""
    both = pd.concat(lc.history_frame(trained(*key).model.history).assign(loss_name=loss_label(key[-1])) for key in keys)
    step = ui.t("classification.axis_step")
    return (
        alt.Chart(both)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title=step, axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("accuracy:Q", title=ui.t("classification.axis_accuracy"), scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("loss_name:N", title=ui.t("classification.loss"), legend=alt.Legend(orient="bottom")),
            # Dashed MSE stays visible where the two curves lie on top of each other.
            strokeDash=alt.StrokeDash("loss_name:N", legend=None),
            tooltip=[
                alt.Tooltip("loss_name:N", title=ui.t("classification.loss")),
                alt.Tooltip("step:Q", title=step),
                alt.Tooltip("accuracy:Q", title=ui.t("classification.axis_accuracy"), format=".3f"),
            ],
        )
        .properties(height=200)
    )


with ui.page(PAGE, SETTINGS) as p:
    try_first(p)
    p.try_it(PRESETS)
    sigmoid_section(p)
    fit_controls(p)
    explore_section(p)
    fit_results(p)
    ui.take_home(p, SETTINGS)
    compare_section(p)
