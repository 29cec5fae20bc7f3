"""Lesson 5c, training on MNIST: choose the network and the recipe, train with a live loss curve
(beside the settings, with an estimate, the time left and a Stop), then read the test accuracy,
the confusion matrix, the mistakes and the first layer's weights; compare this session's runs,
post one to the class board, take the program home.

The training runs on a thread of its own (``mnist_widgets.TrainingJob``), so the page stays live
and a Stop keeps what the network has learnt. Identical settings anywhere in the class share one
training (``lessons.mlp.train_cached``); a stopped run is never shared. What this page leaves for
the draw page (``ui.SESSION_MODEL`` and ``mnist_widgets.SESSION_MODEL_STATUS``) is described in
``app/mnist_widgets.py``: a diverged model is never handed on.
"""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import board, ui
from app import mnist_widgets as mw
from lessons import mlp, views
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
MISTAKE_WIDTH = 100  # px per mistake: its caption fits on one line
PROBS_CACHE = 16  # models whose test-set predictions are kept for the class
RUN_POINTS = 300  # loss points kept per logged run (views.RunLog draws at most this many)
POLL_SECONDS = 0.5  # how often the training panel looks at a running training
CHART_HEIGHT = 300
JOB_KEY = "mnist_train.__job"  # this session's training in flight (mnist_widgets.TrainingJob)
LAST_KEY = "mnist_train.__last"  # this session's last finished or stopped run (a Result)
RUNS_KEY = "mnist_train.__runs"  # this session's runs, to compare (lessons.views.RunLog)
FAILED_KEY = "mnist_train.__failed"  # the last training failed: say so once


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


def network_text(config: mlp.TrainConfig) -> str:
    return "-".join(map(str, (784, *config.hidden, 10)))


