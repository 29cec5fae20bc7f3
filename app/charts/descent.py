"""Lesson 1's charts as plain Vega-Lite dicts (``ui.show_vega``): the loss curve with each solver's path
as numbered points, and loss or x against the step with a blow-up cut and marked."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from app.a11y import PAGE_TEXT, SERIES_COLORS, SERIES_DASHES, SERIES_SHAPES
from app.display import LARGE_FONTS, large_type
from app.i18n import t
from app.vega import arrow, lines
from lessons import clipping
from lessons import descent as gd

LABELLED_STEPS = 10  # at most this many points of each path get their step number printed on the curve
# The plot's size on a phone, in px of the loss curve's own range: 260 wide, and 160 high of the 400 px
# chart (its two-line title, legend and axes take the rest, and Vega rounds the axis outwards). Where the
# numbers would land there, so that none is printed over another; a wider screen only spreads them.
PLOT_PX = (260.0, 160.0)
# One fixed colour, point shape and dash per solver, whichever are shown, so a solver keeps them as others
# come and go: colours a colour-blind student tells apart too, and shape and dash without colour (app.a11y).
COLORS, SHAPES, DASHES = SERIES_COLORS, SERIES_SHAPES, SERIES_DASHES
# The valley floors' ▼: teal, 4:1 against both themes' backgrounds (a near-black one vanished on the
# dark theme) and apart from the grey curve it sits on.
VALLEY = "#0c8599"
LABEL_FONT = 11  # px of the step numbers (large type: LARGE_FONTS["label"])
# Where each solver's step numbers sit (pixels above/below the point), so overlapping paths' numbers stay apart.
DY = {"sgd": -12, "momentum": 14, "rmsprop": -24, "adam": 26}
LABEL_DY = {"expr": f"{json.dumps(DY)}[datum.solver]"}
# Each point's place in the data (a Vega expression: solvers in gd.SOLVERS order, then steps, at most
# MAX_STEPS < 1000), so the chart can draw them in reverse, the course's SGD last.
DRAW_RANK = f"indexof({json.dumps(list(gd.SOLVERS))}, datum.solver) * 1000 + datum.step"


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def backdrop(lo: float, hi: float) -> tuple[bytes, bytes]:
    """The loss curve and its valley floors over [lo, hi] as Arrow bytes: the same for every student at this window."""
    return arrow(gd.curve(lo, hi, points=300)), arrow(gd.local_minima(lo, hi))


def x_y(window: tuple[float, float]) -> dict:
    """The curve chart's x (fixed to ``window``) and y channels, shared by its layers."""
    return {"x": {"field": "x", "type": "quantitative", "scale": {"domain": list(window), "nice": False}},
            "y": {"field": "loss", "type": "quantitative"}}


def solver_color(shown: list[str], words: dict[str, str], table: dict = COLORS) -> dict:
    """One fixed colour per solver, whichever are shown (in ``gd.SOLVERS`` order), named in the current language;
    with ``table`` SHAPES or DASHES, its shape or dash (the same legend: one entry per solver shows all)."""
    shown = [s for s in gd.SOLVERS if s in shown]
    # The legend's marks at full strength and undashed: merged with the half-faded dashed path lines, they
    # were pale shapes with a dashed rim (the dashes show on the lines themselves).
    return {"field": "name", "type": "nominal", "title": None,
            "legend": {"orient": "top", "columns": 2, "symbolOpacity": 1, "symbolSize": 90},
            "scale": {"domain": [words[s] for s in shown], "range": [table[s] for s in shown]}}


def path_tooltip(words: dict[str, str]) -> list[dict]:
    """What hovering a path point tells: which solver, which step, and the numbers there."""
    return [
        {"field": "name", "type": "nominal", "title": words["solver"]},
        {"field": "step", "type": "quantitative", "title": words["step"]},
        {"field": "x", "type": "quantitative", "title": "x", "format": ".5f"},
        {"field": "loss", "type": "quantitative", "title": "loss", "format": ".5f"},
        {"field": "grad", "type": "quantitative", "title": words["grad"], "format": ".5f"},
    ]


def valley_word(words: dict[str, str]) -> dict:
    """A transform naming each valley floor in this run's language (the cached floors hold numbers only)."""
    return {"calculate": json.dumps(words["valley"]), "as": "kind"}


def paths(runs: dict[str, pd.DataFrame], words: dict[str, str]) -> dict[str, np.ndarray]:
    """All runs as one set of columns: the solver's code and display name, step, x, loss, grad."""
    runs = {s: run for s, run in runs.items() if len(run)}
    columns = {name: np.concatenate([run[name].to_numpy() for run in runs.values()]) if runs else np.zeros(0)
               for name in ("step", "x", "loss", "grad")}
    sizes = [len(run) for run in runs.values()]
    return {"solver": np.repeat(np.array(list(runs), dtype=object), sizes),
            "name": np.repeat(np.array([words[s] for s in runs], dtype=object), sizes), **columns}


