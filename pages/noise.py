"""Lesson 2: noisy observations of a line, fitted back by gradient descent and by least squares."""

import pandas as pd
import streamlit as st

from app import ui
from app.charts import regression as charts
from lessons import regression

PAGE = "noise"
SETTINGS = regression.NOISE_SETTINGS
X_RANGE = regression.NOISE_X_RANGE
# What a diverged descent says, by the verdict's code (what each asserts: regression.FIT_CLAIMS).
FIT_WORDS = {regression.FIT_DIVERGED_SCALE: "regression.diverged", regression.FIT_DIVERGED_RATE: "regression.diverged_rate",
             regression.FIT_DIVERGED_SAME_X: "regression.diverged_same_x"}
PRESETS = [
    ui.Preset("noise.try_clean", {"noise_std": 0.0, "noise_mean": 0.0}),
    ui.Preset("noise.try_few", {"noise_std": 4.0, "n": 8}),
    ui.Preset("noise.try_mean", {"noise_mean": 3.0, "noise_std": 1.0}),
    # the data's x (hence its stable rate) depends on n and the seed alone: these make the limit 0.025
    ui.Preset("noise.try_lr", {"lr": 0.03, "iters": 300, "n": 100, "seed": 0}),
    ui.Preset("noise.try_slow", {"lr": 0.001, "iters": 1000}),
]


# A class moves the same sliders from the same start: the data and descent one student's settings
# made serve the next student with those settings.
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def fitted(w: float, b: float, n: int, noise_mean: float, noise_std: float, seed: int, lr: float, iters: int):
    """The noisy points these settings draw and the descent from (0, 0) fitted to them."""
    points = regression.make_noisy_line(w, b, n=n, noise_mean=noise_mean, noise_std=noise_std, x_range=X_RANGE, seed=seed)
    return points, regression.gradient_descent_history(points, 0.0, 0.0, lr, iters)


def controls(p: ui.Page) -> None:
    """The true line and its noise, then the descent's settings and a reset."""
    # One row per pair, so a phone stacks them in reading order (w, b, μ, σ, N, seed).
    c1, c2 = st.columns(2)
    c1.slider(ui.t("noise.w"), -5.0, 5.0, step=0.1, key=p.key("w"))
    c2.slider(ui.t("noise.b"), -10.0, 10.0, step=0.1, key=p.key("b"))
    c1, c2 = st.columns(2)
    c1.slider(ui.t("noise.noise_mean"), -3.0, 3.0, step=0.01, key=p.key("noise_mean"))
    c2.slider(ui.t("noise.noise_std"), 0.0, 5.0, step=0.1, key=p.key("noise_std"))
    c1, c2 = st.columns(2)
    c1.slider(ui.t("noise.n"), 2, 1000, step=1, key=p.key("n"))
    c2.number_input(ui.t("noise.seed"), 0, 999, step=1, key=p.key("seed"))
    st.select_slider(ui.t("regression.lr"), options=regression.NOISE_LEARNING_RATES, format_func=lambda v: f"{v:g}",
                     key=p.key("lr"), help=ui.t("regression.lr_help"))
    st.slider(ui.t("regression.iters"), 1, 3000, step=1, key=p.key("iters"))
    st.caption(ui.t("noise.start_note"))
    p.reset_button()


def compare_table(points, rows) -> None:
    """The true line, descent and the closed form side by side, with their mean and summed loss."""
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


def experiment(p: ui.Page) -> None:
    """The sliders beside the data and its fitted lines; the loss surface, the loss, the noise and the
    numbers in tabs (only the open one is built). It reruns on its own when one of its widgets moves."""
    control_col, chart_col = st.columns([2, 3], gap="medium")
    with control_col:
        controls(p)
    w, b = p["w"], p["b"]
    lr, iters = p["lr"], p["iters"]
    points, run = fitted(w, b, p["n"], p["noise_mean"], p["noise_std"], p["seed"], lr, iters)
    best = regression.least_squares(points) if regression.x_has_spread(points) else None
    verdict = regression.fit_verdict(run, points)
    grew = verdict.step if verdict.code != regression.FIT_OK else None
    gd_b, gd_w = float(run.b[verdict.last_finite]), float(run.m[verdict.last_finite])

    said = charts.fit_sentence(run, verdict, best, "w")
    ui.announce(said, key=f"{PAGE}.fit")
    with chart_col:
        lines = [("true", b, w)] + ([("gd", gd_b, gd_w)] if grew is None else []) + ([("ls", *best)] if best is not None else [])
        ui.show_vega(*charts.scatter_chart(points, lines, *X_RANGE, ["true", "gd", "ls"], height=340, number_format=".3f"),
                     description=ui.t("access.points_chart", n=len(points), said=said))
        if grew is not None:
            st.warning(ui.t(FIT_WORDS[verdict.code], lr=f"{lr:g}", step=grew, lr_max=f"{verdict.lr_max:.3g}"))
        if best is None:
            st.warning(ui.t("regression.no_spread"))
        elif grew is None:
            st.caption(ui.t("noise.gap", dw=f"{abs(gd_w - best[1]):.2e}", db=f"{abs(gd_b - best[0]):.2e}", iters=iters))

    names = [ui.t("noise.tab.why"), ui.t("noise.tab.surface"), ui.t("noise.tab.loss"), ui.t("noise.tab.noise"),
             ui.t("noise.tab.numbers")]
    why, surface, loss, noise_tab, numbers = st.tabs(names, key=p.key("__tab"), on_change="rerun")
    with why:
        if why.open:
            st.markdown(ui.t("noise.intro"))
            st.markdown(ui.t("noise.why_sum_title"))
            st.markdown(ui.t("noise.why_sum", n=len(points)))
    with surface:
        if surface.open:
            path = regression.path_frame(run)
            box = regression.contour_view_box(path, [(0.0, 0.0), (b, w)], best, diverged=grew is not None)
            ui.show_vega(*charts.loss_contour_chart(points, path, best, box),
                         description=ui.t("access.contour_chart", slope="w", said=said))
            st.caption(ui.t("regression.contour_caption"))
    with loss:
        if loss.open:
            path = regression.path_frame(run)
            if regression.error_is_zero(path):
                st.info(ui.t("regression.loss_zero"))
            else:
                ui.show_vega(*charts.error_chart(path, height=260, title="regression.mse", number_format=".6g"),
                             description=ui.t("access.error_chart", said=said))
    with noise_tab:
        if noise_tab.open:
            noise = regression.noise_of(points, w, b)
            ui.show_vega(*charts.noise_chart(noise),
                         description=ui.t("access.noise_chart", mean=f"{noise.mean():.3f}", std=f"{noise.std():.3f}"))
            st.caption(ui.t("noise.hist_caption", mean=f"{noise.mean():.3f}", std=f"{noise.std():.3f}",
                            set_mean=f"{p['noise_mean']:g}", set_std=f"{p['noise_std']:g}"))
    with numbers:
        if numbers.open:
            rows = [(ui.t("regression.line_true"), w, b)]
            if grew is None:
                rows.append((ui.t("regression.line_gd"), gd_w, gd_b))
            if best is not None:
                rows.append((ui.t("regression.line_ls"), best[1], best[0]))
            compare_table(points, rows)
    ui.take_home(p, SETTINGS)


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        ui.fragment(experiment, key=p.key("__experiment"))(p)
