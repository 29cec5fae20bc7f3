"""Lesson 1: the maths of lessons/descent.py against torch, and the page in AppTest."""

import json
import math
import subprocess
import sys

import altair as alt
import numpy as np
import pyarrow as pa
import pytest
import torch
from conftest import open_page
from hypothesis import given, settings
from hypothesis import strategies as st

from app import ui
from app.i18n import STRINGS
from lessons import descent as gd

PAGE = "pages/descent.py"


# ------------------------------------------------------------------ reference: torch itself


def torch_run(x0, lr, steps, optimizer, **hyper):
    """x after every step of torch.optim on loss = x²·sin x (float64, gradient by autograd),
    plus the optimizer's own state after the last step."""
    p = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    if optimizer == "sgd":
        opt = torch.optim.SGD([p], lr=lr)
    elif optimizer == "momentum":
        opt = torch.optim.SGD([p], lr=lr, momentum=hyper.get("momentum", 0.9))
    elif optimizer == "rmsprop":
        opt = torch.optim.RMSprop([p], lr=lr, **hyper)
    else:
        opt = torch.optim.Adam([p], lr=lr, **hyper)
    xs = [float(x0)]
    for _ in range(steps):
        opt.zero_grad()
        (p * p * torch.sin(p)).backward()
        opt.step()
        xs.append(p.item())
    return np.array(xs), opt.state[p]


# Settings where every solver settles (no chaotic bouncing, which would amplify the last-bit
# differences between two correct float64 implementations beyond any tolerance).
CALM = [(3.0, 0.01, 100), (-6.0, 0.01, 100), (-1.0, 0.05, 100), (9.5, 0.003, 150), (0.7, 0.02, 80)]
HYPER = {
    "sgd": [{}],
    "momentum": [{}, {"momentum": 0.5}],
    "rmsprop": [{}, {"alpha": 0.9, "eps": 1e-6}],
    "adam": [{}, {"betas": (0.8, 0.99), "eps": 1e-6}],
}


@pytest.mark.parametrize("optimizer", gd.SOLVERS)
@pytest.mark.parametrize("x0, lr, steps", CALM)
def test_descend_matches_torch_optim_step_for_step(optimizer, x0, lr, steps):
    for hyper in HYPER[optimizer]:
        run = gd.descend(x0, lr, steps, optimizer, **hyper)
        reference, _ = torch_run(x0, lr, steps, optimizer, **hyper)
        assert not run.attrs["diverged"]
        np.testing.assert_allclose(run["x"].to_numpy(), reference, rtol=0, atol=1e-9)


