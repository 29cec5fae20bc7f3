"""Lessons 2 and 3: the course's three functions, the closed form and noisy data (the pages: tests/test_pages_lessons_1_3.py).

The references are the course's own printout, the course's loop code (verbatim, in ``benchmarks/course_code.py``),
scikit-learn and numpy's least squares, and torch.autograd for the loss's curvature.
"""

import importlib.util
import math

import numpy as np
import pytest
from conftest import ROOT, shared_file
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

from benchmarks.course_code import (
    course_compute_error_for_line_given_points,
    course_gradient_descent_runner,
    course_run,
    course_step_gradient,
)
from lessons import regression

COURSE_PRINTOUT = (
    "Starting gradient descent at b = 0, m = 0, error = 5565.107834483211\n"
    "Running...\n"
    "After 1000 iterations b = 0.08893651993741346, m = 1.4777440851894448, error = 112.61481011613473"
)




@pytest.fixture(scope="module")
def course_points():
    return np.genfromtxt(shared_file("data", "regression", "data.csv"), delimiter=",")


@pytest.fixture(scope="module")
def example():
    return regression.load_points(ROOT / "data" / "example.csv")


# ------------------------------------------------------------------- the course's printout


def test_the_courses_printout_to_every_digit(course_points):
    b0, m0 = 0, 0
    start = regression.compute_error_for_line_given_points(b0, m0, course_points)
    b, m = regression.gradient_descent_runner(course_points, b0, m0, 0.0001, 1000)
    end = regression.compute_error_for_line_given_points(b, m, course_points)
    assert "{0}".format(start) == "5565.107834483211"
    assert "{0}".format(b) == "0.08893651993741346"
    assert "{0}".format(m) == "1.4777440851894448"
    assert "{0}".format(end) == "112.61481011613473"
    assert regression.transcript(b0, m0, start, 1000, b, m, end) == COURSE_PRINTOUT


def test_the_verbatim_course_code_prints_the_same(course_points):
    assert course_run(course_points) == COURSE_PRINTOUT


def test_the_printout_from_the_students_upload_path(course_points):
    """The course's file read by load_points (as an upload would be) gives the same printout."""
    points = regression.load_points(shared_file("data", "regression", "data.csv").read_bytes())
    run = regression.gradient_descent_history(points, 0.0, 0.0, 0.0001, 1000)
    text = regression.transcript(0.0, 0.0, run.error[0], 1000, run.b[-1], run.m[-1], run.error[-1])
    assert text == COURSE_PRINTOUT


# ------------------------------------------------------- vectorised == the course's loop arithmetic


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    centre=st.floats(-100, 100),
    spread=st.floats(0.01, 100),
    b0=st.floats(-10, 10),
    m0=st.floats(-10, 10),
    log_lr=st.floats(-6, -2),
    iterations=st.integers(0, 25),
)
def test_vectorised_functions_equal_the_course_loops_bit_for_bit(n, seed, centre, spread, b0, m0, log_lr, iterations):
    points = np.random.default_rng(seed).normal(centre, spread, (n, 2))
    lr = 10.0**log_lr
    ours = regression.gradient_descent_runner(points, b0, m0, lr, iterations)
    theirs = course_gradient_descent_runner(points, b0, m0, lr, iterations)
    assert ours == [float(v) for v in theirs]  # exact, so certainly within 1e-12 relative
    assert regression.step_gradient(b0, m0, points, lr) == [float(v) for v in course_step_gradient(b0, m0, points, lr)]
    course_error = float(course_compute_error_for_line_given_points(b0, m0, points))
    assert regression.compute_error_for_line_given_points(b0, m0, points) == course_error
    # a history's errors square by r·r, not the course's pow: within 1e-12 relative
    history = regression.gradient_descent_history(points, b0, m0, lr, 0)
    assert history.error[0] == pytest.approx(course_error, rel=1e-12, abs=0)


def test_the_error_squares_as_the_course_does_where_pow_and_r_times_r_differ():
    """n = 1, seed 6: the course's ``** 2`` (the C library's pow) rounds this square 1 ULP away from r·r."""
    points = np.random.default_rng(6).normal(-32.09955137491657, 0.01, (1, 2))
    b0, m0 = 2.83984375, -3.1056004855513155
    residual = points[0, 1] - (m0 * points[0, 0] + b0)
    assert residual**2 != residual * residual, "the case where the two roundings part"
    course = float(course_compute_error_for_line_given_points(b0, m0, points))
    assert regression.compute_error_for_line_given_points(b0, m0, points) == course == 18111.05155393908


