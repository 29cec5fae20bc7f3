"""Lesson 5b, the network: three linear layers collapse into one (Nutshell), the non-linear factors
and their derivatives, and gradient vanishing in a deep sigmoid net against ReLU.

Everything here is numpy (``lessons.network``), so this page never waits for torch.
"""

from typing import Any

import pandas as pd
import streamlit as st

from app import ui
from app.vega import arrow
from lessons import network as nw

PAGE = "mnist_network"
BETWEEN = ("none", "relu", "sigmoid", "tanh")
WIDTHS = (16, 32, 64, 128, 256)
N_IMAGES = 100  # test images pushed through the nutshell's layers
N_BATCH = 256  # test images in the gradient-vanishing batch
SAME = 1e-5  # "identical" for the nutshell: the tolerance
CHARTS = 32  # fixed chart parts kept per server
SPECS = 32  # chart specs kept per server: languages × activations
SETTINGS = {
    "between": ui.Setting("none", options=BETWEEN),
    "seed": ui.Setting(0, 0, 999),
    "zmax": ui.Setting(6.0, 1.0, 10.0),
    "depth": ui.Setting(8, 1, 30),
    "width": ui.Setting(64, options=WIDTHS),
}
COLOURS = dict(zip(nw.ACTIVATIONS, ["#1c7ed6", "#2f9e44", "#d9480f"], strict=True))


@st.cache_data(show_spinner=False, max_entries=64)
def vanishing(source: str, depth: int, width: int, seed: int) -> pd.DataFrame:
    """Per-layer gradient norms of fresh sigmoid, tanh and ReLU nets on a batch of test images."""
    data = ui.mnist_data()
    x = nw.normalise(data.test_images[:N_BATCH])
    y = nw.one_hot(data.test_labels[:N_BATCH])
    return nw.vanishing_table(x, y, depth, width, seed=seed)


@st.cache_data(show_spinner=False, max_entries=64)
def nutshell(source: str, between: str, seed: int) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int, pd.DataFrame]:
    """The random layers' shapes, the collapsed W's shape and b's length, and both networks' outputs."""
    data = ui.mnist_data()
    layers = nw.random_linear_layers(seed=seed)
    w, b = nw.collapse_linear(layers)
    x = nw.normalise(data.test_images[:N_IMAGES])
    table = nw.nutshell_comparison(x, layers, None if between == "none" else between)
    return tuple(layer[0].shape for layer in layers), w.shape, len(b), table


# The charts are plain Vega-Lite dicts (``ui.show_vega``): altair's building and serialising was
# most of a rerun. Specs are built once per language in cache_resource (the page script is
# re-executed on every run, so an lru_cache here would start empty each time), shared read-only.
Q, N = "quantitative", "nominal"


def channel(field: str, kind: str, **props: Any) -> dict[str, Any]:
    """A Vega-Lite encoding channel (``title=None`` hides the title, as altair's does)."""
    return {"field": field, "type": kind, **props}


def name_of(activation: str) -> str:
    """An activation's display name."""
    return ui.t(f"mnist.net.act_{activation}")


PRESETS = [
    ui.Preset("mnist.net.try_relu", {"between": "relu"}),
    ui.Preset("mnist.net.try_deep", {"depth": 20, "width": 64}),
    ui.Preset("mnist.net.try_shallow", {"depth": 2, "width": 64}),
]


def shape(dims: tuple[int, ...]) -> str:
    return " × ".join(map(str, dims))


