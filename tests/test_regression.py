"""Lessons 2 and 3: the course's three functions, the closed form, noisy data, and the two pages.

The references are the course's own printout, the course's loop code (verbatim, in ``benchmarks/course_code.py``),
scikit-learn and numpy's least squares, and torch.autograd for the loss's curvature.
"""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, open_page, shared_file
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

from app import ui
from app.i18n import STRINGS
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
    assert regression.compute_error_for_line_given_points(b0, m0, points) == float(
        course_compute_error_for_line_given_points(b0, m0, points))


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


# ------------------------------------------------------------------------------- the pages

NOISE, REGRESSION = "pages/noise.py", "pages/regression.py"


def k(page, name):
    return ui.widget_key(page, name)


def texts(at):
    return [el.value for kind in ("markdown", "caption", "error", "warning", "info", "success") for el in at.get(kind)]


def charts(at):
    return at.get("vega_lite_chart")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_noise_page_draws_its_charts(lang):
    at = open_page(NOISE, lang=lang)
    assert not at.exception
    assert len(charts(at)) == 4  # scatter, contour, loss, noise
    assert not at.error
    assert STRINGS["regression.noise.why_sum"][lang].split("{")[0] in "\n".join(texts(at))


@pytest.mark.parametrize("values", [
    {"w": -5.0, "b": -10.0, "noise_mean": -3.0, "noise_std": 0.0, "n": 2, "seed": 0, "lr": 0.0001, "iters": 1},
    {"w": 5.0, "b": 10.0, "noise_mean": 3.0, "noise_std": 5.0, "n": 1000, "seed": 999, "lr": 0.05, "iters": 3000},
])
def test_noise_page_at_the_sliders_extremes(values):
    at = open_page(NOISE, lang="en")
    for name, val in values.items():
        widget = at.number_input(key=k("noise", name)) if name == "seed" else (
            at.select_slider(key=k("noise", name)) if name == "lr" else at.slider(key=k("noise", name)))
        widget.set_value(val)
    at.run()
    assert not at.exception
    shown = "\n".join(texts(at))
    if values["lr"] == 0.05:  # above this data's stable rate: caught and explained
        assert "too large for this data" in shown
    assert "⟨" not in shown


def test_noise_page_without_noise_recovers_the_true_line():
    at = open_page(NOISE, lang="en", query={"noise_std": "0", "noise_mean": "0", "iters": "3000"})
    assert not at.exception
    table = at.dataframe[0].value
    closed = table.iloc[-1]
    assert closed["w"] == pytest.approx(2.0, abs=1e-9) and closed["b"] == pytest.approx(1.0, abs=1e-9)


def test_noise_page_presets_and_url():
    at = open_page(NOISE, lang="en", query={"n": "12", "w": "-1.5"})
    assert at.slider(key=k("noise", "n")).value == 12 and at.slider(key=k("noise", "w")).value == -1.5
    for i in range(5):
        at.button(key=f"noise.__preset{i}").click().run()
        assert not at.exception
        assert bool(at.error) == (i == 3), i  # only the learning-rate preset diverges
    at.button(key="noise.__preset1").click().run()
    assert at.slider(key=k("noise", "n")).value == 8
    assert at.query_params.get("n") == "8"


def transcript_of(at):
    return at.code[0].value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_regression_page_shows_the_courses_printout_format(lang, example):
    at = open_page(REGRESSION, lang=lang)
    assert not at.exception and not at.error
    start = regression.compute_error_for_line_given_points(0, 0, example)
    b, m = regression.gradient_descent_runner(example, 0, 0, 0.0001, 1000)
    assert transcript_of(at) == regression.transcript(
        0, 0, start, 1000, b, m, regression.compute_error_for_line_given_points(b, m, example))
    assert len(charts(at)) == 3  # replayed line, error, contour


def upload(at, name, content):
    at.radio(key=k("regression", "data")).set_value("upload").run()
    at.file_uploader(key="regression.__file").set_value((name, content, "text/csv")).run()
    return at


def test_uploading_the_courses_file_reproduces_its_printout():
    content = shared_file("data", "regression", "data.csv").read_bytes()
    at = upload(open_page(REGRESSION, lang="en"), "data.csv", content)
    assert not at.exception and not at.error
    assert transcript_of(at) == COURSE_PRINTOUT
    assert any("data.csv" in s for s in texts(at))


