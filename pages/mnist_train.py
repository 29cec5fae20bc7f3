"""Lesson 5c, training on MNIST: choose the network and the recipe (``lessons.mlp.SETTINGS``), train beside
the settings with a live loss curve, an estimate, the time left and a Stop (``app.mnist_session``), then read
the test accuracy, the confusion matrix, the mistakes and the first layer's weights; compare this session's
runs, post one to the class board, take the program home."""

import numpy as np
import streamlit as st

from app import classboard, ui
from app import mnist_session as session
from app.charts import mnist_train as charts
from app.mnist_widgets import loss_chart, loss_text, model_downloads, seconds_text
from lessons import mlp
from lessons import network as nw

PAGE = "mnist_train"
COURSE = mlp.COURSE_SETTINGS
SHOWN_MISTAKES, SHOWN_UNITS = 24, 32
MISTAKE_WIDTH = 100  # px per mistake: its caption fits on one line
POLL_SECONDS = 0.5  # how often the training panel looks at a running training
PRESETS = [
    ui.Preset("mnist.train.try_sigmoid", {**COURSE, "activation": "sigmoid"}),
    ui.Preset("mnist.train.try_adam", {**COURSE, "optimizer": "adam", "loss": "cross_entropy", "lr": 0.001}),
    ui.Preset("mnist.train.try_big_lr", {**COURSE, "lr": 3.0}),
    ui.Preset("mnist.train.try_h3", {**COURSE, "final": "relu"}),
]


def controls(p: ui.Page) -> None:
    """Every choice of solver, network and data, in tabs; then the course's and the best settings and a reset."""
    def names(template: str, options):  # the words made now, in the page's language: format_func runs later
        return {name: ui.t(template.format(name)) for name in options}.get

    solver_tab, net_tab, data_tab = st.tabs([ui.t("mnist.train.tab_solver"), ui.t("mnist.train.tab_network"),
                                             ui.t("mnist.train.tab_data")])
    with solver_tab:
        st.selectbox(ui.t("mnist.train.optimizer"), mlp.OPTIMIZERS, format_func=names("mnist.train.opt_{}", mlp.OPTIMIZERS), key=p.key("optimizer"))
        st.select_slider(ui.t("mnist.train.lr"), mlp.SETTINGS["lr"].options, format_func=lambda lr: f"{lr:g}",
                         key=p.key("lr"), help=ui.t("mnist.train.lr_help"))
        st.slider(ui.t("mnist.train.momentum"), 0.0, 0.99, step=0.01, key=p.key("momentum"),
                  disabled=p["optimizer"] != "sgd", help=ui.t("mnist.train.momentum_help"))
        st.selectbox(ui.t("mnist.train.schedule"), mlp.SETTINGS["schedule"].options, format_func=names("mnist.train.schedule_{}", mlp.SETTINGS["schedule"].options),
                     key=p.key("schedule"))
    with net_tab:
        st.slider(ui.t("mnist.train.layers"), 1, len(mlp.HIDDEN_NAMES), key=p.key("layers"))
        for i, name in enumerate(mlp.HIDDEN_NAMES):
            st.select_slider(ui.t("mnist.train.hidden", i=i + 1), mlp.SETTINGS[name].options, key=p.key(name),
                             disabled=i >= p["layers"])
        st.selectbox(ui.t("mnist.train.activation"), mlp.ACTIVATIONS, key=p.key("activation"))
        st.selectbox(ui.t("mnist.train.final"), mlp.SETTINGS["final"].options, key=p.key("final"),
                     format_func={f: ui.t("mnist.train.final_none") if f == mlp.NONE else f for f in mlp.SETTINGS["final"].options}.get)
    with data_tab:
        st.radio(ui.t("mnist.train.loss"), mlp.LOSSES, format_func=names("mnist.train.loss_{}", mlp.LOSSES), key=p.key("loss"))
        st.select_slider(ui.t("mnist.train.batch"), mlp.SETTINGS["batch"].options, key=p.key("batch"))
        st.slider(ui.t("mnist.train.epochs"), 1, int(mlp.SETTINGS["epochs"].hi), key=p.key("epochs"))
        st.number_input(ui.t("mnist.train.seed"), min_value=0, max_value=9_999, key=p.key("seed"))
    b1, b2, b3 = st.columns(3)
    b1.button(ui.t("mnist.train.course"), key=p.key("__course"), icon="📘", on_click=p.apply, args=(COURSE,),
              width="stretch")
    b2.button(ui.t("mnist.train.best"), key=p.key("__best"), icon="🏆", on_click=p.apply,
              args=(mlp.settings_from_config(mlp.BEST_PRESET),), help=ui.t("mnist.train.best_help"), width="stretch")
    p.reset_button(where=b3)


