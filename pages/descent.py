"""Lesson 1: gradient descent on loss = x²·sin x, with SGD, momentum, RMSprop and Adam side by side."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from app import ui, vega
from lessons import descent as gd
from lessons import views

PAGE = "descent"
LR_OPTIONS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
EPS_OPTIONS = (1e-10, 1e-8, 1e-6, 1e-4, 1e-2)
MAX_STEPS = 300
SETTINGS = {
    "x0": ui.Setting(3.0, -10.0, 10.0),
    "lr": ui.Setting(0.05, options=LR_OPTIONS),
    "steps": ui.Setting(40, 1, MAX_STEPS),
    "solvers": ui.Setting(["sgd", "rmsprop", "adam"], options=gd.SOLVERS),
    "focus": ui.Setting("sgd", options=gd.SOLVERS),
    "momentum": ui.Setting(0.9, 0.0, 0.99),
    "alpha": ui.Setting(0.99, 0.5, 0.999),
    "beta1": ui.Setting(0.9, 0.0, 0.999),
    "beta2": ui.Setting(0.999, 0.9, 0.9999),
    "eps": ui.Setting(1e-8, options=EPS_OPTIONS),
    "stepwise": ui.Setting(False),
}
STEP_KEY = f"{PAGE}.__k"  # how far step-by-step mode (or Play) has got; not shared through the URL
PLAY_KEY = f"{PAGE}.__playing"  # whether Play is animating the steps
TABLE_ROWS = 8
LABELLED_STEPS = 10  # how many points of each path get their step number printed on the curve
LABEL_GAP = 0.03  # ... and only those this far apart (a share of the x-range), or numbers overprint
COLORS = {"sgd": "#d9480f", "momentum": "#7048e8", "rmsprop": "#1c7ed6", "adam": "#2b8a3e"}
# Where each solver's step numbers sit (pixels above/below the point), so overlapping paths' numbers stay apart.
LABEL_DY = {"expr": "{'sgd': -12, 'momentum': 14, 'rmsprop': -24, 'adam': 26}[datum.solver]"}
# Each point's place in the data (a Vega expression: solvers in gd.SOLVERS order, then steps, at most
# MAX_STEPS < 1000), so the chart can draw them in reverse, the course's SGD last.
DRAW_RANK = f"indexof({json.dumps(list(gd.SOLVERS))}, datum.solver) * 1000 + datum.step"
# The words of each verdict code (literal keys, so the string table's tests see every one).
VERDICTS = {
    gd.CONVERGED: "descent.v.converged", gd.STUCK: "descent.v.stuck", gd.OSCILLATING: "descent.v.oscillating",
    gd.APPROACHING: "descent.v.approaching", gd.SLOW: "descent.v.slow", gd.STALLED: "descent.v.stalled",
    gd.WANDERING: "descent.v.wandering", gd.DIVERGED: "descent.v.diverged", gd.START: "descent.v.start",
}


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def backdrop(lo: float, hi: float) -> tuple[bytes, bytes]:
    """The loss curve and its valley floors over [lo, hi] as Arrow bytes: the same for every student at this window."""
    return vega.arrow(gd.curve(lo, hi, points=300)), vega.arrow(gd.local_minima(lo, hi))


def labels() -> dict[str, str]:
    """This run's words for solver names and axes, looked up once (charts use them many times)."""
    words = {s: ui.t(f"descent.solver.{s}") for s in gd.SOLVERS}
    words.update(solver=ui.t("descent.axis.solver"), step=ui.t("descent.axis.step"), valley=ui.t("descent.axis.valley"),
                 grad=ui.t("descent.col.grad"), blew=ui.t("descent.axis.blew"))
    return words


def advance() -> None:
    """The "next step" button: one step further."""
    st.session_state[STEP_KEY] = st.session_state.get(STEP_KEY, 0) + 1


def restart() -> None:
    """The "back to the start" button."""
    st.session_state[STEP_KEY] = 0
    st.session_state[PLAY_KEY] = False


