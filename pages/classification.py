"""Lesson 4: from regression to classification — the sigmoid, decision regions, softmax, MSE vs cross-entropy."""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from app import ui
from app.charts import classification as charts
from lessons import classification as lc

PAGE = "classification"
SETTINGS = lc.SETTINGS
REGIONS_KEY = f"{PAGE}.__regions"  # the clickable decision-region chart
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


def run_key(p: ui.Page, loss: str | None = None) -> tuple:
    """The cache key of a fit: data set, classes, noise, seed, learning rate, steps and loss."""
    # moons and XOR ignore the class slider: one cache entry for them, whatever it shows
    classes = lc.dataset_classes(p["data"], p["classes"])
    return (p["data"], classes, p["noise"], p["seed"], p["lr"], p["steps"], loss or p["loss"])


def on_pick(p: ui.Page) -> None:
    """Click on the decision-region chart: move the picked point there (runs before the widgets)."""
    picked = charts.picked_point(st.session_state.get(REGIONS_KEY))
    if picked is not None:
        p.apply({"px": picked[0], "py": picked[1]})


@ui.fragment
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
        note = charts.sigmoid_note(p["w"], p["b"])
        st.caption(note)
        ui.announce(note, key=f"{PAGE}.sigmoid")
    with picture, ui.caught():
        charts.show_sigmoid(p["w"], p["b"])
        st.caption(ui.t("classification.sigmoid_caption"))


def fit_controls(p: ui.Page) -> None:
    """2. Classification in 2-D: the data and training settings (a change retrains: the whole page follows)."""
    st.header(ui.t("classification.fit_header"))
    st.markdown(ui.t("classification.fit_intro"))
    c1, c2, c3 = st.columns(3)
    # Fixed tables, not calls to ui.t: a label must not depend on when it is asked for.
    c1.selectbox(ui.t("classification.data"), lc.DATASETS, key=p.key("data"),
                 format_func={name: ui.t(f"classification.data_{name}") for name in lc.DATASETS}.__getitem__)
    fixed = not lc.takes_class_count(p["data"])
    c1.slider(ui.t("classification.classes"), 2, lc.MAX_CLASSES, key=p.key("classes"), disabled=fixed,
              help=ui.t("classification.classes_help"))
    c2.slider(ui.t("classification.noise"), 0.0, 1.5, step=0.05, key=p.key("noise"))
    c2.slider(ui.t("classification.seed"), 0, 99, key=p.key("seed"))
    c3.select_slider(ui.t("classification.lr"), options=lc.LEARNING_RATES, key=p.key("lr"),
                     help=ui.t("classification.lr_help"))
    c3.slider(ui.t("classification.steps"), 1, 1000, key=p.key("steps"))
    loss_col, reset_col = st.columns([4, 1], vertical_alignment="bottom")
    loss_col.radio(ui.t("classification.loss"), lc.LOSSES, key=p.key("loss"), horizontal=True,
                   format_func={loss: charts.loss_label(loss) for loss in lc.LOSSES}.__getitem__,
                   help=ui.t("classification.loss_help"))
    p.reset_button(where=reset_col)
    if fixed:
        st.caption(ui.t("classification.two_only"))


