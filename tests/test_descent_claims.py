"""Lesson 1's words checked like its numbers: whenever the page shows a verdict or a piece of advice,
what that text asserts (``gd.CLAIMS``, ``gd.FIX_CLAIMS``) holds, over the page's whole slider ranges."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons import descent as gd

LO, HI = gd.X_RANGE


@st.composite
def page_settings(draw):
    """Any setting the page's sliders (or a hand-edited URL, clamped) can hold."""
    solver = draw(st.sampled_from(gd.SOLVERS))
    steps = draw(st.integers(1, gd.MAX_STEPS))
    values = {
        "x0": draw(st.one_of(st.integers(-100, 100).map(lambda i: i / 10), st.floats(-10, 10))),
        "lr": draw(st.sampled_from(gd.LR_OPTIONS)),
        "steps": steps,
        "momentum": draw(st.floats(0.0, 0.99)),
        "alpha": draw(st.floats(0.5, 0.999)),
        "beta1": draw(st.floats(0.0, 0.999)),
        "beta2": draw(st.floats(0.9, 0.9999)),
        "eps": draw(st.sampled_from(gd.EPS_OPTIONS)),
    }
    # step-by-step mode (or Play) judges the run as it stood after `shown` steps
    shown = draw(st.one_of(st.none(), st.integers(0, steps)))
    return solver, values, shown


def next_stationary(x: float, direction: float) -> tuple[float, str]:
    """The first point with f′ = 0 from x in ``direction`` (+1 right, −1 left), and its kind."""
    lo, hi = (x, x + 4 * math.pi) if direction > 0 else (x - 4 * math.pi, x)
    points = gd.stationary_points(lo, hi)
    points = points[(points["x"] > x) if direction > 0 else (points["x"] < x)]
    row = points.iloc[0] if direction > 0 else points.iloc[-1]
    return float(row["x"]), str(row["kind"])


def in_one_valley(tail: np.ndarray) -> bool:
    """Whether the whole tail lies inside one valley (between the walls either side of one minimum)."""
    minima = gd.local_minima(tail.min() - 2 * math.pi, tail.max() + 2 * math.pi)["x"].to_numpy()
    nearest = float(minima[np.argmin(np.abs(minima - tail[-1]))])
    left, right = gd.basin(nearest)
    return bool(left < tail.min() and tail.max() < right)


def check_verdict(run, verdict: gd.Verdict, solver: str, values: dict, shown: int | None) -> None:
    """Assert what the verdict's text says, on the run as the page shows it."""
    path = gd.upto(run, shown)
    xs = path["x"].to_numpy()
    code = verdict.code
    if code == gd.DIVERGED:
        blew = verdict.step
        assert blew == run.attrs["diverged_step"] and len(run) == blew
        again = gd.descend(values["x0"], values["lr"], blew, solver, **gd.hyper_of(values))
        assert again.attrs["diverged"] and again.attrs["diverged_step"] == blew, "|x| passed 10⁶ at that step"
        return
    assert not path.attrs["diverged"]
    if code == gd.START:
        assert shown == 0 and len(xs) == 1
        return
    tail = gd.tail_of(xs)
    assert verdict.x == xs[-1]
    if code in (gd.CONVERGED, gd.STUCK):
        assert np.abs(tail - verdict.minimum).max() <= gd.SETTLED
        assert gd.second_derivative(verdict.minimum) > 0 and abs(gd.grad(verdict.minimum)) < 1e-6 * (1 + verdict.minimum**2)
        view = gd.local_minima(min(LO, tail.min(), verdict.minimum), max(HI, tail.max(), verdict.minimum))
        deepest = float(view["loss"].min())
        if code == gd.CONVERGED:
            assert gd.loss(verdict.minimum) == pytest.approx(deepest, abs=1e-9), "the deepest valley in view"
        else:
            assert verdict.lowest_loss == pytest.approx(deepest, abs=1e-9) and verdict.lowest_loss < verdict.minimum_loss
    elif code == gd.OSCILLATING:
        left, right = gd.basin(verdict.minimum)
        assert left < tail.min() and tail.max() < right, "it stays in the valley"
        offset = tail - verdict.minimum
        assert verdict.amplitude == np.abs(offset).max() > gd.SETTLED, "and has not settled"
        moves = np.diff(tail)
        crossed = np.any(offset[:-1] * offset[1:] < 0)
        turned = np.any(moves[:-1] * moves[1:] < 0)
        climbs = abs(offset[-1]) > abs(offset[-2])
        assert crossed or turned or climbs, "it overshoots the floor or turns back"
        if verdict.crossings:
            assert verdict.crossings == len(tail) - 1
            assert np.all(offset[:-1] * offset[1:] < 0), "each of the last steps jumped across the floor"
    elif code in (gd.APPROACHING, gd.SLOW):
        moves = np.diff(tail)
        direction = np.sign(moves[0])
        assert direction != 0 and np.all(np.sign(moves) == direction), "it walks one way"
        ahead, kind = next_stationary(xs[-1], direction)
        assert kind == "min" and ahead == pytest.approx(verdict.minimum, abs=1e-9), "toward the next valley floor"
        if code == gd.SLOW:
            assert values["lr"] == gd.LR_OPTIONS[-1] and values["steps"] == gd.MAX_STEPS
    elif code == gd.STALLED:
        assert verdict.minimum == 0.0 and gd.second_derivative(0.0) == 0.0
        moves = np.diff(tail)
        near = np.abs(tail).max() <= gd.FLAT_NEAR
        toward = (np.all(moves < 0) and xs[-1] > 0 or np.all(moves > 0) and xs[-1] < 0) and \
            next_stationary(xs[-1], -np.sign(xs[-1]))[0] == 0.0
        assert near or toward, "it rests near x = 0 or walks straight to it"
    elif code == gd.WANDERING:
        moves = np.diff(tail)
        climbing = False
        if np.all(moves > 0) or np.all(moves < 0):
            climbing = next_stationary(xs[-1], np.sign(moves[0]))[1] == "max"
        assert not in_one_valley(tail) or climbing, "it spans more than one valley, or climbs out of one"
    else:  # pragma: no cover - a new code needs its claim checked here
        raise AssertionError(f"no check for {code}")