def toggle_play(last: int) -> None:
    """Play starts from the beginning (or from the step shown, if it is not the end); Pause stops."""
    playing = not st.session_state.get(PLAY_KEY, False)
    st.session_state[PLAY_KEY] = playing
    if playing and st.session_state.get(STEP_KEY, 0) >= last:
        st.session_state[STEP_KEY] = 0


def controls(p: ui.Page, words: dict[str, str], last: int) -> None:
    """The main sliders, the solvers, Play and Reset; the solvers' settings folded away."""
    # Labels fixed now, in this run's language: AppTest calls format_func outside the run.
    names = words.__getitem__
    st.slider(ui.t("descent.x0"), -10.0, 10.0, step=0.1, format="%.1f", key=p.key("x0"))
    st.select_slider(ui.t("descent.lr"), options=LR_OPTIONS, format_func=lambda v: f"{v:g}", key=p.key("lr"),
                     help=ui.t("descent.lr_help"))
    st.slider(ui.t("descent.steps"), 1, MAX_STEPS, key=p.key("steps"))
    st.multiselect(ui.t("descent.solvers"), gd.SOLVERS, format_func=names, key=p.key("solvers"),
                   placeholder=ui.t("descent.pick_solver"))
    playing = st.session_state.get(PLAY_KEY, False)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(ui.t("descent.pause" if playing else "descent.play"), key=p.key("__play"), type="primary",
                  on_click=toggle_play, args=(last,), disabled=not p["solvers"])
        st.select_slider(ui.t("descent.speed"), options=[1, 2, 3, 4], key=p.key("speed"), label_visibility="collapsed",
                         format_func=lambda v: ui.t("descent.speed_value", n=v), width=120)
        p.reset_button()
    with st.expander(ui.t("descent.hyper")):
        st.caption(ui.t("descent.hyper_note"))
        st.slider(ui.t("descent.momentum"), 0.0, 0.99, step=0.01, key=p.key("momentum"))
        st.slider(ui.t("descent.alpha"), 0.5, 0.999, step=0.001, format="%.3f", key=p.key("alpha"))
        st.slider(ui.t("descent.beta1"), 0.0, 0.999, step=0.001, format="%.3f", key=p.key("beta1"))
        st.slider(ui.t("descent.beta2"), 0.9, 0.9999, step=0.0001, format="%.4f", key=p.key("beta2"))
        st.select_slider(ui.t("descent.eps"), options=EPS_OPTIONS, format_func=lambda v: f"{v:g}", key=p.key("eps"))


def hyper(p: ui.Page) -> dict:
    """The hyper-parameters as ``descend`` takes them."""
    return {"momentum": p["momentum"], "alpha": p["alpha"], "betas": (p["beta1"], p["beta2"]), "eps": p["eps"]}


def x_y(window: tuple[float, float]) -> dict:
    """The curve chart's x (fixed to ``window``) and y channels, shared by its layers."""
    return {"x": {"field": "x", "type": "quantitative", "scale": {"domain": list(window), "nice": False}},
            "y": {"field": "loss", "type": "quantitative"}}


def solver_color(shown: list[str], words: dict[str, str]) -> dict:
    """One fixed colour per solver, whichever are shown (in ``gd.SOLVERS`` order), named in the current language."""
    shown = [s for s in gd.SOLVERS if s in shown]
    return {"field": "name", "type": "nominal", "title": None, "legend": {"orient": "top", "columns": 2},
            "scale": {"domain": [words[s] for s in shown], "range": [COLORS[s] for s in shown]}}


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