def nutshell_section(p: ui.Page, data) -> None:
    """(1) Nutshell: three linear layers are one linear layer, unless a non-linear factor sits between.

    Its controls (and Reset) sit outside any fragment: the seed also seeds the vanishing nets below."""
    st.header(ui.t("mnist.net.nutshell"))
    controls, picture = st.columns([2, 3])
    between_names = {b: ui.t(f"mnist.net.between_{b}") for b in BETWEEN}
    with controls:
        st.selectbox(ui.t("mnist.net.between"), BETWEEN, format_func=between_names.get, key=p.key("between"))
        c2, c3 = st.columns([1, 1], vertical_alignment="bottom")
        c2.number_input(ui.t("mnist.net.seed"), min_value=0, max_value=999, key=p.key("seed"))
        p.reset_button(where=c3)
        st.markdown(ui.t("mnist.net.nutshell_intro"))
        st.latex(r"\begin{aligned}\mathrm{pred} &= W_3\{W_2[W_1X+b_1]+b_2\}+b_3\\"
                 r"&= \underbrace{W_3W_2W_1}_{W}\,X\\&\quad+ \underbrace{W_3(W_2b_1+b_2)+b_3}_{b}\end{aligned}")
    between = p["between"]
    shapes, w_shape, b_len, table = nutshell(data.source, between, p["seed"])
    gap, same_digit = nw.nutshell_agreement(table)
    with picture:
        ui.show_vega(*nutshell_chart(table))
        m1, m2 = st.columns(2)
        m1.metric(ui.t("mnist.net.max_gap"), nw.readable(gap))
        m2.metric(ui.t("mnist.net.same_answer"), f"{same_digit:.0%}")
        if gap < SAME:
            st.success(ui.t("mnist.net.identical", n=N_IMAGES, tol=nw.readable(SAME, 1)))
        else:
            st.warning(ui.t("mnist.net.not_identical", between=between_names[between]))
    st.markdown(ui.t("mnist.net.shapes", w1=shape(shapes[0]), w2=shape(shapes[1]), w3=shape(shapes[2]), w=shape(w_shape), b=b_len))
    st.caption(ui.t("mnist.net.nutshell_note"))


@st.cache_resource(show_spinner=False, max_entries=SPECS)
def nutshell_spec(lang: str) -> dict[str, Any]:
    """Each image's ten outputs (dataset ``outputs``): three layers across, the one collapsed layer up,
    the diagonal (dataset ``diagonal``: its two ends) dashed."""
    three, one, output = ui.t("mnist.net.axis_three"), ui.t("mnist.net.axis_one"), ui.t("mnist.net.output")
    diagonal = {
        "data": {"name": "diagonal"},
        "mark": {"type": "line", "color": "#888", "strokeDash": [4, 4]},
        "encoding": {"x": channel("v", Q), "y": channel("v", Q)},
    }
    points = {
        "data": {"name": "outputs"},
        "mark": {"type": "circle", "size": 28, "opacity": 0.7},
        "encoding": {
            "x": channel("three_layers", Q, title=three),
            "y": channel("one_layer", Q, title=one),
            "color": channel("digit", N, title=output, legend={"orient": "right", "columns": 1}),
            "tooltip": [
                channel("image", Q, title=ui.t("mnist.net.image")),
                channel("digit", N, title=output),
                channel("three_layers", Q, title=three, format=".6f"),
                channel("one_layer", Q, title=one, format=".6f"),
                channel("difference", Q, title=ui.t("mnist.net.difference"), format=".2e"),
            ],
        },
    }
    return {"layer": [diagonal, points], "height": 320}


