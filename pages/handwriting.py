"""Lesson 7, real handwriting (issue 12.4): what each distortion does to a digit, a network trained with
and without them, and how each network reads MNIST's test set and real handwriting, side by side,
with the digits it misread. Real handwriting is the development set (``lessons.handwriting``) where
the server has it, else the digits this student drew and labelled on the draw page."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from app import ui
from lessons import augment, canvas, classboard, handwriting, mlp

PAGE = "handwriting"
KEPT_KEY = "handwriting.kept"  # written by pages/draw.py: [(28×28 float32, label, digest), ...]
COMPARE_KEY = f"{PAGE}.__compare"  # this student asked for the comparison (it may train networks)
ZOOM = 6  # the digit and its distortion, 28 px shown at 6×
GRID_ZOOM = 3  # the grid of every distortion
GRID_STEPS = 5  # amounts per distortion in the grid, from its lowest to its highest
SAMPLES = 8  # random training variants shown
SHOWN_MISREAD = 24
MISREAD_PX = 84
PREPARED_CACHE = len(handwriting.VARIANTS)
REPORT_CACHE = 32
NO_AUGMENT = "robust_plain"  # the robust network trained without distortions
MODELS = ("course", "best", NO_AUGMENT, "robust")
KIND_NAMES = {
    "slant": "handwriting.kind.slant",
    "rotation": "handwriting.kind.rotation",
    "scale": "handwriting.kind.scale",
    "shift": "handwriting.kind.shift",
    "thickness": "handwriting.kind.thickness",
    "blur": "handwriting.kind.blur",
    "elastic": "handwriting.kind.elastic",
}
UNIT_NAMES = {
    "shear": "handwriting.unit.shear",
    "degrees": "handwriting.unit.degrees",
    "factor": "handwriting.unit.factor",
    "pixels": "handwriting.unit.pixels",
}
MODEL_NAMES = {
    "course": "handwriting.model.course",
    "best": "handwriting.model.best",
    NO_AUGMENT: "handwriting.model.robust_plain",
    "robust": "handwriting.model.robust",
}
VARIANT_NAMES = {
    "plain": "handwriting.variant.plain",
    "thin": "handwriting.variant.thin",
    "photo": "handwriting.variant.photo",
}
SET_ERRORS = {"absent": "handwriting.err.absent", "bad_set": "handwriting.err.bad_set"}

SETTINGS = {
    "digit": ui.Setting(7, 0, 9),
    **{kind: ui.Setting(float(d.neutral), d.low, d.high) for kind, d in augment.DISTORTIONS.items()},
    "model": ui.Setting("course", options=MODELS),
    "variant": ui.Setting("plain", options=handwriting.VARIANTS),
}
NEUTRAL = {kind: float(d.neutral) for kind, d in augment.DISTORTIONS.items()}
PRESETS = [
    ui.Preset("handwriting.try_slant", {**NEUTRAL, "digit": 7, "slant": 0.4}),
    ui.Preset("handwriting.try_thin", {**NEUTRAL, "digit": 4, "thickness": -1.0}),
    ui.Preset("handwriting.try_wobble", {**NEUTRAL, "digit": 2, "elastic": 3.0, "rotation": 15.0}),
    ui.Preset("handwriting.try_compare", {"model": "course", "variant": "thin"}),
]


def enlarged(image: np.ndarray, zoom: int) -> bytes:
    """A uint8 or [0, 1] picture with each pixel a crisp ``zoom``×``zoom`` square, as PNG bytes.

    st.image turns an array into a JPEG on every run; the fixed pictures are encoded once (cached)
    and passed as PNG, which it sends as they are."""
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        pixels = (np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(np.repeat(np.repeat(pixels, zoom, axis=0), zoom, axis=1)).save(out, format="PNG")
    return out.getvalue()


# ------------------------------------------------------------------------------ 1. the distortions


def example_digit(digit: int) -> np.ndarray:
    """The first MNIST test image of ``digit``, as floats in [0, 1]."""
    data = ui.mnist_data()
    index = int(np.flatnonzero(np.asarray(data.test_labels) == digit)[0])
    return np.asarray(data.test_images[index], dtype=np.float32) / 255.0


def distorted(image: np.ndarray, amounts: dict[str, float]) -> np.ndarray:
    """The digit with every distortion at its slider's amount, one after the other."""
    import torch

    out = torch.as_tensor(image).reshape(1, 28, 28)
    for kind, amount in amounts.items():
        if amount != augment.DISTORTIONS[kind].neutral:
            out = augment.distort(out, kind, amount)
    return out[0].numpy()