@pytest.mark.parametrize("optimizer, state, column", [
    ("momentum", "momentum_buffer", "velocity"),
    ("rmsprop", "square_avg", "square_avg"),
    ("adam", "exp_avg", "m"),
    ("adam", "exp_avg_sq", "v"),
])
def test_solver_state_in_the_arithmetic_table_is_torchs(optimizer, state, column):
    table = gd.updates(3.0, 0.01, 30, optimizer)
    _, torch_state = torch_run(3.0, 0.01, 30, optimizer)
    assert table[column].iloc[-1] == pytest.approx(float(torch_state[state]), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(x0=st.floats(-10, 10), steps=st.integers(1, 8), lr=st.sampled_from([1e-3, 1e-2, 3e-2]),
       optimizer=st.sampled_from(gd.SOLVERS))
def test_first_steps_match_torch_anywhere(x0, steps, lr, optimizer):
    run = gd.descend(x0, lr, steps, optimizer)
    reference, _ = torch_run(x0, lr, steps, optimizer)
    np.testing.assert_allclose(run["x"].to_numpy(), reference, rtol=1e-9, atol=1e-9)


def test_sgd_is_exactly_the_course_update():
    x, lr = 2.5, 0.02
    expected = [x]
    for _ in range(50):
        x = x - lr * (2 * x * math.sin(x) + x**2 * math.cos(x))
        expected.append(x)
    run = gd.descend(2.5, lr, 50)
    assert run["x"].tolist() == pytest.approx(expected, rel=1e-15, abs=1e-15)


def test_descend_frame_shape():
    run = gd.descend(3.0, 0.05, 25, "adam")
    assert list(run.columns) == ["step", "x", "loss", "grad"]
    assert run["step"].tolist() == list(range(26))
    assert run["x"].iloc[0] == 3.0, "row 0 is the start"
    xs = run["x"].to_numpy()
    np.testing.assert_allclose(run["loss"], xs**2 * np.sin(xs))
    np.testing.assert_allclose(run["grad"], 2 * xs * np.sin(xs) + xs**2 * np.cos(xs))
    assert run.attrs["diverged"] is False and run.attrs["diverged_step"] is None


def test_updates_chain_into_the_path():
    run = gd.descend(-4.0, 0.05, 20, "rmsprop")
    table = gd.updates(-4.0, 0.05, 20, "rmsprop")
    np.testing.assert_array_equal(table["new_x"], run["x"].iloc[1:])
    np.testing.assert_array_equal(table["x"], run["x"].iloc[:-1])
    np.testing.assert_allclose(table["delta"], table["x"] - table["new_x"], rtol=1e-12)
    sgd = gd.updates(-4.0, 0.05, 5, "sgd")
    np.testing.assert_array_equal(sgd["delta"], sgd["lr_grad"])


# ------------------------------------------------------------------------ divergence


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_too_large_a_rate_is_flagged_not_raised(optimizer):
    run = gd.descend(3.0, 0.5, 50, optimizer)
    assert run.attrs["diverged"] is True
    blew = run.attrs["diverged_step"]
    assert len(run) == blew, "rows 0 … blow-up − 1 are kept"
    assert np.isfinite(run[["x", "loss", "grad"]].to_numpy()).all()
    assert run["x"].abs().max() <= gd.BLOW_UP
    # the next step really does leave the range: torch agrees it blows past 1e6
    reference, _ = torch_run(3.0, 0.5, blew, optimizer)
    assert abs(reference[blew]) > gd.BLOW_UP or not math.isfinite(reference[blew])


@settings(max_examples=150, deadline=None)
@given(x0=st.floats(-10, 10), lr=st.floats(1e-4, 1e3), steps=st.integers(0, 300),
       optimizer=st.sampled_from(gd.SOLVERS))
def test_descend_never_raises_and_never_returns_non_finite(x0, lr, steps, optimizer):
    run = gd.descend(x0, lr, steps, optimizer)
    values = run[["x", "loss", "grad"]].to_numpy()
    assert np.isfinite(values).all() and (np.abs(run["x"]) <= gd.BLOW_UP).all()
    assert isinstance(run.attrs["diverged"], bool)
    assert len(run) == (steps + 1 if not run.attrs["diverged"] else run.attrs["diverged_step"])
    verdict = gd.classify(run)
    assert verdict.code in {gd.CONVERGED, gd.STUCK, gd.OSCILLATING, gd.APPROACHING, gd.STALLED,
                            gd.WANDERING, gd.DIVERGED}
    assert (verdict.code == gd.DIVERGED) == run.attrs["diverged"]


def test_a_non_finite_start_is_a_divergence_at_step_zero():
    run = gd.descend(float("nan"), 0.1, 10)
    assert run.empty and run.attrs["diverged"] and run.attrs["diverged_step"] == 0


@pytest.mark.parametrize("bad", [
    {"optimizer": "lbfgs"}, {"lr": -0.1}, {"lr": float("inf")}, {"steps": -1},
    {"optimizer": "adam", "betas": (0.9, 1.0)}, {"optimizer": "rmsprop", "eps": 0.0},
    {"optimizer": "momentum", "momentum": 1.0}, {"optimizer": "sgd", "gamma": 0.5},
])
def test_bad_arguments_raise_value_error(bad):
    args = {"x0": 1.0, "lr": 0.1, "steps": 3, "optimizer": "sgd"} | bad
    with pytest.raises(ValueError):
        gd.descend(args.pop("x0"), args.pop("lr"), args.pop("steps"), args.pop("optimizer"), **args)


# ------------------------------------------------------------------- the derivative


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-1e3, 1e3))
def test_hand_derivative_equals_autograd(x):
    assert gd.grad(x) == pytest.approx(gd.grad_by_autograd(x), rel=1e-12, abs=1e-12)


