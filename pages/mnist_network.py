"""Lesson 5b, the network: three linear layers collapse into one (Nutshell), the non-linear factors
and their derivatives, and gradient vanishing in a deep sigmoid net against ReLU.

Everything here is numpy (``lessons.network``), so this page never waits for torch.
"""

import altair as alt
import pandas as pd
import streamlit as st

from app import ui
from lessons import network as nw

PAGE = "mnist_network"
BETWEEN = ("none", "relu", "sigmoid", "tanh")
WIDTHS = (16, 32, 64, 128, 256)
N_IMAGES = 100  # test images pushed through the nutshell's layers
N_BATCH = 256  # test images in the gradient-vanishing batch
SAME = 1e-5  # "identical" for the nutshell: the tolerance
SETTINGS = {
    "between": ui.Setting("none", options=BETWEEN),
    "seed": ui.Setting(0, 0, 999),
    "zmax": ui.Setting(6.0, 1.0, 10.0),
    "depth": ui.Setting(8, 1, 30),
    "width": ui.Setting(64, options=WIDTHS),
}
COLOURS = alt.Scale(domain=list(nw.ACTIVATIONS), range=["#1c7ed6", "#2f9e44", "#d9480f"])


@st.cache_data(show_spinner=False, max_entries=64)
def vanishing(source: str, depth: int, width: int, seed: int) -> pd.DataFrame:
    """Per-layer gradient norms of fresh sigmoid, tanh and ReLU nets on a batch of test images."""
    data = ui.mnist_data()
    x = nw.normalise(data.test_images[:N_BATCH])
    y = nw.one_hot(data.test_labels[:N_BATCH])
    return nw.vanishing_table(x, y, depth, width, seed=seed)


def name_of(activation: str) -> str:
    """An activation's display name."""
    return ui.t(f"mnist.net.act_{activation}")


PRESETS = [
    ui.Preset("mnist.net.try_relu", {"between": "relu"}),
    ui.Preset("mnist.net.try_deep", {"depth": 20, "width": 64}),
    ui.Preset("mnist.net.try_shallow", {"depth": 2, "width": 64}),
]


def nutshell_section(p: ui.Page, data) -> None:
    """(1) Nutshell: three linear layers are one linear layer, unless a non-linear factor sits between."""
    st.header(ui.t("mnist.net.nutshell"))
    st.markdown(ui.t("mnist.net.nutshell_intro"))
    st.latex(r"\mathrm{pred} = W_3\{W_2[W_1X+b_1]+b_2\}+b_3")
    st.latex(r"= \underbrace{W_3W_2W_1}_{W}\,X + \underbrace{W_3(W_2b_1+b_2)+b_3}_{b}")
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    between_names = {b: ui.t(f"mnist.net.between_{b}") for b in BETWEEN}
    c1.selectbox(ui.t("mnist.net.between"), BETWEEN, format_func=between_names.get, key=p.key("between"))
    c2.number_input(ui.t("mnist.net.seed"), min_value=0, max_value=999, key=p.key("seed"))
    p.reset_button(where=c3)
    between = p["between"]
    layers = nw.random_linear_layers(seed=p["seed"])
    w, b = nw.collapse_linear(layers)
    st.markdown(
        ui.t(
            "mnist.net.shapes",
            w1=" × ".join(map(str, layers[0][0].shape)),
            w2=" × ".join(map(str, layers[1][0].shape)),
            w3=" × ".join(map(str, layers[2][0].shape)),
            w=" × ".join(map(str, w.shape)),
            b=len(b),
        )
    )
    x = nw.normalise(data.test_images[:N_IMAGES])
    table = nw.nutshell_comparison(x, layers, None if between == "none" else between)
    gap, same_digit = nw.nutshell_agreement(table)
    m1, m2 = st.columns(2)
    m1.metric(ui.t("mnist.net.max_gap"), f"{gap:.1e}")
    m2.metric(ui.t("mnist.net.same_answer"), f"{same_digit:.0%}")
    if gap < SAME:
        st.success(ui.t("mnist.net.identical", n=N_IMAGES, tol=f"{SAME:.0e}"))
    else:
        st.warning(ui.t("mnist.net.not_identical", between=between_names[between]))
    lo, hi = float(table[["three_layers", "one_layer"]].min().min()), float(table[["three_layers", "one_layer"]].max().max())
    diagonal = alt.Chart(pd.DataFrame({"v": [lo, hi]})).mark_line(color="#888", strokeDash=[4, 4]).encode(x="v:Q", y="v:Q")
    points = (
        alt.Chart(table)
        .mark_circle(size=28, opacity=0.7)
        .encode(
            x=alt.X("three_layers:Q", title=ui.t("mnist.net.axis_three")),
            y=alt.Y("one_layer:Q", title=ui.t("mnist.net.axis_one")),
            color=alt.Color("digit:N", title=ui.t("mnist.net.output")),
            tooltip=[
                alt.Tooltip("image:Q", title=ui.t("mnist.net.image")),
                alt.Tooltip("digit:N", title=ui.t("mnist.net.output")),
                alt.Tooltip("three_layers:Q", title=ui.t("mnist.net.axis_three"), format=".6f"),
                alt.Tooltip("one_layer:Q", title=ui.t("mnist.net.axis_one"), format=".6f"),
                alt.Tooltip("difference:Q", title=ui.t("mnist.net.difference"), format=".2e"),
            ],
        )
    )
    ui.show_chart(alt.layer(diagonal, points).properties(height=340))
    st.caption(ui.t("mnist.net.nutshell_note"))