def grid_row(image: np.ndarray, kind: str) -> np.ndarray:
    """The digit under one distortion at ``GRID_STEPS`` amounts from its lowest to its highest, side by side."""
    import torch

    spec = augment.DISTORTIONS[kind]
    batch = torch.as_tensor(image).reshape(1, 28, 28)
    row = [augment.distort(batch, kind, float(amount))[0].numpy() for amount in np.linspace(spec.low, spec.high, GRID_STEPS)]
    return classboard.montage(np.stack(row), columns=GRID_STEPS)


@st.cache_data(max_entries=20, ttl=24 * 3600, show_spinner=False)
def grid(digit: int, source: str) -> dict[str, bytes]:
    """The digit (``original``) and every distortion's row for it, enlarged: the same for every slider
    position, so built once per digit (and data ``source``) for the whole class."""
    image = example_digit(digit)
    return {"original": enlarged(image, ZOOM),
            **{kind: enlarged(grid_row(image, kind), GRID_ZOOM) for kind in augment.KINDS}}


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def training_samples(digit: int, source: str, seed: int) -> bytes:
    """``SAMPLES`` random mixes of every distortion of ``digit``, as training draws them (strength 1),
    enlarged: the same for every slider position, so drawn once per digit and seed."""
    import torch

    batch = torch.as_tensor(example_digit(digit)).reshape(1, 28, 28).expand(SAMPLES, 28, 28)
    mixed = augment.augment_batch(batch, torch.Generator().manual_seed(seed), 1.0).numpy()
    return enlarged(classboard.montage(mixed, columns=SAMPLES // 2), GRID_ZOOM)


def new_samples() -> None:
    st.session_state[f"{PAGE}.__seed"] = st.session_state.get(f"{PAGE}.__seed", 0) + 1


@st.fragment
def distortions(p: ui.Page) -> None:
    """Sliders for every distortion beside the digit they bend, the grid of all of them, and what training sees."""
    controls, shown = st.columns([1, 1.6], gap="large")
    with controls:
        st.segmented_control(ui.t("handwriting.digit"), list(range(10)), key=p.key("digit"), required=True, wrap=True)
        for kind, spec in augment.DISTORTIONS.items():
            st.slider(ui.t("handwriting.slider", kind=ui.t(KIND_NAMES[kind]), unit=ui.t(UNIT_NAMES[spec.unit])),
                      min_value=float(spec.low), max_value=float(spec.high), step=(spec.high - spec.low) / 40,
                      key=p.key(kind))
        p.reset_button()
    digit, source = int(p["digit"]), ui.mnist_data().source
    rows = grid(digit, source)
    with shown:
        before, after = st.columns(2)
        before.image(rows["original"], caption=ui.t("handwriting.original"), output_format="PNG")
        after.image(enlarged(distorted(example_digit(digit), {kind: float(p[kind]) for kind in augment.KINDS}), ZOOM),
                    caption=ui.t("handwriting.distorted"), output_format="PNG")
        st.markdown("##### " + ui.t("handwriting.grid_title"))
        for kind, spec in augment.DISTORTIONS.items():
            name_col, row_col = st.columns([1, 3], vertical_alignment="center")
            name_col.markdown(ui.t(KIND_NAMES[kind]))
            row_col.image(rows[kind], output_format="PNG",
                          caption=ui.t("handwriting.grid_range", low=f"{spec.low:g}", high=f"{spec.high:g}",
                                       unit=ui.t(UNIT_NAMES[spec.unit])))
    with st.expander(ui.t("handwriting.samples_title"), icon="🎲"):
        st.markdown(ui.t("handwriting.samples"))
        st.image(training_samples(digit, source, st.session_state.get(f"{PAGE}.__seed", 0)), output_format="PNG")
        st.button(ui.t("handwriting.samples_again"), key=p.key("__samples"), icon="🎲", on_click=new_samples)


# ------------------------------------------------------------------------------ 2. with and without


def config_of(name: str) -> mlp.TrainConfig:
    """The training recipe of model ``name``: a preset, or the robust one without its distortions."""
    data = ui.mnist_data()
    if name == NO_AUGMENT:
        return replace(mlp.preset_for("robust", data), augment=0.0)
    return mlp.preset_for(name, data)


def trained(name: str) -> Any:
    """Model ``name``, trained once per server (and kept on disk for every worker), with a progress bar."""
    return ui.trained_with_bar(config_of(name), "handwriting.training", model=ui.t(MODEL_NAMES[name]))


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
def report(config: mlp.TrainConfig, source: str, variant: str, _model: Any) -> handwriting.HandwritingReport:
    """How the model trained with ``config`` on ``source`` reads the development set as ``variant``."""
    _, data = development_set()
    return handwriting.read_handwriting(_model, prepared(variant), data)


def kept_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits this student kept on the draw page, (n, 28, 28) and their labels."""
    kept = st.session_state.get(KEPT_KEY) or []
    if not kept:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    return np.stack([image for image, _, _ in kept]), np.array([label for _, label, _ in kept], np.int64)


def kept_reading(model: Any, images: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Accuracy on the kept digits, each prediction and its probability."""
    proba = mlp.predict_proba(model, images)
    predictions = proba.argmax(axis=1)
    return float((predictions == labels).mean()), predictions, proba.max(axis=1)


def accuracy_chart(table: pd.DataFrame) -> alt.Chart:
    """Accuracy of each network on each set, bars side by side per network."""
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("network:N", title=None, sort=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
            xOffset=alt.XOffset("set:N", sort=None),
            y=alt.Y("accuracy:Q", title=ui.t("handwriting.axis_accuracy"), scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%", titleAngle=0, titleAlign="left", titleX=-30, titleY=-12)),
            color=alt.Color("set:N", title=None, sort=None,
                            legend=alt.Legend(orient="bottom", columns=2, labelLimit=300)),
            tooltip=[
                alt.Tooltip("network:N", title=ui.t("handwriting.col.network")),
                alt.Tooltip("set:N", title=ui.t("handwriting.col.set")),
                alt.Tooltip("accuracy:Q", title=ui.t("handwriting.axis_accuracy"), format=".1%"),
            ],
        )
        .properties(height=260)
    )


def misread_pictures(images: np.ndarray, truth: np.ndarray, predictions: np.ndarray, confidence: np.ndarray,
                     order: np.ndarray) -> None:
    """The misread digits, most confident mistakes first, each captioned with what it was read as."""
    order = order[:SHOWN_MISREAD]
    if not len(order):
        st.success(ui.t("handwriting.no_misread"))
        return
    st.image([canvas.fit_for_display(images[i], MISREAD_PX) for i in order], clamp=True, width=MISREAD_PX,
             caption=[ui.t("handwriting.misread_caption", read=int(predictions[i]), truth=int(truth[i]),
                           percent=f"{confidence[i]:.0%}") for i in order])


def compare_on_development_set(p: ui.Page, models: dict[str, Any], data: Any) -> None:
    """The table and chart over MNIST test and the three kinds of real handwriting, then the misread digits."""
    rows = []
    with st.spinner(ui.t("handwriting.preparing")):
        reports = {(name, variant): report(model.config, model.source, variant, model.model)
                   for name, model in models.items() for variant in handwriting.VARIANTS}
    for name, model in models.items():
        rows.append({"network": ui.t(MODEL_NAMES[name]), "set": ui.t("handwriting.set.mnist"), "accuracy": model.accuracy})
        rows += [{"network": ui.t(MODEL_NAMES[name]), "set": ui.t(VARIANT_NAMES[variant]),
                  "accuracy": reports[(name, variant)].accuracy} for variant in handwriting.VARIANTS]
    show_comparison(models, pd.DataFrame(rows))
    st.markdown("##### " + ui.t("handwriting.misread_title"))
    pick, which = st.columns(2)
    pick.radio(ui.t("handwriting.col.network"), MODELS, format_func={m: ui.t(k) for m, k in MODEL_NAMES.items()}.get,
               key=p.key("model"), horizontal=True)
    which.radio(ui.t("handwriting.col.set"), handwriting.VARIANTS, format_func={v: ui.t(k) for v, k in VARIANT_NAMES.items()}.get,
                key=p.key("variant"), horizontal=True)
    variant = p["variant"]
    chosen = reports[(p["model"], variant)]
    images = prepared(variant)
    st.caption(ui.t("handwriting.misread_count", wrong=f"{len(chosen.misread):,}", total=f"{len(data):,}"))
    misread_pictures(images, data.labels, chosen.predictions, chosen.confidence, chosen.misread)
    st.caption(ui.t("handwriting.credit"))


def compare_on_kept_digits(p: ui.Page, models: dict[str, Any]) -> None:
    """The same comparison on the digits this student kept, where the development set is absent."""
    images, labels = kept_digits()
    if not len(labels):
        st.info(ui.t("handwriting.kept_none"))
        st.page_link("pages/draw.py", label=ui.t("handwriting.to_draw"), icon="✍️")
        show_comparison(models, pd.DataFrame(
            [{"network": ui.t(MODEL_NAMES[n]), "set": ui.t("handwriting.set.mnist"), "accuracy": m.accuracy}
             for n, m in models.items()]))
        return
    readings = {name: kept_reading(model.model, images, labels) for name, model in models.items()}
    rows = []
    for name, model in models.items():
        rows.append({"network": ui.t(MODEL_NAMES[name]), "set": ui.t("handwriting.set.mnist"), "accuracy": model.accuracy})
        rows.append({"network": ui.t(MODEL_NAMES[name]), "set": ui.t("handwriting.set.kept", count=len(labels)),
                     "accuracy": readings[name][0]})
    show_comparison(models, pd.DataFrame(rows))
    st.markdown("##### " + ui.t("handwriting.misread_title"))
    st.radio(ui.t("handwriting.col.network"), MODELS, format_func={m: ui.t(k) for m, k in MODEL_NAMES.items()}.get,
             key=p.key("model"), horizontal=True)
    _, predictions, confidence = readings[p["model"]]
    wrong = np.flatnonzero(predictions != labels)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")]
    st.caption(ui.t("handwriting.misread_count", wrong=f"{len(order):,}", total=f"{len(labels):,}"))
    misread_pictures(images, labels, predictions, confidence, order)


def show_comparison(models: dict[str, Any], table: pd.DataFrame) -> None:
    """The accuracies as a chart and as a table (networks down, sets across), with each network's recipe."""
    ui.show_chart(accuracy_chart(table))
    wide = table.pivot(index="network", columns="set", values="accuracy")
    wide = wide.reindex(index=[ui.t(MODEL_NAMES[n]) for n in models], columns=list(dict.fromkeys(table["set"])))
    wide.index.name = ui.t("handwriting.col.network")
    wide.columns.name = None
    st.dataframe(wide.map(lambda a: f"{a:.1%}"))
    st.caption(ui.t("handwriting.recipes"))


def request_compare() -> None:
    st.session_state[COMPARE_KEY] = True


@st.fragment
def comparison(p: ui.Page) -> None:
    """Train (or fetch) the four networks on the student's request, then compare them."""
    problem, data = development_set()
    if problem is not None:
        st.caption(ui.t(SET_ERRORS[problem]))
    if not st.session_state.get(COMPARE_KEY):
        st.button(ui.t("handwriting.compare"), key=p.key("__compare"), icon="⚖️", type="primary",
                  on_click=request_compare)
        st.caption(ui.t("handwriting.compare_note"))
        return
    models = {name: trained(name) for name in MODELS}
    if data is not None:
        compare_on_development_set(p, models, data)
    else:
        compare_on_kept_digits(p, models)


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        distortions(p)
    st.divider()
    st.subheader(ui.t("handwriting.compare_title"))
    st.markdown(ui.t("handwriting.compare_intro"))
    with ui.caught():
        comparison(p)
    with st.expander(ui.t("handwriting.why_title"), icon="📖"):
        st.markdown(ui.t("handwriting.why"))