def describe(config: mlp.TrainConfig) -> str:
    """A one-line summary of a configuration, in the current language."""
    return ui.t(
        "mnist.train.describe",
        sizes=network_text(config),
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

PRESETS = [
    ui.Preset("mnist.train.try_sigmoid", {**COURSE_VALUES, "activation": "sigmoid"}),
    ui.Preset("mnist.train.try_adam", {**COURSE_VALUES, "optimizer": "adam", "loss": "cross_entropy", "lr": 0.001}),
    ui.Preset("mnist.train.try_big_lr", {**COURSE_VALUES, "lr": 3.0}),
    ui.Preset("mnist.train.try_h3", {**COURSE_VALUES, "final": "relu"}),
]


# ------------------------------------------------------------------ a finished (or stopped) run


@st.cache_resource(show_spinner=False, max_entries=PROBS_CACHE)
def test_probabilities(key: str, _model: mlp.MLP, _images: np.ndarray) -> np.ndarray:
    """The model's probabilities for every test image, computed once per (model, data) ``key`` for the class."""
    return mlp.predict_proba(_model, _images / 255.0)


def model_key(trained: mlp.TrainedModel, data) -> str:
    # A stopped run shares its settings with the finished one: its length tells them apart.
    return f"{trained.config!r}|{trained.source}|{data.source}|{len(trained.history)}|{trained.stopped}"


def finish_job(data) -> None:
    """When this session's training has ended: keep the run, log it, and hand the model on only if it is usable."""
    job = st.session_state.get(JOB_KEY)
    if job is None or not job.done:
        return
    del st.session_state[JOB_KEY]
    if job.failed or job.result is None:
        st.session_state[FAILED_KEY] = True
        return
    trained = job.result
    probs = test_probabilities(model_key(trained, data), trained.model, data.test_images)
    losses = trained.history["loss"].to_numpy(dtype=np.float64)
    # A run that blew up leaves NaN weights: its "accuracy" is whatever argmax makes of NaN.
    diverged = not (np.isfinite(losses).all() and np.isfinite(probs).all())
    accuracy = None if diverged else float(trained.accuracy)
    st.session_state[LAST_KEY] = {"trained": trained, "diverged": diverged, "accuracy": accuracy, "wall": job.wall}
    st.session_state[mw.SESSION_MODEL_STATUS] = {
        "diverged": diverged, "stopped": trained.stopped, "accuracy": accuracy, "config": trained.config,
    }
    if diverged:
        st.session_state.pop(ui.SESSION_MODEL, None)
    else:
        st.session_state[ui.SESSION_MODEL] = trained
    log = st.session_state.setdefault(RUNS_KEY, views.RunLog())
    status = "diverged" if diverged else "stopped" if trained.stopped else "ok"
    log.add(run_row(trained.config), results={"accuracy": np.nan if accuracy is None else accuracy, "status": status},
            seconds=trained.seconds, curve=kept_curve(trained.history))


def kept_curve(history: pd.DataFrame, most: int = RUN_POINTS) -> pd.DataFrame:
    """A run's loss history cut to about ``most`` evenly spaced steps for the session's log (a 20-epoch
    run has 37,500), keeping the first step that is no number, so the comparison still marks a blow-up."""
    n = len(history)
    keep = np.linspace(0, n - 1, min(n, most)).round().astype(int)
    bad = np.flatnonzero(~np.isfinite(history["loss"].to_numpy(dtype=np.float64)))
    return history.iloc[np.unique(np.r_[keep, bad[:1]])]


def run_row(config: mlp.TrainConfig) -> dict:
    """A run's settings as the comparison table shows them (the seed and schedule only when not the course's)."""
    return {
        "network": network_text(config), "activation": config.activation, "final": config.final_activation or NONE,
        "loss": config.loss, "optimizer": config.optimizer, "lr": config.lr, "momentum": config.momentum,
        "schedule": config.schedule or NONE, "batch": config.batch_size, "epochs": config.epochs, "seed": config.seed,
    }


# ------------------------------------------------------------------ charts


def confusion_chart(matrix: np.ndarray) -> alt.LayerChart:
    """The confusion matrix as a heatmap: rows the true digit, columns the prediction, counts written in
    small enough (no thousands separator, legend below) to fit their cells on a 390 px phone."""
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
        color=alt.Color("share:Q", title=ui.t("mnist.train.share"), scale=alt.Scale(scheme="oranges", domain=[0, 1]),
                        legend=alt.Legend(orient="bottom", format=".0%")),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("count:Q", format="d"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("#1f2328")),
        tooltip=tooltip,
    )
    return (cells + text).properties(height=380)


