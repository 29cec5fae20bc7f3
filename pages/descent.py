"""Lesson 1: gradient descent on loss = x²·sin x, with SGD, momentum, RMSprop and Adam side by side."""

import numpy as np
import pandas as pd
import streamlit as st

from app import lead, ui
from app.charts import descent as charts
from lessons import descent as gd

PAGE = "descent"
SETTINGS = gd.SETTINGS
STEP_KEY = f"{PAGE}.__k"  # how far step-by-step mode (or Play) has got; not shared through the URL
TABLE_ROWS = 8
PLAY_TEXTS = {"play": "descent.play", "pause": "descent.pause", "speed": "descent.speed", "speed_value": "descent.speed_value"}
# The words of each verdict and each checked piece of advice (what each asserts: gd.CLAIMS, gd.FIX_CLAIMS).
VERDICTS = {
    gd.CONVERGED: "descent.v.converged", gd.STUCK: "descent.v.stuck", gd.OSCILLATING: "descent.v.oscillating",
    gd.APPROACHING: "descent.v.approaching", gd.SLOW: "descent.v.slow", gd.STALLED: "descent.v.stalled",
    gd.WANDERING: "descent.v.wandering", gd.DIVERGED: "descent.v.diverged", gd.START: "descent.v.start",
    gd.CROSSING: "descent.v.crossing",
}
FIXES = {gd.FIX_SMALLER_LR: "descent.fix.lr", gd.FIX_LARGER_LR: "descent.fix.lr", gd.FIX_MORE_STEPS: "descent.fix.steps",
         gd.FIX_SAFE_LR: "descent.fix.safe_lr"}
ICONS = {gd.DIVERGED: "💥", gd.CONVERGED: "✅", gd.STUCK: "🕳️", gd.OSCILLATING: "〰️"}
PRESETS = [
    ui.Preset("descent.try_diverge", {"x0": 3.0, "lr": 0.5, "steps": 20, "solvers": ["sgd"], "focus": "sgd"}),
    ui.Preset("descent.try_basin", {"x0": -6.0, "lr": 0.01, "steps": 60, "solvers": ["sgd"], "focus": "sgd"}),
    ui.Preset("descent.try_adam", {"x0": 1.0, "lr": 0.1, "steps": 60, "solvers": ["sgd", "adam"], "focus": "adam"}),
]


def labels() -> dict[str, str]:
    """This run's words for solver names, axes and titles, looked up once (charts use them many times)."""
    words = {s: ui.t(f"descent.solver.{s}") for s in gd.SOLVERS}
    words.update(solver=ui.t("descent.axis.solver"), step=ui.t("descent.axis.step"), valley=ui.t("descent.axis.valley"),
                 grad=ui.t("descent.col.grad"), blew=ui.t("descent.axis.blew"), curve_title=ui.t("descent.chart.curve"))
    return words


def controls(p: ui.Page, play: ui.Player, words: dict[str, str], last: int) -> None:
    """The main sliders, the solvers, Play and Reset; the solvers' settings folded away."""
    st.slider(ui.t("descent.x0"), -10.0, 10.0, step=0.1, format="%.1f", key=p.key("x0"))
    st.select_slider(ui.t("descent.lr"), options=gd.LR_OPTIONS, format_func=lambda v: f"{v:g}", key=p.key("lr"),
                     help=ui.t("descent.lr_help"))
    st.slider(ui.t("descent.steps"), 1, gd.MAX_STEPS, key=p.key("steps"))
    # Labels fixed now, in this run's language: AppTest calls format_func outside the run. Pills, not a
    # multiselect: all four names stay whole and in view in the narrow column of a 1280-1366 px screen.
    st.pills(ui.t("descent.solvers"), gd.SOLVERS, selection_mode="multi", format_func=words.__getitem__,
             key=p.key("solvers"), wrap=True)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        play.controls(last, PLAY_TEXTS, disabled=not p["solvers"])
        p.reset_button()
    with st.expander(ui.t("descent.hyper")):
        st.caption(ui.t("descent.hyper_note"))
        st.slider(ui.t("descent.momentum"), 0.0, 0.99, step=0.01, key=p.key("momentum"))
        st.slider(ui.t("descent.alpha"), 0.5, 0.999, step=0.001, format="%.3f", key=p.key("alpha"))
        st.slider(ui.t("descent.beta1"), 0.0, 0.999, step=0.001, format="%.3f", key=p.key("beta1"))
        st.slider(ui.t("descent.beta2"), 0.9, 0.9999, step=0.0001, format="%.4f", key=p.key("beta2"))
        st.select_slider(ui.t("descent.eps"), options=gd.EPS_OPTIONS, format_func=lambda v: f"{v:g}", key=p.key("eps"))


