"""Lesson 2: noisy observations of a line, fitted back by gradient descent and by least squares."""

import altair as alt
import pandas as pd
import streamlit as st

from app import ui
from lessons import regression

PAGE = "noise"
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.02, 0.025, 0.03, 0.05]
SETTINGS = {
    "w": ui.Setting(2.0, -5.0, 5.0),
    "b": ui.Setting(1.0, -10.0, 10.0),
    "noise_mean": ui.Setting(0.01, -3.0, 3.0),
    "noise_std": ui.Setting(1.0, 0.0, 5.0),
    "n": ui.Setting(100, 2, 1000),
    "seed": ui.Setting(0, 0, 999),
    "lr": ui.Setting(0.02, options=LEARNING_RATES),
    "iters": ui.Setting(1000, 1, 3000),
}
X_RANGE = (0.0, 10.0)


def scatter_chart(points, lines: pd.DataFrame) -> alt.Chart:
    """The points and the lines drawn over them: true (green), descent (orange), closed form (blue, dashed)."""
    order = [ui.t("regression.line_true"), ui.t("regression.line_gd"), ui.t("regression.line_ls")]
    dots = alt.Chart(pd.DataFrame(points, columns=["x", "y"])).mark_circle(size=30, opacity=0.6, color="#495057").encode(
        x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y"),
        tooltip=[alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")],
    )
    drawn = alt.Chart(lines).mark_line(strokeWidth=2.5).encode(
        x="x:Q", y="y:Q",
        color=alt.Color("line:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=order, range=["#2b8a3e", "#d9480f", "#1c7ed6"])),
        strokeDash=alt.StrokeDash("line:N", legend=None, scale=alt.Scale(domain=order, range=[[1, 0], [1, 0], [6, 4]])),
        tooltip=["line:N"],
    )
    return (dots + drawn).properties(height=360)


def loss_chart(path: pd.DataFrame) -> alt.Chart:
    """The error against the iteration, on a log axis so the slow tail stays visible."""
    shown = path[path["error"] > 0]
    return alt.Chart(shown).mark_line(color="#d9480f").encode(
        x=alt.X("iteration:Q", title=ui.t("regression.iteration")),
        y=alt.Y("error:Q", title=ui.t("regression.mse"), scale=alt.Scale(type="log")),
        tooltip=["iteration:Q", alt.Tooltip("error:Q", format=".6g")],
    ).properties(height=260)


def noise_chart(noise) -> alt.Chart:
    """A histogram of the noise the points carry around the true line."""
    return alt.Chart(pd.DataFrame({"noise": noise})).mark_bar(color="#868e96").encode(
        x=alt.X("noise:Q", bin=alt.Bin(maxbins=30), title="ε = y − (w·x + b)"),
        y=alt.Y("count():Q", title=ui.t("regression.count")),
        tooltip=[alt.Tooltip("count():Q", title=ui.t("regression.count"))],
    ).properties(height=260)


PRESETS = [
    ui.Preset("regression.noise.try_clean", {"noise_std": 0.0, "noise_mean": 0.0}),
    ui.Preset("regression.noise.try_few", {"noise_std": 4.0, "n": 8}),
    ui.Preset("regression.noise.try_mean", {"noise_mean": 3.0, "noise_std": 1.0}),
    ui.Preset("regression.noise.try_lr", {"lr": 0.03, "iters": 300}),
    ui.Preset("regression.noise.try_slow", {"lr": 0.001, "iters": 1000}),
]


def controls(p: ui.Page) -> None:
    """The true line and its noise on the left, the descent's settings on the right."""
    data_col, fit_col = st.columns([3, 2])
    with data_col:
        st.subheader(ui.t("regression.noise.data_header"))
        c1, c2 = st.columns(2)
        c1.slider(ui.t("regression.noise.w"), -5.0, 5.0, step=0.1, key=p.key("w"))
        c2.slider(ui.t("regression.noise.b"), -10.0, 10.0, step=0.1, key=p.key("b"))
        c1.slider(ui.t("regression.noise.noise_mean"), -3.0, 3.0, step=0.01, key=p.key("noise_mean"))
        c2.slider(ui.t("regression.noise.noise_std"), 0.0, 5.0, step=0.1, key=p.key("noise_std"))
        c1.slider(ui.t("regression.noise.n"), 2, 1000, step=1, key=p.key("n"))
        c2.number_input(ui.t("regression.noise.seed"), 0, 999, step=1, key=p.key("seed"))
    with fit_col:
        st.subheader(ui.t("regression.noise.fit_header"))
        st.select_slider(ui.t("regression.lr"), options=LEARNING_RATES, format_func=lambda v: f"{v:g}", key=p.key("lr"))
        st.slider(ui.t("regression.iters"), 1, 3000, step=1, key=p.key("iters"))
        st.caption(ui.t("regression.noise.start_note"))
        p.reset_button()


def lesson(p: ui.Page) -> None:
    """Fit the noisy points back: the lines, the loss surface, the loss, the noise, and the table."""
    w, b = p["w"], p["b"]
    lr, iters = p["lr"], p["iters"]
    points = regression.make_noisy_line(
        w, b, n=p["n"], noise_mean=p["noise_mean"],
        noise_std=p["noise_std"], x_range=X_RANGE, seed=p["seed"])
    run = regression.gradient_descent_history(points, 0.0, 0.0, lr, iters)
    best = regression.least_squares(points) if regression.x_has_spread(points) else None
    path = regression.path_frame(run)
    grew = run.growth_at
    gd_b, gd_w = float(run.b[-1]), float(run.m[-1])

    if grew is not None:
        st.error(ui.t("regression.diverged", lr=f"{lr:g}", step=grew,
                      lr_max=f"{regression.max_stable_learning_rate(points):.3g}"))
    if best is None:
        st.warning(ui.t("regression.no_spread"))

    left, right = st.columns(2)
    with left:
        st.markdown(ui.t("regression.noise.scatter_title"))
        lines = [regression.line_frame(b, w, *X_RANGE, ui.t("regression.line_true"))]
        if grew is None:
            lines.append(regression.line_frame(gd_b, gd_w, *X_RANGE, ui.t("regression.line_gd")))
        if best is not None:
            lines.append(regression.line_frame(best[0], best[1], *X_RANGE, ui.t("regression.line_ls")))
        ui.show_chart(scatter_chart(points, pd.concat(lines, ignore_index=True)))
    with right:
        st.markdown(ui.t("regression.contour_title"))
        box = regression.contour_view_box(path, [(0.0, 0.0), (b, w)], best, diverged=grew is not None)
        ui.show_chart(ui.loss_contour_chart(points, path, best, box))
        st.caption(ui.t("regression.contour_caption"))

    left, right = st.columns(2)
    with left:
        st.markdown(ui.t("regression.loss_title"))
        if path["error"].gt(0).any():
            ui.show_chart(loss_chart(path))
        else:
            st.info(ui.t("regression.loss_zero"))
    with right:
        st.markdown(ui.t("regression.noise.hist_title"))
        noise = regression.noise_of(points, w, b)
        ui.show_chart(noise_chart(noise))
        st.caption(ui.t("regression.noise.hist_caption", mean=f"{noise.mean():.3f}", std=f"{noise.std():.3f}",
                        set_mean=f"{p['noise_mean']:g}", set_std=f"{p['noise_std']:g}"))

    st.markdown(ui.t("regression.noise.compare_title"))
    rows = [(ui.t("regression.line_true"), w, b)]
    if grew is None:
        rows.append((ui.t("regression.line_gd"), gd_w, gd_b))
    if best is not None:
        rows.append((ui.t("regression.line_ls"), best[1], best[0]))
    table = pd.DataFrame([
        {
            ui.t("regression.col_line"): name,
            "w": rw,
            "b": rb,
            ui.t("regression.col_mean"): regression.compute_error_for_line_given_points(rb, rw, points),
            ui.t("regression.col_sum"): len(points) * regression.compute_error_for_line_given_points(rb, rw, points),
        }
        for name, rw, rb in rows
    ])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={name: st.column_config.NumberColumn(format="%.6f") for name in table.columns[1:]})
    if best is not None and grew is None:
        st.caption(ui.t("regression.noise.gap", dw=f"{abs(gd_w - best[1]):.2e}", db=f"{abs(gd_b - best[0]):.2e}",
                        iters=iters))

    st.markdown(ui.t("regression.noise.why_sum_title"))
    st.markdown(ui.t("regression.noise.why_sum", n=len(points)))


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    st.markdown(ui.t("regression.noise.intro"))
    controls(p)
    with ui.caught():
        lesson(p)
