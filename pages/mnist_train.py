"""Lesson 5c, training on MNIST: choose the network and the recipe, train with a live loss curve,
then read the test accuracy, the confusion matrix, the mistakes and the first layer's weights.

The trained model is kept in this student's session (``ui.SESSION_MODEL``; the draw page uses it);
identical settings anywhere in the class share one training (``ui.trained_model``).
"""

import altair as alt
import numpy as np
import streamlit as st

from app import ui
from lessons import mlp
from lessons import network as nw

PAGE = "mnist_train"
COURSE, BEST = mlp.COURSE_RECIPE, mlp.BEST_PRESET
# The choices offered always include the course's and the best preset's values.
SIZES = tuple(sorted({16, 32, 64, 128, 256, 512, 1024, *COURSE.hidden, *BEST.hidden}))
LRS = tuple(sorted({0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, COURSE.lr, BEST.lr}))
BATCHES = tuple(sorted({32, 64, 128, 256, 512, 1024, 2048, COURSE.batch_size, BEST.batch_size}))
MAX_LAYERS = max(3, len(COURSE.hidden), len(BEST.hidden))
MAX_EPOCHS = max(20, COURSE.epochs, BEST.epochs)
NONE = "none"  # None (no output activation, constant learning rate) as a URL-friendly word
FINALS = (NONE, *mlp.ACTIVATIONS)
SCHEDULES = tuple(NONE if s is None else s for s in mlp.SCHEDULES)
SHOWN_MISTAKES = 24
SHOWN_UNITS = 32
PROBS_CACHE = 16  # models whose test-set predictions are kept for the class


def settings_from_config(config: mlp.TrainConfig) -> dict:
    """The page's settings that describe ``config`` (unused hidden-size slots keep the course's sizes)."""
    sizes = list(config.hidden) + [COURSE.hidden[-1]] * (MAX_LAYERS - len(config.hidden))
    return {
        "layers": len(config.hidden),
        **{f"h{i + 1}": size for i, size in enumerate(sizes)},
        "activation": config.activation,
        "final": config.final_activation or NONE,
        "loss": config.loss,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "momentum": config.momentum,
        "schedule": config.schedule or NONE,
        "batch": config.batch_size,
        "epochs": config.epochs,
        "seed": config.seed,
    }


def config_from_settings(p: ui.Page) -> mlp.TrainConfig:
    """The ``TrainConfig`` the widgets describe now."""
    v = {name: p[name] for name in SETTINGS}
    return mlp.TrainConfig(
        hidden=tuple(int(v[f"h{i + 1}"]) for i in range(v["layers"])),
        activation=v["activation"],
        final_activation=None if v["final"] == NONE else v["final"],
        epochs=int(v["epochs"]),
        batch_size=int(v["batch"]),
        lr=float(v["lr"]),
        optimizer=v["optimizer"],
        momentum=float(v["momentum"]),
        loss=v["loss"],
        seed=int(v["seed"]),
        schedule=None if v["schedule"] == NONE else v["schedule"],
    )


def describe(config: mlp.TrainConfig) -> str:
    """A one-line summary of a configuration, in the current language."""
    return ui.t(
        "mnist.train.describe",
        sizes="-".join(map(str, (784, *config.hidden, 10))),
        activation=config.activation,
        loss=ui.t(f"mnist.train.loss_{config.loss}"),
        optimizer=ui.t(f"mnist.train.opt_{config.optimizer}"),
        lr=f"{config.lr:g}",
        batch=config.batch_size,
        epochs=config.epochs,
    )


COURSE_VALUES = settings_from_config(COURSE)
SETTINGS = {
    "layers": ui.Setting(COURSE_VALUES["layers"], 1, MAX_LAYERS),
    **{f"h{i + 1}": ui.Setting(COURSE_VALUES[f"h{i + 1}"], options=SIZES) for i in range(MAX_LAYERS)},
    "activation": ui.Setting(COURSE_VALUES["activation"], options=mlp.ACTIVATIONS),
    "final": ui.Setting(COURSE_VALUES["final"], options=FINALS),
    "loss": ui.Setting(COURSE_VALUES["loss"], options=mlp.LOSSES),
    "optimizer": ui.Setting(COURSE_VALUES["optimizer"], options=mlp.OPTIMIZERS),
    "lr": ui.Setting(COURSE_VALUES["lr"], options=LRS),
    "momentum": ui.Setting(COURSE_VALUES["momentum"], 0.0, 0.99),
    "schedule": ui.Setting(COURSE_VALUES["schedule"], options=SCHEDULES),
    "batch": ui.Setting(COURSE_VALUES["batch"], options=BATCHES),
    "epochs": ui.Setting(COURSE_VALUES["epochs"], 1, MAX_EPOCHS),
    "seed": ui.Setting(COURSE_VALUES["seed"], 0, 9_999),
}


