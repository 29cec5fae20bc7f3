"""Lesson 1: the maths of lessons/descent.py against torch (the page: tests/test_pages_lessons_1_3.py)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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


LR_MAX, STEPS_MAX = 1.0, 300  # the descent page's largest learning rate and number of steps


# ------------------------------------------------------------------ descent verdicts at the extremes


def test_rmsprop_on_the_flat_point_is_stalled_not_sent_for_more_steps():
    """The issue's case: RMSprop from x = −10 at lr 1 jumps onto x ≈ 0 and creeps there for 300 steps."""
    run = gd.descend(-10.0, LR_MAX, STEPS_MAX, "rmsprop")
    assert abs(run["x"].iloc[-1]) < 1e-6
    verdict = gd.classify(run, at_limits=True)
    assert verdict.code == gd.STALLED
    assert verdict.minimum == pytest.approx(0.0, abs=1e-12)
    # x = 0 really is a flat point and no valley: autograd's slope is 0, and loss is lower just left of it
    assert gd.grad_by_autograd(0.0) == 0.0
    assert gd.loss(-0.01) < gd.loss(0.0) < gd.loss(0.01)


@pytest.mark.parametrize("solver", gd.SOLVERS)
def test_at_the_slider_limits_no_verdict_asks_for_more_steps_or_a_larger_lr(solver):
    for x0 in np.round(np.arange(-10.0, 10.01, 0.5), 1):
        verdict = gd.classify(gd.descend(x0, LR_MAX, STEPS_MAX, solver), at_limits=True)
        assert verdict.code != gd.APPROACHING, (solver, x0)


def test_a_slow_approach_is_told_apart_when_the_sliders_are_at_their_limits():
    run = gd.descend(-1.0, 0.0001, 40, "sgd")  # walking left toward the valley at x ≈ −2.29
    assert gd.classify(run).code == gd.APPROACHING
    slow = gd.classify(run, at_limits=True)
    assert slow.code == gd.SLOW
    assert slow.minimum == pytest.approx(gd.local_minima(-3, -2)["x"].iloc[0])


@pytest.mark.parametrize(("x0", "lr", "solver"), [(3.0, 0.05, "sgd"), (1.0, 0.1, "adam"), (-6.0, 0.01, "momentum"),
                                                   (3.0, 0.5, "sgd"), (2.0, 0.3, "rmsprop")])
def test_step_by_step_verdict_is_the_verdict_of_a_run_that_stopped_there(x0, lr, solver):
    """The verdict for step k equals the verdict of a run of only k steps, computed afresh."""
    run = gd.descend(x0, lr, 40, solver)
    last = len(run) - 1
    assert gd.classify(run, step=0).code == gd.START
    for k in range(1, last):
        assert gd.classify(run, step=k) == gd.classify(gd.descend(x0, lr, k, solver)), k
    if run.attrs["diverged"]:
        # the last step before the blow-up: the page shows the blow-up there, and so does the verdict
        assert gd.classify(run, step=last).code == gd.DIVERGED
    else:
        assert gd.classify(run, step=last) == gd.classify(run)


# ------------------------------------------------------------------ descent charts with a blow-up


def test_a_diverging_run_does_not_stretch_the_step_charts():
    runs = {s: gd.descend(3.0, 0.5, 20, s) for s in gd.SOLVERS}
    assert runs["sgd"].attrs["diverged"] and not runs["adam"].attrs["diverged"]
    assert runs["sgd"]["loss"].abs().max() > 1e3  # what stretched the chart
    for field in ("x", "loss"):
        view = gd.step_view(runs, field)
        lo, hi = view.domain
        calm = pd.concat([runs["adam"][field], runs["rmsprop"][field]])
        assert lo <= calm.min() and calm.max() <= hi
        assert hi - lo < 200  # the curve's own range, not the blow-up's
        assert view.clipped
        # the calm solvers are drawn exactly as computed
        for s in ("adam", "rmsprop"):
            drawn = view.frame[view.frame["solver"] == s]
            np.testing.assert_array_equal(drawn[field].to_numpy(), runs[s][field].to_numpy())
            assert not drawn["clipped"].any()
        # the blown-up ones are marked where they first left the range, with their true value
        marks = view.marks.set_index("series")
        for s in ("sgd", "momentum"):
            first_out = runs[s][(runs[s][field] < lo) | (runs[s][field] > hi)].iloc[0]
            assert marks.loc[s, "step"] == first_out["step"]
            assert marks.loc[s, "value"] == first_out[field]
            assert marks.loc[s, "blew_up_at"] == runs[s].attrs["diverged_step"]
            assert lo <= marks.loc[s, "shown"] <= hi
        assert ((view.frame[field] >= lo) & (view.frame[field] <= hi)).all()


def test_without_a_blow_up_the_step_chart_is_untouched():
    runs = {s: gd.descend(2.0, 0.05, 60, s) for s in ("sgd", "adam")}
    view = gd.step_view(runs, "x")
    assert not view.clipped and view.marks.empty
    np.testing.assert_array_equal(view.frame["x"], pd.concat([runs["sgd"]["x"], runs["adam"]["x"]]))


def test_step_view_keeps_the_whole_runs_range_while_stepping():
    runs = {s: gd.descend(3.0, 0.5, 20, s) for s in gd.SOLVERS}
    whole = gd.step_view(runs, "x")
    for k in range(6):
        view = gd.step_view(runs, "x", step=k)
        assert view.domain == whole.domain
        assert view.frame["step"].max() == k
        blown = set(view.marks.loc[view.marks["blew_up_at"] >= 0, "series"])
        assert blown == ({"sgd", "momentum"} if k >= 4 else set())  # both blow up at step 5
