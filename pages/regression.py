"""Lesson 3: the course's data.csv exercise, run on the example data or on a student's own CSV."""

import math
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from app import ui
from lessons import regression

PAGE = "regression"
EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example.csv"
LEARNING_RATES = [0.000001, 0.000003, 0.00001, 0.00003, 0.0001, 0.0002, 0.0003, 0.0004, 0.0005,
                  0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0, 1.2]
COURSE = {"lr": 0.0001, "iters": 1000, "b0": 0.0, "m0": 0.0, "normalise": False, "at": 1000}
SETTINGS = {
    "data": ui.Setting("example", options=["example", "upload"]),
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


@st.cache_data(show_spinner=False)
def example_points():
    """The project's example data (data/example.csv), read once per server."""
    return regression.load_points(EXAMPLE)


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


def descend(points, data_id: str, b0: float, m0: float, lr: float, iters: int, normalise: bool):
    """The descent for these settings, computed once and reused while only the replay slider moves."""
    wanted = (data_id, b0, m0, lr, iters, normalise)
    memo = st.session_state.get(RUN)
    if memo is not None and memo[0] == wanted:
        return memo[1]
    bar = st.progress(0.0, text=ui.t("regression.running")) if len(points) * iters > 5_000_000 else None
    progress = (lambda f: bar.progress(min(f, 1.0), text=ui.t("regression.running"))) if bar else None
    if normalise:
        run = regression.standardised_history(points, b0, m0, lr, iters, progress)
    else:
        run = regression.gradient_descent_history(points, b0, m0, lr, iters, progress)
    if bar is not None:
        bar.empty()
    st.session_state[RUN] = (wanted, run)
    return run


def scatter_chart(points, lines: pd.DataFrame) -> alt.Chart:
    """The data and the lines drawn over it: the replayed line (orange) and the closed form (blue, dashed)."""
    order = [ui.t("regression.line_now"), ui.t("regression.line_ls")]
    dots = alt.Chart(pd.DataFrame(points, columns=["x", "y"])).mark_circle(size=30, opacity=0.6, color="#495057").encode(
        x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y"),
        tooltip=[alt.Tooltip("x:Q", format=".4g"), alt.Tooltip("y:Q", format=".4g")],
    )
    drawn = alt.Chart(lines).mark_line(strokeWidth=2.5, clip=True).encode(
        x="x:Q", y="y:Q",
        color=alt.Color("line:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=order, range=["#d9480f", "#1c7ed6"])),
        strokeDash=alt.StrokeDash("line:N", legend=None, scale=alt.Scale(domain=order, range=[[1, 0], [6, 4]])),
        tooltip=["line:N"],
    )
    return (dots + drawn).properties(height=380)


def error_chart(path: pd.DataFrame, at: int) -> alt.Chart:
    """The error against the iteration on a log axis, with the replayed step marked."""
    shown = path[path["error"] > 0]
    curve = alt.Chart(shown).mark_line(color="#d9480f").encode(
        x=alt.X("iteration:Q", title=ui.t("regression.iteration")),
        y=alt.Y("error:Q", title=ui.t("regression.mse_log"), scale=alt.Scale(type="log")),
        tooltip=["iteration:Q", alt.Tooltip("error:Q", format=".10g")],
    )
    rule = alt.Chart(pd.DataFrame({"iteration": [at]})).mark_rule(color="#1f2328", strokeDash=[4, 3]).encode(
        x="iteration:Q")
    return (curve + rule).properties(height=300)


PRESETS = [
    ui.Preset("regression.try_big_lr", {**COURSE, "lr": 0.001}),
    ui.Preset("regression.try_normalise", {**COURSE, "normalise": True, "lr": 0.1, "iters": 100, "at": 100}),
    ui.Preset("regression.try_long", {**COURSE, "iters": 10000, "at": 10000}),
    ui.Preset("regression.try_far", {**COURSE, "b0": 60.0, "m0": -5.0}),
]


def the_data(p: ui.Page):
    """The example data or the student's upload: (points, an id that changes when the data does)."""
    st.subheader(ui.t("regression.data_header"))
    source_labels = {v: ui.t(f"regression.data_{v}") for v in ("example", "upload")}
    st.radio(ui.t("regression.data_source"), options=list(source_labels), horizontal=True, key=p.key("data"),
             format_func=source_labels.__getitem__)
    points, data_id = None, "example"
    with ui.caught():
        if p["data"] == "upload":
            handle_upload(st.file_uploader(ui.t("regression.upload_label"), key=p.key("__file"),
                                           help=ui.t("regression.upload_help")))
            problem = st.session_state.get(UPLOAD_ERROR)
            kept = st.session_state.get(UPLOADED)
            if problem:
                st.error(ui.t("regression.err_title", name=problem["name"]) + " "
                         + ui.t(f"regression.err.{problem['code']}", **problem["fields"]))
            if kept:
                points, data_id = kept["points"], kept["id"]
                st.success(ui.t("regression.using_upload", name=kept["name"], n=f"{len(points):,}"))
            else:
                st.info(ui.t("regression.upload_waiting"))
    if points is None:
        points = example_points()
        st.caption(ui.t("regression.using_example", n=len(points)))
        st.download_button(ui.t("regression.download_example"), EXAMPLE.read_bytes(), file_name="example.csv",
                           mime="text/csv", key=p.key("__download"))
    return points, data_id


def controls(p: ui.Page) -> None:
    """The learning rate, iterations and starting line, the course's settings and a reset."""
    st.subheader(ui.t("regression.controls_header"))
    c1, c2, c3 = st.columns(3)
    c1.select_slider(ui.t("regression.lr"), options=LEARNING_RATES, format_func=lambda v: f"{v:g}", key=p.key("lr"))
    c1.slider(ui.t("regression.iters"), 1, 10000, step=1, key=p.key("iters"), on_change=follow_iterations, args=(p,))
    c2.slider(ui.t("regression.b0"), -100.0, 100.0, step=0.5, key=p.key("b0"))
    c2.slider(ui.t("regression.m0"), -10.0, 10.0, step=0.1, key=p.key("m0"))
    c3.toggle(ui.t("regression.normalise"), key=p.key("normalise"), help=ui.t("regression.normalise_help"))
    c3.button(ui.t("regression.course_button"), key=p.key("__course"), on_click=p.apply, args=(COURSE,))
    p.reset_button(where=c3)


def lesson(p: ui.Page, points, data_id: str) -> None:
    """The descent on ``points``: the course's printout, divergence help, the replay, the contour, the closed form."""
    lr, iters = p["lr"], p["iters"]
    b0, m0 = p["b0"], p["m0"]
    normalise = p["normalise"]
    has_spread = regression.x_has_spread(points)
    if normalise and not has_spread:
        st.warning(ui.t("regression.no_spread_normalise"))
        normalise = False
    run = descend(points, data_id, b0, m0, lr, iters, normalise)
    b_end, m_end = float(run.b[-1]), float(run.m[-1])
    best = regression.least_squares(points) if has_spread else None

    # ------------------------------------------------------------------------- the printout
    st.subheader(ui.t("regression.transcript_header"))
    st.code(regression.transcript(
        b0, m0, regression.compute_error_for_line_given_points(b0, m0, points), iters,
        b_end, m_end, regression.compute_error_for_line_given_points(b_end, m_end, points)), language=None)
    if run.scaling is not None:
        st.info(ui.t("regression.normalised_note", mean=f"{run.scaling.mean:.6g}", std=f"{run.scaling.std:.6g}"))
    else:
        st.caption(ui.t("regression.transcript_caption"))

    grew = run.growth_at
    lr_max = regression.max_stable_learning_rate(points)
    if grew is not None:
        st.error(ui.t("regression.diverged", lr=f"{lr:g}", step=grew, lr_max=f"{lr_max:.3g}"))
        if has_spread and run.scaling is None:
            st.info(ui.t("regression.fix_hint"))
            st.button(ui.t("regression.fix_button"), key=p.key("__fix"), on_click=p.apply,
                      args=({"normalise": True, "lr": 0.1},))
    elif run.scaling is None:
        st.caption(ui.t("regression.lr_max_note", lr_max=f"{lr_max:.3g}"))

    # --------------------------------------------------------------------------- the replay
    st.subheader(ui.t("regression.replay_header"))
    p["at"] = min(p["at"], iters)
    st.slider(ui.t("regression.replay"), 0, iters, step=1, key=p.key("at"))
    at = p["at"]
    path = regression.path_frame(run)
    now_b, now_m, now_err = float(run.b[at]), float(run.m[at]), float(run.error[at])
    shown_points = regression.sample_points(points)
    x_lo, x_hi = float(points[:, 0].min()), float(points[:, 0].max())

    left, right = st.columns(2)
    with left:
        st.markdown(ui.t("regression.replay_title", k=at, b=f"{now_b:.6g}", m=f"{now_m:.6g}", err=f"{now_err:.6g}"))
        lines = []
        if all(map(math.isfinite, (now_b, now_m))):
            lines.append(regression.line_frame(now_b, now_m, x_lo, x_hi, ui.t("regression.line_now")))
        else:
            st.warning(ui.t("regression.not_a_number", k=at))
        if best is not None:
            lines.append(regression.line_frame(best[0], best[1], x_lo, x_hi, ui.t("regression.line_ls")))
        ui.show_chart(scatter_chart(shown_points, pd.concat(lines, ignore_index=True)))
        if len(shown_points) < len(points):
            st.caption(ui.t("regression.sampled", shown=f"{len(shown_points):,}", total=f"{len(points):,}"))
    with right:
        st.markdown(ui.t("regression.error_title"))
        if path["error"].gt(0).any():
            ui.show_chart(error_chart(path, at))
        else:
            st.info(ui.t("regression.loss_zero"))

    st.markdown(ui.t("regression.contour_title"))
    box = regression.contour_view_box(path, [(b0, m0)], best, diverged=grew is not None)
    ui.show_chart(ui.loss_contour_chart(points, path, best, box, slope="m", loss="error", now=(now_b, now_m), height=380))
    st.caption(ui.t("regression.contour_caption"))
    if grew is not None:
        st.caption(ui.t("regression.contour_diverged"))

    if best is not None:
        st.markdown(ui.t("regression.compare", b=f"{best[0]:.6g}", m=f"{best[1]:.6g}",
                         err=f"{regression.compute_error_for_line_given_points(best[0], best[1], points):.6g}",
                         k=iters, gb=f"{b_end:.6g}", gm=f"{m_end:.6g}",
                         gerr=f"{regression.compute_error_for_line_given_points(b_end, m_end, points):.6g}"))
        if run.scaling is None and grew is None:
            st.markdown(ui.t("regression.why_b_slow"))


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    st.markdown(ui.t("regression.intro"))
    points, data_id = the_data(p)
    controls(p)
    with ui.caught():
        lesson(p, points, data_id)
