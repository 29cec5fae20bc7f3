"""Issue 13's lesson logic: honest verdicts at the extremes, readable charts when a run blows up,
stopping and timing a training, animation frames, a log of runs, the course's data file, and
numbers written as people write them."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import shared_file

from lessons import descent as gd
from lessons import mlp, mnist, regression, views
from lessons import network as nw

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


# ------------------------------------------------------------------ the regression verdict


@pytest.fixture(scope="module")
def course_points():
    return regression.load_points(shared_file("data", "regression", "data.csv"))


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


# ------------------------------------------------------------------ clipping in general


def test_clip_series_never_draws_a_non_number_and_marks_where_it_went():
    frame = pd.DataFrame({"step": range(6), "loss": [1.0, 0.8, 0.6, 1e9, math.inf, math.nan]})
    view = views.clip_series(frame, "loss", reference=(0.0, 1.0), blew_up={0: 4})
    assert np.isfinite(view.frame["loss"]).all() and len(view.frame) == 4
    assert view.clipped and view.domain[1] < 2
    assert view.marks.iloc[0][["step", "value", "blew_up_at"]].tolist() == [3, 1e9, 4]


# ------------------------------------------------------------------ animation frames


def test_play_visits_every_step_when_few_and_a_dense_start_when_many():
    assert views.play_steps(40).tolist() == list(range(41))
    stops = views.play_steps(10000, most=120)
    assert stops[0] == 0 and stops[-1] == 10000 and len(stops) <= 122
    assert np.all(np.diff(stops) > 0)
    assert set(range(12)) <= set(stops.tolist())  # the first steps, where descent moves most
    walked, k = [0], 0
    while (k := views.next_step(k, stops)) is not None:
        walked.append(k)
    assert walked == stops.tolist()


def test_a_frame_is_the_path_up_to_that_step():
    run = regression.gradient_descent_history(regression.make_noisy_line(2, 1), 0, 0, 0.01, 500)
    path = regression.path_frame(run)
    for k in (0, 7, 123, 500):
        pd.testing.assert_frame_equal(views.frame(path, k, "iteration"), path[path["iteration"] <= k])
    runs = gd.step_view({s: gd.descend(3.0, 0.05, 30, s) for s in ("sgd", "adam")}, "x").frame
    pd.testing.assert_frame_equal(views.frame(runs, 12), runs[runs["step"] <= 12])
    assert views.frame_seconds(1) > views.frame_seconds(len(views.FRAME_SECONDS))
    with pytest.raises(ValueError):
        views.frame_seconds(0)


# ------------------------------------------------------------------ comparing runs


def _curve(n: int, start: float) -> pd.DataFrame:
    return pd.DataFrame({"step": np.arange(1, n + 1), "loss": start / np.arange(1, n + 1)})


def test_run_log_keeps_a_bounded_table_and_overlays_the_curves():
    log = views.RunLog(limit=3)
    for lr in (0.1, 0.01, 0.001, 0.0001):
        log.add({"lr": lr, "batch": 512}, results={"accuracy": 0.9}, seconds=2.0, curve=_curve(1000, lr))
    table = log.table()
    assert table["run"].tolist() == [2, 3, 4] and table["lr"].tolist() == [0.01, 0.001, 0.0001]
    assert list(table.columns) == ["run", "lr", "batch", "accuracy", "seconds"]
    # the same settings again replace their old run
    log.add({"lr": 0.01, "batch": 512}, results={"accuracy": 0.95}, seconds=1.0, curve=_curve(10, 1.0))
    assert log.table()["run"].tolist() == [3, 4, 5]
    curves = log.curves(max_points=100)
    assert set(curves["run"]) == {3, 4, 5}
    per_run = curves.groupby("run")
    assert per_run.size().max() <= 100 and per_run.size()[5] == 10
    assert (per_run["step"].first() == 1).all() and per_run["step"].last().tolist() == [1000, 1000, 10]
    # the values are the runs' own
    run4 = curves[curves["run"] == 4]
    np.testing.assert_allclose(run4["value"], 0.0001 / run4["step"])


def test_run_log_leaves_out_non_numbers_and_starts_empty():
    log = views.RunLog()
    assert log.table().empty and log.curves().empty
    log.add({"lr": 3.0}, curve=pd.DataFrame({"step": [1, 2, 3], "loss": [0.1, math.inf, math.nan]}))
    assert log.curves()["value"].tolist() == [0.1]
    log.clear()
    assert log.table().empty
    assert log.add({"lr": 1.0}) == 2  # numbers are never reused


# ------------------------------------------------------------------ readable numbers (5b)


@pytest.mark.parametrize(("value", "text"), [
    (2.6, "2.6"), (2.64, "2.6"), (0.031, "0.031"), (1.0, "1"), (0.5, "0.5"), (100.0, "100"),
    (9.96, "10"), (1.2e-6, "1.2 × 10⁻⁶"), (-3.1e-9, "-3.1 × 10⁻⁹"), (12345.0, "1.2 × 10⁴"), (0.0, "0"),
    (math.nan, "—"),
])
def test_readable_numbers(value, text):
    assert nw.readable(value) == text


@pytest.mark.parametrize("value", np.concatenate([np.geomspace(1e-12, 1e12, 97), -np.geomspace(1e-9, 1e9, 31)]))
def test_readable_numbers_read_back_to_two_significant_digits(value):
    text = nw.readable(value)
    assert "e" not in text
    if "×" in text:
        mantissa, power = text.split(" × 10")
        back = float(mantissa) * 10.0 ** int(power.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))
    else:
        back = float(text)
    assert back == pytest.approx(float(f"{value:.1e}"), rel=1e-9)


# ------------------------------------------------------------------ MNIST loss history (5c)


def test_loss_view_has_whole_step_numbers_and_cuts_a_blow_up():
    losses = np.r_[np.linspace(0.1, 0.05, 50), [0.2, 5.0, 1e5, 1e12, math.nan, math.nan]]
    history = pd.DataFrame({"step": np.arange(1, len(losses) + 1), "epoch": 1, "loss": losses})
    view, (first, last) = nw.loss_view(history)
    assert (first, last) == (1, len(losses)) and isinstance(first, int) and isinstance(last, int)
    assert view.frame["step"].dtype.kind == "i"
    lo, hi = view.domain
    assert hi <= 0.11 * nw.LOSS_CAP * 1.2 and lo < 0.05
    assert view.clipped and np.isfinite(view.frame["loss"]).all()
    mark = view.marks.iloc[0]
    assert (mark["step"], mark["value"], mark["blew_up_at"]) == (52, 5.0, 55)
    calm = pd.DataFrame({"step": [1, 2, 3], "epoch": [1, 1, 1], "loss": [0.3, 0.2, 0.1]})
    view, steps = nw.loss_view(calm)
    assert not view.clipped and view.marks.empty and steps == (1, 3)


# ------------------------------------------------------------------ stopping and timing a training


@pytest.fixture(scope="module")
def digits() -> mnist.MnistData:
    """scikit-learn's real handwritten digits (the offline fallback): trains in a second."""
    return mnist.fallback_digits()