@ui.fragment
def settings_section(p: ui.Page, data) -> None:
    """The Train button first (on the first screen) with the time it should take, the settings, the program to take home."""
    config = mlp.config_from_settings({name: p[name] for name in mlp.SETTINGS})
    running = session.running_job() is not None
    train_col, time_col = st.columns([2, 3], vertical_alignment="center")
    if train_col.button(ui.t("mnist.train.train"), type="primary", key=p.key("__train"), icon="▶️",
                        disabled=running, width="stretch") and not running:
        session.start(config, data)
        st.rerun()  # the whole page: the panel beside this section follows the training
    time_slot = time_col.empty()  # filled last: a new estimate times a few batches, the rest need not wait
    controls(p)
    st.caption(ui.t("mnist.train.current", settings=charts.describe(config)))
    last = st.session_state.get(session.LAST_KEY)
    if last is not None and last["trained"].config != config and not running:
        st.info(ui.t("mnist.train.stale", trained=charts.describe(last["trained"].config)))
    ui.take_home(p, mlp.SETTINGS)
    estimate, steps = session.estimate(config, data), f"{mlp.steps_of(config, len(data.train_images)):,}"
    time_slot.caption(ui.t("mnist.train.estimate", time=seconds_text(estimate), steps=steps) if estimate is not None
                      else ui.t("mnist.train.estimating", steps=steps))


def training_panel(p: ui.Page) -> None:
    """The loss chart beside the settings: live while a training runs (with the time left and a Stop),
    else the last run's, else an empty chart waiting for the first."""
    job = st.session_state.get(session.JOB_KEY)
    if job is not None:
        if job.done:
            st.rerun()  # the whole page: the results take over
        fraction = min(max(job.fraction, 0.0), 1.0)
        st.progress(fraction, text=ui.t("mnist.progress", percent=round(100 * fraction)))
        left = session.time_left(job, fraction)
        info, stop = st.columns([3, 2], vertical_alignment="center")
        info.caption(ui.t("mnist.train.time_left", time=seconds_text(left)) if left is not None
                     else ui.t("mnist.train.time_left_unknown"))
        stop.button(ui.t("mnist.train.stop"), key=p.key("__stop"), icon="⏹️", on_click=job.stop, disabled=job.stopping,
                    width="stretch")
        if job.stopping:
            st.caption(ui.t("mnist.train.stopping"))
        if job.history is not None and not nw.thin_history(job.history).empty:
            ui.show_chart(loss_chart(job.history, height=charts.CHART_HEIGHT), description=loss_text(job.history))
            if (done := session.epochs_done(job.history)) is not None:
                ui.announce(ui.t("access.train_epoch", epoch=done[0], loss=f"{done[1]:.4f}"), key=f"{PAGE}.epoch",
                            speak_first=True)
        else:
            st.caption(ui.t("mnist.training_shared"))
            charts.show_placeholder(ui.t("access.loss_chart_empty"), "mnist.train.chart_soon")
        return
    last = st.session_state.get(session.LAST_KEY)
    if last is None:
        charts.show_placeholder(ui.t("access.loss_chart_empty"))
        st.info(ui.t("mnist.train.press_train"))
        return
    trained = last["trained"]
    st.caption(ui.t("mnist.train.chart_of", network=mlp.network_text(trained.config.hidden), lr=f"{trained.config.lr:g}",
                    optimizer=ui.t(f"mnist.train.opt_{trained.config.optimizer}"),
                    accuracy="—" if last["diverged"] else f"{trained.accuracy:.2%}"))
    ui.show_loss(trained.history, height=charts.CHART_HEIGHT)
    cut = mlp.loss_chart_cut(trained.history)
    if cut is not None:
        st.caption(ui.t("mnist.train.chart_clipped" if cut == "capped" else "mnist.train.chart_blew_up"))