@st.cache_resource(show_spinner=False, max_entries=PROBS_CACHE)
def test_probabilities(key: str, _model: mlp.MLP, _images: np.ndarray) -> np.ndarray:
    """The model's probabilities for every test image, computed once per (model, data) ``key`` for the class."""
    return mlp.predict_proba(_model, _images / 255.0)


def confusion_chart(matrix: np.ndarray) -> alt.LayerChart:
    """The confusion matrix as a heatmap: rows the true digit, columns the prediction, counts written in."""
    frame = nw.confusion_frame(matrix)
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:O", title=ui.t("mnist.train.predicted"), axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("true:O", title=ui.t("mnist.train.true")),
    )
    tooltip = [
        alt.Tooltip("true:O", title=ui.t("mnist.train.true")),
        alt.Tooltip("predicted:O", title=ui.t("mnist.train.predicted")),
        alt.Tooltip("count:Q", title=ui.t("mnist.train.count"), format=","),
        alt.Tooltip("share:Q", title=ui.t("mnist.train.share"), format=".1%"),
    ]
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title=ui.t("mnist.train.share"), scale=alt.Scale(scheme="oranges", domain=[0, 1])),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("count:Q", format="d"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("#1f2328")),
        tooltip=tooltip,
    )
    return (cells + text).properties(height=420)


PRESETS = [
    ui.Preset("mnist.train.try_sigmoid", {**COURSE_VALUES, "activation": "sigmoid"}),
    ui.Preset("mnist.train.try_adam", {**COURSE_VALUES, "optimizer": "adam", "loss": "cross_entropy", "lr": 0.001}),
    ui.Preset("mnist.train.try_big_lr", {**COURSE_VALUES, "lr": 3.0}),
    ui.Preset("mnist.train.try_h3", {**COURSE_VALUES, "final": "relu"}),
]


def controls(p: ui.Page) -> None:
    """The course's and the best settings, a reset, and every choice of network, objective and solver."""
    st.subheader(ui.t("mnist.train.settings"))
    b1, b2, b3 = st.columns(3)
    b1.button(ui.t("mnist.train.course"), key=p.key("__course"), icon="📘", on_click=p.apply, args=(COURSE_VALUES,))
    b2.button(ui.t("mnist.train.best"), key=p.key("__best"), icon="🏆", on_click=p.apply,
              args=(settings_from_config(BEST),))
    p.reset_button(where=b3)

    net_col, loss_col, opt_col = st.columns(3)
    with net_col:
        st.markdown(ui.t("mnist.train.network"))
        st.slider(ui.t("mnist.train.layers"), 1, MAX_LAYERS, key=p.key("layers"))
        n_layers = p["layers"]
        for i in range(MAX_LAYERS):
            st.select_slider(
                ui.t("mnist.train.hidden", i=i + 1), SIZES, key=p.key(f"h{i + 1}"), disabled=i >= n_layers
            )
        st.selectbox(ui.t("mnist.train.activation"), mlp.ACTIVATIONS, key=p.key("activation"))
        final_names = {f: ui.t("mnist.train.final_none") if f == NONE else f for f in FINALS}
        st.selectbox(ui.t("mnist.train.final"), FINALS, format_func=final_names.get, key=p.key("final"))
    with loss_col:
        st.markdown(ui.t("mnist.train.objective"))
        loss_names = {name: ui.t(f"mnist.train.loss_{name}") for name in mlp.LOSSES}
        st.radio(ui.t("mnist.train.loss"), mlp.LOSSES, format_func=loss_names.get, key=p.key("loss"))
        st.select_slider(ui.t("mnist.train.batch"), BATCHES, key=p.key("batch"))
        st.slider(ui.t("mnist.train.epochs"), 1, MAX_EPOCHS, key=p.key("epochs"))
        st.number_input(ui.t("mnist.train.seed"), min_value=0, max_value=9_999, key=p.key("seed"))
    with opt_col:
        optimizer_names = {name: ui.t(f"mnist.train.opt_{name}") for name in mlp.OPTIMIZERS}
        st.selectbox(ui.t("mnist.train.optimizer"), mlp.OPTIMIZERS, format_func=optimizer_names.get, key=p.key("optimizer"))
        st.select_slider(ui.t("mnist.train.lr"), LRS, format_func=lambda lr: f"{lr:g}", key=p.key("lr"))
        st.slider(
            ui.t("mnist.train.momentum"), 0.0, 0.99, step=0.01, key=p.key("momentum"),
            disabled=p["optimizer"] != "sgd", help=ui.t("mnist.train.momentum_help"),
        )
        schedule_names = {s: ui.t(f"mnist.train.schedule_{s}") for s in SCHEDULES}
        st.selectbox(ui.t("mnist.train.schedule"), SCHEDULES, format_func=schedule_names.get, key=p.key("schedule"))


