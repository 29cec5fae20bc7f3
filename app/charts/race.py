"""The class descent race as one Vega-Lite chart: every posted path on the x²·sin x curve, coloured by
solver with a dash pattern and an end-point shape per solver as a second cue (a colour-blind reader
and a washed-out projector tell them apart), each path's end marked with its nickname in the tooltip."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.charts.classboard import for_projector  # noqa: F401 - the race's projector form is the board's
from app.i18n import t
from app.vega import arrow, nominal, quantitative
from classroom import questions as bank
from lessons import descent

HEIGHT = 380
MOST_POINTS = 120  # per path: a 300-step path thinned to this many (its ends always kept)
SOLVER_ORDER = descent.SOLVERS
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")  # Okabe-Ito: apart for every common colour blindness
DASHES = ([1, 0], [7, 3], [2, 2], [9, 3, 2, 3])
SHAPES = ("circle", "square", "triangle-up", "diamond")


def _thin(n: int, most: int = MOST_POINTS) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, most)).round().astype(np.int64)) if n else np.zeros(0, np.int64)


def race_paths(runs: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(every path's points: id, solver, step, x, loss; each path's end: id, nickname, solver, x, loss,
    steps), recomputed by ``lessons`` from the posted settings."""
    cols: dict[str, list] = {"id": [], "solver": [], "step": [], "x": [], "loss": []}
    ends: dict[str, list] = {"id": [], "nickname": [], "solver": [], "x": [], "loss": [], "steps": []}
    for row in runs.itertuples():
        path, _, steps = bank.descent_race_run(row.settings)
        if path.empty:
            continue
        keep = _thin(len(path))
        n = len(keep)
        cols["id"].append(np.full(n, row.id))
        cols["solver"].append(np.full(n, row.settings["solver"], dtype=object))
        cols["step"].append(path["step"].to_numpy()[keep])
        cols["x"].append(path["x"].to_numpy()[keep])
        cols["loss"].append(path["loss"].to_numpy()[keep])
        ends["id"].append(row.id)
        ends["nickname"].append(row.nickname)
        ends["solver"].append(row.settings["solver"])
        ends["x"].append(float(path["x"].iloc[-1]))
        ends["loss"].append(float(path["loss"].iloc[-1]))
        ends["steps"].append(-1 if steps is None else int(steps))
    paths = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
    return paths, {k: np.asarray(v) for k, v in ends.items()}


def race_chart(runs: pd.DataFrame, solver_words: dict[str, str]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(spec, data)`` for ``ui.show_vega``: the curve over a window holding the paths (at most
    ``descent.VIEW_CAP`` out), every path (clipped to the window) and every end point."""
    paths, ends = race_paths(runs)
    lo, hi = descent.view_window(paths["x"] if len(paths["x"]) else np.zeros(0))
    curve = descent.curve(lo, hi)
    low, high = float(curve["loss"].min()), float(curve["loss"].max())
    pad = 0.05 * (high - low)
    named = [solver_words[s] for s in SOLVER_ORDER]
    paths["solver"] = np.array([solver_words.get(s, s) for s in paths["solver"]], dtype=object)
    ends["solver"] = np.array([solver_words.get(s, s) for s in ends["solver"]], dtype=object)
    x_t, loss_t, solver_t = "x", t("lead.chart_loss"), t("lead.col.solver")
    x = quantitative("x", title=x_t, scale={"domain": [lo, hi], "nice": False})
    y = quantitative("loss", title=loss_t, scale={"domain": [low - pad, high + pad], "nice": False})
    solver = {"title": solver_t}
    spec: dict[str, Any] = {
        "height": HEIGHT,
        "layer": [
            {"data": {"name": "curve"}, "mark": {"type": "line", "color": "#9a9a9a", "strokeWidth": 2},
             "encoding": {"x": x, "y": y}},
            {"data": {"name": "paths"}, "mark": {"type": "line", "strokeWidth": 1.6, "opacity": 0.7, "clip": True},
             "encoding": {"x": x, "y": y, "order": quantitative("step"), "detail": nominal("id"),
                          "color": nominal("solver", **solver, scale={"domain": named, "range": list(COLOURS)},
                                           legend={"orient": "bottom"}),
                          "strokeDash": nominal("solver", **solver, scale={"domain": named, "range": list(DASHES)},
                                                legend={"orient": "bottom"})}},
            {"data": {"name": "ends"}, "mark": {"type": "point", "filled": True, "size": 110, "clip": True,
                                                "stroke": "white", "strokeWidth": 1},
             "encoding": {"x": x, "y": y,
                          "color": nominal("solver", **solver, scale={"domain": named, "range": list(COLOURS)},
                                           legend=None),
                          "shape": nominal("solver", **solver, scale={"domain": named, "range": list(SHAPES)},
                                           legend={"orient": "bottom"}),
                          "tooltip": [nominal("nickname", title=t("classboard.col.nickname")),
                                      nominal("solver", title=solver_t),
                                      quantitative("loss", title=loss_t, format=".4g"),
                                      quantitative("steps", title=t("lead.col.steps"))]}},
        ],
    }
    return spec, {"curve": arrow({"x": curve["x"].to_numpy(), "loss": curve["loss"].to_numpy()}),
                  "paths": arrow(paths), "ends": arrow(ends)}