def test_stop_after_k_batches_returns_what_was_learnt(digits):
    per_epoch = -(-len(digits.train_images) // 64)
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > per_epoch

    progress = []
    stopped = mlp.MLP(seed=3)
    history = mlp.train(stopped, digits, epochs=3, batch_size=64, seed=3, should_stop=stop,
                        on_progress=lambda f, h: progress.append(f))
    assert len(history) == per_epoch and history.attrs["stopped"] is True
    assert progress[-1] == pytest.approx(1 / 3)
    # the weights are exactly those of a one-epoch training with the same seed
    reference = mlp.MLP(seed=3)
    full = mlp.train(reference, digits, epochs=1, batch_size=64, seed=3)
    assert full.attrs["stopped"] is False
    pd.testing.assert_frame_equal(history, full)
    for a, b in zip(stopped.state_dict().values(), reference.state_dict().values()):
        assert torch.equal(a, b)
    assert not stopped.training  # left in evaluation mode, ready to predict


def test_stop_before_the_first_batch_trains_nothing(digits):
    model = mlp.MLP(seed=0)
    before = [p.clone() for p in model.parameters()]
    history = mlp.train(model, digits, epochs=2, should_stop=lambda: True)
    assert history.empty and history.attrs["stopped"] is True
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.slow
def test_estimate_is_within_a_factor_of_two_of_a_real_training(digits, monkeypatch):
    """On a machine shared with other busy processes one comparison can land in a burst of load:
    the estimate is measured afresh and compared again, up to three times."""
    config = replace(mlp.FALLBACK_RECIPE, epochs=10)
    mlp.train(mlp.MLP(), digits, epochs=1, should_stop=lambda: True)  # the data's tensors, made once, as on a server
    ratios = []
    for _ in range(3):
        monkeypatch.setattr(mlp, "_BATCH_SECONDS", {})
        estimate = mlp.estimate_seconds(config, len(digits.train_images))
        start = time.perf_counter()
        mlp.train(mlp.MLP(config.hidden), digits, epochs=config.epochs, batch_size=config.batch_size, lr=config.lr)
        ratios.append(estimate / (time.perf_counter() - start))
        if 0.5 <= ratios[-1] <= 2:
            break
    assert 0.5 <= ratios[-1] <= 2, ratios
    again = time.perf_counter()
    assert mlp.estimate_seconds(replace(config, epochs=20), len(digits.train_images)) == pytest.approx(2 * estimate)
    assert time.perf_counter() - again < 0.05  # measured once per architecture


def test_remaining_time_from_progress():
    assert mlp.remaining_seconds(10.0, 0.25) == pytest.approx(30.0)
    assert mlp.remaining_seconds(0.1, 0.001, estimate=60.0) == pytest.approx(59.9)
    assert mlp.remaining_seconds(0.1, 0.001) is None
    assert mlp.remaining_seconds(5.0, 1.0) == 0.0