def show_results(p: ui.Page, data, trained: mlp.TrainedModel) -> None:
    """Accuracy, loss curve, confusion matrix, mistakes, first-layer weights and downloads of ``trained``."""
    probs = test_probabilities(f"{trained.config!r}|{trained.source}|{data.source}", trained.model, data.test_images)
    predicted = probs.argmax(axis=1)
    matrix = nw.confusion_matrix(data.test_labels, predicted)
    wrong = int(matrix.sum() - np.trace(matrix))
    m1, m2, m3 = st.columns(3)
    m1.metric(ui.t("mnist.accuracy"), f"{trained.accuracy:.2%}")
    m2.metric(ui.t("mnist.train.wrong"), f"{wrong:,} / {len(predicted):,}")
    m3.metric(ui.t("mnist.seconds"), f"{trained.seconds:.1f} s")
    ui.show_loss(trained.history)

    if not np.isfinite(probs).all():
        # a blown-up run leaves NaN weights: its "predictions" and pictures would mean nothing
        st.warning(ui.t("mnist.train.broken_model"))
    else:
        st.markdown(ui.t("mnist.train.confusion"))
        ui.show_chart(confusion_chart(matrix))
        st.caption(ui.t("mnist.train.confusion_note"))

        st.markdown(ui.t("mnist.train.mistakes", shown=min(SHOWN_MISTAKES, wrong), wrong=f"{wrong:,}"))
        mistakes = nw.misclassified(probs, data.test_labels, SHOWN_MISTAKES)
        if mistakes.empty:
            st.success(ui.t("mnist.train.no_mistakes"))
        ui.show_digits(
            data.test_images[mistakes["index"].to_numpy()],
            [
                ui.t("mnist.train.mistake", true=int(r.true), predicted=int(r.predicted), confidence=f"{r.confidence:.0%}")
                for r in mistakes.itertuples()
            ],
        )

        weights = nw.first_layer_weights(trained.model)
        shown = min(SHOWN_UNITS, len(weights))
        st.markdown(ui.t("mnist.train.weights", shown=shown, units=len(weights)))
        st.image(nw.upscale(nw.tile(nw.diverging_rgb(weights[:shown]), cols=8, pad=2, fill=255), 3), width=720, output_format="PNG")
        st.caption(ui.t("mnist.train.weights_note"))

    d1, d2 = st.columns(2)
    d1.download_button(
        ui.t("mnist.train.download_model"),
        data=lambda: mlp.model_to_bytes(trained.model),
        file_name="mnist_mlp.pt",
        mime="application/octet-stream",
        key=p.key("__download_model"),
        on_click="ignore",
        icon="💾",
    )
    d2.download_button(
        ui.t("mnist.train.download_history"),
        data=trained.history.to_csv(index=False),
        file_name="mnist_loss_history.csv",
        mime="text/csv",
        key=p.key("__download_history"),
        on_click="ignore",
        icon="📈",
    )
    st.caption(ui.t("mnist.train.download_note"))


def results_section(p: ui.Page, data, config: mlp.TrainConfig) -> None:
    """The results of this student's last training, marked when the settings or the data changed since."""
    trained = st.session_state.get(ui.SESSION_MODEL)
    if trained is None:
        st.info(ui.t("mnist.train.press_train"))
    else:
        st.subheader(ui.t("mnist.train.results"))
        if trained.config != config:
            st.info(ui.t("mnist.train.stale", trained=describe(trained.config)))
        if trained.source != data.source:
            st.warning(ui.t("mnist.train.other_data"))
        with ui.caught():
            show_results(p, data, trained)


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    ui.data_banner(data)
    controls(p)
    config = config_from_settings(p)
    st.caption(describe(config))
    if st.button(ui.t("mnist.train.train"), type="primary", key=p.key("__train"), icon="▶️"):
        with ui.caught():
            st.session_state[ui.SESSION_MODEL] = ui.train_live(config)
    results_section(p, data, config)