def nutshell_chart(table: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """The nutshell's spec and its data (``ui.show_vega``'s arguments)."""
    both = table[["three_layers", "one_layer"]].to_numpy()
    return nutshell_spec(ui.lang()), {"diagonal": {"v": [float(both.min()), float(both.max())]}, "outputs": table}


@st.cache_resource(show_spinner=False, max_entries=SPECS)
def activation_spec(activation: str, lang: str) -> dict[str, Any]:
    """One activation f(z) (solid) and its derivative f′(z) (dashed), dataset ``curves``: one chart each,
    so on a phone they stack instead of running off the screen."""
    return {
        "data": {"name": "curves"},
        "mark": {"type": "line", "strokeWidth": 2.5, "color": COLOURS[activation]},
        "encoding": {
            "x": channel("z", Q, title="z"),
            "y": channel("value", Q, title=None),
            "strokeDash": channel("curve", N, title=None, sort=["f(z)", "f′(z)"], legend={"orient": "top"}),
            "tooltip": [
                channel("curve", N, title=ui.t("mnist.net.curve")),
                channel("z", Q, title="z", format=".2f"),
                channel("value", Q, title=ui.t("mnist.net.value"), format=".4f"),
            ],
        },
        "height": 300,
    }


@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def activation_data(activation: str, zmax: float) -> bytes:
    """The activation's two curves over [−zmax, zmax] as Arrow, once per setting for the whole class."""
    return arrow(nw.activation_curves((activation,), lo=-zmax, hi=zmax))


@st.fragment
def activations_section(p: ui.Page) -> None:
    """(2) The non-linear factors and their derivatives; the z slider reruns only this part."""
    st.header(ui.t("mnist.net.activations"))
    st.markdown(ui.t("mnist.net.activations_intro"))
    st.slider(ui.t("mnist.net.zmax"), 1.0, 10.0, step=0.5, key=p.key("zmax"))
    formulas = {
        "sigmoid": (r"\sigma(z)=\frac{1}{1+e^{-z}}", r"\sigma'(z)=\sigma(z)\,(1-\sigma(z))"),
        "tanh": (r"\tanh(z)=\frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}", r"\tanh'(z)=1-\tanh^2 z"),
        "relu": (r"\mathrm{relu}(z)=\max(0,z)", r"\mathrm{relu}'(z)=\begin{cases}1 & z>0\\ 0 & z\le 0\end{cases}"),
    }
    for column, activation in zip(st.columns(len(nw.ACTIVATIONS)), nw.ACTIVATIONS, strict=True):
        with column:
            st.markdown(f"**{name_of(activation)}**")
            ui.show_vega(activation_spec(activation, ui.lang()), {"curves": activation_data(activation, p["zmax"])})
            for formula in formulas[activation]:
                st.latex(formula)
    st.markdown(ui.t("mnist.net.activations_note"))
    p.sync_to_url()  # a fragment rerun skips the page's own URL sync


@st.cache_resource(show_spinner=False, max_entries=CHARTS, ttl=24 * 3600)
def gradient_data(source: str, depth: int, width: int, seed: int, lang: str) -> bytes:
    """Each layer's gradient norm in the three fresh deep nets, named in ``lang``, as Arrow."""
    grads = vanishing(source, depth, width, seed)
    return arrow(grads.assign(name=grads["activation"].map(name_of)))


@st.cache_resource(show_spinner=False, max_entries=SPECS)
def gradient_spec(lang: str) -> dict[str, Any]:
    """Each layer's gradient norm (log scale) in the three fresh deep nets (dataset ``grads``)."""
    layer, norm, activation = ui.t("mnist.net.layer"), ui.t("mnist.net.grad_norm"), ui.t("mnist.net.activation")
    return {
        "data": {"name": "grads"},
        "mark": {"type": "line", "point": True, "strokeWidth": 2.5},
        "encoding": {
            "x": channel("layer", Q, title=layer, axis={"tickMinStep": 1, "format": "d"}),
            "y": channel("grad_norm", Q, title=norm, scale={"type": "log"}),
            "color": channel("name", N, title=activation, legend={"orient": "bottom"},
                             scale={"domain": [name_of(a) for a in nw.ACTIVATIONS], "range": list(COLOURS.values())}),
            "tooltip": [
                channel("name", N, title=activation),
                channel("layer", Q, title=layer),
                channel("grad_norm", Q, title=norm, format=".3~g"),
                channel("relative", Q, title=ui.t("mnist.net.relative"), format=".3~g"),
            ],
        },
        "height": 320,
    }


@st.fragment
def vanishing_section(p: ui.Page, data) -> None:
    """Gradient vanishing: each layer's gradient in fresh deep sigmoid, tanh and ReLU nets; its sliders rerun only this part."""
    st.header(ui.t("mnist.net.vanishing"))
    st.markdown(ui.t("mnist.net.vanishing_intro", n=N_BATCH))
    with ui.caught():
        controls, picture = st.columns([1, 2])
        with controls:
            st.slider(ui.t("mnist.net.depth"), 1, 30, key=p.key("depth"))
            st.select_slider(ui.t("mnist.net.width"), WIDTHS, key=p.key("width"))
            depth, width = p["depth"], p["width"]
            grads = vanishing(data.source, depth, width, p["seed"])
            first = grads[grads["layer"] == 1].set_index("activation")["relative"]
            for act in nw.ACTIVATIONS:
                st.metric(ui.t("mnist.net.first_share", name=name_of(act)), nw.readable(first[act]))
        with picture:
            ui.show_vega(gradient_spec(ui.lang()), {"grads": gradient_data(data.source, depth, width, p["seed"], ui.lang())})
        st.markdown(ui.t("mnist.net.vanishing_note", depth=depth, sigmoid=nw.readable(first["sigmoid"]),
                         relu=nw.readable(first["relu"])))
    p.sync_to_url()  # a fragment rerun skips the page's own URL sync


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    ui.data_banner(data, offer_download=False)
    with ui.caught():
        nutshell_section(p, data)
    activations_section(p)
    vanishing_section(p, data)
