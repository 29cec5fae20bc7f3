"""Lesson 5b, the network: three linear layers collapse into one (Nutshell), the non-linear factors
and their derivatives, and gradient vanishing in a deep sigmoid net against ReLU.

Everything here is numpy (``lessons.network``), so this page never waits for torch.
"""

import streamlit as st

from app import ui
from app.charts import network as charts
from lessons import network as nw

PAGE = "mnist_network"
SETTINGS = nw.SETTINGS
PRESETS = [
    ui.Preset("mnist.net.try_relu", {"between": "relu"}),
    ui.Preset("mnist.net.try_deep", {"depth": 20, "width": 64}),
    ui.Preset("mnist.net.try_shallow", {"depth": 2, "width": 64}),
]
FORMULAS = {  # each activation and its derivative
    "sigmoid": (r"\sigma(z)=\frac{1}{1+e^{-z}}", r"\sigma'(z)=\sigma(z)\,(1-\sigma(z))"),
    "tanh": (r"\tanh(z)=\frac{e^{z}-e^{-z}}{e^{z}+e^{-z}}", r"\tanh'(z)=1-\tanh^2 z"),
    "relu": (r"\mathrm{relu}(z)=\max(0,z)", r"\mathrm{relu}'(z)=\begin{cases}1 & z>0\\ 0 & z\le 0\end{cases}"),
}


def shape(dims: tuple[int, ...]) -> str:
    return " × ".join(map(str, dims))


def nutshell_section(p: ui.Page, data) -> None:
    """(1) Nutshell: three linear layers are one linear layer, unless a non-linear factor sits between.

    Its controls (and Reset) sit outside any fragment: the seed also seeds the vanishing nets below."""
    st.header(ui.t("mnist.net.nutshell"))
    controls, picture = st.columns([2, 3])
    between_names = {b: ui.t(f"mnist.net.between_{b}") for b in nw.BETWEEN}
    with controls:
        st.selectbox(ui.t("mnist.net.between"), nw.BETWEEN, format_func=between_names.get, key=p.key("between"))
        c2, c3 = st.columns([1, 1], vertical_alignment="bottom")
        c2.number_input(ui.t("mnist.net.seed"), min_value=0, max_value=999, key=p.key("seed"))
        p.reset_button(where=c3)
        st.markdown(ui.t("mnist.net.nutshell_intro"))
        st.latex(r"\begin{aligned}\mathrm{pred} &= W_3\{W_2[W_1X+b_1]+b_2\}+b_3\\"
                 r"&= \underbrace{W_3W_2W_1}_{W}\,X\\&\quad+ \underbrace{W_3(W_2b_1+b_2)+b_3}_{b}\end{aligned}")
    between = p["between"]
    shapes, w_shape, b_len, _ = charts.nutshell(data.source, between, p["seed"])
    gap, same_digit = charts.nutshell_figures(data.source, between, p["seed"])[:2]
    with picture:
        charts.show_nutshell(data.source, between, p["seed"])
        m1, m2 = st.columns(2)
        m1.metric(ui.t("mnist.net.max_gap"), nw.readable(gap))
        m2.metric(ui.t("mnist.net.same_answer"), f"{same_digit:.0%}")
        if nw.nutshell_note(gap) == "identical":
            st.success(ui.t("mnist.net.identical", n=nw.N_IMAGES, tol=nw.readable(nw.SAME, 1)))
        else:
            st.warning(ui.t("mnist.net.not_identical", between=between_names[between]))
    st.markdown(ui.t("mnist.net.shapes", w1=shape(shapes[0]), w2=shape(shapes[1]), w3=shape(shapes[2]),
                     w=shape(w_shape), b=b_len))
    st.caption(ui.t("mnist.net.nutshell_note"))


@ui.fragment
def activations_section(p: ui.Page) -> None:
    """(2) The non-linear factors and their derivatives; the z slider reruns only this part."""
    st.header(ui.t("mnist.net.activations"))
    st.markdown(ui.t("mnist.net.activations_intro"))
    st.slider(ui.t("mnist.net.zmax"), 1.0, 10.0, step=0.5, key=p.key("zmax"))
    for column, activation in zip(st.columns(len(nw.ACTIVATIONS)), nw.ACTIVATIONS, strict=True):
        with column:
            st.markdown(f"**{charts.name_of(activation)}**")
            charts.show_activation(activation, p["zmax"])
            for formula in FORMULAS[activation]:
                st.latex(formula)
    st.markdown(ui.t("mnist.net.activations_note"))


@ui.fragment
def vanishing_section(p: ui.Page, data) -> None:
    """Gradient vanishing: each layer's gradient in fresh deep sigmoid, tanh and ReLU nets; its sliders rerun only this part."""
    st.header(ui.t("mnist.net.vanishing"))
    st.markdown(ui.t("mnist.net.vanishing_intro", n=nw.N_BATCH))
    with ui.caught():
        controls, picture = st.columns([1, 2])
        with controls:
            st.slider(ui.t("mnist.net.depth"), 1, 30, key=p.key("depth"))
            st.select_slider(ui.t("mnist.net.width"), nw.WIDTHS, key=p.key("width"))
            depth, width = p["depth"], p["width"]
            first = nw.first_layer_share(charts.vanishing(data.source, depth, width, p["seed"]))
            for act in nw.ACTIVATIONS:
                st.metric(ui.t("mnist.net.first_share", name=charts.name_of(act)), nw.readable(first[act]))
        with picture:
            charts.show_gradients(data.source, depth, width, p["seed"])
        note = nw.vanishing_note(first["sigmoid"])
        st.markdown(ui.t(f"mnist.net.{note}", depth=depth, sigmoid=nw.readable(first["sigmoid"]),
                         relu=nw.readable(first["relu"])))


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    ui.data_banner(data, offer_download=False)
    with ui.caught():
        nutshell_section(p, data)
    activations_section(p)
    vanishing_section(p, data)
