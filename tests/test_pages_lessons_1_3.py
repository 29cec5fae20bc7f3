"""The pages of lessons 1-3 in AppTest: descent, noise and the course's regression exercise.

Each page puts its experiment first (the sliders beside the chart), folds the rest into tabs that are
built only when opened, replays descent with Play, and offers the experiment as a program to take home.
The numbers the pages show are checked against ``lessons`` and the course's printout.
"""

import json
import subprocess
import sys
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import ROOT, open_page, shared_file

import export
from app import player, take_home, ui
from app.a11y import SERIES_COLORS, SERIES_SHAPES
from app.i18n import STRINGS
from lessons import descent as gd
from lessons import regression

pytestmark = pytest.mark.slow  # whole pages in AppTest: left out of make test-fast

DESCENT, NOISE, REGRESSION = "pages/descent.py", "pages/noise.py", "pages/regression.py"
COURSE_PRINTOUT = (
    "Starting gradient descent at b = 0, m = 0, error = 5565.107834483211\n"
    "Running...\n"
    "After 1000 iterations b = 0.08893651993741346, m = 1.4777440851894448, error = 112.61481011613473"
)


def key(page, name):
    return ui.widget_key(page, name)


def texts(at):
    return [el.value for kind in ("markdown", "caption", "error", "warning", "info", "success") for el in at.get(kind)]


def charts(at):
    return at.get("vega_lite_chart")


def spec(chart):
    return json.loads(chart.proto.spec)


def datasets(chart):
    return [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]


def open_tab(at, page, text_key, lang):
    """Open one of the page's tabs (they are built only while open) and rerun."""
    at.session_state[key(page, "__tab")] = STRINGS[text_key][lang]
    return at.run()


def open_take_home(at, page):
    at.session_state[key(page, "__home")] = True
    return at.run()


def assert_healthy(at, lang):
    """No exception, no caught error box, no NaN printed, every chart a valid Vega-Lite spec."""
    assert not at.exception, [e.value for e in at.exception]
    generic = STRINGS["app.error_generic"][lang].split("{")[0]
    assert not [e.value for e in at.error if e.value.startswith(generic)]
    shown = "\n".join([*texts(at), *(c.value for c in at.code)])
    assert "nan" not in shown.replace("NaN 或", "").replace("(NaN or", "").lower().split(), "a NaN printed as a number"
    assert "⟨" not in shown, "a missing string"
    for chart in charts(at):
        drawn = spec(chart)
        (alt.LayerChart if "layer" in drawn else alt.Chart).validate(drawn)


def chart_beside_controls(at, slider_key):
    """A row of columns holds ``slider_key`` in one column and a chart in another: one screen shows both."""
    def rows(node):
        children = list(getattr(node, "children", {}).values())
        if children and all(getattr(c, "type", None) == "column" for c in children):
            yield children
        for child in children:
            yield from rows(child)

    for columns in rows(at.main):
        with_slider = [c for c in columns if slider_key in [w.key for w in [*c.get("slider"), *c.get("select_slider")]]]
        if with_slider and any(c.get("vega_lite_chart") for c in columns if c not in with_slider):
            return True
    return False


# ==================================================================================== descent


def descent_data(chart):
    """The descent chart's named datasets (``ui.show_vega``'s ``data``) as DataFrames, by name."""
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}


def descent_layer(chart, name, mark):
    """The layer of ``chart`` drawing dataset ``name`` with mark type ``mark``."""
    return next(layer for layer in spec(chart)["layer"] if layer["data"]["name"] == name and layer["mark"]["type"] == mark)


