"""Lessons 2 and 3's words checked like their numbers: whenever the noise or regression page shows a verdict
or an explanation chosen by a result, what that text asserts (``regression.FIT_CLAIMS`` and the docstrings
beside the code that chooses it) holds, over the pages' whole slider ranges."""

import numpy as np
import pytest
from conftest import ROOT, shared_file
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lessons import regression

EXAMPLE = regression.load_points(ROOT / "data" / "example.csv")


def datasets():
    """The regression page's data: the example, the course's file where it is here, and uploads of any shape."""
    fixed = [EXAMPLE, *course_data()]
    uploads = st.builds(
        lambda n, seed, centre, spread, same_x: _points(n, seed, centre, spread, same_x),
        st.integers(2, 60), st.integers(0, 2**32 - 1), st.floats(-100, 100), st.floats(0.01, 100), st.booleans())
    return st.one_of(st.sampled_from(fixed), uploads)


def course_data() -> list:
    """The course's data.csv, where it is here (shared_file skips without it; uploads still cover its shape)."""
    try:
        return [np.genfromtxt(shared_file("data", "regression", "data.csv"), delimiter=",")]
    except BaseException:  # noqa: BLE001 - pytest's Skipped is a BaseException
        return []


def _points(n, seed, centre, spread, same_x):
    points = np.random.default_rng(seed).normal(centre, spread, (n, 2))
    if same_x:
        points[:, 0] = points[0, 0]
    return points


def hessian_limit(points) -> float:
    """2 / the largest eigenvalue of the mean squared error's Hessian, from numpy's eigensolver."""
    x = points[:, 0]
    h = 2 * np.array([[1.0, x.mean()], [x.mean(), np.mean(x * x)]])
    return 2 / np.linalg.eigvals(h).real.max()


def check_verdict(run, verdict, points) -> None:
    """Assert what the text of the verdict's code says."""
    e = run.error
    finite = np.isfinite(run.b) & np.isfinite(run.m) & np.isfinite(e)
    if verdict.last_finite < run.iterations:  # "from step k on the numbers are not finite; this is the last finite one"
        assert verdict.overflow_step == verdict.last_finite + 1 and not finite[verdict.overflow_step]
    assert finite[: verdict.last_finite + 1].all()
    if verdict.code == regression.FIT_OK:
        assert verdict.step is None and verdict.overflow_step is None
        # rounding: relative, and below the smallest normal float64 (subnormals keep no relative precision) absolute
        rounding = 1e-12 * abs(e[0]) + np.finfo(np.float64).tiny
        assert np.all(e[1:] <= e[:-1] * (1 + 1e-9) + rounding), "the error never grew beyond rounding"
        if run.scaling is None:  # regression.lr_max_note: 2 / the steepest curvature
            assert verdict.lr_max == pytest.approx(hessian_limit(points), rel=1e-9)
        return
    k = verdict.step
    finite = np.isfinite(e)
    last = len(e) - 1 if finite.all() else int(np.flatnonzero(~finite)[0]) - 1
    if k is not None:
        assert np.all(np.diff(e[k - 1:last + 1]) >= 0), "from that step on the error grows at every step"
    assert run.learning_rate > verdict.lr_max * (1 - 1e-9), "the rate is above the stable limit"
    raw = points if run.scaling is None else np.column_stack(
        [(points[:, 0] - run.scaling.mean) / run.scaling.std, points[:, 1]])
    assert verdict.lr_max == pytest.approx(hessian_limit(raw), rel=1e-9), "the limit is 2 / the steepest curvature"
    if verdict.code == regression.FIT_DIVERGED_SCALE:
        assert run.scaling is None and run.learning_rate < regression.STANDARD_LR_MAX
        again = regression.standardised_history(points, run.b[0], run.m[0], run.learning_rate, min(run.iterations, 300))
        assert again.growth_at is None, "on standardised x the same rate is stable"
        fixed = regression.standardised_history(points, run.b[0], run.m[0], 0.1, min(run.iterations, 300))
        assert fixed.growth_at is None, "the fix: standardised, lr 0.1, is stable"
    elif verdict.code == regression.FIT_DIVERGED_RATE:
        assert run.learning_rate >= regression.STANDARD_LR_MAX, "standardising would not help: its limit is 1"
    else:
        assert verdict.code == regression.FIT_DIVERGED_SAME_X and not regression.x_has_spread(points)


