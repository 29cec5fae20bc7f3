"""Lesson 4: from regression to classification — the sigmoid, decision regions, softmax, MSE vs cross-entropy."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from lessons import classification as lc
from pages import ui

PAGE = "classification"
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
N_TRAIN, N_TEST = 200, 1000
GRID = 40  # decision-region cells per side
REGIONS_KEY = f"{PAGE}.__regions"  # the clickable decision-region chart

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


@st.cache_data(show_spinner=False, max_entries=64)
def trained(data: str, classes: int, noise: float, seed: int, lr: float, steps: int, loss: str) -> dict[str, Any]:
    """The training and held-out samples and the model fitted to them; cached per setting."""
    k = lc.dataset_classes(data, classes)
    X, y = lc.make_dataset(data, N_TRAIN, n_classes=k, noise=noise, seed=seed)
    X_test, y_test = lc.make_dataset(data, N_TEST, n_classes=k, noise=noise, seed=seed + 1000)
    model = lc.fit_classifier(X, y, n_classes=k, lr=lr, steps=steps, loss=loss, seed=seed)
    return {
        "k": k,
        "X": X,
        "y": y,
        "model": model,
        "train_acc": lc.accuracy(model, X, y),
        "test_acc": lc.accuracy(model, X_test, y_test),
    }


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


def on_pick() -> None:
    """Click on the decision-region chart: move the picked point there (runs before the widgets)."""
    state = st.session_state.get(REGIONS_KEY)
    selection = (state or {}).get("selection", {})
    for name in ("pick_point", "pick_cell"):
        chosen = selection.get(name) or []
        if chosen and "x1" in chosen[0] and "x2" in chosen[0]:
            for axis, coord in (("px", chosen[0]["x1"]), ("py", chosen[0]["x2"])):
                clamped = float(np.clip(float(coord), -lc.EXTENT, lc.EXTENT))
                st.session_state[ui.widget_key(PAGE, axis)] = round(clamped, 1)
            return


def sample_frame(X: np.ndarray, y: np.ndarray, model: Any, names: list[str]) -> pd.DataFrame:
    """The training points with their class name and the model's prediction, for tooltips."""
    return pd.DataFrame(
        {"x1": X[:, 0], "x2": X[:, 1], "label": [names[i] for i in y], "predicted": [names[i] for i in model.predict(X)]}
    )


def regions_chart(run: dict[str, Any], picked: tuple[float, float] | None, *, selectable: bool, height: int) -> alt.LayerChart:
    """Decision regions (coloured by predicted class, faded where unsure) under the training points."""
    k, model = run["k"], run["model"]
    names = class_names(k)
    grid = lc.probability_grid(model, resolution=GRID)
    grid["predicted"] = [names[i] for i in grid["cls"]]
    axis_scale = alt.Scale(domain=[-lc.EXTENT, lc.EXTENT], nice=False)
    # No grid: its lines would show through the half-transparent cells.
    x_axis = alt.X("x1_lo:Q", title="x₁", scale=axis_scale, axis=alt.Axis(grid=False))
    y_axis = alt.Y("x2_lo:Q", title="x₂", scale=axis_scale, axis=alt.Axis(grid=False))
    color = alt.Color("predicted:N", scale=class_color(k), title=ui.t("classification.legend_class"))
    prob_tips = [alt.Tooltip(f"p{i}:Q", title=f"P({names[i]})", format=".3f") for i in range(k)]
    cells = (
        alt.Chart(grid)
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
        alt.Chart(sample_frame(run["X"], run["y"], model, names))
        .mark_circle(size=45, opacity=0.95, stroke="white", strokeWidth=0.8)
        .encode(
            x=alt.X("x1:Q", scale=axis_scale),
            y=alt.Y("x2:Q", scale=axis_scale),
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
    layers = [cells, points]
    if picked is not None:
        marker = pd.DataFrame({"x1": [picked[0]], "x2": [picked[1]]})
        layers.append(
            alt.Chart(marker)
            .mark_point(shape="cross", size=260, filled=True, color="black", stroke="white", strokeWidth=1)
            .encode(
                x=alt.X("x1:Q", scale=axis_scale),
                y=alt.Y("x2:Q", scale=axis_scale),
                tooltip=[alt.Tooltip("x1:Q", title="x₁"), alt.Tooltip("x2:Q", title="x₂")],
            )
        )
    return alt.layer(*layers).properties(height=height)


def curves_chart(history: lc.TrainingHistory, column: str, *, height: int = 150) -> alt.Chart:
    """One training curve (loss or accuracy) against the step."""
    frame = lc.history_frame(history)
    y_scale = alt.Scale(domain=[0, 1]) if column == "accuracy" else alt.Scale(zero=True)
    title = ui.t(f"classification.axis_{column}")
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title=ui.t("classification.axis_step")),
            y=alt.Y(f"{column}:Q", title=title, scale=y_scale),
            tooltip=[alt.Tooltip("step:Q", title=ui.t("classification.axis_step")), alt.Tooltip(f"{column}:Q", title=title, format=".4f")],
        )
        .properties(height=height)
    )