def descent_verdict(code, lang, solver, run, lr, **extra):
    v = gd.classify(run, *gd.X_RANGE, **extra)
    assert v.code == code
    fields = {k: val for k, val in {
        "minimum": v.minimum, "loss": v.minimum_loss, "lowest": v.lowest, "lowest_loss": v.lowest_loss,
        "amplitude": v.amplitude, "x": v.x, "step": v.step, "lr": f"{lr:g}"}.items() if val is not None}
    return STRINGS[f"descent.v.{code}"][lang].format(solver=STRINGS[f"descent.solver.{solver}"][lang], **fields)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_descent_first_screen_is_the_experiment(lang):
    at = open_page(DESCENT, lang=lang, timeout=120)
    assert_healthy(at, lang)
    assert chart_beside_controls(at, key("descent", "x0")), "the loss curve sits beside its sliders"
    assert len(charts(at)) == 1, "only the first screen's chart is built; the others wait in their tabs"
    assert "💡 " + STRINGS["descent.try_diverge"][lang] in texts(at), "the first try-it prompt is in plain view"
    assert at.button(key="descent.__try") and at.button(key="descent.__reset") and at.button(key="descent.__play")
    shown = " ".join(texts(at))
    for solver in ("sgd", "rmsprop", "adam"):
        assert f"**{STRINGS[f'descent.solver.{solver}'][lang]}**" in shown
    layers = spec(charts(at)[0])["layer"]
    titled = [t for layer in layers for t in layer.get("encoding", {}).get("tooltip", []) if isinstance(t, dict)]
    assert titled and all("title" in t for t in titled if t["field"] in ("name", "step", "grad")), "tooltips say what they show"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_descent_tabs_show_steps_rule_and_course(lang):
    at = open_page(DESCENT, lang=lang, timeout=120)
    open_tab(at, "descent", "descent.tab.steps", lang)
    assert_healthy(at, lang)
    assert len(charts(at)) == 3
    open_tab(at, "descent", "descent.tab.rule", lang)
    assert gd.RULES["sgd"] in [el.value.strip("$\n") for el in at.latex]
    assert at.dataframe, "the first steps in numbers"
    open_tab(at, "descent", "descent.tab.course", lang)
    assert STRINGS["descent.course"][lang] in texts(at)