def test_integer_starts_and_negative_x_match_the_course(example):
    points = example * np.array([-1.0, 1.0])  # x < 0: 0 * x is -0.0, the sign must not leak
    for start in [(0, 0), (3, -1), (0.5, 0.25)]:
        assert regression.gradient_descent_runner(points, *start, 0.0001, 50) == [
            float(v) for v in course_gradient_descent_runner(points, *start, 0.0001, 50)]


def test_where_the_course_returns_nan_the_runner_says_it_diverged(example):
    with np.errstate(over="ignore", invalid="ignore"):
        theirs = course_gradient_descent_runner(example, 0, 0, 0.01, 200)
    assert not all(map(math.isfinite, theirs))
    with pytest.raises(regression.DivergedError, match="too large for the scale of x"):
        regression.gradient_descent_runner(example, 0, 0, 0.01, 200)
    # the history keeps the same numbers the course's loop passes through, for the page to explain
    with np.errstate(over="ignore", invalid="ignore"):
        run = regression.gradient_descent_history(example, 0, 0, 0.01, 5)
        assert [run.b[-1], run.m[-1]] == [float(v) for v in course_gradient_descent_runner(example, 0, 0, 0.01, 5)]


def test_up_to_the_limit_the_sums_run_in_the_loops_order():
    points = regression.make_noisy_line(1.4, 5.0, n=regression.SEQUENTIAL_LIMIT, noise_std=10.0,
                                        x_range=(20.0, 80.0), seed=8)
    assert regression.gradient_descent_runner(points, 0, 0, 0.0001, 4) == [
        float(v) for v in course_gradient_descent_runner(points, 0, 0, 0.0001, 4)]


def test_larger_data_stays_within_1e_12_of_the_course_loop():
    points = regression.make_noisy_line(1.4, 5.0, n=regression.SEQUENTIAL_LIMIT + 1000, noise_std=10.0,
                                        x_range=(20.0, 80.0), seed=9)
    ours = regression.gradient_descent_runner(points, 0.5, -0.5, 0.0001, 15)
    theirs = course_gradient_descent_runner(points, 0.5, -0.5, 0.0001, 15)
    assert ours == pytest.approx([float(v) for v in theirs], rel=1e-12, abs=0)
    assert regression.compute_error_for_line_given_points(*ours, points) == pytest.approx(
        float(course_compute_error_for_line_given_points(*ours, points)), rel=1e-12, abs=0)


def test_larger_data_stays_within_1e_12_over_a_whole_run(monkeypatch):
    """1000 iterations on 10,000 points: pairwise sums against the loop-order sums (equal to the course's loop)."""
    points = regression.make_noisy_line(1.4, 5.0, n=10_000, noise_std=10.0, x_range=(20.0, 80.0), seed=10)
    pairwise = regression.gradient_descent_history(points, 0, 0, 0.0001, 1000)
    monkeypatch.setattr(regression, "SEQUENTIAL_LIMIT", 10_000)
    in_order = regression.gradient_descent_history(points, 0, 0, 0.0001, 1000)
    for ours, exact in ((pairwise.b, in_order.b), (pairwise.m, in_order.m), (pairwise.error, in_order.error)):
        assert np.allclose(ours[1:], exact[1:], rtol=1e-12, atol=0)


def test_history_passes_through_the_runners_values(example):
    run = regression.gradient_descent_history(example, 1.0, -0.5, 0.0001, 300)
    assert run.iterations == 300 and len(run.b) == len(run.m) == len(run.error) == 301
    for k in (0, 1, 2, 17, 300):
        assert [run.b[k], run.m[k]] == regression.gradient_descent_runner(example, 1.0, -0.5, 0.0001, k)
        assert run.error[k] == regression.compute_error_for_line_given_points(run.b[k], run.m[k], example)


def test_history_reports_progress(example):
    seen = []
    regression.gradient_descent_history(example, 0, 0, 0.0001, 200, on_progress=seen.append)
    assert seen and seen == sorted(seen) and 0 <= seen[0] and seen[-1] <= 1


# ------------------------------------------------------------------------------- closed form


def test_least_squares_matches_scikit_learn_and_numpy(course_points, example):
    for points in (course_points, example, regression.make_noisy_line(-3.0, 40.0, n=7, noise_std=2.0, seed=4)):
        b, w = regression.least_squares(points)
        fit = LinearRegression().fit(points[:, :1], points[:, 1])
        assert w == pytest.approx(fit.coef_[0], rel=1e-10) and b == pytest.approx(fit.intercept_, rel=1e-9, abs=1e-9)
        design = np.column_stack([np.ones(len(points)), points[:, 0]])
        (b_np, w_np), *_ = np.linalg.lstsq(design, points[:, 1], rcond=None)
        assert (b, w) == pytest.approx((b_np, w_np), rel=1e-9)