@ui.fragment
def explore_section(p: ui.Page) -> None:
    """The decision regions beside the picked point's probabilities: clicking the chart or moving x₁, x₂
    reruns only this part."""
    key = run_key(p)
    with ui.caught():
        with st.spinner(ui.t("classification.training")):
            run = charts.fitted(*key)
        st.header(ui.t("classification.point_header"))
        left, right = st.columns([3, 2])
        with left:
            charts.show_regions(key, (p["px"], p["py"]), height=440, key=REGIONS_KEY,
                                on_select=functools.partial(on_pick, p), selection_mode=["pick_cell", "pick_point"])
            st.caption(ui.t("classification.regions_caption"))
        with right:
            st.caption(ui.t("classification.point_intro"))
            s1, s2 = st.columns(2)
            s1.slider("x₁", -lc.EXTENT, lc.EXTENT, step=0.1, key=p.key("px"))
            s2.slider("x₂", -lc.EXTENT, lc.EXTENT, step=0.1, key=p.key("py"))
            point = np.array([p["px"], p["py"]])
            breakdown = lc.point_breakdown(run.model, point)
            charts.show_probabilities(breakdown.probabilities, run.k, (p["px"], p["py"]))
            ui.announce(charts.point_sentence(breakdown.probabilities, (p["px"], p["py"])), key=f"{PAGE}.point")
        with st.expander(ui.t("classification.formula"), icon="🧮"):
            st.html(FORMULA_CSS)
            with st.container(key="classification-formula"):
                st.latex(lc.point_latex(run.model, point, breakdown))
            if run.k == 2:
                st.caption(ui.t("classification.two_is_softmax"))


def metric_line(run: lc.FittedRun) -> str:
    """Final loss, training and held-out accuracy of one fitted model, in one line that never gets cut."""
    return " · ".join([
        f"{ui.t('classification.metric_loss')} **{run.model.history.loss[-1]:.4f}**",
        f"{ui.t('classification.metric_train')} **{run.train_accuracy:.1%}**",
        f"{ui.t('classification.metric_test')} **{run.test_accuracy:.1%}**",
    ])


def fit_results(p: ui.Page) -> None:
    """The fitted model's numbers and training curves, and what the data set teaches."""
    key = run_key(p)
    with ui.caught():
        run = charts.fitted(*key)
        st.markdown(ui.t(f"classification.model_{'logistic' if run.k == 2 else 'softmax'}", k=run.k))
        a, b, c = st.columns(3)  # wide enough for 100.0%
        a.metric(ui.t("classification.metric_loss"), f"{run.model.history.loss[-1]:.4f}")
        b.metric(ui.t("classification.metric_train"), f"{run.train_accuracy:.1%}")
        c.metric(ui.t("classification.metric_test"), f"{run.test_accuracy:.1%}",
                 help=ui.t("classification.metric_test_help", n=lc.N_TEST))
        ui.announce(charts.trained_sentence(run, p["loss"]), key=f"{PAGE}.fit")
        loss_col, accuracy_col = st.columns(2)
        with loss_col:
            charts.show_curve(key, "loss")
        with accuracy_col:
            charts.show_curve(key, "accuracy")
        note = lc.fit_note(p["data"], run.test_accuracy)
        if note is not None:
            (st.info if note == "moons_note" else st.warning)(
                ui.t(f"classification.{note}", acc=f"{run.test_accuracy:.0%}"))


def compare_section(p: ui.Page) -> None:
    """4. MSE against cross-entropy, trained side by side on the same data."""
    st.header(ui.t("classification.compare_header"))
    st.markdown(ui.t("classification.compare_intro"))
    with ui.caught():
        keys = {loss: run_key(p, loss) for loss in lc.LOSSES}
        for column, (loss, key) in zip(st.columns(len(lc.LOSSES)), keys.items(), strict=True):
            with column:
                st.subheader(charts.loss_label(loss))
                charts.show_regions(key, None, height=300)
                st.markdown(metric_line(charts.fitted(*key)))
                charts.show_curve(key, "loss", height=130)
        charts.show_race(tuple(keys.values()))
        runs = {loss: charts.fitted(*key) for loss, key in keys.items()}
        st.caption(ui.t("classification.compare_caption"))
        surer = lc.compare_note(runs["cross_entropy"], runs["mse"])
        st.caption(ui.t(f"classification.{surer}", ce=f"{lc.mean_confidence(runs['cross_entropy']):.1%}",
                        mse=f"{lc.mean_confidence(runs['mse']):.1%}"))


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    sigmoid_section(p)
    fit_controls(p)
    explore_section(p)
    fit_results(p)
    ui.take_home(p, SETTINGS)
    compare_section(p)
