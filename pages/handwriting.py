"""Lesson 7, real handwriting: what each distortion does to a digit, networks trained with and without them, how
each reads MNIST's test set and real handwriting (the development set, else this student's kept digits; in a class,
its collection too) with the digits it misread; then fine-tuning on your own data, the class's figures as example."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from app import class_finetune, ui
from app.charts.handwriting import (
    accuracy_chart,
    accuracy_tables,
    enlarged,
    misread_pictures,
    tiled,
)
from lessons import augment, handwriting

PAGE = "handwriting"
SETTINGS = handwriting.SETTINGS
KEPT_KEY = "handwriting.kept"  # written by pages/draw.py: [(28×28 float32, label, digest), ...]
COMPARE_KEY = f"{PAGE}.__compare"  # this student asked for the comparison (it may train networks)
SEED_KEY = f"{PAGE}.__seed"
ZOOM = 6  # the digit and its distortion, 28 px shown at 6×
GRID_ZOOM = 3  # the grid of every distortion
GRID_STEPS = 5  # amounts per distortion in the grid, from its lowest to its highest
SAMPLES = 8  # random training variants shown
PREPARED_CACHE = len(handwriting.VARIANTS)
REPORT_CACHE = 32
PRESETS = [
    ui.Preset("handwriting.try_slant", {**handwriting.NEUTRAL, "digit": 7, "slant": 0.4}),
    ui.Preset("handwriting.try_thin", {**handwriting.NEUTRAL, "digit": 4, "thickness": -1.0}),
    ui.Preset("handwriting.try_wobble", {**handwriting.NEUTRAL, "digit": 2, "elastic": 3.0, "rotation": 15.0}),
    ui.Preset("handwriting.try_compare", {"model": "course", "variant": "thin"}),
]


def network_name(name: str) -> str:
    return ui.t(f"handwriting.model.{name}")


def example_digit(digit: int) -> np.ndarray:
    return handwriting.first_test_digit(ui.mnist_data(), digit)


@st.cache_data(max_entries=20, ttl=24 * 3600, show_spinner=False)
def grid(digit: int, source: str) -> dict[str, bytes]:
    """The digit (``original``) and every distortion's row for it, enlarged: the same for every slider
    position, so built once per digit (and data ``source``) for the whole class."""
    image = example_digit(digit)
    return {"original": enlarged(image, ZOOM),
            **{kind: enlarged(tiled(augment.sweep(image, kind, GRID_STEPS), GRID_STEPS), GRID_ZOOM)
               for kind in augment.KINDS}}


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def training_samples(digit: int, source: str, seed: int) -> bytes:
    """``SAMPLES`` random mixes of every distortion of ``digit``, as training draws them, enlarged."""
    return enlarged(tiled(augment.training_samples(example_digit(digit), SAMPLES, seed), SAMPLES // 2), GRID_ZOOM)


def new_samples() -> None:  # another seed: training draws its random mixes afresh, so may the page
    st.session_state[SEED_KEY] = st.session_state.get(SEED_KEY, 0) + 1


@ui.fragment
def distortions(p: ui.Page) -> None:
    """Sliders for every distortion beside the digit they bend, the grid of all of them, and what training sees."""
    controls, shown = st.columns([1, 1.6], gap="large")
    with controls:
        st.segmented_control(ui.t("handwriting.digit"), list(range(10)), key=p.key("digit"), required=True, wrap=True)
        for kind, spec in augment.DISTORTIONS.items():
            st.slider(ui.t("handwriting.slider", kind=ui.t(f"handwriting.kind.{kind}"), unit=ui.t(f"handwriting.unit.{spec.unit}")),
                      min_value=float(spec.low), max_value=float(spec.high), step=(spec.high - spec.low) / 40, key=p.key(kind))
        p.reset_button()
    digit, source = int(p["digit"]), ui.mnist_data().source
    rows = grid(digit, source)
    with shown:
        before, after = st.columns(2)
        before.image(rows["original"], caption=ui.t("handwriting.original"), output_format="PNG",
                     alt=ui.t("access.hw_original", digit=digit))
        bent = augment.distorted(example_digit(digit), {kind: float(p[kind]) for kind in augment.KINDS})
        after.image(enlarged(bent, ZOOM), caption=ui.t("handwriting.distorted"), output_format="PNG",
                    alt=ui.t("access.hw_distorted", digit=digit))
        st.markdown("##### " + ui.t("handwriting.grid_title"))
        for kind, spec in augment.DISTORTIONS.items():
            name_col, row_col = st.columns([1, 3], vertical_alignment="center")
            name_col.markdown(ui.t(f"handwriting.kind.{kind}"))
            row_col.image(rows[kind], output_format="PNG",
                          alt=ui.t("access.hw_row", digit=digit, kind=ui.t(f"handwriting.kind.{kind}"), low=f"{spec.low:g}",
                                   high=f"{spec.high:g}", unit=ui.t(f"handwriting.unit.{spec.unit}")),
                          caption=ui.t("handwriting.grid_range", low=f"{spec.low:g}", high=f"{spec.high:g}",
                                       unit=ui.t(f"handwriting.unit.{spec.unit}")))
    with st.expander(ui.t("handwriting.samples_title"), icon="🎲"):
        st.markdown(ui.t("handwriting.samples"))
        st.image(training_samples(digit, source, st.session_state.get(SEED_KEY, 0)), output_format="PNG",
                 alt=ui.t("access.hw_samples", digit=digit))
        st.button(ui.t("handwriting.samples_again"), key=p.key("__samples"), icon="🎲", on_click=new_samples)


def trained(name: str) -> Any:
    """Network ``name``, trained once per server (and kept on disk for every worker), with a progress bar."""
    return ui.trained_with_bar(handwriting.config_of(name, ui.mnist_data()), "handwriting.training", model=network_name(name))


@st.cache_resource(show_spinner=False, max_entries=1, ttl=24 * 3600)
def development_set() -> tuple[str | None, Any]:
    """The development set, read once per server, or the code of why it cannot be."""
    try:
        return None, handwriting.load_handwriting()
    except handwriting.HandwritingError as error:
        return error.code, None


@st.cache_resource(show_spinner=False, max_entries=PREPARED_CACHE, ttl=24 * 3600)
def prepared(variant: str) -> np.ndarray:
    """The development set as ``variant`` (made in memory), through the draw page's preparation: once per server."""
    _, data = development_set()
    return handwriting.prepare(handwriting.variant_images(data, variant))