def curve_chart(path: dict[str, np.ndarray], window: tuple[float, float], ringed: bool,
                words: dict[str, str]) -> tuple[dict, dict]:
    """The loss curve, its valley floors, and each solver's path as numbered points: a Vega-Lite
    spec and its datasets (curve and floors cached, path: ``paths``' columns inside the window)."""
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
        path["numbered"] = np.concatenate([gd.spaced_steps(path["x"][a:b], LABEL_GAP * (hi - lo), LABELLED_STEPS)
                                           for a, b in zip(starts, ends, strict=True)])
        path["now"] = np.zeros(len(solvers), dtype=bool)
        path["now"][ends - 1] = True
        data["path"] = path
        base = {**axes, "color": solver_color(list(solvers[starts]), words), "tooltip": path_tooltip(words)}
        layers += [
            {"data": {"name": "path"}, "mark": {"type": "line", "opacity": 0.5, "strokeWidth": 1.5},
             "encoding": {**base, "order": {"field": "step", "type": "quantitative"},
                          "detail": {"field": "name", "type": "nominal"}}},
            # drawn in reverse data order: the course's SGD last, on top of the others
            {"data": {"name": "path"}, "transform": [{"calculate": DRAW_RANK, "as": "rank"}],
             "mark": {"type": "circle", "size": 60, "opacity": 0.9, "stroke": "white", "strokeWidth": 0.8},
             "encoding": {**base, "order": {"field": "rank", "type": "quantitative", "sort": "descending"}}},
            {"data": {"name": "path"}, "transform": [{"filter": "datum.numbered"}],
             "mark": {"type": "text", "fontSize": 11, "fontWeight": "bold", "dy": LABEL_DY},
             "encoding": {**base, "text": {"field": "step", "type": "quantitative", "title": words["step"]}}},
        ]
    # on top, so a path never hides where the valley floors are
    layers.append({"data": {"name": "floors"}, "transform": [valley_word(words)], "mark": {
        "type": "point", "shape": "triangle-down", "size": 120, "filled": True, "color": "#495057"}, "encoding": {
        **axes, "tooltip": [{"field": "kind", "type": "nominal", "title": " "},
                            {"field": "x", "type": "quantitative", "format": ".4f"},
                            {"field": "loss", "type": "quantitative", "format": ".4f"}]}})
    if ringed and "path" in data:  # ring the point each solver has just reached
        layers.append({"data": {"name": "path"}, "transform": [{"filter": "datum.now"}],
                       "mark": {"type": "point", "size": 260, "strokeWidth": 2.5, "filled": False}, "encoding": base})
    return {"layer": layers, "title": ui.t("descent.chart.curve"), "height": 400}, data


def step_chart(view: views.ChartView, field: str, title: str, words: dict[str, str],
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
        "color": solver_color(list(pd.unique(solvers)), words), "tooltip": path_tooltip(words)}}]
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


def say(solver: str, verdict: gd.Verdict, lr: float, words: dict[str, str]) -> None:
    """One solver's verdict in plain words: an error for divergence, else a note."""
    text = ui.t(
        VERDICTS[verdict.code],
        solver=words[solver],
        **{k: v for k, v in {
            "minimum": verdict.minimum, "loss": verdict.minimum_loss, "lowest": verdict.lowest,
            "lowest_loss": verdict.lowest_loss, "amplitude": verdict.amplitude, "x": verdict.x,
            "step": verdict.step, "lr": f"{lr:g}",
        }.items() if v is not None},
    )
    if verdict.code == gd.DIVERGED:
        st.error(text, icon="💥")
    elif verdict.code in (gd.CONVERGED, gd.STUCK):
        st.success(text, icon="✅" if verdict.code == gd.CONVERGED else "🕳️")
    else:
        st.info(text, icon="〰️" if verdict.code == gd.OSCILLATING else "👣")


def first_steps_table(run: pd.DataFrame, solver: str) -> None:
    """The first updates of the focus solver: x, f′(x), lr·f′(x), the solver's state, the new x."""
    state = {"momentum": ["velocity"], "rmsprop": ["square_avg"], "adam": ["m_hat", "v_hat"]}.get(solver, [])
    columns = ["step", "x", "grad", "lr_grad", *state, *(["delta"] if solver != "sgd" else []), "new_x"]
    if run.empty:  # the very first step blew up: the verdict says so
        return
    shown = run.head(TABLE_ROWS)[columns]
    st.markdown(ui.t("descent.table", count=len(shown)))
    st.dataframe(
        shown.rename(columns={c: ui.t(f"descent.col.{c}") for c in columns}).round(6),
        hide_index=True, width="stretch",
    )
    st.caption(ui.t("descent.table_note"))