def test_least_squares_refuses_data_without_spread_in_x():
    flat = np.array([[2.0, 1.0], [2.0, 5.0], [2.0, 3.0]])
    assert not regression.x_has_spread(flat)
    with pytest.raises(ValueError):
        regression.least_squares(flat)


def test_gradient_descent_approaches_the_closed_form():
    points = regression.make_noisy_line(2.0, 1.0, n=100, seed=3)
    b_star, w_star = regression.least_squares(points)
    gaps = []
    for iterations in (100, 1000, 5000):
        b, w = regression.gradient_descent_runner(points, 0.0, 0.0, 0.02, iterations)
        gaps.append(math.hypot(b - b_star, w - w_star))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-6


def test_standardising_x_converges_fast_and_reports_in_the_datas_units(course_points, example):
    for points in (course_points, example):
        b_star, m_star = regression.least_squares(points)
        run = regression.standardised_history(points, 0.0, 0.0, 0.1, 200)
        assert run.scaling.mean == pytest.approx(points[:, 0].mean())
        assert run.scaling.std == pytest.approx(points[:, 0].std())
        assert (run.b[0], run.m[0]) == pytest.approx((0.0, 0.0), abs=1e-12)  # the same starting line
        assert (run.b[-1], run.m[-1]) == pytest.approx((b_star, m_star), rel=1e-8)
        assert run.error[-1] == pytest.approx(regression.compute_error_for_line_given_points(b_star, m_star, points))
        assert run.growth_at is None
        plain = regression.gradient_descent_history(points, 0.0, 0.0, 0.1, 200)
        assert plain.growth_at is not None  # the same rate on raw x blows up


def test_the_stable_learning_rate_is_two_over_the_curvature(example):
    torch = pytest.importorskip("torch")
    data = torch.tensor(example, dtype=torch.float64)

    def mse(params):
        return torch.mean((data[:, 1] - (params[1] * data[:, 0] + params[0])) ** 2)

    hessian = torch.autograd.functional.hessian(mse, torch.zeros(2, dtype=torch.float64)).numpy()
    limit = regression.max_stable_learning_rate(example)
    assert limit == pytest.approx(2 / np.linalg.eigvalsh(hessian)[-1], rel=1e-10)
    below = regression.gradient_descent_history(example, 0.0, 0.0, 0.97 * limit, 3000)
    above = regression.gradient_descent_history(example, 0.0, 0.0, 1.03 * limit, 3000)
    assert below.growth_at is None and np.all(np.diff(below.error) <= 0)
    assert above.growth_at is not None and above.error[-1] > above.error[0]


def test_a_perfect_fit_resting_at_rounding_level_is_not_called_growth():
    points = regression.make_noisy_line(2.0, 1.0, n=50, noise_mean=0.0, noise_std=0.0, seed=2)
    for lr in (0.005, 0.02, 0.029):
        run = regression.gradient_descent_history(points, 0.0, 0.0, lr, 20_000)
        assert run.error[-1] < 1e-20 and run.growth_at is None


def test_growth_is_caught_at_the_courses_data_scale(example):
    assert regression.gradient_descent_history(example, 0, 0, 0.0001, 1000).growth_at is None
    grown = regression.gradient_descent_history(example, 0, 0, 0.001, 1000)
    assert grown.growth_at == 1
    frame = regression.path_frame(grown)
    assert len(frame) > 0 and np.isfinite(frame[["b", "m", "error"]].to_numpy()).all()


# ------------------------------------------------------------------------------- noisy data


def test_make_noisy_line_is_the_courses_noise_by_default():
    points = regression.make_noisy_line(1.5, -2.0, n=200_000, seed=11)
    assert points.shape == (200_000, 2) and points.dtype == np.float64
    x = points[:, 0]
    assert 0.0 <= x.min() and x.max() <= 10.0
    noise = regression.noise_of(points, 1.5, -2.0)
    assert noise.mean() == pytest.approx(0.01, abs=4 / math.sqrt(200_000))
    assert noise.std() == pytest.approx(1.0, rel=0.01)


def test_make_noisy_line_follows_its_arguments_and_seed():
    a = regression.make_noisy_line(2.0, 1.0, n=50, noise_mean=3.0, noise_std=0.0, x_range=(20.0, 80.0), seed=5)
    assert np.array_equal(a, regression.make_noisy_line(2.0, 1.0, n=50, noise_mean=3.0, noise_std=0.0,
                                                        x_range=(20.0, 80.0), seed=5))
    assert 20.0 <= a[:, 0].min() and a[:, 0].max() <= 80.0
    assert np.allclose(a[:, 1], 2.0 * a[:, 0] + 1.0 + 3.0)
    assert not np.array_equal(a, regression.make_noisy_line(2.0, 1.0, n=50, noise_mean=3.0, noise_std=0.0,
                                                            x_range=(20.0, 80.0), seed=6))


