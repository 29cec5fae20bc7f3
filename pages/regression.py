"""Lesson 3: the course's data.csv exercise, run on the example data, the course's own file or a student's CSV."""

import os
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from app import ui
from lessons import regression, views

PAGE = "regression"
EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example.csv"
LEARNING_RATES = [0.000001, 0.000003, 0.00001, 0.00003, 0.0001, 0.0002, 0.0003, 0.0004, 0.0005,
                  0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0, 1.2]
COURSE = {"lr": 0.0001, "iters": 1000, "b0": 0.0, "m0": 0.0, "normalise": False, "at": 1000}
SOURCES = ["example", "course", "upload"]
SETTINGS = {
    "data": ui.Setting("example", options=SOURCES),
    "lr": ui.Setting(0.0001, options=LEARNING_RATES),
    "iters": ui.Setting(1000, 1, 10000),
    "b0": ui.Setting(0.0, -100.0, 100.0),
    "m0": ui.Setting(0.0, -10.0, 10.0),
    "normalise": ui.Setting(False),
    "at": ui.Setting(1000, 0, 10000),
}
UPLOADED = "regression.uploaded"  # the last file that read well: {"name", "id", "points"}
UPLOAD_SEEN = "regression.upload_seen"  # file id of the last upload handled, so each is read once
UPLOAD_ERROR = "regression.upload_error"  # the last upload's problem: {"name", "code", "fields"}
RUN = "regression.run"  # the last descent and what it was computed from
RUNS = "regression.runs"  # this session's runs (views.RunLog), to compare
PLAY_KEY = "regression.__playing"  # whether Play is animating the replay
# The words of each data source and of a diverged descent's cause (literal keys, so the string tests see them).
SOURCE_WORDS = {"example": "regression.data_example", "course": "regression.data_course", "upload": "regression.data_upload"}
FIT_WORDS = {regression.FIT_DIVERGED_SCALE: "regression.diverged", regression.FIT_DIVERGED_RATE: "regression.diverged_rate"}
RUN_COLUMNS = {
    "run": "regression.runs.col.run", "data": "regression.runs.col.data", "lr": "regression.runs.col.lr",
    "iters": "regression.runs.col.iters", "b0": "regression.runs.col.b0", "m0": "regression.runs.col.m0",
    "normalise": "regression.runs.col.normalise", "b": "regression.runs.col.b", "m": "regression.runs.col.m",
    "error": "regression.runs.col.error", "seconds": "regression.runs.col.seconds",
}


@st.cache_data(max_entries=1, ttl=24 * 3600, show_spinner=False)
def example_points():
    """The project's example data (data/example.csv), read once per server."""
    return regression.load_points(EXAMPLE)


@st.cache_data(max_entries=2, ttl=3600, show_spinner=False)
def course_points(path: str, modified: float):
    """The course's data.csv where this server has it, read once per version of the file."""
    return regression.load_points(Path(path))


def handle_upload(uploaded) -> None:
    """Read a newly uploaded file once; keep it if it is good, remember its problem if not."""
    if uploaded is None or st.session_state.get(UPLOAD_SEEN) == uploaded.file_id:
        return
    st.session_state[UPLOAD_SEEN] = uploaded.file_id
    try:
        points = regression.load_points(uploaded)
    except regression.PointsFileError as exc:
        st.session_state[UPLOAD_ERROR] = {"name": uploaded.name, "code": exc.code, "fields": exc.fields}
    else:
        st.session_state[UPLOADED] = {"name": uploaded.name, "id": uploaded.file_id, "points": points}
        st.session_state[UPLOAD_ERROR] = None


def follow_iterations(p: ui.Page) -> None:
    """When the number of iterations changes, the replay jumps to the new end."""
    p["at"] = p["iters"]


def toggle_play(p: ui.Page) -> None:
    """Play replays the descent from step 0 (or from the step shown, if it is not the end); Pause stops."""
    playing = not st.session_state.get(PLAY_KEY, False)
    st.session_state[PLAY_KEY] = playing
    if playing and p["at"] >= p["iters"]:
        p["at"] = 0


