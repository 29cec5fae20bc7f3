"""Lesson 3: the course's data.csv exercise, run on the example data, the course's own file or a student's CSV."""

import streamlit as st

from app import data_source, lead, ui
from app.charts import regression as charts
from app.runlog import RunLog
from lessons import regression

PAGE = "regression"
SETTINGS = regression.SETTINGS
RUN = "regression.run"  # the last descent and what it was computed from
RUNS = "regression.runs"  # this session's runs (RunLog), to compare
LONG_RUN = 5_000_000  # points × iterations above which a run shows its progress and is not shared
PLAY_TEXTS = {"play": "regression.play", "pause": "regression.pause", "speed": "regression.speed",
              "speed_value": "regression.speed_value"}
# What a diverged descent says, by the verdict's code (what each asserts: regression.FIT_CLAIMS).
FIT_WORDS = {regression.FIT_DIVERGED_SCALE: "regression.diverged", regression.FIT_DIVERGED_RATE: "regression.diverged_rate",
             regression.FIT_DIVERGED_SAME_X: "regression.diverged_same_x"}
RUN_COLUMNS = {"run": "regression.runs.col.run", "data": "regression.runs.col.data", "lr": "regression.runs.col.lr",
               "iters": "regression.runs.col.iters", "b0": "regression.runs.col.b0", "m0": "regression.runs.col.m0",
               "normalise": "regression.runs.col.normalise", "b": "regression.runs.col.b", "m": "regression.runs.col.m",
               "error": "regression.runs.col.error", "seconds": "regression.runs.col.seconds"}
PRESETS = [
    ui.Preset("regression.try_big_lr", {**regression.COURSE, "lr": 0.001}),
    ui.Preset("regression.try_normalise", {**regression.COURSE, "normalise": True, "lr": 0.1, "iters": 100, "at": 100}),
    ui.Preset("regression.try_long", {**regression.COURSE, "iters": 10000, "at": 10000}),
    ui.Preset("regression.try_far", {**regression.COURSE, "b0": 60.0, "m0": -5.0}),
]


# A class moves the same sliders over the same data: a descent computed for one student serves the
# next (its logged seconds are those it took then). Long runs are left out: they show a progress bar.
shared_descent = st.cache_data(max_entries=64, ttl=3600, show_spinner=False)(regression.timed_descent)


def descend(points, data_id: str, data_name: str, b0: float, m0: float, lr: float, iters: int, normalise: bool):
    """The descent for these settings and its path for charts, computed once and reused while only the
    replay moves; each new run goes into the session's log of runs to compare."""
    wanted = (data_id, b0, m0, lr, iters, normalise)
    if (memo := st.session_state.get(RUN)) is not None and memo[0] == wanted:
        return memo[1], memo[2]
    if len(points) * iters > LONG_RUN:
        bar = st.progress(0.0, text=ui.t("regression.running"))
        run, seconds, path = regression.timed_descent(points, b0, m0, lr, iters, normalise,
                                           lambda f: bar.progress(min(f, 1.0), text=ui.t("regression.running")))
        bar.empty()
    else:
        run, seconds, path = shared_descent(points, b0, m0, lr, iters, normalise)
    st.session_state[RUN] = (wanted, run, path)
    last = regression.fit_verdict(run, points).last_finite
    st.session_state.setdefault(RUNS, RunLog(limit=8)).add(
        {"data": data_name, "lr": lr, "iters": iters, "b0": b0, "m0": m0, "normalise": normalise},
        results={"b": float(run.b[last]), "m": float(run.m[last]), "error": float(run.error[last])},
        seconds=seconds, curve=path, step="iteration", value="error")
    return run, path


def follow_iterations(p: ui.Page) -> None:
    """When the number of iterations changes, the replay jumps to the new end."""
    p["at"] = p["iters"]


def controls(p: ui.Page) -> None:
    """The learning rate, iterations and starting line, the course's settings and a reset."""
    st.select_slider(ui.t("regression.lr"), options=regression.LEARNING_RATES, format_func=lambda v: f"{v:g}",
                     key=p.key("lr"), help=ui.t("regression.lr_help"))
    st.slider(ui.t("regression.iters"), 1, regression.MAX_ITERATIONS, step=1, key=p.key("iters"),
              on_change=follow_iterations, args=(p,))
    c1, c2 = st.columns(2)
    c1.slider(ui.t("regression.b0"), -100.0, 100.0, step=0.5, key=p.key("b0"))
    c2.slider(ui.t("regression.m0"), -10.0, 10.0, step=0.1, key=p.key("m0"))
    st.toggle(ui.t("regression.normalise"), key=p.key("normalise"), help=ui.t("regression.normalise_help"))
    with st.container(horizontal=True):
        st.button(ui.t("regression.course_button"), key=p.key("__course"), on_click=p.apply, args=(regression.COURSE,))
        p.reset_button()


