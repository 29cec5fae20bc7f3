"""Lesson 2: noisy observations of a line, fitted back by gradient descent and by least squares."""

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
# What a diverged descent says, by the verdict's code (literal keys, so the string table's tests see them).
FIT_WORDS = {regression.FIT_DIVERGED_SCALE: "regression.diverged", regression.FIT_DIVERGED_RATE: "regression.diverged_rate"}


# A class moves the same sliders from the same start: the data and descent one student's settings
# made serve the next student with those settings.
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def fitted(w: float, b: float, n: int, noise_mean: float, noise_std: float, seed: int, lr: float, iters: int):
    """The noisy points these settings draw and the descent from (0, 0) fitted to them."""
    points = regression.make_noisy_line(w, b, n=n, noise_mean=noise_mean, noise_std=noise_std, x_range=X_RANGE, seed=seed)
    return points, regression.gradient_descent_history(points, 0.0, 0.0, lr, iters)


def scatter_chart(points, lines: list[tuple[str, float, float]], x_lo: float, x_hi: float) -> tuple[dict, dict]:
    """The points and the lines drawn over them: true (green), descent (orange), closed form (blue, dashed).
    ``lines``: (label, b, slope) of each, drawn across [x_lo, x_hi]. ``(spec, data)`` for ``ui.show_vega``."""
    order = [ui.t("regression.line_true"), ui.t("regression.line_gd"), ui.t("regression.line_ls")]
    dots = {"data": {"name": "points"}, "mark": {"type": "circle", "size": 30, "opacity": 0.6, "color": "#495057"},
            "encoding": {"x": {"field": "x", "type": "quantitative", "title": "x"},
                         "y": {"field": "y", "type": "quantitative", "title": "y"},
                         "tooltip": [{"field": "x", "type": "quantitative", "format": ".3f"},
                                     {"field": "y", "type": "quantitative", "format": ".3f"}]}}
    drawn = {"data": {"name": "lines"}, "mark": {"type": "line", "strokeWidth": 2.5}, "encoding": {
        "x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
        "color": {"field": "line", "type": "nominal", "title": None, "legend": {"orient": "bottom", "columns": 1},
                  "scale": {"domain": order, "range": ["#2b8a3e", "#d9480f", "#1c7ed6"]}},
        "strokeDash": {"field": "line", "type": "nominal", "legend": None,
                       "scale": {"domain": order, "range": [[1, 0], [1, 0], [6, 4]]}},
        "tooltip": [{"field": "line", "type": "nominal", "title": ui.t("regression.col_line")}]}}
    return {"height": 340, "layer": [dots, drawn]}, {"points": {"x": points[:, 0], "y": points[:, 1]},
                                                  "lines": regression.line_columns(lines, x_lo, x_hi)}


def loss_chart(path: pd.DataFrame) -> tuple[dict, dict]:
    """The error against the iteration, on a log axis so the slow tail stays visible (``(spec, data)``)."""
    shown = path[path["error"] > 0]
    spec = {"height": 260, "data": {"name": "loss"}, "mark": {"type": "line", "color": "#d9480f"}, "encoding": {
        "x": {"field": "iteration", "type": "quantitative", "title": ui.t("regression.iteration")},
        "y": {"field": "error", "type": "quantitative", "title": ui.t("regression.mse"), "scale": {"type": "log"}},
        "tooltip": [{"field": "iteration", "type": "quantitative", "title": ui.t("regression.iteration")},
                    {"field": "error", "type": "quantitative", "title": ui.t("regression.mse"), "format": ".6g"}]}}
    return spec, {"loss": {"iteration": shown["iteration"], "error": shown["error"]}}


def noise_chart(noise) -> tuple[dict, dict]:
    """A histogram of the noise the points carry around the true line (``(spec, data)``)."""
    count = {"aggregate": "count", "type": "quantitative", "title": ui.t("regression.count")}
    spec = {"height": 260, "data": {"name": "noise"}, "mark": {"type": "bar", "color": "#868e96"}, "encoding": {
        "x": {"field": "noise", "type": "quantitative", "bin": {"maxbins": 30}, "title": "ε = y − (w·x + b)"},
        "y": count, "tooltip": [count]}}
    return spec, {"noise": {"noise": noise}}


