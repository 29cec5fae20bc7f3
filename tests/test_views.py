"""What the pages show, kept readable: clipped series with a mark where a run blew up, animation
frames, the log of runs, and numbers written as people write them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import player
from app.runlog import RunLog
from lessons import clipping
from lessons import network as nw

# ------------------------------------------------------------------ clipping in general


def test_clip_series_never_draws_a_non_number_and_marks_where_it_went():
    frame = pd.DataFrame({"step": range(6), "loss": [1.0, 0.8, 0.6, 1e9, math.inf, math.nan]})
    view = clipping.clip_series(frame, "loss", reference=(0.0, 1.0), blew_up={0: 4})
    assert np.isfinite(view.frame["loss"]).all() and len(view.frame) == 4
    assert view.clipped and view.domain[1] < 2
    assert view.marks.iloc[0][["step", "value", "blew_up_at"]].tolist() == [3, 1e9, 4]


# ------------------------------------------------------------------ animation frames


def test_play_visits_every_step_when_few_and_a_dense_start_when_many():
    assert player.play_steps(40).tolist() == list(range(41))
    stops = player.play_steps(10000, most=120)
    assert stops[0] == 0 and stops[-1] == 10000 and len(stops) <= 122
    assert np.all(np.diff(stops) > 0)
    assert set(range(12)) <= set(stops.tolist())  # the first steps, where descent moves most
    walked, k = [0], 0
    while (k := player.next_step(k, stops)) is not None:
        walked.append(k)
    assert walked == stops.tolist()


def test_play_speeds_run_from_slow_to_fast():
    assert player.frame_seconds(1) > player.frame_seconds(len(player.FRAME_SECONDS))
    with pytest.raises(ValueError):
        player.frame_seconds(0)


# ------------------------------------------------------------------ comparing runs


def _curve(n: int, start: float) -> pd.DataFrame:
    return pd.DataFrame({"step": np.arange(1, n + 1), "loss": start / np.arange(1, n + 1)})


def test_run_log_keeps_a_bounded_table_and_overlays_the_curves():
    log = RunLog(limit=3)
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
    log = RunLog()
    assert log.table().empty and log.curves().empty
    log.add({"lr": 3.0}, curve=pd.DataFrame({"step": [1, 2, 3], "loss": [0.1, math.inf, math.nan]}))
    assert log.curves()["value"].tolist() == [0.1]
    log.clear()
    assert log.table().empty
    assert log.add({"lr": 1.0}) == 2  # numbers are never reused


# ------------------------------------------------------------------ readable numbers


@pytest.mark.parametrize(("value", "text"), [
    (2.6, "2.6"), (2.64, "2.6"), (0.031, "0.031"), (1.0, "1"), (0.5, "0.5"), (100.0, "100"),
    (9.96, "10"), (1.2e-6, "1.2 × 10⁻⁶"), (-3.1e-9, "-3.1 × 10⁻⁹"), (12345.0, "1.2 × 10⁴"), (0.0, "0"),
    (math.nan, "—"),
])
def test_readable_numbers(value, text):
    assert nw.readable(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False).filter(bool))
def test_readable_numbers_read_back_to_two_significant_digits(value):
    """Any finite number, however large or small, reads back as itself to two significant digits."""
    text = nw.readable(value)
    assert "e" not in text
    if "×" in text:
        mantissa, power = text.split(" × 10")
        back = float(f"{mantissa}e{power.translate(str.maketrans('⁻⁰¹²³⁴⁵⁶⁷⁸⁹', '-0123456789'))}")
    else:
        back = float(text)
    assert back == pytest.approx(float(f"{value:.1e}"), rel=1e-9)


# ------------------------------------------------------------------ MNIST loss history


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