def numbered(path: dict[str, np.ndarray], window: tuple[float, float], first: str | None, font: float) -> np.ndarray:
    """Which path points get their step number (a mask): each path's points in step order, ``first``'s path
    before the others, each kept only if its number, at ``font`` px and its solver's offset ``DY``, lands
    clear of every number kept before it on a phone-sized plot; at most ``LABELLED_STEPS`` a path."""
    lo, hi = window
    losses = np.concatenate([gd.loss(np.linspace(lo, hi, 300)), path["loss"]])
    y_lo, y_hi = float(losses.min()), float(losses.max())
    across = (path["x"] - lo) / (hi - lo) * PLOT_PX[0]
    down = (y_hi - path["loss"]) / ((y_hi - y_lo) or 1.0) * PLOT_PX[1] + np.array([DY[s] for s in path["solver"]])
    half_wide = np.array([0.32 * font * len(str(int(step))) + 1.0 for step in path["step"]])
    half_high = 0.5 * font + 1.0
    rank = [(path["solver"][i] != first, gd.SOLVERS.index(path["solver"][i]), path["step"][i]) for i in range(len(across))]
    chosen = np.zeros(len(across), dtype=bool)
    counts: dict[str, int] = {}
    kept: list[int] = []
    for i in sorted(range(len(across)), key=rank.__getitem__):
        solver = path["solver"][i]
        if counts.get(solver, 0) >= LABELLED_STEPS:
            continue
        if any(abs(across[i] - across[j]) < half_wide[i] + half_wide[j]
               and abs(down[i] - down[j]) < 2 * half_high for j in kept):
            continue
        chosen[i] = True
        kept.append(i)
        counts[solver] = counts.get(solver, 0) + 1
    return chosen


def curve_chart(path: dict[str, np.ndarray], window: tuple[float, float], ringed: bool,
                words: dict[str, str], first: str | None = None) -> tuple[dict, dict]:
    """The loss curve, its valley floors, and each solver's path as numbered points: a Vega-Lite
    spec and its datasets (curve and floors cached, path: ``paths``' columns inside the window).
    ``ringed``: ring the point each solver has just reached (step-by-step mode and Play); ``first``: the
    solver whose steps are numbered first where numbers would collide (the page's focus)."""
    lo, hi = window
    line, floors = backdrop(lo, hi)
    inside = (path["x"] >= lo) & (path["x"] <= hi)
    path = {name: values[inside] for name, values in path.items()}
    axes = x_y(window)
    layers = [{"data": {"name": "curve"}, "mark": {"type": "line", "color": "#868e96"}, "encoding": {
        **axes, "tooltip": [{"field": "x", "type": "quantitative", "format": ".3f"},
                            {"field": "loss", "type": "quantitative", "format": ".3f"}]}}]
    data: dict = {"curve": line, "floors": floors}
    if len(path["x"]):
        # Each solver's rows run together, steps rising: spaced ones get their step number, the last the ring.
        solvers = path["solver"]
        starts = np.flatnonzero(np.r_[True, solvers[1:] != solvers[:-1]])
        ends = np.r_[starts[1:], len(solvers)]
        path["numbered"] = numbered(path, window, first, LARGE_FONTS["label"] if large_type() else LABEL_FONT)
        path["now"] = np.zeros(len(solvers), dtype=bool)
        path["now"][ends - 1] = True
        data["path"] = path
        base = {**axes, "color": solver_color(list(solvers[starts]), words), "tooltip": path_tooltip(words)}
        layers += [
            {"data": {"name": "path"}, "mark": {"type": "line", "opacity": 0.5, "strokeWidth": 1.5},
             "encoding": {**base, "order": {"field": "step", "type": "quantitative"},
                          # by the solver's code, not its name: a channel on the legend's field put each
                          # dash on the legend's shapes, which then read as smudges
                          "strokeDash": {"field": "solver", "type": "nominal", "legend": None, "scale": {
                              "domain": [s for s in gd.SOLVERS if s in set(solvers)],
                              "range": [DASHES[s] for s in gd.SOLVERS if s in set(solvers)]}},
                          "detail": {"field": "name", "type": "nominal"}}},
            # drawn in reverse data order: the course's SGD last, on top of the others
            {"data": {"name": "path"}, "transform": [{"calculate": DRAW_RANK, "as": "rank"}],
             "mark": {"type": "point", "filled": True, "size": 60, "opacity": 0.9, "stroke": "white", "strokeWidth": 0.8},
             "encoding": {**base, "shape": solver_color(list(solvers[starts]), words, SHAPES),
                          "order": {"field": "rank", "type": "quantitative", "sort": "descending"}}},
            # the numbers in the page's text colour (PAGE_TEXT): in a solver's colour they fell below 4.5:1
            {"name": PAGE_TEXT, "data": {"name": "path"}, "transform": [{"filter": "datum.numbered"}],
             "mark": {"type": "text", "fontSize": LABEL_FONT, "fontWeight": "bold", "dy": LABEL_DY},
             "encoding": {**base, "text": {"field": "step", "type": "quantitative", "title": words["step"]}}},
        ]
    # on top, so a path never hides where the valley floors are
    layers.append({"data": {"name": "floors"}, "transform": [valley_word(words)], "mark": {
        "type": "point", "shape": "triangle-down", "size": 120, "filled": True, "color": VALLEY}, "encoding": {
        **axes, "tooltip": [{"field": "kind", "type": "nominal", "title": " "},
                            {"field": "x", "type": "quantitative", "format": ".4f"},
                            {"field": "loss", "type": "quantitative", "format": ".4f"}]}})
    if ringed and "path" in data:
        layers.append({"data": {"name": "path"}, "transform": [{"filter": "datum.now"}],
                       "mark": {"type": "point", "size": 260, "strokeWidth": 2.5, "filled": False}, "encoding": base})
    return {"layer": layers, "title": lines(words["curve_title"]), "height": 400}, data