@st.cache_resource(show_spinner=False, max_entries=REPORT_CACHE, ttl=24 * 3600)
def report(config: Any, source: str, variant: str, _model: Any) -> handwriting.HandwritingReport:
    """How the model trained with ``config`` on ``source`` reads the development set as ``variant``."""
    _, data = development_set()
    return handwriting.read_handwriting(_model, prepared(variant), data)


def show_comparison(models: dict[str, Any], sets: dict[str, dict[str, float]]) -> None:
    """The accuracies (``sets``: set name -> network -> accuracy) as a chart and as a table, with each network's recipe."""
    table, wide = accuracy_tables(sets, {name: network_name(name) for name in models}, ui.t("handwriting.col.network"))
    ui.show_chart(accuracy_chart(table), description=ui.t("access.hw_chart"))
    st.dataframe(wide)
    st.caption(ui.t("handwriting.recipes"))


def compare(p: ui.Page, models: dict[str, Any], data: Any) -> None:
    """The networks on MNIST test and on real handwriting (the development set's three variants, else the
    digits this student kept), then the misread digits of the network (and set) the student picks."""
    scores = {ui.t("handwriting.set.mnist"): {name: model.accuracy for name, model in models.items()}}
    scores |= class_finetune.class_scores(models)  # in a class: its collection is one more test set
    if data is None:
        images, labels = handwriting.kept_arrays(st.session_state.get(KEPT_KEY))
        if not len(labels):
            st.info(ui.t("handwriting.kept_none"))
            st.page_link("pages/draw.py", label=ui.t("handwriting.to_draw"), icon="✍️")
            return show_comparison(models, scores)
        variants, set_names = (None,), {None: ui.t("handwriting.set.kept", count=len(labels))}
        reports = {(name, None): handwriting.read_digits(model.model, images, labels) for name, model in models.items()}
    else:
        variants, set_names = handwriting.VARIANTS, {v: ui.t(f"handwriting.variant.{v}") for v in handwriting.VARIANTS}
        with st.spinner(ui.t("handwriting.preparing")):
            reports = {(name, v): report(model.config, model.source, v, model.model) for name, model in models.items()
                       for v in variants}
    show_comparison(models, {**scores, **{set_names[v]: {n: reports[(n, v)].accuracy for n in models} for v in variants}})
    st.markdown("##### " + ui.t("handwriting.misread_title"))
    network_col, set_col = st.columns(2)
    # the names made now, in this run's language (a format_func is also called after the run)
    network_col.radio(ui.t("handwriting.col.network"), handwriting.COMPARED, key=p.key("model"), horizontal=True,
                      format_func={name: network_name(name) for name in handwriting.COMPARED}.get)
    if data is None:
        return misread_pictures(images, labels, reports[(p["model"], None)])
    set_col.radio(ui.t("handwriting.col.set"), variants, format_func=set_names.get, key=p.key("variant"), horizontal=True)
    misread_pictures(prepared(p["variant"]), data.labels, reports[(p["model"], p["variant"])])
    st.caption(ui.t("handwriting.credit"))


def request_compare() -> None:
    st.session_state[COMPARE_KEY] = True


@ui.fragment
def comparison(p: ui.Page) -> None:
    """Train (or fetch) the four networks on the student's request, then compare them."""
    problem, data = development_set()
    if problem is not None:
        st.caption(ui.t(f"handwriting.err.{problem}"))
    if not st.session_state.get(COMPARE_KEY):
        st.button(ui.t("handwriting.compare"), key=p.key("__compare"), icon="⚖️", type="primary", on_click=request_compare)
        st.caption(ui.t("handwriting.compare_note"))
        return
    compare(p, {name: trained(name) for name in handwriting.COMPARED}, data)


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        distortions(p)
    st.divider()
    st.subheader(ui.t("handwriting.compare_title"))
    st.markdown(ui.t("handwriting.compare_intro"))
    with ui.caught():
        comparison(p)
    with ui.caught():
        class_finetune.lesson_story()
    with st.expander(ui.t("handwriting.why_title"), icon="📖"):
        st.markdown(ui.t("handwriting.why"))