def activations_section(p: ui.Page) -> None:
    """(2) The non-linear factors and their derivatives."""
    st.header(ui.t("mnist.net.activations"))
    st.markdown(ui.t("mnist.net.activations_intro"))
    f1, f2, f3 = st.columns(3)
    f1.latex(r"\sigma(z)=\frac{1}{1+e^{-z}}")
    f1.latex(r"\sigma'(z)=\sigma(z)\,(1-\sigma(z))")
    f2.latex(r"\tanh(z)=\frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}")
    f2.latex(r"\tanh'(z)=1-\tanh^2 z")
    f3.latex(r"\mathrm{relu}(z)=\max(0,z)")
    f3.latex(r"\mathrm{relu}'(z)=\begin{cases}1 & z>0\\ 0 & z\le 0\end{cases}")
    st.slider(ui.t("mnist.net.zmax"), 1.0, 10.0, step=0.5, key=p.key("zmax"))
    zmax = p["zmax"]
    curves = nw.activation_curves(lo=-zmax, hi=zmax)
    curves["name"] = curves["activation"].map(name_of)
    curve_chart = (
        alt.Chart(curves)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=alt.X("z:Q", title="z"),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("activation:N", scale=COLOURS, legend=None),
            strokeDash=alt.StrokeDash("curve:N", title=None, sort=["f(z)", "f′(z)"], legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("name:N", title=ui.t("mnist.net.activation")),
                alt.Tooltip("curve:N", title=" "),
                alt.Tooltip("z:Q", format=".2f"),
                alt.Tooltip("value:Q", format=".4f"),
            ],
        )
        .properties(width=250, height=220)
        .facet(column=alt.Column("name:N", title=None, sort=[name_of(a) for a in nw.ACTIVATIONS]))
        .resolve_scale(y="independent")
    )
    st.altair_chart(curve_chart)
    st.markdown(ui.t("mnist.net.activations_note"))


def vanishing_section(p: ui.Page, data) -> None:
    """Gradient vanishing: each layer's gradient in fresh deep sigmoid, tanh and ReLU nets."""
    st.header(ui.t("mnist.net.vanishing"))
    st.markdown(ui.t("mnist.net.vanishing_intro", n=N_BATCH))
    v1, v2 = st.columns(2)
    v1.slider(ui.t("mnist.net.depth"), 1, 30, key=p.key("depth"))
    v2.select_slider(ui.t("mnist.net.width"), WIDTHS, key=p.key("width"))
    depth, width = p["depth"], p["width"]
    grads = vanishing(data.source, depth, width, p["seed"])
    grads["name"] = grads["activation"].map(name_of)
    first = grads[grads["layer"] == 1].set_index("activation")["relative"]
    cols = st.columns(len(nw.ACTIVATIONS))
    for col, act in zip(cols, nw.ACTIVATIONS):
        col.metric(ui.t("mnist.net.first_share", name=name_of(act)), f"{first[act]:.1e}")
    grad_chart = (
        alt.Chart(grads)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=alt.X("layer:Q", title=ui.t("mnist.net.layer"), axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("grad_norm:Q", title=ui.t("mnist.net.grad_norm"), scale=alt.Scale(type="log")),
            color=alt.Color("activation:N", scale=COLOURS, title=ui.t("mnist.net.activation")),
            tooltip=[
                alt.Tooltip("name:N", title=ui.t("mnist.net.activation")),
                alt.Tooltip("layer:Q", title=ui.t("mnist.net.layer")),
                alt.Tooltip("grad_norm:Q", title=ui.t("mnist.net.grad_norm"), format=".3e"),
                alt.Tooltip("relative:Q", title=ui.t("mnist.net.relative"), format=".3e"),
            ],
        )
        .properties(height=340)
    )
    ui.show_chart(grad_chart)
    st.markdown(ui.t("mnist.net.vanishing_note", depth=depth, sigmoid=f"{first['sigmoid']:.1e}", relu=f"{first['relu']:.1e}"))


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    ui.data_banner(data, offer_download=False)
    nutshell_section(p, data)
    activations_section(p)
    with ui.caught():
        vanishing_section(p, data)