def placeholder_chart(note_key: str = "mnist.train.chart_here") -> alt.Chart:
    """The empty loss chart, where the curve will draw once training starts."""
    frame = pd.DataFrame({"step": [0.5], "loss": [0.5], "note": [ui.t(note_key)]})
    return alt.Chart(frame).mark_text(fontSize=14, color="#868e96").encode(
        x=alt.X("step:Q", title=ui.t("mnist.axis_step"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(labels=False)),
        y=alt.Y("loss:Q", title=ui.t("mnist.axis_loss"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(labels=False)),
        text=alt.Text("note:N", title=ui.t(note_key)),
    ).properties(height=CHART_HEIGHT)


def runs_chart(log: views.RunLog) -> alt.Chart | None:
    """This session's loss curves overlaid, one colour per run; a run that blew up is cut and marked."""
    curves = log.curves()
    if curves.empty:
        return None
    blew = {}
    for r in log.runs:
        bad = np.flatnonzero(~np.isfinite(r.curve["value"].to_numpy(dtype=np.float64)))
        if bad.size:
            blew[r.number] = int(r.curve["step"].iloc[bad[0]])
    view = views.clip_series(curves, "value", series="run", blew_up=blew)
    run_t, step_t, loss_t = ui.t("mnist.train.col.run"), ui.t("mnist.axis_step"), ui.t("mnist.axis_loss")
    lines = alt.Chart(view.frame).mark_line(clip=True).encode(
        x=alt.X("step:Q", title=step_t, axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("value:Q", title=loss_t, scale=alt.Scale(domain=list(view.domain), nice=False),
                axis=alt.Axis(format=".3~g")),
        color=alt.Color("run:N", title=run_t, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("run:N", title=run_t), alt.Tooltip("step:Q", title=step_t, format="d"),
                 alt.Tooltip("value:Q", title=loss_t, format=".4~g")],
    )
    layers = [lines]
    if len(view.marks):
        layers.append(alt.Chart(view.marks).mark_point(shape="cross", size=140, color="#c92a2a", strokeWidth=3).encode(
            x="step:Q", y="shown:Q", tooltip=[alt.Tooltip("series:N", title=run_t)]))
    return alt.layer(*layers).properties(height=280)


# ------------------------------------------------------------------ the settings and the Train button


def controls(p: ui.Page) -> None:
    """Every choice of solver, network and data, in tabs; then the course's and the best settings and a reset."""
    solver_tab, net_tab, data_tab = st.tabs(
        [ui.t("mnist.train.tab_solver"), ui.t("mnist.train.tab_network"), ui.t("mnist.train.tab_data")]
    )
    with solver_tab:
        optimizer_names = {name: ui.t(f"mnist.train.opt_{name}") for name in mlp.OPTIMIZERS}
        st.selectbox(ui.t("mnist.train.optimizer"), mlp.OPTIMIZERS, format_func=optimizer_names.get, key=p.key("optimizer"))
        st.select_slider(ui.t("mnist.train.lr"), LRS, format_func=lambda lr: f"{lr:g}", key=p.key("lr"),
                         help=ui.t("mnist.train.lr_help"))
        st.slider(
            ui.t("mnist.train.momentum"), 0.0, 0.99, step=0.01, key=p.key("momentum"),
            disabled=p["optimizer"] != "sgd", help=ui.t("mnist.train.momentum_help"),
        )
        schedule_names = {s: ui.t(f"mnist.train.schedule_{s}") for s in SCHEDULES}
        st.selectbox(ui.t("mnist.train.schedule"), SCHEDULES, format_func=schedule_names.get, key=p.key("schedule"))
    with net_tab:
        st.slider(ui.t("mnist.train.layers"), 1, MAX_LAYERS, key=p.key("layers"))
        n_layers = p["layers"]
        for i in range(MAX_LAYERS):
            st.select_slider(
                ui.t("mnist.train.hidden", i=i + 1), SIZES, key=p.key(f"h{i + 1}"), disabled=i >= n_layers
            )
        st.selectbox(ui.t("mnist.train.activation"), mlp.ACTIVATIONS, key=p.key("activation"))
        final_names = {f: ui.t("mnist.train.final_none") if f == NONE else f for f in FINALS}
        st.selectbox(ui.t("mnist.train.final"), FINALS, format_func=final_names.get, key=p.key("final"))
    with data_tab:
        loss_names = {name: ui.t(f"mnist.train.loss_{name}") for name in mlp.LOSSES}
        st.radio(ui.t("mnist.train.loss"), mlp.LOSSES, format_func=loss_names.get, key=p.key("loss"))
        st.select_slider(ui.t("mnist.train.batch"), BATCHES, key=p.key("batch"))
        st.slider(ui.t("mnist.train.epochs"), 1, MAX_EPOCHS, key=p.key("epochs"))
        st.number_input(ui.t("mnist.train.seed"), min_value=0, max_value=9_999, key=p.key("seed"))
    b1, b2, b3 = st.columns(3)
    b1.button(ui.t("mnist.train.course"), key=p.key("__course"), icon="📘", on_click=p.apply, args=(COURSE_VALUES,),
              width="stretch")
    b2.button(ui.t("mnist.train.best"), key=p.key("__best"), icon="🏆", on_click=p.apply,
              args=(settings_from_config(BEST),), help=ui.t("mnist.train.best_help"), width="stretch")
    p.reset_button(where=b3)


@st.fragment
def settings_section(p: ui.Page, data) -> None:
    """The settings, the Train button with the time it should take, and the program to take home:
    a widget reruns only this section (and writes the URL). Train comes first, so it is on the first screen."""
    config = config_from_settings(p)
    job = st.session_state.get(JOB_KEY)
    running = job is not None and not job.done
    train_col, time_col = st.columns([2, 3], vertical_alignment="center")
    pressed = train_col.button(ui.t("mnist.train.train"), type="primary", key=p.key("__train"), icon="▶️",
                               disabled=running, width="stretch")
    if pressed and not running:
        job = mw.TrainingJob(config, data, estimate=mw.estimate_seconds(config, len(data.train_images), wait=0))
        st.session_state[JOB_KEY] = job
        st.session_state.pop(FAILED_KEY, None)
        st.rerun()  # the whole page: the panel beside this section follows the training
    time_slot = time_col.empty()  # filled last: a new estimate times a few batches, the rest need not wait
    controls(p)
    st.caption(ui.t("mnist.train.current", settings=describe(config)))
    last = st.session_state.get(LAST_KEY)
    if last is not None and last["trained"].config != config and not running:
        st.info(ui.t("mnist.train.stale", trained=describe(last["trained"].config)))
    ui.take_home(p, SETTINGS)
    p.sync_to_url()  # a fragment rerun skips the page's own URL sync
    estimate = mw.estimate_seconds(config, len(data.train_images))
    steps = config.epochs * -(-len(data.train_images) // config.batch_size)
    time_slot.caption(
        ui.t("mnist.train.estimate", time=mw.seconds_text(estimate), steps=f"{steps:,}") if estimate is not None
        else ui.t("mnist.train.estimating", steps=f"{steps:,}")
    )


# ------------------------------------------------------------------ the training panel


def training_panel(p: ui.Page) -> None:
    """The loss chart beside the settings: live while a training runs (polled, with the time left
    and a Stop), else the last run's, else an empty chart waiting for the first."""
    job = st.session_state.get(JOB_KEY)
    running = job is not None and not job.done
    st.fragment(_panel, run_every=POLL_SECONDS if running else None)(p)


def _panel(p: ui.Page) -> None:
    job = st.session_state.get(JOB_KEY)
    if job is not None:
        if job.done:
            st.rerun()  # the whole page: the results take over
        fraction = min(max(job.fraction, 0.0), 1.0)
        st.progress(fraction, text=ui.t("mnist.progress", percent=round(100 * fraction)))
        left = mlp.remaining_seconds(job.elapsed, fraction, job.estimate)
        if left is not None and fraction == 0 and left < 1:
            left = None  # not started yet (waiting for a slot or a classmate): the estimate has run out, not the work
        info, stop = st.columns([3, 2], vertical_alignment="center")
        info.caption(ui.t("mnist.train.time_left", time=mw.seconds_text(left)) if left is not None
                     else ui.t("mnist.train.time_left_unknown"))
        stop.button(ui.t("mnist.train.stop"), key=p.key("__stop"), icon="⏹️", on_click=job.stop, disabled=job.stopping,
                    width="stretch")
        if job.stopping:
            st.caption(ui.t("mnist.train.stopping"))
        if job.history is not None and not nw.thin_history(job.history).empty:
            ui.show_chart(mw.loss_chart(job.history, height=CHART_HEIGHT))
        else:
            st.caption(ui.t("mnist.training_shared"))
            ui.show_chart(placeholder_chart("mnist.train.chart_soon"))
        return
    last = st.session_state.get(LAST_KEY)
    if last is None:
        ui.show_chart(placeholder_chart())
        st.info(ui.t("mnist.train.press_train"))
        return
    trained = last["trained"]
    st.caption(ui.t("mnist.train.chart_of", network=network_text(trained.config), lr=f"{trained.config.lr:g}",
                    optimizer=ui.t(f"mnist.train.opt_{trained.config.optimizer}"),
                    accuracy="—" if last["diverged"] else f"{trained.accuracy:.2%}"))
    ui.show_loss(trained.history, height=CHART_HEIGHT)
    view, _ = nw.loss_view(trained.history)
    if view.clipped:
        st.caption(ui.t("mnist.train.chart_clipped"))


# ------------------------------------------------------------------ the results


def show_results(p: ui.Page, data, last: dict) -> None:
    """Accuracy (flagged when stopped or diverged), the board, confusion matrix, mistakes, first-layer weights, downloads."""
    trained, diverged = last["trained"], last["diverged"]
    probs = test_probabilities(model_key(trained, data), trained.model, data.test_images)  # kept for the class, not per session
    predicted = probs.argmax(axis=1)
    matrix = nw.confusion_matrix(data.test_labels, predicted)
    wrong = int(matrix.sum() - np.trace(matrix))
    if diverged:
        st.warning(ui.t("mnist.train.broken_model"))
    elif trained.stopped:
        steps = trained.config.epochs * -(-len(data.train_images) // trained.config.batch_size)
        st.warning(ui.t("mnist.train.stopped_note", done=f"{len(trained.history):,}", steps=f"{steps:,}"))
    m1, m2, m3 = st.columns(3)
    m1.metric(ui.t("mnist.accuracy"), "—" if diverged else f"{trained.accuracy:.2%}")
    m2.metric(ui.t("mnist.train.wrong"), "—" if diverged else f"{wrong:,} / {len(predicted):,}")
    m3.metric(ui.t("mnist.seconds"), mw.seconds_text(trained.seconds))
    wall = last.get("wall")
    if wall is not None and wall < trained.seconds / 2:  # the class's model, trained earlier: say how long it took now
        m3.caption(ui.t("mnist.train.from_cache", wall=mw.seconds_text(wall)))

    if not diverged:
        if trained.stopped:
            st.caption(ui.t("mnist.train.post_finished_only"))
        else:
            with ui.caught():
                board.post_run_button(PAGE, settings_from_config(trained.config), float(trained.accuracy),
                                      float(trained.seconds))

        matrix_col, note_col = st.columns([3, 2])
        with matrix_col:
            st.markdown(ui.t("mnist.train.confusion"))
            ui.show_chart(confusion_chart(matrix))
        note_col.caption(ui.t("mnist.train.confusion_note"))

        st.markdown(ui.t("mnist.train.mistakes", shown=min(SHOWN_MISTAKES, wrong), wrong=f"{wrong:,}"))
        mistakes = nw.misclassified(probs, data.test_labels, SHOWN_MISTAKES)
        if mistakes.empty:
            st.success(ui.t("mnist.train.no_mistakes"))
        else:
            st.caption(ui.t("mnist.train.mistake_legend"))
        ui.show_digits(
            data.test_images[mistakes["index"].to_numpy()],
            [
                ui.t("mnist.train.mistake", true=int(r.true), predicted=int(r.predicted), confidence=f"{r.confidence:.0%}")
                for r in mistakes.itertuples()
            ],
            width=MISTAKE_WIDTH,
        )

        weights = nw.first_layer_weights(trained.model)
        shown = min(SHOWN_UNITS, len(weights))
        st.markdown(ui.t("mnist.train.weights", shown=shown, units=len(weights)))
        picture, note = st.columns([3, 2])
        picture.image(nw.upscale(nw.tile(nw.diverging_rgb(weights[:shown]), cols=8, pad=2, fill=255), 3),
                      width="stretch", output_format="PNG")
        note.caption(ui.t("mnist.train.weights_note"))

    d1, d2 = st.columns(2)
    d1.download_button(
        ui.t("mnist.train.download_model"),
        data=lambda: mlp.model_to_bytes(trained.model),
        file_name="mnist_mlp.pt",
        mime="application/octet-stream",
        key=p.key("__download_model"),
        on_click="ignore",
        icon="💾",
        disabled=diverged,
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


def results_section(p: ui.Page, data) -> None:
    """The results of this student's last training."""
    if st.session_state.pop(FAILED_KEY, False):
        st.error(ui.t("mnist.train.failed"))
    last = st.session_state.get(LAST_KEY)
    if last is None:
        return
    st.subheader(ui.t("mnist.train.results"))
    if last["trained"].source != data.source:
        st.warning(ui.t("mnist.train.other_data"))
    with ui.caught():
        show_results(p, data, last)


def runs_table(log: views.RunLog) -> pd.DataFrame:
    """The comparison table with translated headings and readable values (accuracy "—" for a run that blew up)."""
    table = log.table()
    status_words = {"ok": ui.t("mnist.train.status_ok"), "stopped": ui.t("mnist.train.status_stopped"),
                    "diverged": ui.t("mnist.train.status_diverged")}
    loss_words = {"mse": ui.t("mnist.train.short_mse"), "cross_entropy": ui.t("mnist.train.short_ce")}
    final_words = {NONE: ui.t("mnist.train.short_none")}
    shown = pd.DataFrame({
        ui.t("mnist.train.col.run"): table["run"],
        ui.t("mnist.train.col.accuracy"): ["—" if not np.isfinite(a) else f"{a:.2%}" for a in table["accuracy"]],
        ui.t("mnist.train.col.status"): table["status"].map(status_words),
        ui.t("mnist.train.col.network"): table["network"],
        ui.t("mnist.train.col.optimizer"): table["optimizer"].map(lambda o: ui.t(f"mnist.train.opt_{o}")),
        ui.t("mnist.train.col.lr"): [f"{lr:g}" for lr in table["lr"]],
        ui.t("mnist.train.col.loss"): table["loss"].map(loss_words),
        ui.t("mnist.train.col.activation"): table["activation"],
        ui.t("mnist.train.col.final"): table["final"].map(lambda f: final_words.get(f, f)),
        ui.t("mnist.train.col.batch"): table["batch"],
        ui.t("mnist.train.col.epochs"): table["epochs"],
        ui.t("mnist.train.col.momentum"): [f"{m:g}" for m in table["momentum"]],
        ui.t("mnist.train.col.schedule"): table["schedule"].map(lambda s: ui.t(f"mnist.train.schedule_{s}")),
        ui.t("mnist.train.col.seed"): table["seed"],
        ui.t("mnist.train.col.seconds"): [mw.seconds_text(s) for s in table["seconds"]],
    })
    return shown.iloc[::-1].reset_index(drop=True)  # newest first


def compare_runs(p: ui.Page) -> None:
    """This session's runs side by side: a table (settings, accuracy, time) and the loss curves overlaid."""
    log = st.session_state.get(RUNS_KEY)
    if log is None or not log.runs:
        return
    st.subheader(ui.t("mnist.train.compare"))
    st.dataframe(runs_table(log), hide_index=True, width="stretch")
    chart = runs_chart(log)
    if chart is not None:
        ui.show_chart(chart)
        st.caption(ui.t("mnist.train.compare_note"))
    st.button(ui.t("mnist.train.clear_runs"), key=p.key("__clear_runs"), on_click=log.clear, icon="🧹")


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    finish_job(data)
    settings_col, chart_col = st.columns([1, 1], gap="medium")
    with chart_col:  # drawn first: the settings wait for their time estimate at the end
        training_panel(p)
        mw.data_banner(data, compact=True)
    with settings_col:
        settings_section(p, data)
    results_section(p, data)
    compare_runs(p)