def test_loss_and_grad_work_on_floats_and_arrays():
    xs = np.linspace(-10, 10, 7)
    assert gd.loss(xs).shape == xs.shape and gd.grad(xs).shape == xs.shape
    assert gd.loss(2.0) == pytest.approx(4 * math.sin(2.0))
    assert gd.grad(2.0) == pytest.approx(4 * math.sin(2.0) + 4 * math.cos(2.0))
    table = gd.compare_with_autograd(xs)
    assert list(table.columns) == ["x", "hand", "autograd", "difference"]
    assert (table["difference"] < 1e-9).all()


def test_second_derivative_by_autograd():
    for x in (-7.3, -1.0, 0.4, 5.5):
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(t * t * torch.sin(t), t, create_graph=True)
        (h,) = torch.autograd.grad(g, t)
        assert gd.second_derivative(x) == pytest.approx(h.item(), rel=1e-12)


# --------------------------------------------------------- minima, curve, window, labels


def test_stationary_points_solve_tan_x_equals_minus_x_over_2():
    points = gd.stationary_points(-20, 20)
    assert (np.abs(gd.grad(points["x"])) < 1e-9 * np.maximum(1, points["x"] ** 2)).all()
    nonzero = points[points["x"] != 0]["x"]
    np.testing.assert_allclose(np.tan(nonzero), -nonzero / 2, rtol=1e-6)
    assert points[points["kind"] == "flat"]["x"].tolist() == [0.0], "x = 0 is an inflection point"
    # the kinds follow the sign of f″, and valleys and humps alternate around the flat point
    curvature = gd.second_derivative(points["x"])
    assert ((points["kind"] == "min") == (curvature > 1e-9)).all()


def test_local_minima_agree_with_a_dense_grid():
    lo, hi = -10.0, 10.0
    xs = np.linspace(lo, hi, 2_000_001)
    ys = xs**2 * np.sin(xs)
    grid = xs[1:-1][(ys[1:-1] < ys[:-2]) & (ys[1:-1] < ys[2:])]
    found = gd.local_minima(lo, hi)
    np.testing.assert_allclose(found["x"], grid, atol=2e-5)
    np.testing.assert_allclose(found["loss"], found["x"] ** 2 * np.sin(found["x"]))
    assert found["loss"].idxmin() == 0 and found["x"].iloc[0] == pytest.approx(-8.0962, abs=1e-4)


def test_curve_samples_the_loss():
    frame = gd.curve(-3, 4, 50)
    assert frame["x"].iloc[0] == -3 and frame["x"].iloc[-1] == 4 and len(frame) == 50
    np.testing.assert_allclose(frame["loss"], [x * x * math.sin(x) for x in frame["x"]])


def test_view_window_holds_paths_but_stays_capped():
    lo, hi = gd.view_window([])
    assert lo < -10 and hi > 10
    lo, hi = gd.view_window([3.0, 14.0])
    assert lo < -10 and 14 < hi < 15
    assert gd.view_window([5e5, -3e4]) == (-gd.VIEW_CAP, gd.VIEW_CAP)


