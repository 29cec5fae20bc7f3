"""Lesson 5c's charts and words: the confusion matrix, the empty loss chart waiting for a training, this
session's loss curves overlaid (a blow-up clipped and marked, as on the main chart), the comparison
table, and the one-line summary of a configuration."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from app.a11y import PAGE_TEXT
from app.i18n import lang, t
from app.mnist_widgets import seconds_text
from app.runlog import RunLog
from app.vega import nominal, quantitative
from app.vega import show as show_vega
from lessons import clipping, recipes
from lessons import network as nw

CHART_HEIGHT = 300


def describe(config: recipes.TrainConfig) -> str:
    """A one-line summary of a configuration, in the current language."""
    return t("mnist.train.describe", sizes=recipes.network_text(config.hidden), activation=config.activation,
             loss=t(f"mnist.train.loss_{config.loss}"), optimizer=t(f"mnist.train.opt_{config.optimizer}"),
             lr=f"{config.lr:g}", batch=config.batch_size, epochs=config.epochs)


def confusion_chart(matrix: np.ndarray) -> alt.LayerChart:
    """The confusion matrix as a heatmap: rows the true digit, columns the prediction, counts written in
    small enough (no thousands separator, legend below) to fit their cells on a 390 px phone."""
    frame = nw.confusion_frame(matrix)
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:O", title=t("mnist.train.predicted"), axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("true:O", title=t("mnist.train.true")),
    )
    tooltip = [
        alt.Tooltip("true:O", title=t("mnist.train.true")),
        alt.Tooltip("predicted:O", title=t("mnist.train.predicted")),
        alt.Tooltip("count:Q", title=t("mnist.train.count"), format=","),
        alt.Tooltip("share:Q", title=t("mnist.train.share"), format=".1%"),
    ]
    cells = base.mark_rect().encode(
        color=alt.Color("share:Q", title=t("mnist.train.share"), scale=alt.Scale(scheme="oranges", domain=[0, 1]),
                        legend=alt.Legend(orient="bottom", format=".0%")),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text("count:Q", format="d"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("#1f2328")),
        tooltip=tooltip,
    )
    return (cells + text).properties(height=380)


def weights_picture(weights: np.ndarray) -> np.ndarray:
    """First-layer weight images tiled 8 to a row, positive red and negative blue, scaled up ×3 for crisp pixels."""
    return nw.upscale(nw.tile(nw.diverging_rgb(weights), cols=8, pad=2, fill=255), 3)


@functools.lru_cache(maxsize=8)  # note kinds × languages
def placeholder_spec(note_key: str, language: str) -> dict[str, Any]:
    """The empty loss chart's Vega-Lite (dataset ``note``), built once: as an altair chart, building and
    converting it was a third of a student's first page. Its note in the page's text colour (a named layer,
    PAGE_TEXT), on either theme: grey was 3.3:1 on the light one."""
    hidden = {"domain": [0, 1]}
    return {
        "height": CHART_HEIGHT,
        "layer": [{
            "name": PAGE_TEXT,
            "data": {"name": "note"},
            "mark": {"type": "text", "fontSize": 14, "color": "#868e96"},
            "encoding": {
                "x": quantitative("step", title=t("mnist.axis_step"), scale=hidden, axis={"labels": False}),
                "y": quantitative("loss", title=t("mnist.axis_loss"), scale=hidden, axis={"labels": False}),
                "text": nominal("note", title=t(note_key)),
            },
        }],
    }


def show_placeholder(description: str, note_key: str = "mnist.train.chart_here") -> None:
    """The empty loss chart, where the curve will draw once training starts."""
    show_vega(placeholder_spec(note_key, lang()), {"note": {"step": [0.5], "loss": [0.5], "note": [t(note_key)]}},
              description=description)


def runs_view(log: RunLog) -> clipping.ChartView | None:
    """The overlaid curves made readable: each run's y-range is cut, as ``nw.loss_view`` cuts the main
    chart, at ``nw.LOSS_CAP`` times its first loss, so a run blowing up (to 1e26, then NaN) is clipped
    and marked where it left and never flattens the others; None before any run has a curve."""
    curves = log.curves()
    if curves.empty:
        return None
    blew, lo, hi = {}, np.inf, -np.inf
    for r in log.runs:
        values = r.curve["value"].to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size:
            lo = min(lo, float(finite.min()))
            hi = max(hi, min(float(finite.max()), nw.LOSS_CAP * abs(float(finite[0]))))
        if finite.size < values.size or r.results.get("status") == "diverged":
            bad = np.flatnonzero(~np.isfinite(values))
            blew[r.number] = int(r.curve["step"].iloc[bad[0]]) if bad.size else int(r.curve["step"].iloc[-1])
    return clipping.clip_series(curves, "value", series="run", blew_up=blew, domain=clipping.padded(lo, max(hi, lo), clipping.PAD))


def runs_chart(log: RunLog) -> alt.LayerChart | None:
    """This session's loss curves overlaid, one colour per run (``runs_view``)."""
    view = runs_view(log)
    if view is None:
        return None
    run_t, step_t, loss_t = t("mnist.train.col.run"), t("mnist.axis_step"), t("mnist.axis_loss")
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


def runs_table(log: RunLog) -> pd.DataFrame:
    """The comparison table with translated headings and readable values (accuracy "—" for a run that blew up), newest first."""
    table = log.table()
    status_words = {"ok": t("mnist.train.status_ok"), "stopped": t("mnist.train.status_stopped"),
                    "diverged": t("mnist.train.status_diverged")}
    loss_words = {"mse": t("mnist.train.short_mse"), "cross_entropy": t("mnist.train.short_ce")}
    shown = pd.DataFrame({
        t("mnist.train.col.run"): table["run"],
        t("mnist.train.col.accuracy"): ["—" if not np.isfinite(a) else f"{a:.2%}" for a in table["accuracy"]],
        t("mnist.train.col.status"): table["status"].map(status_words),
        t("mnist.train.col.network"): table["network"],
        t("mnist.train.col.optimizer"): table["optimizer"].map(lambda o: t(f"mnist.train.opt_{o}")),
        t("mnist.train.col.lr"): [f"{lr:g}" for lr in table["lr"]],
        t("mnist.train.col.loss"): table["loss"].map(loss_words),
        t("mnist.train.col.activation"): table["activation"],
        t("mnist.train.col.final"): table["final"].map(lambda f: t("mnist.train.short_none") if f == recipes.NONE else f),
        t("mnist.train.col.batch"): table["batch"],
        t("mnist.train.col.epochs"): table["epochs"],
        t("mnist.train.col.momentum"): [f"{m:g}" for m in table["momentum"]],
        t("mnist.train.col.schedule"): table["schedule"].map(lambda s: t(f"mnist.train.schedule_{s}")),
        t("mnist.train.col.seed"): table["seed"],
        t("mnist.train.col.seconds"): [seconds_text(s) for s in table["seconds"]],
    })
    return shown.iloc[::-1].reset_index(drop=True)


def trained_sentence(trained, wrong: int, total: int, diverged: bool) -> str:
    """What a finished training gives, in one sentence, from the figures the page shows: the network, its
    optimizer and time, the test accuracy and how many of the test images it got wrong; or that it diverged."""
    if diverged:
        return t("access.train_diverged")
    return t("access.train_done", network=recipes.network_text(trained.config.hidden),
             optimizer=t(f"mnist.train.opt_{trained.config.optimizer}"), seconds=seconds_text(trained.seconds),
             accuracy=f"{trained.accuracy:.2%}", wrong=f"{wrong:,}", total=f"{total:,}")