def test_the_example_csv_is_what_its_script_makes():
    spec = importlib.util.spec_from_file_location("make_example", ROOT / "data" / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "data" / "example.csv").read_text(encoding="utf-8") == module.example_csv()
    assert np.array_equal(regression.load_points(ROOT / "data" / "example.csv"),
                          regression.make_noisy_line(**module.PARAMETERS))


# ---------------------------------------------------------------------------- loss surface


def test_loss_grid_equals_the_error_function(course_points):
    bs, ws = np.linspace(-10, 20, 7), np.linspace(-1, 3, 5)
    grid = regression.loss_grid(course_points, bs, ws)
    assert grid.shape == (5, 7)
    for i, w in enumerate(ws):
        for j, b in enumerate(bs):
            assert grid[i, j] == pytest.approx(regression.compute_error_for_line_given_points(b, w, course_points), rel=1e-10)
    b_star, w_star = regression.least_squares(course_points)
    assert regression.lowest_loss(course_points) == pytest.approx(
        regression.compute_error_for_line_given_points(b_star, w_star, course_points), rel=1e-12)


def test_loss_surface_frame_is_lowest_at_the_closed_form(example):
    b_star, w_star = regression.least_squares(example)
    box = regression.view_box([0.0, b_star], [0.0, w_star])
    frame = regression.loss_surface_frame(example, box, steps=40)
    assert len(frame) == 40 * 40 and np.isfinite(frame.to_numpy(dtype=float)).all()
    home = frame[(frame["b0"] <= b_star) & (b_star <= frame["b1"]) & (frame["w0"] <= w_star) & (w_star <= frame["w1"])]
    assert len(home) == 1
    # the valley is long and flat, so other cells along it come close, but none is clearly lower
    spread = frame["loss"].max() - frame["loss"].min()
    assert home["loss"].iloc[0] - frame["loss"].min() <= 1e-3 * spread
    assert (frame["loss"] >= regression.lowest_loss(example) * (1 - 1e-12)).all()


def test_view_box_holds_every_finite_point_with_a_margin():
    (b_lo, b_hi), (w_lo, w_hi) = regression.view_box([0.0, 5.0, np.inf], [1.0, 1.0, np.nan])
    assert b_lo < 0.0 and b_hi > 5.0 and w_lo < 1.0 < w_hi and all(map(math.isfinite, (b_lo, b_hi, w_lo, w_hi)))


# --------------------------------------------------------------------------- chart helpers


def test_sample_iterations_keep_the_start_the_end_and_the_early_steps():
    assert list(regression.sample_iterations(10)) == list(range(11))
    ks = regression.sample_iterations(10_000, most=300)
    assert ks[0] == 0 and ks[-1] == 10_000 and len(ks) <= 302 and np.all(np.diff(ks) > 0)
    assert set(range(20)) <= set(ks)


def test_sample_points_is_a_fixed_subset():
    points = regression.make_noisy_line(1.0, 0.0, n=5000, seed=1)
    shown = regression.sample_points(points, most=300)
    assert shown.shape == (300, 2) and np.array_equal(shown, regression.sample_points(points, most=300))
    assert {tuple(p) for p in shown} <= {tuple(p) for p in points}
    small = points[:10]
    assert regression.sample_points(small) is small or np.array_equal(regression.sample_points(small), small)


def test_line_frame_is_the_line():
    frame = regression.line_frame(2.0, 0.5, -4.0, 6.0, "fit")
    assert list(frame["y"]) == [0.0, 5.0] and set(frame["line"]) == {"fit"}


def test_transcript_writes_whole_starting_guesses_as_the_course_typed_them():
    text = regression.transcript(0.0, 2.5, 10.0, 3, 0.1, 0.2, 0.30000000000000004)
    assert text.splitlines() == [
        "Starting gradient descent at b = 0, m = 2.5, error = 10.0",
        "Running...",
        "After 3 iterations b = 0.1, m = 0.2, error = 0.30000000000000004",
    ]


def test_points_to_csv_reads_back_exactly(example):
    assert np.array_equal(regression.load_points(regression.points_to_csv(example).encode()), example)