def probability_charts(probabilities: np.ndarray, k: int) -> alt.VConcatChart:
    """The point's class probabilities: one stacked bar that ends exactly at 1, and one bar per class."""
    names = class_names(k)
    bars = lc.probability_bars(probabilities)
    bars["name"] = [names[i] for i in bars["cls"]]
    color = alt.Color("name:N", scale=class_color(k), title=ui.t("classification.legend_class"))
    tips = [alt.Tooltip("name:N", title=ui.t("classification.legend_class")), alt.Tooltip("p:Q", title="p", format=".4f")]
    total = ui.t("classification.bar_total")
    stacked = (
        alt.Chart(bars.assign(row=total))
        .mark_bar(height=28)
        .encode(
            x=alt.X("start:Q", scale=alt.Scale(domain=[0, 1]), title=ui.t("classification.axis_sum")),
            x2="end:Q",
            y=alt.Y("row:N", title=None),
            color=color,
            tooltip=tips,
        )
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(color="black", strokeWidth=2).encode(x="x:Q")
    per_class = alt.Chart(bars).encode(
        x=alt.X("name:N", title=None, sort=names, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("p:Q", scale=alt.Scale(domain=[0, 1]), title=ui.t("classification.axis_probability")),
        color=alt.Color("name:N", scale=class_color(k), legend=None),
        tooltip=tips,
    )
    per_class = per_class.mark_bar() + per_class.mark_text(dy=-8).encode(text=alt.Text("p:Q", format=".3f"), color=alt.value("black"))
    return alt.vconcat((stacked + one).properties(height=60), per_class.properties(height=200))


def number(value: float, digits: int = 2) -> str:
    """A number for the formula: fixed decimals, or m·10^e where fixed decimals would hide it."""
    if value != 0 and not 1e-3 <= abs(value) < 1e5:
        mantissa, exponent = f"{value:.{digits}e}".split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return f"{value:.{digits}f}"


def factor(value: float, digits: int = 2) -> str:
    """A number to multiply with: negatives in brackets, so '· (−1.2)' reads right."""
    text = number(value, digits)
    return f"({text})" if value < 0 else text


def coordinate(value: float) -> str:
    """A coordinate of the picked point exactly as the slider shows it (no padding zeros)."""
    text = format(float(value), ".4g")
    return f"({text})" if value < 0 else text


def point_latex(model: Any, point: np.ndarray, breakdown: lc.PointBreakdown) -> str:
    """The formula with the live numbers: the logits, then sigmoid or softmax, then the sum = 1."""
    x1, x2 = coordinate(point[0]), coordinate(point[1])
    p = breakdown.probabilities
    if isinstance(model, lc.LogisticRegressionModel):
        w1, w2 = model.w
        z = breakdown.logits[1]
        rows = [
            rf"z &= w_1 x_1 + w_2 x_2 + b = {number(w1)}\cdot{x1} + {factor(w2)}\cdot{x2} + {factor(model.b)} = {number(z)}",
            rf"P(1) &= \sigma(z) = \frac{{1}}{{1+e^{{-z}}}} = \frac{{1}}{{1+e^{{{number(-z)}}}}} = {p[1]:.4f}",
            rf"P(0) &= 1-\sigma(z) = {p[0]:.4f}",
            rf"P(0)+P(1) &= {p.sum():.4f}",
        ]
    else:
        k = model.n_classes
        m = breakdown.logits.max()
        rows = []
        for i in range(k):
            w1, w2 = model.W[:, i]
            rows.append(
                rf"z_{i} &= {number(w1)}\cdot{x1} + {factor(w2)}\cdot{x2} + {factor(model.b[i])} = {number(breakdown.logits[i])}"
            )
        rows.append(
            rf"p_k &= \frac{{e^{{z_k}}}}{{\sum_j e^{{z_j}}}} = \frac{{e^{{z_k-m}}}}{{\sum_j e^{{z_j-m}}}},\quad m = \max_j z_j = {number(m)}"
        )
        # Every e^(z − m) lies in (0, 1], so four decimals print all of them the same way.
        total = breakdown.exponentials.sum()
        terms = " + ".join(f"{v:.4f}" for v in breakdown.exponentials)
        rows += [r"S &= \textstyle\sum_j e^{z_j-m}", rf"&= {terms}", rf"&= {total:.4f}"]
        for i in range(k):
            rows.append(rf"p_{i} &= e^{{z_{i}-m}} / S = {breakdown.exponentials[i]:.4f} / {total:.4f} = {p[i]:.4f}")
        rows += [rf"\textstyle\sum_k p_k &= {' + '.join(f'{v:.4f}' for v in p)}", rf"&= {p.sum():.4f}"]
    return r"\small\begin{aligned}" + r"\\".join(rows) + r"\end{aligned}"


def run_metrics(run: dict[str, Any], where: Any) -> None:
    """Final loss, training and held-out accuracy of one fitted model."""
    a, b, c = where.columns(3)
    a.metric(ui.t("classification.metric_loss"), f"{run['model'].history.loss[-1]:.4f}")
    b.metric(ui.t("classification.metric_train"), f"{run['train_acc']:.1%}")
    c.metric(ui.t("classification.metric_test"), f"{run['test_acc']:.1%}", help=ui.t("classification.metric_test_help"))


# ------------------------------------------------------------------------------- the page

ui.seed_from_url(PAGE, SETTINGS)
ui.page_header(PAGE)
ui.try_it(PAGE, PRESETS)

# --- 1. sigmoid: squashing a line into [0, 1]
st.header(ui.t("classification.sigmoid_header"))
st.markdown(ui.t("classification.sigmoid_intro"))
controls, picture = st.columns([1, 2])
with controls:
    st.slider(ui.t("classification.w"), -10.0, 10.0, step=0.1, key=ui.widget_key(PAGE, "w"))
    st.slider(ui.t("classification.b"), -10.0, 10.0, step=0.1, key=ui.widget_key(PAGE, "b"))
    st.latex(r"\sigma(z) = \frac{1}{1 + e^{-z}}, \quad z = w\cdot x + b")
    w, b = ui.value(PAGE, "w"), ui.value(PAGE, "b")
    if w != 0:
        st.caption(ui.t("classification.sigmoid_half", x=f"{-b / w + 0.0:.2f}"))
    else:
        st.caption(ui.t("classification.sigmoid_flat", p=f"{float(lc.sigmoid(b)):.3f}"))
with picture, ui.caught():
    curve = lc.sigmoid_curve(w, b).rename(
        columns={"z": ui.t("classification.curve_line"), "sigma": ui.t("classification.curve_sigmoid")}
    )
    names = [ui.t("classification.curve_line"), ui.t("classification.curve_sigmoid")]
    band = alt.Chart(pd.DataFrame({"lo": [0.0], "hi": [1.0]})).mark_rect(color="#d9480f", opacity=0.08).encode(y="lo:Q", y2="hi:Q")
    lines = (
        alt.Chart(curve)
        .transform_fold(names, as_=["curve", "value"])
        .mark_line(clip=True, strokeWidth=2.5)
        .encode(
            x=alt.X("x:Q", title="x"),
            y=alt.Y("value:Q", title=ui.t("classification.axis_value"), scale=alt.Scale(domain=[-3, 3], nice=False)),
            color=alt.Color(
                "curve:N",
                sort=names,
                scale=alt.Scale(domain=names, range=["#868e96", "#d9480f"]),
                title=None,
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("curve:N"), alt.Tooltip("value:Q", format=".4f")],
        )
    )
    ui.show_chart((band + lines).properties(height=300))
    st.caption(ui.t("classification.sigmoid_caption"))

# --- 2. classification in 2-D
st.header(ui.t("classification.fit_header"))
st.markdown(ui.t("classification.fit_intro"))
c1, c2, c3 = st.columns(3)
c1.selectbox(
    ui.t("classification.data"),
    lc.DATASETS,
    # A fixed table, not a call to ui.t: the label must not depend on when it is asked for.
    format_func={name: ui.t(f"classification.data_{name}") for name in lc.DATASETS}.__getitem__,
    key=ui.widget_key(PAGE, "data"),
)
fixed_two = ui.value(PAGE, "data") in ("moons", "xor")
c1.slider(
    ui.t("classification.classes"),
    2,
    lc.MAX_CLASSES,
    key=ui.widget_key(PAGE, "classes"),
    disabled=fixed_two,
    help=ui.t("classification.classes_help"),
)
c2.slider(ui.t("classification.noise"), 0.0, 1.5, step=0.05, key=ui.widget_key(PAGE, "noise"))
c2.slider(ui.t("classification.seed"), 0, 99, key=ui.widget_key(PAGE, "seed"))
c3.select_slider(ui.t("classification.lr"), options=LEARNING_RATES, key=ui.widget_key(PAGE, "lr"))
c3.slider(ui.t("classification.steps"), 1, 1000, key=ui.widget_key(PAGE, "steps"))
st.radio(
    ui.t("classification.loss"),
    lc.LOSSES,
    format_func={loss: loss_label(loss) for loss in lc.LOSSES}.__getitem__,
    key=ui.widget_key(PAGE, "loss"),
    horizontal=True,
)

data_args = (
    ui.value(PAGE, "data"),
    # moons and XOR ignore the slider: one cache entry for them, whatever it shows
    lc.dataset_classes(ui.value(PAGE, "data"), ui.value(PAGE, "classes")),
    ui.value(PAGE, "noise"),
    ui.value(PAGE, "seed"),
    ui.value(PAGE, "lr"),
    ui.value(PAGE, "steps"),
)
chosen_loss = ui.value(PAGE, "loss")
picked = (ui.value(PAGE, "px"), ui.value(PAGE, "py"))
run = None
with ui.caught():
    with st.spinner(ui.t("classification.training")):
        run = trained(*data_args, chosen_loss)
    k = run["k"]
    if fixed_two:
        st.caption(ui.t("classification.two_only"))
    left, right = st.columns([3, 2])
    with left:
        st.altair_chart(
            regions_chart(run, picked, selectable=True, height=460),
            width="stretch",
            key=REGIONS_KEY,
            on_select=on_pick,
            selection_mode=["pick_cell", "pick_point"],
        )
        st.caption(ui.t("classification.regions_caption"))
    with right:
        model_kind = "logistic" if k == 2 else "softmax"
        st.markdown(ui.t(f"classification.model_{model_kind}", k=k))
        run_metrics(run, st)
        ui.show_chart(curves_chart(run["model"].history, "loss"))
        ui.show_chart(curves_chart(run["model"].history, "accuracy"))
    if ui.value(PAGE, "data") == "xor":
        st.warning(ui.t("classification.xor_fails", acc=f"{run['test_acc']:.0%}"))
    elif ui.value(PAGE, "data") == "moons":
        st.info(ui.t("classification.moons_note"))

# --- 3. pick a point
st.header(ui.t("classification.point_header"))
st.markdown(ui.t("classification.point_intro"))
s1, s2 = st.columns(2)
s1.slider("x₁", -lc.EXTENT, lc.EXTENT, step=0.1, key=ui.widget_key(PAGE, "px"))
s2.slider("x₂", -lc.EXTENT, lc.EXTENT, step=0.1, key=ui.widget_key(PAGE, "py"))
if run is not None:
    with ui.caught():
        point = np.array([ui.value(PAGE, "px"), ui.value(PAGE, "py")])
        breakdown = lc.point_breakdown(run["model"], point)
        bars_col, formula_col = st.columns([2, 3])
        with bars_col:
            ui.show_chart(probability_charts(breakdown.probabilities, run["k"]))
        with formula_col:
            st.latex(point_latex(run["model"], point, breakdown))
            if run["k"] == 2:
                st.caption(ui.t("classification.two_is_softmax"))

# --- 4. MSE vs cross-entropy on the same data
st.header(ui.t("classification.compare_header"))
st.markdown(ui.t("classification.compare_intro"))
if run is not None:
    with ui.caught():
        runs = {loss: trained(*data_args, loss) for loss in lc.LOSSES}
        columns = st.columns(len(lc.LOSSES))
        for column, (loss, each) in zip(columns, runs.items(), strict=True):
            with column:
                st.subheader(loss_label(loss))
                ui.show_chart(regions_chart(each, None, selectable=False, height=300))
                run_metrics(each, st)
                ui.show_chart(curves_chart(each["model"].history, "loss", height=130))
        both = pd.concat(
            lc.history_frame(each["model"].history).assign(loss_name=loss_label(loss)) for loss, each in runs.items()
        )
        ui.show_chart(
            alt.Chart(both)
            .mark_line()
            .encode(
                x=alt.X("step:Q", title=ui.t("classification.axis_step")),
                y=alt.Y("accuracy:Q", title=ui.t("classification.axis_accuracy"), scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("loss_name:N", title=ui.t("classification.loss")),
                # Dashed MSE stays visible where the two curves lie on top of each other.
                strokeDash=alt.StrokeDash("loss_name:N", legend=None),
                tooltip=[
                    alt.Tooltip("loss_name:N", title=ui.t("classification.loss")),
                    alt.Tooltip("step:Q", title=ui.t("classification.axis_step")),
                    alt.Tooltip("accuracy:Q", title=ui.t("classification.axis_accuracy"), format=".3f"),
                ],
            )
            .properties(height=200)
        )
        st.caption(ui.t("classification.compare_caption"))

ui.reset_button(PAGE, SETTINGS)
ui.sync_to_url(PAGE, SETTINGS)