def say(solver: str, verdict: gd.Verdict, fix: gd.Fix | None, lr: float, words: dict[str, str]) -> None:
    """One solver's verdict in plain words, and the advice that was tried and works."""
    numbers = {"minimum": verdict.minimum, "loss": verdict.minimum_loss, "lowest": verdict.lowest, "x": verdict.x,
               "lowest_loss": verdict.lowest_loss, "amplitude": verdict.amplitude, "step": verdict.step}
    text = [ui.t(VERDICTS[verdict.code], solver=words[solver], **{k: v for k, v in numbers.items() if v is not None})]
    if verdict.crossings:
        text.append(ui.t(VERDICTS[gd.CROSSING], count=verdict.crossings))
    if fix is not None:
        text.append(ui.t(FIXES[fix.kind], lr=f"{lr:g}", fix=f"{fix.value:g}", at=fix.at))
    text = ("" if ui.lang() == "zh" else " ").join(text)  # Chinese sentences follow each other without a space
    shown = st.error if verdict.code == gd.DIVERGED else st.success if verdict.code in (gd.CONVERGED, gd.STUCK) else st.info
    shown(text, icon=ICONS.get(verdict.code, "👣"))


def step_by_step(p: ui.Page, play: ui.Player, upd: pd.DataFrame, solver: str, k: int, last: int,
                 words: dict[str, str]) -> None:
    """Step-by-step mode: the buttons, and the arithmetic of the step just taken."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(ui.t("descent.next"), on_click=play.advance, disabled=k >= last, key=p.key("__next"), type="primary")
        st.button(ui.t("descent.restart"), on_click=play.restart, key=p.key("__restart"))
        st.markdown(ui.t("descent.step_at", k=k, n=last))
    if k == 0:
        st.markdown(ui.t("descent.step_start", x=p["x0"], solver=words[solver]))
    elif k <= len(upd):
        st.latex(gd.aligned(gd.step_latex(upd, k, solver, p["lr"], **gd.hyper_of(p))))
    if upd.attrs["diverged"] and k >= max(len(upd), 1):
        st.error(ui.t("descent.step_blew", solver=words[solver], step=upd.attrs["diverged_step"]))
    elif k >= last:
        st.caption(ui.t("descent.step_done", n=last))


def autograd_check(p: ui.Page, points: list[float]) -> None:
    """Hand derivative vs. torch.autograd, computed only when asked (it loads torch)."""
    st.markdown(ui.t("descent.autograd_intro"))
    if not st.button(ui.t("descent.autograd_button"), key=p.key("__autograd")):
        return
    with st.spinner(ui.t("descent.autograd_loading")):
        table = gd.compare_with_autograd(points)
    names = {c: ui.t(f"descent.col.{c}") for c in ("hand", "autograd", "difference")}
    formats = {"hand": "%.15g", "autograd": "%.15g", "difference": "%.3e"}
    st.dataframe(table.rename(columns=names), hide_index=True, width="stretch",
                 column_config={names[c]: st.column_config.NumberColumn(format=f) for c, f in formats.items()})
    gap = float(table["difference"].max())
    ok = gap <= 1e-9 * max(1.0, float(table["hand"].abs().max()))
    (st.success if ok else st.error)(ui.t("descent.autograd_ok" if ok else "descent.autograd_bad", gap=gap))


def experiment(p: ui.Page, play: ui.Player, words: dict[str, str]) -> None:
    """The sliders beside the loss curve, the verdicts, and the details in tabs (only the open one is built).
    It reruns on its own when a widget in it moves, and every frame of Play is one such rerun."""
    x0, lr, steps, hyper = p["x0"], p["lr"], p["steps"], gd.hyper_of(p)
    solvers = [s for s in gd.SOLVERS if s in p["solvers"]]
    runs = {s: gd.descend(x0, lr, steps, s, **hyper) for s in solvers}
    last = max((len(r) - 1 for r in runs.values()), default=0)
    k = play.step(last if solvers else 0)
    stepwise = bool(p["stepwise"]) and bool(solvers)
    shown = k if (stepwise or play.playing) else None

    control_col, chart_col = st.columns([1, 2], gap="medium")
    with control_col:
        controls(p, play, words, last)
    path = charts.paths({s: gd.upto(r, shown) for s, r in runs.items()}, words)
    # The window fits the runs that did not blow up, so a diverged one cannot flatten them.
    tame = path["x"][~np.isin(path["solver"], [s for s, r in runs.items() if r.attrs["diverged"]])]
    window = gd.view_window(tame if len(tame) else path["x"])
    said = charts.spoken({s: gd.upto(r, shown) for s, r in runs.items()}, words)
    with chart_col:
        ui.show_vega(*charts.curve_chart(path, window, shown is not None, words, p["focus"]),
                     description=ui.t("access.descent_curve", lo=f"{window[0]:.1f}", hi=f"{window[1]:.1f}", said=said))
        if not play.playing:  # Play speaks when it stops, not at every frame
            ui.announce(said, key=f"{PAGE}.paths")
        if hidden := gd.outside(path["x"], window):
            st.caption(ui.t("descent.hidden", count=hidden))
    if not solvers:
        st.warning(ui.t("descent.no_solver"))
        return

    at_limits = lr == gd.LR_OPTIONS[-1] and steps == gd.MAX_STEPS
    for s, run in runs.items():
        verdict = gd.classify(run, *gd.X_RANGE, step=shown, at_limits=at_limits)
        say(s, verdict, None if shown is not None else gd.remedy(x0, lr, steps, s, verdict.code, **hyper), lr, words)

    if p["focus"] not in p["solvers"]:
        p["focus"] = p["solvers"][0]  # before its widget: the focus must be drawn
    focus_col, mode_col = st.columns([2, 1], vertical_alignment="bottom")
    focus_col.selectbox(ui.t("descent.focus"), p["solvers"], format_func=words.__getitem__, key=p.key("focus"))
    mode_col.toggle(ui.t("descent.stepwise"), key=p.key("stepwise"))
    focus = p["focus"]
    if stepwise:
        step_by_step(p, play, gd.updates(x0, lr, steps, focus, **hyper), focus, k, last, words)

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
            x_view, loss_view = gd.step_view(runs, "x", step=shown), gd.step_view(runs, "loss", step=shown)
            left, right = st.columns(2)
            with left:
                ui.show_vega(*charts.step_chart(loss_view, "loss", ui.t("descent.chart.loss"), words),
                             description=ui.t("access.descent_steps", what="loss", said=said))
            with right:
                ui.show_vega(*charts.step_chart(x_view, "x", ui.t("descent.chart.x"), words,
                                                charts.backdrop(*x_view.domain)[1]),
                             description=ui.t("access.descent_steps", what="x", said=said))
            if x_view.clipped or loss_view.clipped:
                st.caption(ui.t("descent.clipped"))
    with rule:
        if rule.open:
            st.markdown(ui.t("descent.rule", solver=words[focus]))
            st.latex(gd.RULES[focus])
            charts.steps_table(gd.updates(x0, lr, steps, focus, **hyper), focus, TABLE_ROWS)
    with autograd:
        if autograd.open:
            autograd_check(p, [x0, float(runs[focus]["x"].iloc[-1])])
    ui.take_home(p, SETTINGS)


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        ui.player(p, experiment, labels(), step_key=STEP_KEY)
    lead.race_post_descent({name: p[name] for name in SETTINGS}, p["focus"])  # the class race (in a class only)