@settings(max_examples=120, deadline=None)
@given(points=datasets(), lr=st.sampled_from(regression.LEARNING_RATES), iters=st.integers(1, regression.MAX_ITERATIONS),
       b0=st.floats(-100, 100), m0=st.floats(-10, 10), normalise=st.booleans())
def test_regression_page_verdicts_say_what_the_descent_did(points, lr, iters, b0, m0, normalise):
    with np.errstate(over="ignore", invalid="ignore"):
        run = regression.descent(points, b0, m0, lr, iters, normalise)
        verdict = regression.fit_verdict(run, points)
        check_verdict(run, verdict, points)


@settings(max_examples=120, deadline=None)
@given(w=st.floats(-5, 5), b=st.floats(-10, 10), noise_mean=st.floats(-3, 3), noise_std=st.floats(0, 5),
       n=st.integers(2, 1000), seed=st.integers(0, 999), lr=st.sampled_from(regression.NOISE_LEARNING_RATES),
       iters=st.integers(1, 3000))
def test_noise_page_verdicts_say_what_the_descent_did(w, b, noise_mean, noise_std, n, seed, lr, iters):
    points = regression.make_noisy_line(w, b, n=n, noise_mean=noise_mean, noise_std=noise_std,
                                        x_range=regression.NOISE_X_RANGE, seed=seed)
    with np.errstate(over="ignore", invalid="ignore"):
        run = regression.gradient_descent_history(points, 0.0, 0.0, lr, iters)
        check_verdict(run, regression.fit_verdict(run, points), points)


@settings(max_examples=60, deadline=None)
@given(points=datasets(), b0=st.floats(-100, 100), m0=st.floats(-10, 10))
def test_why_b_is_slow_is_said_only_where_m_is_much_steeper(points, b0, m0):
    """``regression.why_b_slow``: the loss curves `ratio` times more sharply along m than along b, and on
    standardised x, learning rate 0.1 reaches the bottom within 100 steps."""
    if not regression.x_has_spread(points):
        return
    ratio = regression.steepness_ratio(points)
    x = points[:, 0]
    curvature_m, curvature_b = 2 * np.mean(x * x), 2.0  # the Hessian's diagonal
    assert ratio == pytest.approx(curvature_m / curvature_b)
    run = regression.standardised_history(points, b0, m0, 0.1, 100)
    lowest = regression.lowest_loss(points)
    assert run.error[-1] <= lowest * (1 + 1e-6) + 1e-9, "100 steps reach the bottom"


def test_loss_zero_is_said_only_when_every_error_is_zero():
    line = np.column_stack([np.arange(5.0), 3 * np.arange(5.0) + 2])
    assert regression.error_is_zero(regression.path_frame(regression.gradient_descent_history(line, 2, 3, 0.01, 20)))
    assert not regression.error_is_zero(regression.path_frame(regression.gradient_descent_history(line, 0, 0, 0.01, 20)))
    with np.errstate(over="ignore", invalid="ignore"):
        blown = regression.gradient_descent_history(line * 1e200, 0, 0, 1.0, 20)
    assert not regression.error_is_zero(regression.path_frame(blown))


# ------------------------------------------------------------------ the presets' prompts


@pytest.fixture(scope="module", params=["example", "course"])
def data(request):
    if request.param == "example":
        return EXAMPLE
    return np.genfromtxt(shared_file("data", "regression", "data.csv"), delimiter=",")