def test_line_columns_are_the_rows_of_line_frame():
    import pandas as pd

    from lessons.regression import line_columns, line_frame

    lines = [("true", 1.0, 2.0), ("fit", -0.5, 1.25)]
    expected = pd.concat([line_frame(b, m, -1.0, 10.0, label) for label, b, m in lines], ignore_index=True)
    pd.testing.assert_frame_equal(pd.DataFrame(line_columns(lines, -1.0, 10.0)), expected)


# ------------------------------------------------------------------ the regression verdict


def test_standardised_x_at_lr_1_2_is_not_blamed_on_the_scale_of_x(course_points):
    run = regression.standardised_history(course_points, 0, 0, 1.2, 1000)
    verdict = regression.fit_verdict(run, course_points)
    assert verdict.code == regression.FIT_DIVERGED_RATE and verdict.standardised
    # independent: the Hessian of the MSE on standardised x, from the design matrix, is 2·[[1, 0], [0, 1]]
    x = course_points[:, 0]
    z = (x - x.mean()) / x.std()
    design = np.column_stack([np.ones_like(z), z])
    hessian = 2 * design.T @ design / len(z)
    assert verdict.lr_max == pytest.approx(2 / np.linalg.eigvalsh(hessian)[-1])
    assert verdict.lr > verdict.lr_max


def test_raw_x_at_too_large_a_rate_is_blamed_on_the_scale_and_standardising_fixes_it(course_points):
    raw = regression.gradient_descent_history(course_points, 0, 0, 0.001, 1000)
    verdict = regression.fit_verdict(raw, course_points)
    assert verdict.code == regression.FIT_DIVERGED_SCALE and verdict.step == 1
    fixed = regression.standardised_history(course_points, 0, 0, 0.001, 1000)
    assert regression.fit_verdict(fixed, course_points).code == regression.FIT_OK
    assert np.all(np.diff(fixed.error) <= 1e-9 * fixed.error[:-1])


def test_a_rate_too_large_for_any_scale_is_the_rates_fault(course_points):
    raw = regression.gradient_descent_history(course_points, 0, 0, 1.2, 100)
    assert regression.fit_verdict(raw, course_points).code == regression.FIT_DIVERGED_RATE


def test_overflowed_numbers_are_never_the_ones_to_show(course_points):
    run = regression.standardised_history(course_points, 0, 0, 1.2, 10000)
    assert not np.isfinite(run.b[-1])  # b = nan, what the page showed
    verdict = regression.fit_verdict(run, course_points)
    k = verdict.last_finite
    assert verdict.overflow_step == k + 1
    assert np.isfinite([run.b[k], run.m[k], run.error[k]]).all()
    assert not np.isfinite([run.b[k + 1], run.m[k + 1], run.error[k + 1]]).all()
    # judged at the replayed step, before the overflow
    early = regression.fit_verdict(run, course_points, step=500)
    assert early.overflow_step is None and early.last_finite == 500 and early.code == regression.FIT_DIVERGED_RATE
    assert regression.fit_verdict(run, course_points, step=0).code == regression.FIT_OK


def test_the_courses_recipe_is_ok(course_points):
    run = regression.gradient_descent_history(course_points, 0, 0, 0.0001, 1000)
    verdict = regression.fit_verdict(run, course_points)
    assert verdict.code == regression.FIT_OK and verdict.last_finite == 1000 and verdict.step is None


# ------------------------------------------------------------------ the course's data with one click


def test_course_data_path_reads_the_real_file_and_gives_the_courses_numbers(monkeypatch, tmp_path):
    real = shared_file("data", "regression", "data.csv")
    monkeypatch.setenv(regression.COURSE_DATA_ENV, str(real))
    path = regression.course_data_path()
    assert path == str(real)
    points = regression.load_points(path)
    b, m = regression.gradient_descent_runner(points, 0, 0, 0.0001, 1000)
    # the course notes' printout: b = 0.0889…, m = 1.4777…, error = 112.61…
    assert str(b) == "0.08893651993741346"
    assert str(m) == "1.4777440851894448"
    assert str(regression.compute_error_for_line_given_points(b, m, points)) == "112.61481011613473"


def test_course_data_path_falls_back_to_the_local_copy_then_to_none(monkeypatch, tmp_path):
    local = tmp_path / "data.csv"
    monkeypatch.setattr(regression, "COURSE_DATA_LOCAL", str(local))
    monkeypatch.setenv(regression.COURSE_DATA_ENV, str(tmp_path / "missing.csv"))
    assert regression.course_data_path() is None
    monkeypatch.delenv(regression.COURSE_DATA_ENV)
    assert regression.course_data_path() is None
    local.write_text("x,y\n1,2\n3,4\n")
    assert regression.course_data_path() == str(local)