def test_spaced_steps_number_points_that_do_not_overprint():
    xs = [0.0, 0.01, 0.5, 0.52, 1.2, 1.21, 3.0, 3.1, 3.2]
    mask = gd.spaced_steps(xs, gap=0.3, limit=3)
    assert mask.tolist() == [True, False, True, False, True, False, False, False, False]
    assert gd.spaced_steps(xs, gap=0.0).sum() == len(xs)


# ---------------------------------------------------------------------------- verdicts


def test_verdict_converged_to_the_deepest_valley():
    run = gd.descend(-6.0, 0.01, 100)
    v = gd.classify(run)
    deepest = gd.local_minima(-10, 10).sort_values("loss").iloc[0]
    assert v.code == gd.CONVERGED and v.minimum == pytest.approx(deepest["x"])
    assert abs(run["x"].iloc[-1] - deepest["x"]) < gd.SETTLED


def test_verdict_stuck_in_a_shallower_valley():
    v = gd.classify(gd.descend(3.0, 0.01, 100))
    assert v.code == gd.STUCK
    assert v.minimum_loss > v.lowest_loss, "a deeper valley exists in view"
    assert v.minimum == pytest.approx(5.087, abs=1e-3) and v.lowest == pytest.approx(-8.096, abs=1e-3)


def test_verdict_oscillating_around_the_optimum():
    run = gd.descend(3.0, 0.1, 60)
    v = gd.classify(run)
    assert v.code == gd.OSCILLATING and v.minimum == pytest.approx(5.087, abs=1e-3)
    tail = run["x"].to_numpy()[-15:] - v.minimum
    assert (tail > 0).any() and (tail < 0).any(), "it really lands on both sides of the floor"
    assert v.amplitude == pytest.approx(np.abs(tail).max(), rel=0.5)


def test_verdict_still_approaching_with_a_tiny_rate():
    run = gd.descend(3.0, 0.001, 30)
    v = gd.classify(run)
    assert v.code == gd.APPROACHING and v.minimum == pytest.approx(5.087, abs=1e-3)
    assert np.all(np.diff(run["x"]) > 0)


def test_verdict_stalled_on_the_flat_point_at_zero():
    assert gd.classify(gd.descend(1.0, 0.01, 60)).code == gd.STALLED
    standing = gd.classify(gd.descend(0.0, 0.1, 10))
    assert standing.code == gd.STALLED and standing.minimum == 0.0


def test_verdict_diverged_names_the_step():
    run = gd.descend(3.0, 0.5, 20)
    v = gd.classify(run)
    assert v.code == gd.DIVERGED and v.step == run.attrs["diverged_step"] == len(run)


def test_verdict_wandering_between_valleys():
    v = gd.classify(gd.descend(-4.0, 0.1, 50, "momentum"))
    assert v.code == gd.WANDERING and v.minimum is None


def test_step_latex_carries_the_numbers_of_the_step():
    for optimizer in gd.SOLVERS:
        table = gd.updates(2.0, 0.05, 5, optimizer, eps=1e-6)
        rows = gd.step_latex(table, 3, optimizer, 0.05, eps=1e-6)
        row, before = table.iloc[2], table.iloc[1]
        block = gd.aligned(rows)
        assert rows[0] == f"x_{{2}} &= {row['x']:.6g}" and f"{row['grad']:.6g}" in block
        assert rows[-1].endswith(f"= {row['new_x']:.6g}") and f"{row['delta']:.6g}" in block
        state = {"momentum": ["velocity"], "rmsprop": ["square_avg"], "adam": ["m", "v", "m_hat", "v_hat"]}
        for column in state.get(optimizer, []):
            assert f"{row[column]:.6g}" in block, "the running average after the step"
            if column in ("velocity", "square_avg", "m", "v"):
                assert f"{before[column]:.6g}" in block, "the running average before the step"
    assert r"10^{-6}" in block and block.startswith(r"\begin{aligned}")
    first = gd.step_latex(gd.updates(2.0, 0.05, 1, "momentum"), 1, "momentum", 0.05)
    assert r"0.9 \times 0 + " in first[5], "before the first step the running averages are 0"


