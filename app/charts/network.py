"""Lesson 5b's charts as plain Vega-Lite dicts (``vega.show``): the nutshell's three layers against one,
each activation with its derivative, and each layer's gradient in fresh deep nets.

Specs are built once per language in cache_resource (a page script is re-executed on every run, so an
lru_cache in it would start empty each time), behind this module's own small lru_cache (``front``), and
shared read-only; so is the data a setting fixes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import ui
from app.charts import front
from app.i18n import lang, t
from app.vega import arrow, lines, nominal, quantitative
from app.vega import show as show_vega
from lessons import network as nw

CHARTS = 32  # fixed chart parts kept per server
SPECS = 32  # chart specs kept per server: languages × activations
# Blue, bluish green and vermillion from the app's colour-blind-safe series colours (app.a11y), as the
# blue, green and orange-red they were; the gradient chart also gives each its own dash and point shape.
COLOURS = dict(zip(nw.ACTIVATIONS, ["#0072b2", "#1aa589", "#d55e00"], strict=True))
# The ten outputs' colours, each at least 3:1 against the light and the dark theme's background
# (Streamlit's own ten end in a light grey that vanishes on the light one).
DIGIT_COLOURS = ["#1c7ed6", "#e8590c", "#2f9e44", "#e03131", "#7950f2", "#a0522d", "#d6336c", "#868e96", "#9c8a00",
                 "#0c8599"]
DASHES = dict(zip(nw.ACTIVATIONS, [[1, 0], [6, 3], [2, 2]], strict=True))
SHAPES = dict(zip(nw.ACTIVATIONS, ["circle", "square", "triangle-up"], strict=True))


def name_of(activation: str) -> str:
    """An activation's display name."""
    return t(f"mnist.net.act_{activation}")


# ------------------------------------------------------------------------------ the nutshell


@front(64)
@st.cache_resource(show_spinner=False, max_entries=64, ttl=24 * 3600)
def nutshell(source: str, between: str, seed: int) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int, pd.DataFrame]:
    """The random layers' shapes, the collapsed W's shape and b's length, and both networks' outputs
    (shared read-only: a copy per call was a large part of a student's first page)."""
    data = ui.mnist_data()
    layers = nw.random_linear_layers(seed=seed)
    w, b = nw.collapse_linear(layers)
    x = nw.normalise(data.test_images[: nw.N_IMAGES])
    table = nw.nutshell_comparison(x, layers, None if between == "none" else between)
    return tuple(layer[0].shape for layer in layers), w.shape, len(b), table


@front(SPECS)
@st.cache_resource(show_spinner=False, max_entries=SPECS)
def nutshell_spec(language: str) -> dict[str, Any]:
    """Each image's ten outputs (dataset ``outputs``): three layers across, the one collapsed layer up,
    the diagonal (dataset ``diagonal``: its two ends) dashed."""
    three, one, output = t("mnist.net.axis_three"), t("mnist.net.axis_one"), t("mnist.net.output")
    diagonal = {
        "data": {"name": "diagonal"},
        "mark": {"type": "line", "color": "#888", "strokeDash": [4, 4]},
        "encoding": {"x": quantitative("v"), "y": quantitative("v")},
    }
    points = {
        "data": {"name": "outputs"},
        "mark": {"type": "circle", "size": 28, "opacity": 0.7},
        "encoding": {
            "x": quantitative("three_layers", title=three),
            "y": quantitative("one_layer", title=one),
            # Ten digits five a row below the plot: one a row on the right left a phone's plot 170 px wide.
            "color": nominal("digit", title=output, legend={"orient": "bottom", "direction": "horizontal", "columns": 5},
                             scale={"range": DIGIT_COLOURS}),
            "tooltip": [
                quantitative("image", title=t("mnist.net.image")),
                nominal("digit", title=output),
                quantitative("three_layers", title=three, format=".6f"),
                quantitative("one_layer", title=one, format=".6f"),
                quantitative("difference", title=t("mnist.net.difference"), format=".2e"),
            ],
        },
    }
    return {"layer": [diagonal, points], "height": 380}  # the legend's two rows take 60 px of it


@front(64)
@st.cache_resource(show_spinner=False, max_entries=64, ttl=24 * 3600)
def nutshell_figures(source: str, between: str, seed: int) -> tuple[float, float, int, list[float], bytes]:
    """The nutshell's largest output gap and share of same answers (``nw.nutshell_agreement``), its image
    count, the diagonal's ends and the outputs as Arrow: once per setting for the whole class."""
    table = nutshell(source, between, seed)[3]
    both = table[["three_layers", "one_layer"]].to_numpy()
    gap, same_digit = nw.nutshell_agreement(table)
    return gap, same_digit, int(table["image"].nunique()), [float(both.min()), float(both.max())], arrow(table)


def show_nutshell(source: str, between: str, seed: int) -> None:
    """Each output of the three layers against the collapsed layer's, on the dashed diagonal where they agree."""
    gap, _, n, diagonal, outputs = nutshell_figures(source, between, seed)
    described = t("access.net_nutshell", n=n, gap=nw.readable(gap))
    show_vega(nutshell_spec(lang()), {"diagonal": {"v": diagonal}, "outputs": outputs}, description=described)