def test_try_big_lr_grows_more_than_tenfold_at_every_step(data):
    with np.errstate(over="ignore", invalid="ignore"):
        run = regression.gradient_descent_history(data, 0, 0, 0.001, 1000)
    e = run.error[np.isfinite(run.error)]
    assert np.all(e[1:] > 10 * e[:-1])


def test_try_normalise_reaches_the_closed_form_in_100_steps(data):
    run = regression.standardised_history(data, 0, 0, 0.1, 100)
    best = regression.least_squares(data)
    assert f"{run.b[-1]:.6g}" == f"{best[0]:.6g}" and f"{run.m[-1]:.6g}" == f"{best[1]:.6g}"


def test_try_long_m_off_by_about_a_tenth_b_still_far(data):
    run = regression.gradient_descent_history(data, 0, 0, 0.0001, 10000)
    b_star, m_star = regression.least_squares(data)
    assert 0.05 < abs(run.m[-1] - m_star) / abs(m_star) < 0.15
    assert abs(run.b[-1] - b_star) > 0.5 * abs(b_star)


def test_try_far_rushes_along_m_then_creeps(data):
    run = regression.gradient_descent_history(data, 60.0, -5.0, 0.0001, 1000)
    assert abs(run.m[5] - run.m[0]) > 5 and abs(run.b[5] - run.b[0]) < 1, "first the steep direction, m"
    assert abs(run.b[-1] - run.b[5]) < abs(run.b[5] - 60.0) + 60, "then b creeps"
    assert abs(run.m[-1] - run.m[5]) < 0.1 * abs(run.m[5] - run.m[0])


@settings(max_examples=40, deadline=None)
@given(w=st.floats(-5, 5), b=st.floats(-10, 10), noise_mean=st.floats(-3, 3), noise_std=st.floats(0, 5))
def test_noise_try_lr_is_just_above_the_limit_whatever_the_line(w, b, noise_mean, noise_std):
    """The preset fixes n = 100 and the seed, so x, hence the limit, is the same whatever the line and noise.
    (Only a start already on the bottom, every y = 0, has nothing to climb from.)"""
    points = regression.make_noisy_line(w, b, n=100, noise_mean=noise_mean, noise_std=noise_std, seed=0)
    assert f"{regression.max_stable_learning_rate(points):.2g}" == "0.025"
    with np.errstate(over="ignore", invalid="ignore"):
        run = regression.gradient_descent_history(points, 0.0, 0.0, 0.03, 300)
    assume(run.error[0] > 1e-12)
    verdict = regression.fit_verdict(run, points)
    assert verdict.code == regression.FIT_DIVERGED_SCALE
    check_verdict(run, verdict, points)


def test_noise_presets_at_the_default_line():
    defaults = {name: s.default for name, s in regression.NOISE_SETTINGS.items()}

    def fit(**changes):
        v = {**defaults, **changes}
        points = regression.make_noisy_line(v["w"], v["b"], n=v["n"], noise_mean=v["noise_mean"],
                                            noise_std=v["noise_std"], seed=v["seed"])
        return points, regression.gradient_descent_history(points, 0.0, 0.0, v["lr"], v["iters"])

    points, run = fit(noise_std=0.0, noise_mean=0.0)  # try_clean: the closed form is the true line, descent next to it
    assert regression.least_squares(points) == pytest.approx((1.0, 2.0), abs=1e-9)
    assert (run.b[-1], run.m[-1]) == pytest.approx((1.0, 2.0), abs=1e-3)
    points, _ = fit(noise_mean=3.0, noise_std=1.0)  # try_mean: the line moves up by about 3
    assert regression.least_squares(points)[0] - 1.0 == pytest.approx(3.0, abs=0.5)
    points, run = fit(lr=0.001, iters=1000)  # try_slow: b still far from the closed form
    assert abs(run.b[-1] - regression.least_squares(points)[0]) > 0.3