PRESETS = [
    ui.Preset("regression.noise.try_clean", {"noise_std": 0.0, "noise_mean": 0.0}),
    ui.Preset("regression.noise.try_few", {"noise_std": 4.0, "n": 8}),
    ui.Preset("regression.noise.try_mean", {"noise_mean": 3.0, "noise_std": 1.0}),
    ui.Preset("regression.noise.try_lr", {"lr": 0.03, "iters": 300}),
    ui.Preset("regression.noise.try_slow", {"lr": 0.001, "iters": 1000}),
]


def controls(p: ui.Page) -> None:
    """The true line and its noise, then the descent's settings and a reset."""
    # One row per pair, so a phone stacks them in reading order (w, b, μ, σ, N, seed).
    c1, c2 = st.columns(2)
    c1.slider(ui.t("regression.noise.w"), -5.0, 5.0, step=0.1, key=p.key("w"))
    c2.slider(ui.t("regression.noise.b"), -10.0, 10.0, step=0.1, key=p.key("b"))
    c1, c2 = st.columns(2)
    c1.slider(ui.t("regression.noise.noise_mean"), -3.0, 3.0, step=0.01, key=p.key("noise_mean"))
    c2.slider(ui.t("regression.noise.noise_std"), 0.0, 5.0, step=0.1, key=p.key("noise_std"))
    c1, c2 = st.columns(2)
    c1.slider(ui.t("regression.noise.n"), 2, 1000, step=1, key=p.key("n"))
    c2.number_input(ui.t("regression.noise.seed"), 0, 999, step=1, key=p.key("seed"))
    st.select_slider(ui.t("regression.lr"), options=LEARNING_RATES, format_func=lambda v: f"{v:g}", key=p.key("lr"),
                     help=ui.t("regression.lr_help"))
    st.slider(ui.t("regression.iters"), 1, 3000, step=1, key=p.key("iters"))
    st.caption(ui.t("regression.noise.start_note"))
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

    with chart_col:
        lines = [(ui.t("regression.line_true"), b, w)]
        if grew is None:
            lines.append((ui.t("regression.line_gd"), gd_b, gd_w))
        if best is not None:
            lines.append((ui.t("regression.line_ls"), best[0], best[1]))
        ui.show_vega(*scatter_chart(points, lines, *X_RANGE))
        if grew is not None:
            st.warning(ui.t(FIT_WORDS[verdict.code], lr=f"{lr:g}", step=grew, lr_max=f"{verdict.lr_max:.3g}"))
        if best is None:
            st.warning(ui.t("regression.no_spread"))
        elif grew is None:
            st.caption(ui.t("regression.noise.gap", dw=f"{abs(gd_w - best[1]):.2e}", db=f"{abs(gd_b - best[0]):.2e}",
                            iters=iters))

    names = [ui.t("regression.noise.tab.why"), ui.t("regression.noise.tab.surface"), ui.t("regression.noise.tab.loss"),
             ui.t("regression.noise.tab.noise"), ui.t("regression.noise.tab.numbers")]
    why, surface, loss, noise_tab, numbers = st.tabs(names, key=p.key("__tab"), on_change="rerun")
    with why:
        if why.open:
            st.markdown(ui.t("regression.noise.intro"))
            st.markdown(ui.t("regression.noise.why_sum_title"))
            st.markdown(ui.t("regression.noise.why_sum", n=len(points)))
    with surface:
        if surface.open:
            path = regression.path_frame(run)
            box = regression.contour_view_box(path, [(0.0, 0.0), (b, w)], best, diverged=grew is not None)
            ui.show_vega(*ui.loss_contour_chart(points, path, best, box))
            st.caption(ui.t("regression.contour_caption"))
    with loss:
        if loss.open:
            path = regression.path_frame(run)
            if path["error"].gt(0).any():
                ui.show_vega(*loss_chart(path))
            else:
                st.info(ui.t("regression.loss_zero"))
    with noise_tab:
        if noise_tab.open:
            noise = regression.noise_of(points, w, b)
            ui.show_vega(*noise_chart(noise))
            st.caption(ui.t("regression.noise.hist_caption", mean=f"{noise.mean():.3f}", std=f"{noise.std():.3f}",
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
    p.sync_to_url()  # a fragment's rerun skips the page's own sync at the end


with ui.page(PAGE, SETTINGS) as p:
    p.try_it(PRESETS)
    with ui.caught():
        st.fragment(experiment, key=p.key("__experiment"))(p)