# ------------------------------------------------------------------------------ activations


@front(SPECS)
@st.cache_resource(show_spinner=False, max_entries=SPECS)
def activation_spec(activation: str, language: str) -> dict[str, Any]:
    """One activation f(z) (solid) and its derivative f′(z) (dashed), dataset ``curves``: one chart each,
    so on a phone they stack instead of running off the screen."""
    return {
        "data": {"name": "curves"},
        "mark": {"type": "line", "strokeWidth": 2.5, "color": COLOURS[activation]},
        "encoding": {
            "x": quantitative("z", title="z"),
            "y": quantitative("value", title=None),
            "strokeDash": nominal("curve", title=None, sort=["f(z)", "f′(z)"], legend={"orient": "top"}),
            "tooltip": [
                nominal("curve", title=t("mnist.net.curve")),
                quantitative("z", title="z", format=".2f"),
                quantitative("value", title=t("mnist.net.value"), format=".4f"),
            ],
        },
        "height": 300,
    }


@front(CHARTS)
@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def activation_data(activation: str, zmax: float) -> bytes:
    """The activation's two curves over [−zmax, zmax] as Arrow, once per setting for the whole class."""
    return arrow(nw.activation_curves((activation,), lo=-zmax, hi=zmax))


def show_activation(activation: str, zmax: float) -> None:
    """The activation and its derivative over [−zmax, zmax]."""
    show_vega(activation_spec(activation, lang()), {"curves": activation_data(activation, zmax)},
              description=t("access.net_activation", name=name_of(activation), zmax=f"{zmax:g}"))


# ------------------------------------------------------------------------ vanishing gradients


@front(64)
@st.cache_resource(show_spinner=False, max_entries=64, ttl=24 * 3600)  # shared read-only: no copy per call
def vanishing(source: str, depth: int, width: int, seed: int) -> pd.DataFrame:
    """Per-layer gradient norms of fresh sigmoid, tanh and ReLU nets on a batch of test images."""
    data = ui.mnist_data()
    x = nw.normalise(data.test_images[: nw.N_BATCH])
    y = nw.one_hot(data.test_labels[: nw.N_BATCH])
    return nw.vanishing_table(x, y, depth, width, seed=seed)


@front(CHARTS)
@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def gradient_data(source: str, depth: int, width: int, seed: int, language: str) -> bytes:
    """Each layer's gradient norm in the three fresh deep nets, named in ``language``, as Arrow."""
    grads = vanishing(source, depth, width, seed)
    return arrow(grads.assign(name=grads["activation"].map(name_of)))


@front(SPECS)
@st.cache_resource(show_spinner=False, max_entries=SPECS)
def gradient_spec(language: str) -> dict[str, Any]:
    """Each layer's gradient norm (log scale) in the three fresh deep nets (dataset ``grads``)."""
    layer, norm, activation = t("mnist.net.layer"), t("mnist.net.grad_norm"), t("mnist.net.activation")
    names = [name_of(a) for a in nw.ACTIVATIONS]
    legend = {"orient": "bottom"}
    series = {  # colour, dash and shape on one field and title: one legend shows all three
        "color": nominal("name", title=activation, legend=legend, scale={"domain": names, "range": list(COLOURS.values())}),
        "strokeDash": nominal("name", title=activation, legend=legend, scale={"domain": names, "range": list(DASHES.values())}),
        "shape": nominal("name", title=activation, legend=legend, scale={"domain": names, "range": list(SHAPES.values())}),
    }
    line_series = {name: series[name] for name in ("color", "strokeDash")}
    point_series = {name: series[name] for name in ("color", "shape")}
    return {
        "data": {"name": "grads"},
        "encoding": {
            "x": quantitative("layer", title=layer, axis={"tickMinStep": 1, "format": "d"}),
            # On two lines: on one it is longer than the plot is high, and ran off the chart's top.
            "y": quantitative("grad_norm", title=lines(norm), scale={"type": "log"}),
            "tooltip": [
                nominal("name", title=activation),
                quantitative("layer", title=layer),
                quantitative("grad_norm", title=norm, format=".3~g"),
                quantitative("relative", title=t("mnist.net.relative"), format=".3~g"),
            ],
        },
        "layer": [
            {"mark": {"type": "line", "strokeWidth": 2.5}, "encoding": line_series},
            {"mark": {"type": "point", "filled": True, "size": 50}, "encoding": point_series},
        ],
        "height": 320,
    }


def show_gradients(source: str, depth: int, width: int, seed: int) -> None:
    """Each layer's gradient norm (log scale) in the three fresh deep nets."""
    share = nw.first_layer_share(vanishing(source, depth, width, seed))
    described = t("access.net_gradients", depth=depth, **{name: nw.readable(share[name]) for name in nw.ACTIVATIONS})
    show_vega(gradient_spec(lang()), {"grads": gradient_data(source, depth, width, seed, lang())}, description=described)