def test_descent_chart_data_is_the_lessons_paths():
    at = open_page(DESCENT, lang="en", query={"x0": "-1.5", "lr": "0.02", "steps": "30", "solvers": "momentum,adam"})
    assert_healthy(at, "en")
    chart = charts(at)[0]
    data = descent_data(chart)
    runs = {s: gd.descend(-1.5, 0.02, 30, s) for s in ("momentum", "adam")}
    window = gd.view_window(np.concatenate([run["x"] for run in runs.values()]))
    assert spec(chart)["layer"][0]["encoding"]["x"]["scale"]["domain"] == pytest.approx(list(window))
    for solver, run in runs.items():
        path = data["path"][data["path"]["solver"] == solver]
        assert set(path["name"]) == {STRINGS[f"descent.solver.{solver}"]["en"]}
        for column in ("step", "x", "loss", "grad"):
            np.testing.assert_array_equal(path[column].to_numpy(), run[column].to_numpy(), err_msg=column)
        # which are numbered: tests/test_charts_fit.py (no two numbers printed over each other)
        assert path["numbered"].iloc[0] or solver != "momentum", "the first path's start is numbered"
    np.testing.assert_array_equal(data["curve"]["x"].to_numpy(), np.linspace(*window, 300))
    np.testing.assert_array_equal(data["floors"]["x"].to_numpy(), gd.local_minima(*window)["x"].to_numpy())
    # the layers the student sees: the curve under the paths (line, dots, step numbers), the valleys on top
    assert [(layer["data"]["name"], layer["mark"]["type"]) for layer in spec(chart)["layer"]] == [
        ("curve", "line"), ("path", "line"), ("path", "point"), ("path", "text"), ("floors", "point")]
    dots = descent_layer(chart, "path", "point")["encoding"]
    colors = dots["color"]
    names = [STRINGS[f"descent.solver.{s}"]["en"] for s in runs]
    assert colors["scale"] == {"domain": names, "range": [SERIES_COLORS[s] for s in runs]}, "each solver keeps its colour"
    assert dots["shape"]["scale"] == {"domain": names, "range": [SERIES_SHAPES[s] for s in runs]}, "and its shape"
    assert colors["legend"] == {"orient": "top", "columns": 2, "symbolOpacity": 1, "symbolSize": 90}, "full-strength legend marks"
    assert "datum.solver" in descent_layer(chart, "path", "text")["mark"]["dy"]["expr"], "each solver's numbers sit apart"
    valleys = descent_layer(chart, "floors", "point")
    assert {"calculate": json.dumps(STRINGS["descent.axis.valley"]["en"]), "as": "kind"} in valleys["transform"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_diverged_sgd_is_clipped_and_marked_and_leaves_adam_readable(lang):
    at = open_page(DESCENT, lang=lang, query={"x0": "3", "lr": "0.5", "steps": "20", "solvers": "sgd,adam"})
    runs = {s: gd.descend(3.0, 0.5, 20, s) for s in ("sgd", "adam")}
    assert any(e.value.startswith(descent_verdict(gd.DIVERGED, lang, "sgd", runs["sgd"], 0.5)) for e in at.error)
    open_tab(at, "descent", "descent.tab.steps", lang)
    assert_healthy(at, lang)
    assert STRINGS["descent.clipped"][lang] in texts(at)
    x_chart = spec(charts(at)[2])
    view = gd.step_view(runs, "x")
    drawn = next(layer for layer in x_chart["layer"] if layer["mark"].get("type") == "line")
    assert drawn["encoding"]["y"]["scale"]["domain"] == list(view.domain)
    assert max(map(abs, view.domain)) < 100, "Adam's valley is not flattened by SGD's 10⁶"
    marks = next(layer for layer in x_chart["layer"] if layer["mark"].get("shape") == "cross")
    assert marks["encoding"]["tooltip"], "the mark says where the run blew up and its true value"
    crosses = descent_data(charts(at)[2])[marks["data"]["name"]]
    assert crosses["name"].tolist() == [STRINGS["descent.solver.sgd"][lang]]
    np.testing.assert_array_equal(crosses[["step", "shown", "value"]].to_numpy(), view.marks[["step", "shown", "value"]].to_numpy())
    steps = descent_data(charts(at)[2])[drawn["data"]["name"]]
    np.testing.assert_array_equal(steps["x"].to_numpy(), view.frame["x"].to_numpy())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_step_by_step_verdicts_describe_the_step_shown(lang):
    at = open_page(DESCENT, lang=lang, query={"x0": "2", "lr": "0.05", "solvers": "sgd,adam", "focus": "sgd"})
    at.toggle(key=key("descent", "stepwise")).set_value(True).run()
    assert_healthy(at, lang)
    run = gd.descend(2.0, 0.05, 40, "sgd")
    assert descent_verdict(gd.START, lang, "sgd", run, 0.05, step=0) in texts(at), "no advice while stepping"
    table = gd.updates(2.0, 0.05, 40, "sgd")
    for k in (1, 2, 3):
        at.button(key="descent.__next").click().run()
        assert_healthy(at, lang)
        assert at.session_state["descent.__k"] == k
        block = gd.aligned(gd.step_latex(table, k, "sgd", 0.05))
        assert block in [el.value.strip("$\n") for el in at.latex], f"step {k}'s arithmetic is shown"
        assert r"\delta x" in block and r"\text{step}" not in block, "the course writes the step as δx"
        verdict = gd.classify(run, *gd.X_RANGE, step=k)
        shown = " ".join(texts(at))
        assert f"x = {verdict.x:.3f}" in shown, "the verdict is about the step the chart shows"
        ring = spec(charts(at)[0])["layer"][-1]
        assert ring["mark"]["type"] == "point" and ring["mark"]["filled"] is False
        assert ring["data"] == {"name": "path"} and ring["transform"] == [{"filter": "datum.now"}]
        path = descent_data(charts(at)[0])["path"]
        assert path[path["now"]].set_index("solver")["step"].to_dict() == {"sgd": k, "adam": k}, "the ring is on each path's last point"
    at.button(key="descent.__restart").click().run()
    assert at.session_state["descent.__k"] == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_divergence_step_by_step_stops_at_the_last_finite_point(lang):
    at = open_page(DESCENT, lang=lang)
    at.button(key="descent.__try").click().run()
    assert at.select_slider(key=key("descent", "lr")).value == 0.5
    run = gd.descend(3.0, 0.5, 20, "sgd")
    at.toggle(key=key("descent", "stepwise")).set_value(True).run()
    presses = 0
    while not at.button(key="descent.__next").disabled:
        at.button(key="descent.__next").click().run()
        presses += 1
    assert presses == run.attrs["diverged_step"] - 1, "the last finite point is as far as it goes"
    assert_healthy(at, lang)
    blew = STRINGS["descent.step_blew"][lang].format(solver=STRINGS["descent.solver.sgd"][lang],
                                                       step=run.attrs["diverged_step"])
    assert blew in [e.value for e in at.error]


def test_a_flat_point_at_the_sliders_limits_gets_no_advice_to_raise_them():
    at = open_page(DESCENT, lang="en", query={"x0": "1", "lr": "1", "steps": "300", "solvers": "rmsprop"})
    assert_healthy(at, "en")
    run = gd.descend(1.0, 1.0, 300, "rmsprop")
    # the verdict is a whole text of its own: no advice follows it
    assert descent_verdict(gd.STALLED, "en", "rmsprop", run, 1.0, at_limits=True) in texts(at)


def test_play_animates_the_steps_and_stops_at_the_end():
    at = open_page(DESCENT, lang="en", query={"steps": "12", "solvers": "sgd"})
    at.button(key="descent.__play").click().run()
    stops = player.play_steps(12)
    seen = [at.session_state["descent.__k"]]
    for _ in range(30):  # each run is one frame (the browser's clock calls them)
        if not at.session_state["descent.__playing"]:
            break
        at.run()
        seen.append(at.session_state["descent.__k"])
    assert_healthy(at, "en")
    assert seen == [int(s) for s in stops[1:]], "one frame per step, in order"
    assert at.session_state["descent.__playing"] is False
    assert at.button(key="descent.__play").label == STRINGS["descent.play"]["en"]


def test_the_presets_do_what_their_text_promises():
    at = open_page(DESCENT, lang="en")
    at.button(key="descent.__preset1").click().run()
    assert f"x ≈ {gd.local_minima(-10, 10)['x'].iloc[0]:.3f}" in " ".join(el.value for el in at.success)
    at.button(key="descent.__preset2").click().run()
    assert_healthy(at, "en")
    sgd, adam = gd.classify(gd.descend(1.0, 0.1, 60)), gd.classify(gd.descend(1.0, 0.1, 60, "adam"))
    assert sgd.code == gd.STALLED and adam.minimum == pytest.approx(-2.29, abs=0.01)


def test_descent_url_restores_the_settings_and_a_slider_writes_them():
    at = open_page(DESCENT, lang="en", query={"x0": "-4.5", "lr": "0.2", "steps": "77", "solvers": "adam,rmsprop"})
    assert at.slider(key=key("descent", "x0")).value == -4.5 and at.slider(key=key("descent", "steps")).value == 77
    assert at.select_slider(key=key("descent", "lr")).value == 0.2
    assert at.button_group(key=key("descent", "solvers")).value == ["adam", "rmsprop"]
    at.slider(key=key("descent", "steps")).set_value(12).run()
    assert dict(at.query_params)["steps"] == "12" and dict(at.query_params)["x0"] == "-4.5"


def test_no_solver_chosen_warns_and_still_draws_the_curve():
    at = open_page(DESCENT, lang="zh")
    at.button_group(key=key("descent", "solvers")).set_value([]).run()
    assert_healthy(at, "zh")
    assert STRINGS["descent.no_solver"]["zh"] in [w.value for w in at.warning]
    assert len(charts(at)) == 1


def test_autograd_comparison_runs_on_demand():
    at = open_page(DESCENT, lang="en", query={"x0": "2.5"})
    open_tab(at, "descent", "descent.tab.autograd", "en")
    at.button(key="descent.__autograd").click().run()
    assert_healthy(at, "en")
    table = at.dataframe[-1].value
    assert table.iloc[0, 0] == 2.5 and table.iloc[0, 1] == pytest.approx(table.iloc[0, 2], abs=1e-12)
    assert any(s.value.startswith(STRINGS["descent.autograd_ok"]["en"].split("{")[0]) for s in at.success)


def test_the_descent_page_runs_without_loading_torch():
    """torch is loaded only when the student asks for the autograd comparison."""
    code = (
        "import sys; sys.path[:0] = ['tests', '.']\n"
        "from conftest import open_page\n"
        f"at = open_page({DESCENT!r}, lang='en')\n"
        "assert not at.exception and at.get('vega_lite_chart')\n"
        "assert 'torch' not in sys.modules, 'the page imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# ====================================================================================== noise


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_noise_first_screen_and_tabs(lang):
    at = open_page(NOISE, lang=lang)
    assert_healthy(at, lang)
    assert chart_beside_controls(at, key("noise", "w")), "the data and its lines sit beside the sliders"
    assert len(charts(at)) == 1 and not at.error
    assert "💡 " + STRINGS["noise.try_clean"][lang] in texts(at)
    for tab in ("noise.tab.surface", "noise.tab.loss", "noise.tab.noise"):
        open_tab(at, "noise", tab, lang)
        assert_healthy(at, lang)
        assert len(charts(at)) == 2, tab
    open_tab(at, "noise", "noise.tab.why", lang)
    assert STRINGS["noise.why_sum"][lang].split("{")[0] in "\n".join(texts(at))


@pytest.mark.parametrize("values", [
    {"w": -5.0, "b": -10.0, "noise_mean": -3.0, "noise_std": 0.0, "n": 2, "seed": 0, "lr": 0.0001, "iters": 1},
    {"w": 5.0, "b": 10.0, "noise_mean": 3.0, "noise_std": 5.0, "n": 1000, "seed": 999, "lr": 0.05, "iters": 3000},
])
def test_noise_page_at_the_sliders_extremes(values):
    at = open_page(NOISE, lang="en")
    for name, val in values.items():
        widget = at.number_input(key=key("noise", name)) if name == "seed" else (
            at.select_slider(key=key("noise", name)) if name == "lr" else at.slider(key=key("noise", name)))
        widget.set_value(val)
    at.run()
    assert_healthy(at, "en")
    if values["lr"] == 0.05:  # above this data's stable rate: caught and explained, as a warning
        assert any("too large for this data" in w.value for w in at.warning) and not at.error


def test_noise_page_without_noise_recovers_the_true_line():
    at = open_page(NOISE, lang="en", query={"noise_std": "0", "noise_mean": "0", "iters": "3000"})
    open_tab(at, "noise", "noise.tab.numbers", "en")
    assert_healthy(at, "en")
    closed = at.dataframe[0].value.iloc[-1]
    assert closed["w"] == pytest.approx(2.0, abs=1e-9) and closed["b"] == pytest.approx(1.0, abs=1e-9)


def named(chart):
    """A chart's named datasets (``ui.show_vega``'s ``data``) as DataFrames, by name."""
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}


def assert_columns_equal(frame, expected):
    assert list(frame.columns) == list(expected.columns)
    for column in expected.columns:
        np.testing.assert_array_equal(frame[column].to_numpy(), expected[column].to_numpy(), err_msg=column)


def test_noise_charts_carry_the_lessons_data():
    at = open_page(NOISE, lang="en", query={"n": "30", "seed": "3", "lr": "0.01", "iters": "200"})
    assert_healthy(at, "en")
    points = regression.make_noisy_line(2.0, 1.0, n=30, noise_mean=0.01, noise_std=1.0, x_range=(0.0, 10.0), seed=3)
    scatter = named(charts(at)[0])
    np.testing.assert_array_equal(scatter["points"][["x", "y"]].to_numpy(), points)
    run = regression.gradient_descent_history(points, 0.0, 0.0, 0.01, 200)
    path, best = regression.path_frame(run), regression.least_squares(points)
    lines = [regression.line_frame(1.0, 2.0, 0.0, 10.0, STRINGS["regression.line_true"]["en"]),
             regression.line_frame(run.b[-1], run.m[-1], 0.0, 10.0, STRINGS["regression.line_gd"]["en"]),
             regression.line_frame(best[0], best[1], 0.0, 10.0, STRINGS["regression.line_ls"]["en"])]
    assert_columns_equal(scatter["lines"], pd.concat(lines, ignore_index=True))
    open_tab(at, "noise", "noise.tab.surface", "en")
    assert_healthy(at, "en")
    box = regression.contour_view_box(path, [(0.0, 0.0), (1.0, 2.0)], best)
    contour = named(charts(at)[1])
    assert_columns_equal(contour["surface"], regression.loss_surface_frame(points, box, steps=48))
    assert_columns_equal(contour["path"], path)
    assert contour["best"][["b", "m"]].iloc[0].tolist() == pytest.approx(list(best))
    heat = spec(charts(at)[1])["layer"][0]["encoding"]
    assert heat["color"]["scale"] == {"type": "quantize", "scheme": {"name": "viridis", "count": 10}, "nice": True}
    assert heat["color"]["title"] == STRINGS["app.chart.log_excess"]["en"].format(loss="loss")
    assert heat["x"]["scale"]["domain"] == pytest.approx(list(box[0]))
    open_tab(at, "noise", "noise.tab.noise", "en")
    assert_healthy(at, "en")
    np.testing.assert_allclose(named(charts(at)[1])["noise"]["noise"], regression.noise_of(points, 2.0, 1.0))


def test_noise_page_presets_and_url():
    at = open_page(NOISE, lang="en", query={"n": "12", "w": "-1.5"})
    assert at.slider(key=key("noise", "n")).value == 12 and at.slider(key=key("noise", "w")).value == -1.5
    at.button(key="noise.__try").click().run()
    assert_healthy(at, "en")
    for i in range(1, 5):
        at.button(key=f"noise.__preset{i}").click().run()
        assert_healthy(at, "en")
        # Only the learning-rate preset diverges: the lesson's warning about the rate, never an error box.
        assert not at.error, i
        assert any("too large for this data" in w.value for w in at.warning) == (i == 3), i
    at.button(key="noise.__preset1").click().run()
    assert at.slider(key=key("noise", "n")).value == 8
    assert at.query_params.get("n") == "8"


# ================================================================================= regression


def transcript_of(at):
    return at.code[0].value


def upload(at, name, content):
    at.radio(key=key("regression", "data")).set_value("upload").run()
    at.file_uploader(key="regression.__file").set_value((name, content, "text/csv")).run()
    return at


@pytest.fixture(scope="module")
def example():
    return regression.load_points(ROOT / "data" / "example.csv")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_regression_first_screen_and_the_courses_printout(lang, example):
    at = open_page(REGRESSION, lang=lang)
    assert_healthy(at, lang)
    assert not at.error
    assert chart_beside_controls(at, key("regression", "lr")), "the replayed line sits beside the settings"
    assert "💡 " + STRINGS["regression.try_big_lr"][lang] in texts(at)
    start = regression.compute_error_for_line_given_points(0, 0, example)
    b, m = regression.gradient_descent_runner(example, 0, 0, 0.0001, 1000)
    assert transcript_of(at) == regression.transcript(
        0, 0, start, 1000, b, m, regression.compute_error_for_line_given_points(b, m, example))
    assert len(charts(at)) == 1
    for tab in ("regression.tab.surface", "regression.tab.error", "regression.tab.runs"):
        open_tab(at, "regression", tab, lang)
        assert_healthy(at, lang)
        assert len(charts(at)) == 2, tab


def test_standardised_and_still_too_fast_blames_the_rate_not_the_scale():
    at = open_page(REGRESSION, lang="en", query={"lr": "1.2", "iters": "300", "normalise": "1"}, timeout=120)
    assert_healthy(at, "en")
    shown = "\n".join(texts(at))
    assert STRINGS["regression.diverged_rate"]["en"].split("{")[0] in shown
    assert "scale of x:" not in shown and "regression.__fix" not in [b.key for b in at.button]


@pytest.mark.parametrize("query", [
    {"lr": "1.2", "iters": "10000", "b0": "-100", "m0": "10", "at": "0"},
    {"lr": "0.000001", "iters": "1", "b0": "100", "m0": "-10"},
    {"lr": "banana", "iters": "-5", "at": "99999", "data": "nonsense"},
])
def test_regression_page_at_the_extremes_prints_no_nan(query):
    at = open_page(REGRESSION, lang="en", query=query, timeout=120)
    assert_healthy(at, "en")
    iters = at.slider(key=key("regression", "iters")).value
    assert 0 <= at.slider(key=key("regression", "at")).value <= iters
    assert transcript_of(at).splitlines()[1] == "Running..."
    open_tab(at, "regression", "regression.tab.surface", "en")
    assert_healthy(at, "en")


def test_too_large_a_learning_rate_is_caught_and_standardising_fixes_it(example):
    at = open_page(REGRESSION, lang="en", query={"lr": "0.001"})
    # The lesson's own message about a diverging run: a warning, not an app failure.
    assert any("too large for this data" in w.value for w in at.warning) and not at.error
    at.button(key="regression.__fix").click().run()
    assert_healthy(at, "en")
    assert not at.error and at.toggle(key=key("regression", "normalise")).value is True
    b_star, m_star = regression.least_squares(example)
    lines = transcript_of(at).splitlines()
    b_text, m_text = lines[2].split("b = ")[1].split(", m = ")
    assert float(b_text) == pytest.approx(b_star, rel=1e-6)
    assert float(m_text.split(",")[0]) == pytest.approx(m_star, rel=1e-6)


def test_regression_charts_carry_the_lessons_data(example):
    at = open_page(REGRESSION, lang="en", query={"iters": "200", "at": "50"})
    assert_healthy(at, "en")
    scatter = named(charts(at)[0])
    np.testing.assert_array_equal(scatter["points"][["x", "y"]].to_numpy(), example)
    run = regression.gradient_descent_history(example, 0.0, 0.0, 0.0001, 200)
    path, best = regression.path_frame(run), regression.least_squares(example)
    x_lo, x_hi = example[:, 0].min(), example[:, 0].max()
    lines = [regression.line_frame(run.b[50], run.m[50], x_lo, x_hi, STRINGS["regression.line_now"]["en"]),
             regression.line_frame(best[0], best[1], x_lo, x_hi, STRINGS["regression.line_ls"]["en"])]
    assert_columns_equal(scatter["lines"], pd.concat(lines, ignore_index=True))
    open_tab(at, "regression", "regression.tab.surface", "en")
    assert_healthy(at, "en")
    contour = named(charts(at)[1])
    box = regression.contour_view_box(path, [(0.0, 0.0)], best)
    assert_columns_equal(contour["surface"], regression.loss_surface_frame(example, box, steps=48))
    assert_columns_equal(contour["path"], path)
    assert contour["now"].iloc[0].tolist() == [run.b[50], run.m[50]], "the dot is the replayed step"
    assert contour["best"]["what"].tolist() == [STRINGS["regression.line_ls"]["en"]]
    open_tab(at, "regression", "regression.tab.error", "en")
    assert_healthy(at, "en")
    error = named(charts(at)[1])
    assert_columns_equal(error["error"], path[path["error"] > 0][["iteration", "error"]].reset_index(drop=True))
    assert error["at"]["iteration"].tolist() == [50]


def test_the_course_button_and_reset_sit_with_the_controls():
    at = open_page(REGRESSION, lang="en", query={"lr": "0.003", "iters": "20", "b0": "5", "m0": "-2", "normalise": "1"})
    at.button(key="regression.__course").click().run()
    assert at.select_slider(key=key("regression", "lr")).value == 0.0001
    assert at.slider(key=key("regression", "iters")).value == 1000
    assert at.toggle(key=key("regression", "normalise")).value is False
    assert transcript_of(at).startswith("Starting gradient descent at b = 0, m = 0, error = ")
    assert at.button(key="regression.__reset")


def test_the_replay_slider_and_play_move_the_line():
    at = open_page(REGRESSION, lang="en", query={"iters": "40"})
    at.slider(key=key("regression", "at")).set_value(0).run()
    assert any("After step 0: b = 0, m = 0" in s for s in texts(at))
    assert at.query_params.get("at") == "0"
    at.button(key="regression.__play").click().run()
    seen = [at.slider(key=key("regression", "at")).value]
    for _ in range(60):
        if not at.session_state["regression.__playing"]:
            break
        at.run()
        seen.append(at.slider(key=key("regression", "at")).value)
    assert_healthy(at, "en")
    assert seen == [int(s) for s in player.play_steps(40)[1:]]
    at.slider(key=key("regression", "iters")).set_value(50).run()
    assert at.slider(key=key("regression", "at")).value == 50, "new iterations: the replay jumps to the end"


def test_compare_runs_keeps_each_setup_once_with_its_curve(example):
    at = open_page(REGRESSION, lang="en")
    for lr in (0.0002, 0.0003, 0.0002):
        at.select_slider(key=key("regression", "lr")).set_value(lr).run()
    open_tab(at, "regression", "regression.tab.runs", "en")
    assert_healthy(at, "en")
    table = at.dataframe[0].value
    assert list(table[STRINGS["regression.runs.col.lr"]["en"]]) == [0.0001, 0.0003, 0.0002]
    b, m = regression.gradient_descent_runner(example, 0, 0, 0.0003, 1000)
    row = table.iloc[1]
    assert row["b"] == b and row["m"] == m
    lines = datasets(charts(at)[-1])[0]
    assert lines["name"].nunique() == 3


def test_the_courses_data_with_one_click(monkeypatch):
    path = shared_file("data", "regression", "data.csv")
    monkeypatch.setenv(regression.COURSE_DATA_ENV, str(path))
    at = open_page(REGRESSION, lang="zh")
    assert STRINGS["regression.data_course"]["zh"] in at.radio(key=key("regression", "data")).options
    at.radio(key=key("regression", "data")).set_value("course").run()
    assert_healthy(at, "zh")
    assert transcript_of(at) == COURSE_PRINTOUT, "the course's printout, digit for digit"
    assert at.query_params.get("data") == "course", "in the shared link"
    again = open_page(REGRESSION, lang="zh", query={"data": "course"})
    assert transcript_of(again) == COURSE_PRINTOUT, "a reload or a shared link finds it again"
    open_take_home(again, "regression")
    assert "data.csv" in at.code[0].value or "data.csv" in again.code[-1].value


def test_without_the_courses_file_the_option_is_not_offered(monkeypatch, tmp_path):
    monkeypatch.setenv(regression.COURSE_DATA_ENV, str(tmp_path / "missing.csv"))
    monkeypatch.setattr(regression, "COURSE_DATA_LOCAL", str(tmp_path / "missing.csv"))
    at = open_page(REGRESSION, lang="en", query={"data": "course"})
    assert_healthy(at, "en")
    assert at.radio(key=key("regression", "data")).options == [STRINGS[f"regression.data_{s}"]["en"] for s in ("example", "upload")]
    assert at.radio(key=key("regression", "data")).value == "example"


BAD_UPLOADS = [
    (b"", "empty"),
    (b"x,y\n", "header_only"),
    (b"1,2,3\n4,5,6\n", "columns"),
    (b"1,2\n3,4,5\n", "ragged"),
    (b"1,2\n3,four\n", "text"),
    (b"1,2\nnan,3\n", "not_finite"),
    (b"1,2\n3,1e400\n", "overflow"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ("x,y\n身高,1\n".encode("big5"), "encoding"),
    ("x,y\n1,2\n".encode("utf-16"), "utf16"),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_bad_upload_is_explained_and_the_page_keeps_working(lang):
    at = open_page(REGRESSION, lang=lang)
    expected_example = transcript_of(at)
    for content, code in BAD_UPLOADS:
        upload(at, "bad.csv", content)
        assert not at.exception, code
        message = STRINGS[f"regression.err.{code}"][lang].split("{")[0]
        assert any(message in e.value for e in at.error), code
        assert transcript_of(at) == expected_example, code  # the example is still used
        assert len(charts(at)) == 1


def test_a_good_upload_goes_home_by_name_and_a_bad_one_keeps_it():
    good = regression.points_to_csv([[1.0, 3.0], [2.0, 5.0], [3.0, 7.5]]).encode()
    at = upload(open_page(REGRESSION, lang="en"), "good.csv", good)
    before = transcript_of(at)
    assert "3 points" in "\n".join(texts(at))
    upload(at, "broken.csv", b"1,2\n3,oops\n")
    assert any("oops" in e.value for e in at.error)
    assert transcript_of(at) == before
    open_take_home(at, "regression")
    assert_healthy(at, "en")
    assert take_home.run_hint("regression", "en", data_name="good.csv") in texts(at)
    assert "3,7.5" not in at.code[-1].value, "the upload's bytes are never in the program"


def test_the_example_is_downloadable():
    at = open_page(REGRESSION, lang="en")
    assert at.get("download_button") and Path(ROOT / "data" / "example.csv").exists()


# ================================================================================= take it home


@pytest.mark.parametrize("page", ["descent", "noise", "regression"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_take_it_home_is_the_pages_own_program(page, lang):
    query = {"descent": {"x0": "-2", "lr": "0.1", "solvers": "sgd,adam"}, "noise": {"n": "20", "lr": "0.01"},
             "regression": {"lr": "0.0002", "iters": "300"}}[page]
    at = open_page(f"pages/{page}.py", lang=lang, query=query)
    assert not at.code or page == "regression", "the program is written only when asked for"
    open_take_home(at, page)
    assert_healthy(at, lang)
    settings = {name: at.session_state[key(page, name)] for name in export.SETTINGS[page]}
    assert at.code[-1].value.rstrip() == export.course_code(page, settings, lang=lang).rstrip()
    assert at.code[-1].language == "python"
    downloads = [d for d in at.get("download_button") if d.proto.label == STRINGS["export.download"][lang].format(file=f"{page}.py")]
    assert downloads, "a download button named after the page"
    assert take_home.run_hint(page, lang) in texts(at)