def timed_descent(points, b0: float, m0: float, lr: float, iters: int, normalise: bool, progress=None):
    """(the descent, the seconds it took, its path for charts: ``regression.path_frame``)."""
    started = time.perf_counter()
    if normalise:
        run = regression.standardised_history(points, b0, m0, lr, iters, progress)
    else:
        run = regression.gradient_descent_history(points, b0, m0, lr, iters, progress)
    return run, time.perf_counter() - started, regression.path_frame(run)


# A class moves the same sliders over the same data: a descent computed for one student serves the
# next (its logged seconds are those it took then). Long runs are left out: they show a progress bar.
shared_descent = st.cache_data(max_entries=64, ttl=3600, show_spinner=False)(timed_descent)
LONG_RUN = 5_000_000  # points × iterations above which a run shows its progress and is not shared


def descend(points, data_id: str, data_name: str, b0: float, m0: float, lr: float, iters: int, normalise: bool):
    """The descent for these settings and its path for charts, computed once and reused while only the
    replay moves; each new run goes into the session's log of runs to compare."""
    wanted = (data_id, b0, m0, lr, iters, normalise)
    memo = st.session_state.get(RUN)
    if memo is not None and memo[0] == wanted:
        return memo[1], memo[2]
    if len(points) * iters > LONG_RUN:
        bar = st.progress(0.0, text=ui.t("regression.running"))
        run, seconds, path = timed_descent(points, b0, m0, lr, iters, normalise,
                                           lambda f: bar.progress(min(f, 1.0), text=ui.t("regression.running")))
        bar.empty()
    else:
        run, seconds, path = shared_descent(points, b0, m0, lr, iters, normalise)
    st.session_state[RUN] = (wanted, run, path)
    last = regression.fit_verdict(run, points).last_finite
    log = st.session_state.setdefault(RUNS, views.RunLog(limit=8))
    log.add({"data": data_name, "lr": lr, "iters": iters, "b0": b0, "m0": m0, "normalise": normalise},
            results={"b": float(run.b[last]), "m": float(run.m[last]), "error": float(run.error[last])},
            seconds=seconds, curve=path, step="iteration", value="error")
    return run, path


def scatter_chart(points, lines: list[tuple[str, float, float]], x_lo: float, x_hi: float) -> tuple[dict, dict]:
    """The data and the lines drawn over it: the replayed line (orange) and the closed form (blue, dashed).
    ``lines``: (label, b, slope) of each, drawn across [x_lo, x_hi]. ``(spec, data)`` for ``ui.show_vega``."""
    order = [ui.t("regression.line_now"), ui.t("regression.line_ls")]
    dots = {"data": {"name": "points"}, "mark": {"type": "circle", "size": 30, "opacity": 0.6, "color": "#495057"},
            "encoding": {"x": {"field": "x", "type": "quantitative", "title": "x"},
                         "y": {"field": "y", "type": "quantitative", "title": "y"},
                         "tooltip": [{"field": "x", "type": "quantitative", "format": ".4g"},
                                     {"field": "y", "type": "quantitative", "format": ".4g"}]}}
    drawn = {"data": {"name": "lines"}, "mark": {"type": "line", "strokeWidth": 2.5, "clip": True}, "encoding": {
        "x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
        "color": {"field": "line", "type": "nominal", "title": None, "legend": {"orient": "bottom", "columns": 2},
                  "scale": {"domain": order, "range": ["#d9480f", "#1c7ed6"]}},
        "strokeDash": {"field": "line", "type": "nominal", "legend": None, "scale": {"domain": order, "range": [[1, 0], [6, 4]]}},
        "tooltip": [{"field": "line", "type": "nominal", "title": ui.t("regression.col_line")}]}}
    return {"height": 330, "layer": [dots, drawn]}, {"points": {"x": points[:, 0], "y": points[:, 1]},
                                                  "lines": regression.line_columns(lines, x_lo, x_hi)}