def step_by_step(p: ui.Page, upd: pd.DataFrame, solver: str, k: int, last: int, words: dict[str, str]) -> None:
    """Step-by-step mode: the buttons, and the arithmetic of the step just taken."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(ui.t("descent.next"), on_click=advance, disabled=k >= last, key=p.key("__next"), type="primary")
        st.button(ui.t("descent.restart"), on_click=restart, key=p.key("__restart"))
        st.markdown(ui.t("descent.step_at", k=k, n=last))
    if k == 0:
        st.markdown(ui.t("descent.step_start", x=p["x0"], solver=words[solver]))
    elif k <= len(upd):
        st.latex(gd.aligned(gd.step_latex(upd, k, solver, p["lr"], **hyper(p))))
    if upd.attrs["diverged"] and k >= max(len(upd), 1):
        st.error(ui.t("descent.step_blew", solver=words[solver], step=upd.attrs["diverged_step"]))
    elif k >= last:
        st.caption(ui.t("descent.step_done", n=last))


def autograd_check(p: ui.Page, points: list[float]) -> None:
    """Hand derivative vs. torch.autograd, computed only when asked (it loads torch)."""
    st.markdown(ui.t("descent.autograd_intro"))
    if st.button(ui.t("descent.autograd_button"), key=p.key("__autograd")):
        with st.spinner(ui.t("descent.autograd_loading")):
            table = gd.compare_with_autograd(points)
        names = {c: ui.t(f"descent.col.{c}") for c in ("hand", "autograd", "difference")}
        st.dataframe(
            table.rename(columns=names), hide_index=True, width="stretch",
            column_config={names["hand"]: st.column_config.NumberColumn(format="%.15g"),
                           names["autograd"]: st.column_config.NumberColumn(format="%.15g"),
                           names["difference"]: st.column_config.NumberColumn(format="%.3e")},
        )
        gap = float(table["difference"].max())
        scale = max(1.0, float(table["hand"].abs().max()))
        if gap <= 1e-9 * scale:
            st.success(ui.t("descent.autograd_ok", gap=gap))
        else:
            st.error(ui.t("descent.autograd_bad", gap=gap))


PRESETS = [
    ui.Preset("descent.try_diverge", {"x0": 3.0, "lr": 0.5, "steps": 20, "solvers": ["sgd"], "focus": "sgd"}),
    ui.Preset("descent.try_basin", {"x0": -6.0, "lr": 0.01, "steps": 60, "solvers": ["sgd"], "focus": "sgd"}),
    ui.Preset("descent.try_adam", {"x0": 1.0, "lr": 0.1, "steps": 60, "solvers": ["sgd", "adam"], "focus": "adam"}),
]


def experiment(p: ui.Page, words: dict[str, str], clock: bool) -> None:
    """The sliders beside the loss curve, the verdicts, and the details in tabs (only the open one is built).

    It reruns on its own when a widget in it moves, and every frame of Play is one such rerun.
    ``clock``: whether this fragment was set to rerun every frame (Play was on at the last whole-page run).
    """
    if st.session_state.get(PLAY_KEY, False) != clock:
        st.rerun()  # Play or Pause pressed: the frame clock starts or stops with a whole-page run
    x0, lr, steps = p["x0"], p["lr"], p["steps"]
    solvers = [s for s in gd.SOLVERS if s in p["solvers"]]
    runs = {s: gd.descend(x0, lr, steps, s, **hyper(p)) for s in solvers}
    last = max((len(r) - 1 for r in runs.values()), default=0)
    k = min(st.session_state.get(STEP_KEY, 0), last)
    if st.session_state.get(PLAY_KEY, False):  # one frame further; the last frame ends the play
        following = views.next_step(k, views.play_steps(last)) if solvers else None
        k = last if following is None else following
        st.session_state[PLAY_KEY] = k < last
    playing = st.session_state.get(PLAY_KEY, False)
    st.session_state[STEP_KEY] = k
    stepwise = bool(p["stepwise"]) and bool(solvers)
    shown = k if (stepwise or playing) else None

    control_col, chart_col = st.columns([1, 2], gap="medium")
    with control_col:
        controls(p, words, last)
    path = paths({s: gd.upto(r, shown) for s, r in runs.items()}, words)
    # The window fits the runs that did not blow up, so a diverged one cannot flatten them.
    tame = path["x"][~np.isin(path["solver"], [s for s, r in runs.items() if r.attrs["diverged"]])]
    window = gd.view_window(tame if len(tame) else path["x"])
    with chart_col:
        ui.show_vega(*curve_chart(path, window, shown is not None, words))
        hidden = int(((path["x"] < window[0]) | (path["x"] > window[1])).sum())
        if hidden:
            st.caption(ui.t("descent.hidden", count=hidden))
    if not solvers:
        st.warning(ui.t("descent.no_solver"))
        return

    at_limits = lr == LR_OPTIONS[-1] and steps == MAX_STEPS
    for s, run in runs.items():
        say(s, gd.classify(run, *gd.X_RANGE, step=shown, at_limits=at_limits), lr, words)

    chosen = p["solvers"]
    if p["focus"] not in chosen:
        p["focus"] = chosen[0]  # before its widget: the focus must be drawn
    focus_col, mode_col = st.columns([2, 1], vertical_alignment="bottom")
    focus_col.selectbox(ui.t("descent.focus"), chosen, format_func=words.__getitem__, key=p.key("focus"))
    mode_col.toggle(ui.t("descent.stepwise"), key=p.key("stepwise"))
    focus = p["focus"]
    if stepwise:
        step_by_step(p, gd.updates(x0, lr, steps, focus, **hyper(p)), focus, k, last, words)

    # The course's words first: the default tab costs nothing, the charts of the others only when opened.
    names = [ui.t("descent.tab.course"), ui.t("descent.tab.steps"), ui.t("descent.tab.rule"), ui.t("descent.tab.autograd")]
    course, per_step, rule, autograd = st.tabs(names, key=p.key("__tab"), on_change="rerun")
    with course:
        if course.open:
            st.markdown(ui.t("descent.course"))
            st.latex(r"\begin{gathered}" + gd.LOSS_LATEX.replace(r", \qquad", r" \\ ") + r"\end{gathered}")
            if not stepwise:
                st.caption(ui.t("descent.step_hint"))
    with per_step:
        if per_step.open:
            x_view = gd.step_view(runs, "x", step=shown)
            loss_view = gd.step_view(runs, "loss", step=shown)
            left, right = st.columns(2)
            with left:
                ui.show_vega(*step_chart(loss_view, "loss", ui.t("descent.chart.loss"), words))
            with right:
                ui.show_vega(*step_chart(x_view, "x", ui.t("descent.chart.x"), words, backdrop(*x_view.domain)[1]))
            if x_view.clipped or loss_view.clipped:
                st.caption(ui.t("descent.clipped"))
    with rule:
        if rule.open:
            st.markdown(ui.t("descent.rule", solver=words[focus]))
            st.latex(gd.RULES[focus])
            first_steps_table(gd.updates(x0, lr, steps, focus, **hyper(p)), focus)
    with autograd:
        if autograd.open:
            autograd_check(p, [x0, float(runs[focus]["x"].iloc[-1])])
    ui.take_home(p, SETTINGS)
    p.sync_to_url()  # a fragment's rerun skips the page's own sync at the end
    if clock and not st.session_state[PLAY_KEY]:
        st.rerun()  # the last frame is drawn: stop the clock


with ui.page(PAGE, SETTINGS) as p:
    words = labels()
    p.try_it(PRESETS)
    speed = st.session_state.setdefault(p.key("speed"), 2)
    playing = st.session_state.get(PLAY_KEY, False)
    # Play reruns only this fragment, every frame; pausing or the last frame stops the clock.
    with ui.caught():
        st.fragment(experiment, run_every=views.frame_seconds(speed) if playing else None, key=p.key("__experiment"))(p, words, playing)