# --------------------------------------------------------------------------- the page

KEY = lambda name: ui.widget_key("descent", name)  # noqa: E731


def texts(at):
    return [el.value for kind in ("markdown", "info", "success", "error", "warning", "caption")
            for el in getattr(at, kind)]


def latex(at):
    return [el.value.strip("$\n") for el in at.latex]


def charts(at):
    return at.get("vega_lite_chart")


def assert_healthy(at, lang):
    """No exception, no caught error box, every chart a valid Vega-Lite spec in this language."""
    assert not at.exception, [e.value for e in at.exception]
    generic = STRINGS["app.error_generic"][lang].split("{")[0]
    assert not [e.value for e in at.error if e.value.startswith(generic)]
    for chart in charts(at):
        alt.LayerChart.validate(json.loads(chart.proto.spec))


@pytest.fixture(scope="module", params=["zh", "en"])
def page(request):
    return request.param, open_page(PAGE, lang=request.param, timeout=120)


def test_page_draws_three_charts_the_rule_and_the_verdicts(page):
    lang, at = page
    assert_healthy(at, lang)
    assert len(charts(at)) == 3
    assert gd.RULES["sgd"] in latex(at)
    assert STRINGS["descent.verdict"][lang] in [el.value for el in at.subheader]
    shown = " ".join(texts(at))
    for solver in ("sgd", "rmsprop", "adam"):
        assert f"**{STRINGS[f'descent.solver.{solver}'][lang]}**" in shown
    spec = json.loads(charts(at)[0].proto.spec)
    assert any("tooltip" in layer.get("encoding", {}) for layer in spec["layer"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_step_by_step_mode_advances_one_step_per_press(lang):
    at = open_page(PAGE, lang=lang, query={"x0": "2", "lr": "0.05", "solvers": "sgd,adam", "focus": "sgd"})
    at.toggle(key=KEY("stepwise")).set_value(True).run()
    assert_healthy(at, lang)
    start = STRINGS["descent.step_start"][lang].format(x=2.0, solver=STRINGS["descent.solver.sgd"][lang])
    assert start in texts(at)
    table = gd.updates(2.0, 0.05, 40, "sgd")
    for k in (1, 2, 3):
        at.button(key="descent.__next").click().run()
        assert_healthy(at, lang)
        assert at.session_state["descent.__k"] == k
        assert gd.aligned(gd.step_latex(table, k, "sgd", 0.05)) in latex(at), f"step {k}'s arithmetic is shown"
        assert STRINGS["descent.step_at"][lang].format(k=k, n=40) in [m.value for m in at.markdown]
        ring = json.loads(charts(at)[0].proto.spec)["layer"][-1]
        assert ring["mark"]["type"] == "point" and ring["mark"]["filled"] is False
    at.button(key="descent.__restart").click().run()
    assert at.session_state["descent.__k"] == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_divergence_preset_explains_and_does_not_crash(lang):
    at = open_page(PAGE, lang=lang)
    at.button(key="descent.__preset0").click().run()
    assert_healthy(at, lang)
    assert at.select_slider(key=KEY("lr")).value == 0.5
    run = gd.descend(3.0, 0.5, 20, "sgd")
    expected = STRINGS["descent.v.diverged"][lang].format(
        solver=STRINGS["descent.solver.sgd"][lang], step=run.attrs["diverged_step"], lr="0.5")
    assert expected in [e.value for e in at.error]
    assert len(charts(at)) == 3, "the points before the blow-up are still drawn"
    # step-by-step into the blow-up: the last step says it blew up
    at.toggle(key=KEY("stepwise")).set_value(True).run()
    presses = 0
    while not at.button(key="descent.__next").disabled:
        at.button(key="descent.__next").click().run()
        presses += 1
    assert presses == run.attrs["diverged_step"] - 1, "the last finite point is as far as it goes"
    assert_healthy(at, lang)
    blew = STRINGS["descent.step_blew"][lang].format(solver=STRINGS["descent.solver.sgd"][lang],
                                                       step=run.attrs["diverged_step"])
    assert blew in [e.value for e in at.error]


def test_presets_do_what_their_text_promises():
    at = open_page(PAGE, lang="en")
    at.button(key="descent.__preset1").click().run()
    assert f"x ≈ {gd.local_minima(-10, 10)['x'].iloc[0]:.3f}" in " ".join(el.value for el in at.success)
    v = gd.classify(gd.descend(-6.0, 0.01, 60))
    assert v.code == gd.CONVERGED and v.minimum == pytest.approx(-8.10, abs=0.01)
    at.button(key="descent.__preset2").click().run()
    assert_healthy(at, "en")
    sgd, adam = gd.classify(gd.descend(1.0, 0.1, 60)), gd.classify(gd.descend(1.0, 0.1, 60, "adam"))
    assert sgd.code == gd.STALLED and adam.minimum == pytest.approx(-2.29, abs=0.01)
    assert adam.code in (gd.OSCILLATING, gd.CONVERGED, gd.STUCK)


def test_chart_data_is_the_lessons_paths():
    at = open_page(PAGE, lang="en", query={"x0": "-1.5", "lr": "0.02", "steps": "30", "solvers": "momentum"})
    assert_healthy(at, "en")
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in charts(at)[1].proto.datasets]
    path = next(f for f in frames if "grad" in f.columns)
    run = gd.descend(-1.5, 0.02, 30, "momentum")
    np.testing.assert_array_equal(path["x"].to_numpy(), run["x"].to_numpy())
    np.testing.assert_array_equal(path["loss"].to_numpy(), run["loss"].to_numpy())


def test_url_restores_the_settings_and_moving_a_slider_writes_them():
    at = open_page(PAGE, lang="en", query={"x0": "-4.5", "lr": "0.2", "steps": "77", "solvers": "adam,rmsprop"})
    assert at.slider(key=KEY("x0")).value == -4.5 and at.slider(key=KEY("steps")).value == 77
    assert at.select_slider(key=KEY("lr")).value == 0.2
    assert at.multiselect(key=KEY("solvers")).value == ["adam", "rmsprop"]
    at.slider(key=KEY("steps")).set_value(12).run()
    assert dict(at.query_params)["steps"] == "12" and dict(at.query_params)["x0"] == "-4.5"


def test_no_solver_chosen_warns_and_still_draws_the_curve():
    at = open_page(PAGE, lang="zh")
    at.multiselect(key=KEY("solvers")).set_value([]).run()
    assert_healthy(at, "zh")
    assert STRINGS["descent.no_solver"]["zh"] in [w.value for w in at.warning]
    assert len(charts(at)) == 1


def test_autograd_comparison_runs_on_demand():
    at = open_page(PAGE, lang="en", query={"x0": "2.5"})
    at.button(key="descent.__autograd").click().run()
    assert_healthy(at, "en")
    table = at.dataframe[-1].value
    assert table.iloc[0, 0] == 2.5 and table.iloc[0, 1] == pytest.approx(table.iloc[0, 2], abs=1e-12)
    ok = STRINGS["descent.autograd_ok"]["en"].split("{")[0]
    assert any(s.value.startswith(ok) for s in at.success)


def test_the_page_runs_without_loading_torch():
    """torch is loaded only when the student asks for the autograd comparison."""
    code = (
        "import sys; sys.path[:0] = ['tests', '.']\n"
        "from conftest import open_page\n"
        f"at = open_page({PAGE!r}, lang='en')\n"
        "assert not at.exception and at.get('vega_lite_chart')\n"
        "assert 'torch' not in sys.modules, 'the page imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=gd.__file__.rsplit("/lessons/", 1)[0], check=True)