def replay(p: ui.Page, play: ui.Player, run, verdict, points, best, iters: int) -> int:
    """The replay slider with Play beside it, and the line after the step shown; returns that step."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.slider(ui.t("regression.replay"), 0, iters, step=1, key=p.key("at"))
        play.controls(iters, PLAY_TEXTS, width=110)
    shown = regression.fit_verdict(run, points, step=p["at"]).last_finite
    now_b, now_m, now_err = float(run.b[shown]), float(run.m[shown]), float(run.error[shown])
    title = ui.t("regression.replay_title", k=shown, b=f"{now_b:.6g}", m=f"{now_m:.6g}", err=f"{now_err:.6g}")
    st.markdown(title)
    if not play.playing:  # Play speaks when it stops, not at every frame
        ui.announce(title.replace("**", ""), key=f"{PAGE}.replay")
    if shown < p["at"]:
        st.warning(ui.t("regression.not_a_number", k=verdict.overflow_step, last=shown))
    sample = regression.sample_points(points)
    lines = [("now", now_b, now_m)] + ([("ls", *best)] if best is not None else [])
    ui.show_vega(*charts.scatter_chart(sample, lines, float(points[:, 0].min()), float(points[:, 0].max()), ["now", "ls"],
                                       height=330, number_format=".4g", clip=True),
                 description=ui.t("access.points_chart", n=len(sample), said=title.replace("**", "")))
    if len(sample) < len(points):
        st.caption(ui.t("regression.sampled", shown=f"{len(sample):,}", total=f"{len(points):,}"))
    return shown


def compare_runs(p: ui.Page) -> None:
    """This session's runs side by side: their settings and results, and their error curves overlaid."""
    st.caption(ui.t("regression.runs.intro"))
    log = st.session_state.get(RUNS)
    if log is None or not log.runs:
        return
    table = log.table()
    table["data"] = table["data"].map(lambda d: ui.t(data_source.SOURCE_WORDS["example"]) if d == "example" else d)
    columns = {c: ui.t(RUN_COLUMNS[c]) for c in table.columns}
    st.dataframe(table.rename(columns=columns), hide_index=True, width="stretch",
                 column_config={columns["seconds"]: st.column_config.NumberColumn(format="%.3f"),
                                columns["error"]: st.column_config.NumberColumn(format="%.6g")})
    ui.show_vega(*charts.runs_chart(log.curves()))
    st.button(ui.t("regression.runs.clear"), key=p.key("__clear_runs"), on_click=log.clear)


def experiment(p: ui.Page, play: ui.Player) -> None:
    """The data and settings beside the replayed line; the verdict; the printout, the loss surface, the error,
    the runs to compare and the course's words in tabs (only the open one is built).
    It reruns on its own when a widget in it moves, and every frame of Play is one such rerun."""
    control_col, chart_col = st.columns([2, 3], gap="medium")
    with control_col:
        points, data_id, data_name = data_source.choose(p)
        controls(p)
    lr, iters, b0, m0, normalise = p["lr"], p["iters"], p["b0"], p["m0"], p["normalise"]
    has_spread = regression.x_has_spread(points)
    if normalise and not has_spread:
        control_col.warning(ui.t("regression.no_spread_normalise"))
        normalise = False
    run, path = descend(points, data_id, data_name or "example", b0, m0, lr, iters, normalise)
    verdict = regression.fit_verdict(run, points)
    best = regression.least_squares(points) if has_spread else None
    play.step(iters)
    with chart_col:
        at = replay(p, play, run, verdict, points, best, iters)
    said = charts.fit_sentence(run, verdict, best, "m")
    if not play.playing:
        ui.announce(said, key=f"{PAGE}.fit")

    if verdict.code != regression.FIT_OK:
        st.warning(ui.t(FIT_WORDS[verdict.code], lr=f"{lr:g}", step=verdict.step, lr_max=f"{verdict.lr_max:.3g}"))
        if verdict.code == regression.FIT_DIVERGED_SCALE:
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(ui.t("regression.fix_hint"))
                st.button(ui.t("regression.fix_button"), key=p.key("__fix"), on_click=p.apply,
                          args=({"normalise": True, "lr": 0.1},))
    elif run.scaling is None:
        st.caption(ui.t("regression.lr_max_note", lr_max=f"{verdict.lr_max:.3g}"))

    names = [ui.t("regression.tab.printout"), ui.t("regression.tab.surface"), ui.t("regression.tab.error"),
             ui.t("regression.tab.runs"), ui.t("regression.tab.course")]
    printout_tab, surface, error, runs, course = st.tabs(names, key=p.key("__tab"), on_change="rerun")
    with printout_tab:
        if printout_tab.open:
            charts.printout(run, verdict, points, best, b0, m0, iters)
    with surface:
        if surface.open:
            box = regression.contour_view_box(path, [(b0, m0)], best, diverged=verdict.code != regression.FIT_OK)
            ui.show_vega(*charts.loss_contour_chart(points, path, best, box, slope="m", loss="error",
                                                    now=(float(run.b[at]), float(run.m[at])), height=380),
                         description=ui.t("access.contour_chart", slope="m", said=said))
            st.caption(ui.t("regression.contour_caption"))
            if verdict.code != regression.FIT_OK:
                st.caption(ui.t("regression.contour_diverged"))
    with error:
        if error.open:
            if regression.error_is_zero(path):
                st.info(ui.t("regression.loss_zero"))
            else:
                ui.show_vega(*charts.error_chart(path, at=at), description=ui.t("access.error_chart", said=said))
    with runs:
        if runs.open:
            compare_runs(p)
    with course:
        if course.open:
            st.markdown(ui.t("regression.intro"))
            if run.scaling is None and verdict.code == regression.FIT_OK and \
                    (ratio := regression.steepness_ratio(points)) >= regression.STEEP_M:
                st.markdown(ui.t("regression.why_b_slow", ratio=f"{ratio:.0f}"))
    ui.take_home(p, SETTINGS, data_name=data_name if p["data"] == "upload" else None, points=points)


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        ui.player(p, experiment, step_key=p.key("at"))
    lead.race_post_regression({name: p[name] for name in SETTINGS})  # the class race (in a class only)