def step_chart(view: clipping.ChartView, field: str, title: str, words: dict[str, str],
               floors: bytes | None = None) -> tuple[dict, dict]:
    """One quantity (loss or x) against the step number, a line per solver, cut to a readable range;
    a run that left the range or blew up is marked where it did; valley floors (Arrow bytes) dashed.
    A Vega-Lite spec and its datasets."""
    frame = view.frame
    solvers = frame["solver"].to_numpy()
    steps = {"solver": solvers, "name": np.array([words[s] for s in solvers], dtype=object),
             **{c: frame[c].to_numpy() for c in ("step", "x", "loss", "grad")}}
    layers = [{"data": {"name": "steps"}, "mark": {"type": "line", "point": {"size": 28}, "clip": True}, "encoding": {
        "x": {"field": "step", "type": "quantitative", "title": words["step"], "axis": {"tickMinStep": 1, "format": "d"}},
        "y": {"field": field, "type": "quantitative", "title": field,
              "scale": {"domain": list(view.domain), "nice": False}},
        "color": solver_color(list(pd.unique(solvers)), words),
        "strokeDash": solver_color(list(pd.unique(solvers)), words, DASHES),
        "shape": solver_color(list(pd.unique(solvers)), words, SHAPES), "tooltip": path_tooltip(words)}}]
    data: dict = {"steps": steps}
    if floors is not None:
        data["floors"] = floors
        layers.insert(0, {"data": {"name": "floors"}, "transform": [valley_word(words)],
            "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#868e96"},
            "encoding": {"y": {"field": "x", "type": "quantitative"}, "tooltip": [
                {"field": "kind", "type": "nominal", "title": " "},
                {"field": "x", "type": "quantitative", "title": "x", "format": ".4f"}]}})
    if len(view.marks):
        marks = view.marks
        data["marks"] = {"name": np.array([words[s] for s in marks["series"]], dtype=object),
                         **{c: marks[c].to_numpy() for c in ("step", "shown", "value")}}
        layers.append({"data": {"name": "marks"}, "transform": [{"calculate": json.dumps(words["blew"]), "as": "what"}],
                       "mark": {"type": "point", "shape": "cross", "size": 220, "filled": True, "color": "#c92a2a"},
                       "encoding": {
                           "x": {"field": "step", "type": "quantitative"},
                           "y": {"field": "shown", "type": "quantitative"},
                           "tooltip": [{"field": "name", "type": "nominal", "title": words["solver"]},
                                       {"field": "what", "type": "nominal", "title": " "},
                                       {"field": "step", "type": "quantitative", "title": words["step"]},
                                       {"field": "value", "type": "quantitative", "title": field, "format": ".4g"}]}})
    return {"layer": layers, "title": title, "height": 300}, data


def spoken(runs: dict[str, pd.DataFrame], words: dict[str, str]) -> str:
    """Where each solver's run (``gd.descend``, cut by ``gd.upto``) got, in one sentence: the x of its last
    row and its steps, or, for a run flagged ``diverged``, the step at which it blew up."""
    parts = []
    for solver, run in runs.items():
        if run.attrs.get("diverged"):
            parts.append(t("access.descent_diverged", solver=words[solver], step=run.attrs["diverged_step"]))
        else:
            parts.append(t("access.descent_reached", solver=words[solver], x=f"{float(run['x'].iloc[-1]):.2f}",
                           steps=len(run) - 1))
    return t("access.descent_join").join(parts)


def steps_table(run: pd.DataFrame, solver: str, rows: int = 8) -> None:
    """The first updates of the focus solver: x, f′(x), lr·f′(x), the solver's state, the new x."""
    state = {"momentum": ["velocity"], "rmsprop": ["square_avg"], "adam": ["m_hat", "v_hat"]}.get(solver, [])
    columns = ["step", "x", "grad", "lr_grad", *state, *(["delta"] if solver != "sgd" else []), "new_x"]
    if run.empty:  # the very first step blew up: the verdict says so
        return
    shown = run.head(rows)[columns]
    st.markdown(t("descent.table", count=len(shown)))
    st.dataframe(shown.rename(columns={c: t(f"descent.col.{c}") for c in columns}).round(6),
                 hide_index=True, width="stretch")
    st.caption(t("descent.table_note"))