BAD_UPLOADS = [
    (b"", "empty"),
    (b"x,y\n", "header_only"),
    (b"1\n2\n", "columns"),
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
def test_every_bad_upload_is_explained_and_the_page_keeps_working(lang, example):
    at = open_page(REGRESSION, lang=lang)
    expected_example = transcript_of(at)
    for content, code in BAD_UPLOADS:
        upload(at, "bad.csv", content)
        assert not at.exception, code
        errors = [e.value for e in at.error]
        message = STRINGS[f"regression.err.{code}"][lang].split("{")[0]
        assert any(message in e for e in errors), (code, errors)
        assert transcript_of(at) == expected_example, code  # the example is still used
        assert len(charts(at)) == 3


def test_a_bad_upload_keeps_the_previous_good_one():
    good = regression.points_to_csv([[1.0, 3.0], [2.0, 5.0], [3.0, 7.5]]).encode()
    at = upload(open_page(REGRESSION, lang="en"), "good.csv", good)
    before = transcript_of(at)
    assert "3 points" in "\n".join(texts(at))
    upload(at, "broken.csv", b"1,2\n3,oops\n")
    assert not at.exception
    assert any("oops" in e.value for e in at.error)
    assert transcript_of(at) == before
    assert any("good.csv" in s for s in texts(at))


def test_too_large_a_learning_rate_is_caught_and_standardising_fixes_it(example):
    at = open_page(REGRESSION, lang="en", query={"lr": "0.001"})
    assert not at.exception
    assert any("too large for this data" in e.value for e in at.error)
    at.button(key="regression.__fix").click().run()
    assert not at.exception and not at.error
    assert at.toggle(key=k("regression", "normalise")).value is True
    b_star, m_star = regression.least_squares(example)
    lines = transcript_of(at).splitlines()
    assert lines[0].startswith("Starting gradient descent at b = 0, m = 0, error = ")
    b_text, m_text = lines[2].split("b = ")[1].split(", m = ")
    assert float(b_text) == pytest.approx(b_star, rel=1e-6)
    assert float(m_text.split(",")[0]) == pytest.approx(m_star, rel=1e-6)
    assert any("standardised" in s for s in texts(at))


def test_the_course_button_restores_the_courses_values():
    at = open_page(REGRESSION, lang="en", query={"lr": "0.003", "iters": "20", "b0": "5", "m0": "-2", "normalise": "1"})
    assert at.select_slider(key=k("regression", "lr")).value == 0.003
    at.button(key="regression.__course").click().run()
    assert at.select_slider(key=k("regression", "lr")).value == 0.0001
    assert at.slider(key=k("regression", "iters")).value == 1000
    assert at.slider(key=k("regression", "b0")).value == 0.0 and at.slider(key=k("regression", "m0")).value == 0.0
    assert at.toggle(key=k("regression", "normalise")).value is False
    assert transcript_of(at).startswith("Starting gradient descent at b = 0, m = 0, error = ")


@pytest.mark.parametrize("query", [
    {"lr": "1.2", "iters": "10000", "b0": "-100", "m0": "10", "at": "0"},
    {"lr": "0.000001", "iters": "1", "b0": "100", "m0": "-10"},
    {"lr": "1.2", "iters": "300", "normalise": "1"},
    {"lr": "banana", "iters": "-5", "at": "99999", "data": "nonsense"},
])
def test_regression_page_at_the_extremes(query):
    at = open_page(REGRESSION, lang="en", query=query, timeout=120)
    assert not at.exception
    iters = at.slider(key=k("regression", "iters")).value
    assert 0 <= at.slider(key=k("regression", "at")).value <= iters
    assert transcript_of(at).splitlines()[1] == "Running..."
    assert "⟨" not in "\n".join(texts(at))


def test_the_replay_slider_moves_the_line():
    at = open_page(REGRESSION, lang="en")
    at.slider(key=k("regression", "at")).set_value(0).run()
    assert any("After step 0: b = 0, m = 0" in s for s in texts(at))
    at.slider(key=k("regression", "at")).set_value(1).run()
    assert not at.exception
    assert at.query_params.get("at") == "1"


def test_changing_iterations_moves_the_replay_to_the_end():
    at = open_page(REGRESSION, lang="en")
    at.slider(key=k("regression", "iters")).set_value(50).run()
    assert at.slider(key=k("regression", "at")).value == 50


def test_regression_presets_load():
    at = open_page(REGRESSION, lang="en")
    for i in range(4):
        at.button(key=f"regression.__preset{i}").click().run()
        assert not at.exception


def test_the_example_is_downloadable():
    at = open_page(REGRESSION, lang="en")
    assert at.get("download_button")
    assert Path(ROOT / "data" / "example.csv").exists()