def error_chart(path: pd.DataFrame, at: int) -> tuple[dict, dict]:
    """The error against the iteration on a log axis, with the replayed step marked (``(spec, data)``)."""
    shown = path[path["error"] > 0]
    curve = {"data": {"name": "error"}, "mark": {"type": "line", "color": "#d9480f"}, "encoding": {
        "x": {"field": "iteration", "type": "quantitative", "title": ui.t("regression.iteration")},
        "y": {"field": "error", "type": "quantitative", "title": ui.t("regression.mse_log"), "scale": {"type": "log"}},
        "tooltip": [{"field": "iteration", "type": "quantitative", "title": ui.t("regression.iteration")},
                    {"field": "error", "type": "quantitative", "title": ui.t("regression.mse"), "format": ".10g"}]}}
    rule = {"data": {"name": "at"}, "mark": {"type": "rule", "color": "#1f2328", "strokeDash": [4, 3]},
            "encoding": {"x": {"field": "iteration", "type": "quantitative"}}}
    return ({"height": 300, "layer": [curve, rule]},
            {"error": {"iteration": shown["iteration"], "error": shown["error"]}, "at": {"iteration": [at]}})


def runs_chart(curves: pd.DataFrame) -> tuple[dict, dict]:
    """Every logged run's error against the iteration, one line per run, on a log axis (``(spec, data)``)."""
    shown = curves[curves["value"] > 0]
    spec = {"height": 300, "data": {"name": "runs"}, "mark": {"type": "line"}, "encoding": {
        "x": {"field": "step", "type": "quantitative", "title": ui.t("regression.iteration")},
        "y": {"field": "value", "type": "quantitative", "title": ui.t("regression.mse_log"), "scale": {"type": "log"}},
        "color": {"field": "name", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
        "tooltip": [{"field": "name", "type": "nominal", "title": ui.t("regression.runs.col.run")},
                    {"field": "step", "type": "quantitative", "title": ui.t("regression.iteration")},
                    {"field": "value", "type": "quantitative", "title": ui.t("regression.mse"), "format": ".6g"}]}}
    names = shown["run"].map(lambda n: ui.t("regression.runs.name", n=n))
    return spec, {"runs": {"step": shown["step"], "value": shown["value"], "name": names}}


PRESETS = [
    ui.Preset("regression.try_big_lr", {**COURSE, "lr": 0.001}),
    ui.Preset("regression.try_normalise", {**COURSE, "normalise": True, "lr": 0.1, "iters": 100, "at": 100}),
    ui.Preset("regression.try_long", {**COURSE, "iters": 10000, "at": 10000}),
    ui.Preset("regression.try_far", {**COURSE, "b0": 60.0, "m0": -5.0}),
]


def the_data(p: ui.Page):
    """The example data, the course's data.csv (where the server has it) or the student's upload:
    (points, an id that changes when the data does, the file's name for the take-home program)."""
    course_file = regression.course_data_path()
    sources = [s for s in SOURCES if s != "course" or course_file]
    if p["data"] not in sources:
        p["data"] = "example"  # a link to the course's file, on a server without it
    words = {s: ui.t(SOURCE_WORDS[s]) for s in sources}
    st.radio(ui.t("regression.data_source"), options=sources, horizontal=True, key=p.key("data"),
             format_func=words.__getitem__)
    points, data_id, name = None, "example", None
    with ui.caught():
        if p["data"] == "course":
            try:
                points = course_points(course_file, os.path.getmtime(course_file))
            except (OSError, regression.PointsFileError):
                st.error(ui.t("regression.course_unreadable"))
            else:
                data_id, name = "course", "data.csv"
                st.caption(ui.t("regression.using_course", n=len(points)))
        elif p["data"] == "upload":
            handle_upload(st.file_uploader(ui.t("regression.upload_label"), key=p.key("__file"),
                                           help=ui.t("regression.upload_help")))
            problem = st.session_state.get(UPLOAD_ERROR)
            kept = st.session_state.get(UPLOADED)
            if problem:
                st.error(ui.t("regression.err_title", name=problem["name"]) + " "
                         + ui.t(f"regression.err.{problem['code']}", **problem["fields"]))
            if kept:
                points, data_id, name = kept["points"], kept["id"], kept["name"]
                st.success(ui.t("regression.using_upload", name=kept["name"], n=f"{len(points):,}"))
            else:
                st.info(ui.t("regression.upload_waiting"))
    if points is None:
        points = example_points()
        if p["data"] == "example":
            st.caption(ui.t("regression.using_example", n=len(points)))
            st.download_button(ui.t("regression.download_example"), EXAMPLE.read_bytes(), file_name="example.csv",
                               mime="text/csv", key=p.key("__download"))
    return points, data_id, name


def controls(p: ui.Page) -> None:
    """The learning rate, iterations and starting line, the course's settings and a reset."""
    st.select_slider(ui.t("regression.lr"), options=LEARNING_RATES, format_func=lambda v: f"{v:g}", key=p.key("lr"),
                     help=ui.t("regression.lr_help"))
    st.slider(ui.t("regression.iters"), 1, 10000, step=1, key=p.key("iters"), on_change=follow_iterations, args=(p,))
    c1, c2 = st.columns(2)
    c1.slider(ui.t("regression.b0"), -100.0, 100.0, step=0.5, key=p.key("b0"))
    c2.slider(ui.t("regression.m0"), -10.0, 10.0, step=0.1, key=p.key("m0"))
    st.toggle(ui.t("regression.normalise"), key=p.key("normalise"), help=ui.t("regression.normalise_help"))
    with st.container(horizontal=True):
        st.button(ui.t("regression.course_button"), key=p.key("__course"), on_click=p.apply, args=(COURSE,))
        p.reset_button()


def replay(p: ui.Page, run, verdict, points, best, iters: int) -> int:
    """The replay slider with Play beside it, and the line after the step shown; returns that step."""
    at = p["at"]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        playing = st.session_state.get(PLAY_KEY, False)
        st.slider(ui.t("regression.replay"), 0, iters, step=1, key=p.key("at"))
        st.button(ui.t("regression.pause" if playing else "regression.play"), key=p.key("__play"), type="primary",
                  on_click=toggle_play, args=(p,))
        st.select_slider(ui.t("regression.speed"), options=[1, 2, 3, 4], key=p.key("speed"),
                         label_visibility="collapsed", format_func=lambda v: ui.t("regression.speed_value", n=v), width=110)
    shown = regression.fit_verdict(run, points, step=at).last_finite
    now_b, now_m, now_err = float(run.b[shown]), float(run.m[shown]), float(run.error[shown])
    st.markdown(ui.t("regression.replay_title", k=shown, b=f"{now_b:.6g}", m=f"{now_m:.6g}", err=f"{now_err:.6g}"))
    if shown < at:
        st.warning(ui.t("regression.not_a_number", k=verdict.overflow_step, last=shown))
    shown_points = regression.sample_points(points)
    x_lo, x_hi = float(points[:, 0].min()), float(points[:, 0].max())
    lines = [(ui.t("regression.line_now"), now_b, now_m)]
    if best is not None:
        lines.append((ui.t("regression.line_ls"), best[0], best[1]))
    ui.show_vega(*scatter_chart(shown_points, lines, x_lo, x_hi))
    if len(shown_points) < len(points):
        st.caption(ui.t("regression.sampled", shown=f"{len(shown_points):,}", total=f"{len(points):,}"))
    return shown


def compare_runs(p: ui.Page) -> None:
    """This session's runs side by side: their settings and results, and their error curves overlaid."""
    log = st.session_state.get(RUNS)
    if log is None or not log.runs:
        return
    table = log.table()
    table["data"] = table["data"].map(lambda d: ui.t(SOURCE_WORDS["example"]) if d == "example" else d)
    columns = {c: ui.t(RUN_COLUMNS[c]) for c in table.columns}
    st.dataframe(table.rename(columns=columns), hide_index=True, width="stretch",
                 column_config={columns["seconds"]: st.column_config.NumberColumn(format="%.3f"),
                                columns["error"]: st.column_config.NumberColumn(format="%.6g")})
    ui.show_vega(*runs_chart(log.curves()))
    st.button(ui.t("regression.runs.clear"), key=p.key("__clear_runs"), on_click=log.clear)


def experiment(p: ui.Page, clock: bool) -> None:
    """The data and settings beside the replayed line; the verdict; the printout, the loss surface, the error,
    the runs to compare and the course's words in tabs (only the open one is built).

    It reruns on its own when a widget in it moves, and every frame of Play is one such rerun.
    ``clock``: whether this fragment was set to rerun every frame (Play was on at the last whole-page run).
    """
    if st.session_state.get(PLAY_KEY, False) != clock:
        st.rerun()  # Play or Pause pressed: the frame clock starts or stops with a whole-page run
    control_col, chart_col = st.columns([2, 3], gap="medium")
    with control_col:
        points, data_id, data_name = the_data(p)
        controls(p)
    lr, iters = p["lr"], p["iters"]
    b0, m0 = p["b0"], p["m0"]
    normalise = p["normalise"]
    has_spread = regression.x_has_spread(points)
    if normalise and not has_spread:
        control_col.warning(ui.t("regression.no_spread_normalise"))
        normalise = False
    run, path = descend(points, data_id, data_name or "example", b0, m0, lr, iters, normalise)
    verdict = regression.fit_verdict(run, points)
    best = regression.least_squares(points) if has_spread else None
    if st.session_state.get(PLAY_KEY, False):  # one frame further; the last frame ends the play
        following = views.next_step(p["at"], views.play_steps(iters))
        p["at"] = iters if following is None else following
        st.session_state[PLAY_KEY] = p["at"] < iters
    p["at"] = min(p["at"], iters)
    with chart_col:
        at = replay(p, run, verdict, points, best, iters)

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
    printout, surface, error, runs, course = st.tabs(names, key=p.key("__tab"), on_change="rerun")
    last = verdict.last_finite
    with printout:
        if printout.open:
            st.code(regression.transcript(b0, m0, float(run.error[0]), last, float(run.b[last]), float(run.m[last]),
                                          float(run.error[last])), language=None, wrap_lines=True)
            if last < iters:
                st.caption(ui.t("regression.transcript_overflow", k=verdict.overflow_step, last=last))
            elif run.scaling is not None:
                st.info(ui.t("regression.normalised_note", mean=f"{run.scaling.mean:.6g}", std=f"{run.scaling.std:.6g}"))
            else:
                st.caption(ui.t("regression.transcript_caption"))
            if best is not None:
                st.markdown(ui.t("regression.compare", b=f"{best[0]:.6g}", m=f"{best[1]:.6g}",
                                 err=f"{regression.compute_error_for_line_given_points(best[0], best[1], points):.6g}",
                                 k=last, gb=f"{run.b[last]:.6g}", gm=f"{run.m[last]:.6g}", gerr=f"{run.error[last]:.6g}"))
    with surface:
        if surface.open:
            box = regression.contour_view_box(path, [(b0, m0)], best, diverged=verdict.code != regression.FIT_OK)
            ui.show_vega(*ui.loss_contour_chart(points, path, best, box, slope="m", loss="error",
                                                now=(float(run.b[at]), float(run.m[at])), height=380))
            st.caption(ui.t("regression.contour_caption"))
            if verdict.code != regression.FIT_OK:
                st.caption(ui.t("regression.contour_diverged"))
    with error:
        if error.open:
            if path["error"].gt(0).any():
                ui.show_vega(*error_chart(path, at))
            else:
                st.info(ui.t("regression.loss_zero"))
    with runs:
        if runs.open:
            st.caption(ui.t("regression.runs.intro"))
            compare_runs(p)
    with course:
        if course.open:
            st.markdown(ui.t("regression.intro"))
            if run.scaling is None and verdict.code == regression.FIT_OK:
                st.markdown(ui.t("regression.why_b_slow"))
    ui.take_home(p, SETTINGS, data_name=data_name if p["data"] == "upload" else None)
    p.sync_to_url()  # a fragment's rerun skips the page's own sync at the end
    if clock and not st.session_state[PLAY_KEY]:
        st.rerun()  # the last frame is drawn: stop the clock


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    speed = st.session_state.setdefault(p.key("speed"), 2)
    playing = st.session_state.get(PLAY_KEY, False)
    # Play reruns only this fragment, every frame; pausing or the last frame stops the clock.
    with ui.caught():
        st.fragment(experiment, run_every=views.frame_seconds(speed) if playing else None, key=p.key("__experiment"))(p, playing)