@settings(max_examples=300, deadline=None)
@given(page_settings())
def test_every_verdict_says_what_the_run_did(case):
    solver, values, shown = case
    run = gd.descend(values["x0"], values["lr"], values["steps"], solver, **gd.hyper_of(values))
    at_limits = values["lr"] == gd.LR_OPTIONS[-1] and values["steps"] == gd.MAX_STEPS
    verdict = gd.classify(run, step=shown, at_limits=at_limits)
    check_verdict(run, verdict, solver, values, shown)


@settings(max_examples=150, deadline=None)
@given(page_settings())
def test_every_piece_of_advice_was_tried_and_works(case):
    solver, values, _ = case
    x0, lr, steps, hyper = values["x0"], values["lr"], values["steps"], gd.hyper_of(values)
    verdict = gd.classify(gd.descend(x0, lr, steps, solver, **hyper))
    fix = gd.remedy(x0, lr, steps, solver, verdict.code, **hyper)
    if fix is None:
        return
    if fix.kind == gd.FIX_SAFE_LR:
        assert verdict.code == gd.DIVERGED and fix.value < lr
        assert not gd.descend(x0, fix.value, steps, solver, **hyper).attrs["diverged"], "it does not blow up"
        return
    rate, n = (lr, int(fix.value)) if fix.kind == gd.FIX_MORE_STEPS else (fix.value, steps)
    if fix.kind == gd.FIX_MORE_STEPS:
        assert n == gd.MAX_STEPS > steps
    elif fix.kind == gd.FIX_SMALLER_LR:
        assert rate < lr and rate in gd.LR_OPTIONS
    else:
        assert rate > lr and rate in gd.LR_OPTIONS
    fixed = gd.classify(gd.descend(x0, rate, n, solver, **hyper))
    assert fixed.code in (gd.CONVERGED, gd.STUCK), "it settles"
    assert fixed.minimum == fix.at, "where the advice says"


def test_the_known_false_oscillation_advice_is_gone():
    """Momentum from x₀ = 3 at 40 steps oscillates; no smaller rate settles it, more steps do."""
    verdict = gd.classify(gd.descend(3.0, 0.05, 40, "momentum"))
    assert verdict.code == gd.OSCILLATING
    fix = gd.remedy(3.0, 0.05, 40, "momentum", verdict.code)
    assert fix is None or fix.kind != gd.FIX_SMALLER_LR or gd.classify(
        gd.descend(3.0, fix.value, 40, "momentum")).code in (gd.CONVERGED, gd.STUCK)


@settings(max_examples=100, deadline=None)
@given(page_settings(), st.lists(st.sampled_from(gd.SOLVERS), min_size=1, unique=True))
def test_the_clipped_note_only_follows_a_blow_up(case, solvers):
    """``descent.clipped`` says a path diverged: the step charts cut only runs that blew up."""
    _, values, shown = case
    runs = {s: gd.descend(values["x0"], values["lr"], values["steps"], s, **gd.hyper_of(values)) for s in solvers}
    for field in ("x", "loss"):
        view = gd.step_view(runs, field, step=shown)
        if view.clipped:
            assert any(r.attrs["diverged"] for r in runs.values())


def test_the_presets_do_what_their_prompts_say():
    # try_diverge: "the first step jumps to about 7; each step then goes further; step 5 diverges"
    run = gd.descend(3.0, 0.5, 20, "sgd")
    xs = run["x"].to_numpy()
    assert round(xs[1]) == 7 and run.attrs["diverged_step"] == 5
    assert np.all(np.diff(np.abs(np.diff(xs))) > 0), "each step goes further than the last"
    # try_basin: "from −6 SGD walks into the deepest valley at −8.10, not the one at 5.09 where x₀ = 3 ends"
    deep = gd.classify(gd.descend(-6.0, 0.01, 60, "sgd"))
    assert deep.code == gd.CONVERGED and round(deep.minimum, 2) == -8.10
    assert round(gd.classify(gd.descend(3.0, 0.01, 60, "sgd")).minimum, 2) == 5.09
    # try_adam: "SGD slows to a crawl at 0; a gentle slope does not shrink Adam's steps; Adam drops into −2.29"
    sgd = gd.updates(1.0, 0.1, 60, "sgd")
    assert gd.classify(gd.descend(1.0, 0.1, 60, "sgd")).code == gd.STALLED
    assert np.all(np.diff(sgd["delta"].abs().to_numpy()[10:]) < 0), "SGD's steps keep shrinking"
    adam = gd.updates(1.0, 0.1, 60, "adam")
    before_zero = adam[adam["x"] > 0]
    assert (before_zero["delta"].abs() > 0.03).all(), "Adam's steps stay large on the flat stretch"
    assert (before_zero["grad"].abs().min() < 0.1 * before_zero["grad"].abs().max()), "where the slope is gentle"
    assert round(gd.classify(gd.descend(1.0, 0.1, 60, "adam")).minimum, 2) == -2.29