def show_results(p: ui.Page, data, last: dict) -> None:
    """Accuracy (flagged when stopped or diverged), the board, confusion matrix, mistakes, first-layer weights, downloads."""
    trained, diverged = last["trained"], last["diverged"]
    probs = session.probabilities(trained, data)  # kept for the class, not per session
    matrix = nw.confusion_matrix(data.test_labels, probs.argmax(axis=1))
    wrong = int(matrix.sum() - np.trace(matrix))
    for key, fields in session.result_notes(trained, diverged, len(data.train_images)):
        st.warning(ui.t(key, **fields))
    m1, m2, m3 = st.columns(3)
    m1.metric(ui.t("mnist.accuracy"), "—" if diverged else f"{trained.accuracy:.2%}")
    m2.metric(ui.t("mnist.train.wrong"), "—" if diverged else f"{wrong:,} / {len(probs):,}")
    m3.metric(ui.t("mnist.seconds"), seconds_text(trained.seconds))
    ui.announce(charts.trained_sentence(trained, wrong, len(probs), diverged), key=f"{PAGE}.result", speak_first=True)
    if session.from_cache(last):
        m3.caption(ui.t("mnist.train.from_cache", wall=seconds_text(last["wall"])))
    if not diverged and trained.stopped:
        st.caption(ui.t("mnist.train.post_finished_only"))
    elif not diverged:
        with ui.caught():
            classboard.post_run_button(PAGE, mlp.settings_from_config(trained.config), float(trained.accuracy),
                                       float(trained.seconds))
    if not diverged:
        matrix_col, note_col = st.columns([3, 2])
        matrix_col.markdown(ui.t("mnist.train.confusion"))
        with matrix_col:
            ui.show_chart(charts.confusion_chart(matrix),
                          description=ui.t("access.confusion_chart", right=f"{int(np.trace(matrix)):,}", wrong=f"{wrong:,}"))
        note_col.caption(ui.t("mnist.train.confusion_note"))
        st.markdown(ui.t("mnist.train.mistakes", shown=min(SHOWN_MISTAKES, wrong), wrong=f"{wrong:,}"))
        mistakes = nw.misclassified(probs, data.test_labels, SHOWN_MISTAKES)
        (st.success if mistakes.empty else st.caption)(ui.t("mnist.train.no_mistakes" if mistakes.empty
                                                            else "mnist.train.mistake_legend"))
        ui.show_digits(data.test_images[mistakes["index"].to_numpy()], [
            ui.t("mnist.train.mistake", true=int(r.true), predicted=int(r.predicted), confidence=f"{r.confidence:.0%}")
            for r in mistakes.itertuples()], width=MISTAKE_WIDTH,
            labels=mistakes["true"].to_numpy(), read=mistakes["predicted"].to_numpy())
        weights = nw.first_layer_weights(trained.model)
        shown = min(SHOWN_UNITS, len(weights))
        st.markdown(ui.t("mnist.train.weights", shown=shown, units=len(weights)))
        picture, note = st.columns([3, 2])
        picture.image(charts.weights_picture(weights[:shown]), width="stretch", output_format="PNG",
                      alt=ui.t("access.weights_picture", shown=shown))
        note.caption(ui.t("mnist.train.weights_note"))
    model_downloads(trained, diverged, p.key)


with ui.page(PAGE, mlp.SETTINGS) as p:
    p.try_it(PRESETS)
    data = ui.mnist_data()
    session.finish(data)
    settings_col, chart_col = st.columns([1, 1], gap="medium")
    with chart_col:  # drawn first: the settings wait for their time estimate at the end
        ui.fragment(training_panel, run_every=POLL_SECONDS if session.running_job() else None)(p)
        ui.data_banner(data, compact=True)
    with settings_col:
        settings_section(p, data)
    if session.take_failure():
        st.error(ui.t("mnist.train.failed"))
    if (last := st.session_state.get(session.LAST_KEY)) is not None:
        st.subheader(ui.t("mnist.train.results"))
        if last["trained"].source != data.source:
            st.warning(ui.t("mnist.train.other_data"))
        with ui.caught():
            show_results(p, data, last)
    if (log := st.session_state.get(session.RUNS_KEY)) is not None and log.runs:
        st.subheader(ui.t("mnist.train.compare"))
        st.dataframe(charts.runs_table(log), hide_index=True, width="stretch")
        if (chart := charts.runs_chart(log)) is not None:
            ui.show_chart(chart, description=ui.t("access.runs_chart_mnist"))
            st.caption(ui.t("mnist.train.compare_note"))
        st.button(ui.t("mnist.train.clear_runs"), key=p.key("__clear_runs"), on_click=log.clear, icon="🧹")
