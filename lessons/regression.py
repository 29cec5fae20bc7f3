"""Lessons 2 and 3: noisy data, the linear model y = w·x + b, and the course's ``data.csv`` exercise.

The course fits the line by gradient descent with three functions,
``compute_error_for_line_given_points``, ``step_gradient`` and ``gradient_descent_runner``,
written as Python loops. Here they keep the course's names and argument order but run on
whole numpy arrays. For data of up to ``SEQUENTIAL_LIMIT`` points (the course's file has 100)
every sum still adds its terms one after another in the loop's order (``np.add.accumulate``
is a running sum), and the error squares each residual with ``** 2`` as the course does (the C
library's pow, which can round 1 ULP away from r·r), so the results are the course's loop
arithmetic bit for bit and its printout is reproduced to the last digit. (The error kept at every
step of a history squares by r·r, a pass cheaper, and is within 1e-12 relative of the course's.)
Larger data, where the course's loops would take
minutes, is summed pairwise by numpy: many times faster, as accurate or more, and within
1e-12 relative of the loops.

Around them: the closed-form least-squares line that descent approaches, the noisy data of
lesson 2, the loss surface over (b, w), standardising x when the learning rate is too large
for the scale of x, and a careful CSV reader for students' uploads.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lessons.settings import Setting

# ------------------------------------------------------------------ the pages' settings

# Lesson 2 (the noise page): a true line y = w·x + b, its noise, the points drawn, and the descent fitting it.
NOISE_X_RANGE = (0.0, 10.0)  # where the noise page's x values lie
NOISE_LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.02, 0.025, 0.03, 0.05)
NOISE_SETTINGS = {
    "w": Setting(2.0, -5.0, 5.0),
    "b": Setting(1.0, -10.0, 10.0),
    "noise_mean": Setting(0.01, -3.0, 3.0),
    "noise_std": Setting(1.0, 0.0, 5.0),
    "n": Setting(100, 2, 1000),
    "seed": Setting(0, 0, 999),
    "lr": Setting(0.02, options=NOISE_LEARNING_RATES),
    "iters": Setting(1000, 1, 3000),
}

# Lesson 3 (the regression page): the course's data.csv exercise, on the example, the course's file or an upload.
SOURCES = ("example", "course", "upload")
LEARNING_RATES = (0.000001, 0.000003, 0.00001, 0.00003, 0.0001, 0.0002, 0.0003, 0.0004, 0.0005,
                  0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0, 1.2)
MAX_ITERATIONS = 10_000
SETTINGS = {
    "data": Setting("example", options=SOURCES),
    "lr": Setting(0.0001, options=LEARNING_RATES),
    "iters": Setting(1000, 1, MAX_ITERATIONS),
    "b0": Setting(0.0, -100.0, 100.0),
    "m0": Setting(0.0, -10.0, 10.0),
    "normalise": Setting(False),
    "at": Setting(1000, 0, MAX_ITERATIONS),  # the step the replay shows
}
# The course's own values: learning rate 0.0001, 1000 iterations from b = m = 0, x as it is.
COURSE = {"lr": 0.0001, "iters": 1000, "b0": 0.0, "m0": 0.0, "normalise": False, "at": 1000}

# ------------------------------------------------------------------ the course's three functions

# Up to this many points the sums run in the loop's order. A running sum costs about 3 ns a term
# however it is written in numpy (each addition waits for the one before), which is cheap next to
# the course's loop but ten times numpy's pairwise sum: above this size speed wins, and the
# difference stays in the last digit or two.
SEQUENTIAL_LIMIT = 4096


class _Line:
    """The data as the course's loops see it, prepared once so each descent step is a few array passes.

    The per-point terms are computed with the course's own expressions in the course's order of
    operations; only the sums are vectorised: running sums in the loop's order up to
    ``SEQUENTIAL_LIMIT`` points, numpy's pairwise sums above.
    """

    def __init__(self, points: Any):
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
            raise ValueError(f"points must be an (n, 2) array with n >= 1, got shape {pts.shape}")
        self.n = len(pts)
        self.in_loop_order = self.n <= SEQUENTIAL_LIMIT
        self.x = np.ascontiguousarray(pts[:, 0])
        self.y = np.ascontiguousarray(pts[:, 1])
        n_float = float(self.n)
        self.c = -(2 / n_float)  # the course's -(2/N)
        self.cx = self.c * self.x  # the course's `-(2/N) * x`, which Python evaluates before `* (y - ...)`
        self._r = np.empty(self.n)
        # b's and w's gradient terms side by side as one complex number per point: one running
        # sum then adds both in the loop's order at once (complex addition adds the parts separately).
        self._terms = np.empty(self.n, dtype=np.complex128)
        self._b_terms, self._w_terms = self._terms.real, self._terms.imag
        self._sums = np.empty(self.n, dtype=np.complex128)
        self._squares = np.empty(self.n)

    def residual(self, b: float, w: float) -> np.ndarray:
        """y − ((w·x) + b) for every point, in the course's order of operations."""
        r = self._r
        np.multiply(self.x, w, out=r)
        np.add(r, b, out=r)
        np.subtract(self.y, r, out=r)
        return r

    def _sum(self, terms: np.ndarray, scratch: np.ndarray) -> Any:
        """Σ terms: a running sum in the loop's order (the last partial sum), or pairwise for large data."""
        if self.in_loop_order:
            return np.add.accumulate(terms, out=scratch)[-1]
        return terms.sum()

    def gradient_sums(self, r: np.ndarray) -> tuple[float, float]:
        """The course's b_gradient and w_gradient: Σ −(2/N)·r and Σ −(2/N)·x·r."""
        np.multiply(r, self.c, out=self._b_terms)
        np.multiply(self.cx, r, out=self._w_terms)
        total = self._sum(self._terms, self._sums)
        # The course starts its sums at 0; adding 0.0 gives the same sign of zero as it does.
        return total.real + 0.0, total.imag + 0.0

    def step(self, b: float, w: float, learning_rate: float) -> tuple[float, float]:
        """One gradient-descent step, as the course's ``step_gradient`` computes it."""
        b_gradient, w_gradient = self.gradient_sums(self.residual(b, w))
        return b - (learning_rate * b_gradient), w - (learning_rate * w_gradient)

    def error(self, b: float, w: float, r: np.ndarray | None = None) -> float:
        """The mean squared error of the line, added up in the course's loop's order, each square r·r.

        The course squares with ``** 2``, which goes through the C library's pow: that may round a
        square 1 ULP away from r·r (pow is not correctly rounded), so this is within 1e-12 relative
        of the course's number, not always equal to it (``course_error`` is).
        """
        if r is None:
            r = self.residual(b, w)
        np.multiply(r, r, out=self._squares)
        total = self._sum(self._squares, self._squares) + 0.0
        return float(total / float(self.n))

    def course_error(self, b: float, w: float) -> float:
        """The mean squared error exactly as the course's loop computes it: each square by ``** 2``
        (pow, as the course's loop does), summed in order. Above ``SEQUENTIAL_LIMIT`` points, ``error``."""
        r = self.residual(b, w)
        if not self.in_loop_order:
            return self.error(b, w, r)
        try:
            squares = np.array([v**2 for v in r.tolist()])
        except OverflowError:  # a square past the largest float: the sum is inf (or NaN) either way
            return self.error(b, w, r)
        return float((np.add.accumulate(squares)[-1] + 0.0) / float(self.n))


def compute_error_for_line_given_points(b: float, w: float, points: Any) -> float:
    """The mean squared error (1/N)·Σᵢ (yᵢ − (w·xᵢ + b))² of the line y = w·x + b on ``points``: the course's
    number to the last bit up to ``SEQUENTIAL_LIMIT`` points, within 1e-12 relative above."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _Line(points).course_error(b, w)


def step_gradient(b_current: float, w_current: float, points: Any, learning_rate: float) -> list[float]:
    """One step downhill: [b, w] moved against the gradient of the mean squared error."""
    with np.errstate(over="ignore", invalid="ignore"):
        return [float(v) for v in _Line(points).step(b_current, w_current, learning_rate)]


def gradient_descent_runner(
    points: Any, starting_b: float, starting_m: float, learning_rate: float, num_iterations: int
) -> list[float]:
    """[b, m] after ``num_iterations`` steps of gradient descent from (starting_b, starting_m).

    Where the course's loop would return inf or NaN (a learning rate too large for the scale
    of x makes every step overshoot further), this raises ``DivergedError`` saying so.
    """
    line = _Line(points)
    b, m = starting_b, starting_m
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(num_iterations):
            b, m = line.step(b, m, learning_rate)
    if not (np.isfinite(b) and np.isfinite(m)):
        raise DivergedError(learning_rate, num_iterations)
    return [float(b), float(m)]


class DivergedError(ValueError):
    """Gradient descent blew up: the learning rate is too large for the scale of x."""

    def __init__(self, learning_rate: float, num_iterations: int) -> None:
        super().__init__(
            f"gradient descent diverged within {num_iterations} iterations: the learning rate "
            f"{learning_rate:g} is too large for the scale of x (standardise x or lower the rate)"
        )
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations


# ------------------------------------------------------------------------- descent with history


@dataclass(frozen=True)
class Descent:
    """A whole descent in the data's units: b, m and the error before step 0 and after every step.

    ``b[k]``, ``m[k]``, ``error[k]`` are the values after k steps (k = 0 is the start).
    ``scaling`` is set when the descent ran on standardised x and was converted back.
    """

    b: np.ndarray
    m: np.ndarray
    error: np.ndarray
    learning_rate: float
    scaling: Scaling | None = None

    @property
    def iterations(self) -> int:
        """How many steps were taken."""
        return len(self.b) - 1

    @property
    def growth_at(self) -> int | None:
        """The first step after which the error went up (or stopped being a number); None if it never did.

        On this quadratic loss, descent with a small enough learning rate lowers the error at
        every step, so any rise means the learning rate is too large for the data. Rises within
        rounding (of the error itself, or of the starting error once a perfect fit nears 0) don't count.
        """
        e = self.error
        # below float64's smallest normal number (subnormals) a value keeps no relative precision at all
        noise = (1e-12 * abs(e[0]) if np.isfinite(e[0]) else 0.0) + np.finfo(np.float64).tiny
        bad = ~np.isfinite(e[1:]) | (e[1:] > e[:-1] * (1 + 1e-9) + noise)
        hits = np.flatnonzero(bad)
        return int(hits[0]) + 1 if hits.size else None


def gradient_descent_history(
    points: Any,
    starting_b: float,
    starting_m: float,
    learning_rate: float,
    num_iterations: int,
    on_progress: Callable[[float], None] | None = None,
) -> Descent:
    """The course's descent with every intermediate (b, m, error) kept, for charts and replays.

    The values are exactly those ``gradient_descent_runner`` passes through; each error is
    ``compute_error_for_line_given_points`` at that step within 1e-12 relative (its squares are r·r,
    cheaper than the course's pow: see ``_Line.error``). ``on_progress`` gets the fraction done.
    """
    line = _Line(points)
    bs = np.empty(num_iterations + 1)
    ms = np.empty(num_iterations + 1)
    errors = np.empty(num_iterations + 1)
    b, m = starting_b, starting_m
    report_every = max(1, num_iterations // 50)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(num_iterations + 1):
            bs[k], ms[k] = b, m
            r = line.residual(b, m)
            # The error uses the same residual the step needs, so each pass over the data serves both.
            errors[k] = line.error(b, m, r)
            if k < num_iterations:
                b_gradient, w_gradient = line.gradient_sums(r)
                b, m = b - (learning_rate * b_gradient), m - (learning_rate * w_gradient)
            if on_progress is not None and k % report_every == 0:
                on_progress(k / max(num_iterations, 1))
    return Descent(bs, ms, errors, float(learning_rate))


# ------------------------------------------------------------------------- standardising x


@dataclass(frozen=True)
class Scaling:
    """x was standardised as x' = (x − mean) / std for the descent."""

    mean: float
    std: float

    def to_data_units(self, b_std: np.ndarray, m_std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(b, m) of y = m·x + b from (b', m') of y = m'·x' + b'."""
        m = m_std / self.std
        return b_std - m * self.mean, m

    def to_standard_units(self, b: float, m: float) -> tuple[float, float]:
        """(b', m') of y = m'·x' + b' from (b, m) of y = m·x + b: the same line."""
        return b + m * self.mean, m * self.std


def x_has_spread(points: Any) -> bool:
    """Whether the x values differ at all (a single best line, and standardising, need that)."""
    x = np.asarray(points, dtype=np.float64)[:, 0]
    return bool(np.ptp(x) > 0) and bool(np.isfinite(x.std()) and x.std() > 0)


def standardised_history(
    points: Any,
    starting_b: float,
    starting_m: float,
    learning_rate: float,
    num_iterations: int,
    on_progress: Callable[[float], None] | None = None,
) -> Descent:
    """Descent on standardised x, the path converted back to the data's units.

    With x' of mean 0 and spread 1 the loss is equally steep along b and w, so one learning
    rate suits both (anything below 1 converges). The start is the same line in the new units.
    """
    pts = np.asarray(points, dtype=np.float64)
    if not x_has_spread(pts):
        raise ValueError("all x values are equal: x cannot be standardised")
    scaling = Scaling(float(pts[:, 0].mean()), float(pts[:, 0].std()))
    scaled = np.column_stack([(pts[:, 0] - scaling.mean) / scaling.std, pts[:, 1]])
    b0, m0 = scaling.to_standard_units(starting_b, starting_m)
    run = gradient_descent_history(scaled, b0, m0, learning_rate, num_iterations, on_progress)
    with np.errstate(over="ignore", invalid="ignore"):
        b, m = scaling.to_data_units(run.b, run.m)
    return Descent(b, m, run.error, run.learning_rate, scaling)


def descent(points: Any, starting_b: float, starting_m: float, learning_rate: float, num_iterations: int,
            standardise: bool = False, on_progress: Callable[[float], None] | None = None) -> Descent:
    """The regression page's descent: the course's (``gradient_descent_history``), or on standardised x
    (``standardised_history``) when asked and x has spread; the page says so when it has none."""
    if standardise and x_has_spread(points):
        return standardised_history(points, starting_b, starting_m, learning_rate, num_iterations, on_progress)
    return gradient_descent_history(points, starting_b, starting_m, learning_rate, num_iterations, on_progress)


def timed_descent(points: Any, starting_b: float, starting_m: float, learning_rate: float, num_iterations: int,
                  standardise: bool = False, on_progress: Callable[[float], None] | None = None):
    """(``descent``'s run, the seconds it took, its path for charts: ``path_frame``), for a log of runs."""
    started = time.perf_counter()
    run = descent(points, starting_b, starting_m, learning_rate, num_iterations, standardise, on_progress)
    return run, time.perf_counter() - started, path_frame(run)


def max_stable_learning_rate(points: Any) -> float:
    """The learning rate above which descent on the mean squared error blows up, 2 / λ_max.

    The loss is a bowl whose curvature (Hessian) is 2·[[1, mean x], [mean x, mean x²]]; a step
    larger than 2 / (its largest eigenvalue) overshoots further every time. Large x makes that
    eigenvalue about 2·mean(x²), which is why the course's data needs such a small rate.
    """
    x = np.asarray(points, dtype=np.float64)[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        hessian = 2 * np.array([[1.0, x.mean()], [x.mean(), np.mean(x * x)]])
        if not np.all(np.isfinite(hessian)):
            return 0.0
    return float(2 / np.linalg.eigvalsh(hessian)[-1])


def steepness_ratio(points: Any) -> float:
    """How many times more sharply the loss curves along m than along b: ∂²/∂m² ÷ ∂²/∂b² = mean(x²).

    The page explains a slow b (``regression.why_b_slow``) only where this is at least ``STEEP_M``.
    """
    x = np.asarray(points, dtype=np.float64)[:, 0]
    with np.errstate(over="ignore"):
        return float(np.mean(x * x))


# ------------------------------------------------------------------------------ the verdict

FIT_OK = "ok"  # the error never grew: descent is on its way down (or there)
FIT_DIVERGED_SCALE = "diverged_scale"  # the error grew, and standardising x would make this rate stable
FIT_DIVERGED_RATE = "diverged_rate"  # the error grew with a rate too large even for x of scale 1
FIT_DIVERGED_SAME_X = "diverged_same_x"  # the error grew, and x cannot be standardised: its values are all equal
STANDARD_LR_MAX = 1.0  # on standardised x the loss curves by 2 in every direction: stable below 2 / 2
STEEP_M = 10.0  # the loss curving this many times more sharply along m than along b is worth explaining

# What the pages' text for each verdict asserts, checked whenever it is shown by
# tests/test_regression_claims.py over the noise and regression pages' whole slider ranges.
FIT_CLAIMS = {
    FIT_OK: "the error never grew by more than rounding; `lr_max` is 2 / the largest curvature of the loss",
    FIT_DIVERGED_SCALE: "from `step` on the error grows at every step while it is finite; lr > `lr_max`; "
                        "on standardised x the same rate is stable (lr < STANDARD_LR_MAX)",
    FIT_DIVERGED_RATE: "from `step` on the error grows at every step while it is finite; lr > `lr_max`; "
                       "even on standardised x the rate must stay below STANDARD_LR_MAX ≤ lr",
    FIT_DIVERGED_SAME_X: "from `step` on the error grows at every step while it is finite; lr > `lr_max`; "
                         "every x is the same, so x cannot be standardised",
}


@dataclass(frozen=True)
class FitVerdict:
    """What a descent did, for the page to say in words (``code`` is one of the FIT_ codes).

    lr_max: the largest stable learning rate in the units the descent ran in (1 on standardised x).
    step: the first step after which the error grew (None if it never did). overflow_step: the first
    step whose b, m or error is no finite number (None if there is none). last_finite: the last step
    whose b, m and error are all finite: the numbers the page can print and draw. Where last_finite is
    short of the step asked for, the page says (``regression.not_a_number``, ``regression.transcript_overflow``)
    that from overflow_step on the numbers are not finite and that it shows last_finite, the last finite one.
    """

    code: str
    lr: float
    lr_max: float
    step: int | None
    overflow_step: int | None
    last_finite: int
    standardised: bool


def fit_verdict(run: Descent, points: Any, step: int | None = None) -> FitVerdict:
    """Judge ``run`` (on ``points``) as it stood after ``step`` steps (None: all of it).

    A diverged run is blamed on the scale of x only where that is the cause: x was not
    standardised, and on standardised x this rate would be stable (below ``STANDARD_LR_MAX``).
    Otherwise the rate itself is too large, or x cannot be standardised. What each code's text
    asserts is written in ``FIT_CLAIMS``.
    """
    pts = np.asarray(points, dtype=np.float64)
    end = run.iterations if step is None else max(0, min(int(step), run.iterations))
    finite = np.isfinite(run.b[: end + 1]) & np.isfinite(run.m[: end + 1]) & np.isfinite(run.error[: end + 1])
    broken = np.flatnonzero(~finite)
    overflow = int(broken[0]) if broken.size else None
    grew = run.growth_at if run.growth_at is not None and run.growth_at <= end else None
    if run.scaling is not None:
        lr_max = max_stable_learning_rate(np.column_stack([(pts[:, 0] - run.scaling.mean) / run.scaling.std, pts[:, 1]]))
    else:
        lr_max = max_stable_learning_rate(pts)
    if grew is None and overflow is None:
        code = FIT_OK
    elif run.scaling is None and not x_has_spread(pts):
        code = FIT_DIVERGED_SAME_X
    elif run.scaling is None and run.learning_rate < STANDARD_LR_MAX:
        code = FIT_DIVERGED_SCALE
    else:
        code = FIT_DIVERGED_RATE
    last = end if overflow is None else max(overflow - 1, 0)
    return FitVerdict(code, run.learning_rate, lr_max, grew, overflow, last, run.scaling is not None)


# ------------------------------------------------------------------------------ the course's data file

COURSE_DATA_ENV = "COURSE_DATA_CSV"  # where a server keeps the course's data.csv (``make run`` sets it)
COURSE_DATA_LOCAL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "course", "data.csv")


def course_data_path() -> str | None:
    """The course's data.csv where this server has it: the file ``$COURSE_DATA_CSV`` names, else
    ``data/course/data.csv`` (git-ignored: the file is not the project's to ship), else None."""
    for path in (os.environ.get(COURSE_DATA_ENV, ""), COURSE_DATA_LOCAL):
        if path and os.path.isfile(path):
            return path
    return None


# ------------------------------------------------------------------------------ closed form


def least_squares(points: Any) -> tuple[float, float]:
    """The (b, w) that minimise the squared error, in closed form: w = cov(x, y) / var(x), b = ȳ − w·x̄.

    Gradient descent approaches this point; it is the reference it is compared with.
    """
    pts = np.asarray(points, dtype=np.float64)
    if not x_has_spread(pts):
        raise ValueError("all x values are equal: no single best line")
    x, y = pts[:, 0], pts[:, 1]
    dx = x - x.mean()
    w = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
    return float(y.mean() - w * x.mean()), w


# ------------------------------------------------------------------------------- noisy data


def make_noisy_line(
    w: float,
    b: float,
    n: int = 100,
    noise_mean: float = 0.01,
    noise_std: float = 1.0,
    x_range: tuple[float, float] = (0.0, 10.0),
    seed: int = 0,
) -> np.ndarray:
    """n points (x, y) with y = w·x + b + ε, x uniform in ``x_range`` and ε ~ N(noise_mean, noise_std²).

    The defaults are the course's noise, ε ~ N(0.01, 1). The same seed gives the same points.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_range[0], x_range[1], n)
    noise = rng.normal(noise_mean, noise_std, n)
    return np.column_stack([x, w * x + b + noise])


def noise_of(points: Any, w: float, b: float) -> np.ndarray:
    """The noise ε = y − (w·x + b) each point carries around the line y = w·x + b."""
    pts = np.asarray(points, dtype=np.float64)
    return pts[:, 1] - (w * pts[:, 0] + b)


def points_to_csv(points: Any, header: tuple[str, str] | None = ("x", "y")) -> str:
    """The points as CSV text, each number written with the fewest digits that read back exactly."""
    lines = [",".join(header)] if header else []
    lines += [f"{float(x)!r},{float(y)!r}" for x, y in np.asarray(points, dtype=np.float64)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- loss surface


def _moments(points: Any) -> tuple[float, float, float, float, float]:
    """x̄, ȳ, var(x), cov(x, y), var(y) of the points (population moments, from centred values)."""
    pts = np.asarray(points, dtype=np.float64)
    x, y = pts[:, 0], pts[:, 1]
    dx, dy = x - x.mean(), y - y.mean()
    return float(x.mean()), float(y.mean()), float(np.mean(dx * dx)), float(np.mean(dx * dy)), float(np.mean(dy * dy))


def loss_grid(points: Any, b_values: Any, w_values: Any) -> np.ndarray:
    """The mean squared error at every (b, w) of a grid: row i is ``w_values[i]``, column j ``b_values[j]``.

    Uses mean((y − w·x − b)²) = var(y) − 2w·cov(x, y) + w²·var(x) + (ȳ − w·x̄ − b)², which
    costs nothing per point once the moments are known and keeps its accuracy when x and y
    sit far from zero.
    """
    x_mean, y_mean, var_x, cov, var_y = _moments(points)
    b = np.asarray(b_values, dtype=np.float64)[None, :]
    w = np.asarray(w_values, dtype=np.float64)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        offset = y_mean - w * x_mean - b
        return np.maximum(var_y - 2 * w * cov + w * w * var_x + offset * offset, 0.0)


def lowest_loss(points: Any) -> float:
    """The smallest mean squared error any line reaches on the points: var(y) − cov(x, y)² / var(x)."""
    _, _, var_x, cov, var_y = _moments(points)
    return max(var_y - (cov * cov / var_x if var_x > 0 else 0.0), 0.0)


def view_box(
    bs: Any, ws: Any, pad: float = 0.12, min_span: float = 1e-3
) -> tuple[tuple[float, float], tuple[float, float]]:
    """((b_lo, b_hi), (w_lo, w_hi)) around the finite given points, padded so nothing sits on the edge."""
    box = []
    for values in (np.asarray(bs, dtype=np.float64), np.asarray(ws, dtype=np.float64)):
        values = values[np.isfinite(values)]
        lo, hi = (float(values.min()), float(values.max())) if values.size else (-1.0, 1.0)
        span = max(hi - lo, min_span, 0.05 * max(abs(lo), abs(hi)))
        box.append((lo - pad * span, hi + pad * span))
    return box[0], box[1]


def loss_surface_frame(points: Any, box: tuple[tuple[float, float], tuple[float, float]], steps: int = 50) -> pd.DataFrame:
    """The loss surface as grid cells for a heat map: cell edges b0..b1, w0..w1, the centre (b, w), the loss,
    and log10 of how far it is above the lowest loss any line reaches.

    Colouring by that excess on a log scale draws the ellipses around the minimum that a contour
    plot shows; colouring by the loss itself would paint a long flat valley one colour.
    """
    (b_lo, b_hi), (w_lo, w_hi) = box
    b_edges = np.linspace(b_lo, b_hi, steps + 1)
    w_edges = np.linspace(w_lo, w_hi, steps + 1)
    b_mid = (b_edges[:-1] + b_edges[1:]) / 2
    w_mid = (w_edges[:-1] + w_edges[1:]) / 2
    loss = loss_grid(points, b_mid, w_mid)
    jb, iw = np.meshgrid(np.arange(steps), np.arange(steps))
    frame = pd.DataFrame({
        "b0": b_edges[jb.ravel()], "b1": b_edges[jb.ravel() + 1],
        "w0": w_edges[iw.ravel()], "w1": w_edges[iw.ravel() + 1],
        "b": b_mid[jb.ravel()], "w": w_mid[iw.ravel()], "loss": loss.ravel(),
    })
    frame = frame[np.isfinite(frame["loss"])]
    excess = frame["loss"] - lowest_loss(points)
    floor = max(float(frame["loss"].max()), 1e-300) * 1e-12  # below rounding: the bottom is as deep as it gets
    return frame.assign(log10_excess=np.log10(np.maximum(excess, floor))).reset_index(drop=True)


# -------------------------------------------------------------------------- chart helpers


def sample_iterations(num_iterations: int, most: int = 300) -> np.ndarray:
    """At most ``most`` step numbers from 0 to num_iterations: every early step, then ever sparser.

    Descent moves most in its first steps, so a chart keeps those and thins the long tail.
    """
    if num_iterations + 1 <= most:
        return np.arange(num_iterations + 1)
    ks = np.unique(np.round(np.geomspace(1, num_iterations + 1, most)).astype(int) - 1)
    return np.union1d(ks, [0, num_iterations])


def sample_points(points: Any, most: int = 2000) -> np.ndarray:
    """At most ``most`` of the points, the same ones every time, in their original order (for a scatter plot)."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) <= most:
        return pts
    keep = np.sort(np.random.default_rng(0).choice(len(pts), size=most, replace=False))
    return pts[keep]


def path_frame(run: Descent, most: int = 300) -> pd.DataFrame:
    """The descent as rows (iteration, b, m, error) for charts, finite rows only, thinned to about ``most``."""
    ks = sample_iterations(run.iterations, most)
    frame = pd.DataFrame({"iteration": ks, "b": run.b[ks], "m": run.m[ks], "error": run.error[ks]})
    finite = np.isfinite(frame[["b", "m", "error"]]).all(axis=1)
    return frame[finite].reset_index(drop=True)


def error_is_zero(path: pd.DataFrame) -> bool:
    """Whether every error on the path is exactly 0: the line passes through every point, and a log axis
    has no place for it (the pages say so, ``regression.loss_zero``, instead of drawing an empty chart)."""
    return bool(len(path)) and bool((path["error"] == 0).all())


def line_frame(b: float, m: float, x_lo: float, x_hi: float, label: str) -> pd.DataFrame:
    """Two points (x, y) of the line y = m·x + b across [x_lo, x_hi], tagged with ``label``."""
    xs = np.array([x_lo, x_hi], dtype=np.float64)
    return pd.DataFrame({"x": xs, "y": m * xs + b, "line": label})


def line_columns(lines: list[tuple[str, float, float]], x_lo: float, x_hi: float) -> dict:
    """Each (label, b, slope) line across [x_lo, x_hi] as chart columns x, y, line: the rows of
    ``line_frame`` for each, without building a DataFrame per line (a page redraws them every rerun)."""
    xs = np.array([x_lo, x_hi], dtype=np.float64)
    return {"x": np.tile(xs, len(lines)), "y": np.concatenate([m * xs + b for _, b, m in lines]),
            "line": [label for label, _, _ in lines for _ in xs]}


# ----------------------------------------------------------------------------- the printout


def _as_course_typed(value: float) -> float | int:
    """A starting guess as the course wrote it: whole numbers as ints (``initial_b = 0`` prints as 0)."""
    value = float(value)
    return int(value) if value.is_integer() else value


def transcript(starting_b: float, starting_m: float, start_error: float,
               num_iterations: int, b: float, m: float, final_error: float) -> str:
    """The course's printout for a run, in its exact words and number formatting."""
    return "\n".join([
        "Starting gradient descent at b = {0}, m = {1}, error = {2}".format(
            _as_course_typed(starting_b), _as_course_typed(starting_m), float(start_error)),
        "Running...",
        "After {0} iterations b = {1}, m = {2}, error = {3}".format(
            num_iterations, float(b), float(m), float(final_error)),
    ])


# ---------------------------------------------------------------------------- reading a file

MAX_ROWS = 1_000_000
MAX_BYTES = 64 * 1024 * 1024

# Every way a file can be refused: its code and the fields its message is filled with. The page
# shows these through its string table (``regression.err.<code>``) in the student's language.
ERROR_MESSAGES: dict[str, str] = {
    "empty": "The file is empty: there are no rows to read.",
    "too_big": "The file is larger than {limit_mb} MB; a CSV of points is far smaller.",
    "binary": "This is not a text file (it looks like an image, a spreadsheet or another binary file); near line {line}. Save the data as CSV text.",
    "utf16": "The file is saved as UTF-16/UTF-32 Unicode text. Save it as UTF-8 CSV.",
    "encoding": "Line {line} is not UTF-8 text (wrong encoding, e.g. Big5). Save the file as UTF-8 CSV.",
    "header_only": "Line {line} is a header, but no data rows follow it.",
    "too_few_rows": "Only one data row (line {line}); a line needs at least two points.",
    "columns": "Line {line} has {found} column(s); the file needs exactly two columns, x and y.",
    "ragged": "Line {line} has {found} column(s), but line {first} has two: every row needs exactly two.",
    "empty_cell": "Line {line}, column {column} is empty.",
    "text": "Line {line}, column {column}: “{cell}” is not a number.",
    "not_finite": "Line {line}, column {column}: “{cell}” is not a finite number (NaN or infinity).",
    "overflow": "Line {line}, column {column}: “{cell}” is too large for a 64-bit number (it overflows to infinity).",
    "too_many_rows": "More than {limit} data rows (line {line} is past the limit).",
}


class PointsFileError(ValueError):
    """A file that is not two numeric columns: ``code`` says what is wrong, ``fields`` where.

    ``str(error)`` is the English message; ``fields`` fill the same message in other languages.
    """

    def __init__(self, code: str, **fields: Any):
        self.code = code
        self.fields = fields
        super().__init__(ERROR_MESSAGES[code].format(**fields))

    @property
    def line(self) -> int | None:
        """The 1-based line the problem is on, where there is one."""
        return self.fields.get("line")

    @property
    def column(self) -> int | None:
        """The 1-based column (1 = x, 2 = y) the problem is in, where there is one."""
        return self.fields.get("column")


_BOMS_UTF16_32 = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# Control characters other than white space: text files never hold them, binary files nearly always do.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_NOT_FINITE_WORDS = {"nan", "inf", "infinity"}


def _read_bytes(source: Any) -> bytes | str:
    """The raw content of a path, a bytes-like object or a file-like object (read whole)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "getvalue"):  # BytesIO, StringIO, Streamlit's UploadedFile: whatever was read before
        return source.getvalue()
    if hasattr(source, "read"):
        return source.read(MAX_BYTES + 1)
    raise TypeError(f"load_points reads a path, bytes or a file object, not {type(source).__name__}")


def _line_of(data: bytes, position: int) -> int:
    """The 1-based line number of byte ``position``."""
    return data.count(b"\n", 0, position) + 1


def _decode(raw: bytes | str) -> str:
    """The file as text, or the reason it is not UTF-8 text."""
    if isinstance(raw, str):
        text = raw
    else:
        if len(raw) > MAX_BYTES:
            raise PointsFileError("too_big", limit_mb=MAX_BYTES // (1024 * 1024))
        if raw.startswith(_BOMS_UTF16_32):
            raise PointsFileError("utf16")
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise PointsFileError("binary", line=_line_of(raw, nul))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            # Control bytes mean a binary file; without them it is text in another encoding (Big5, Latin-1...).
            if _CONTROL.search(raw[:65536].decode("latin-1")):
                raise PointsFileError("binary", line=_line_of(raw, exc.start)) from None
            raise PointsFileError("encoding", line=_line_of(raw, exc.start)) from None
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_BYTES:
        raise PointsFileError("too_big", limit_mb=MAX_BYTES // (1024 * 1024))
    control = _CONTROL.search(text)
    if control:
        raise PointsFileError("binary", line=text.count("\n", 0, control.start()) + 1)
    return text


def _cell_text(cell: str) -> str:
    """A cell as the student typed it, shortened for a message."""
    return cell if len(cell) <= 24 else cell[:23] + "…"


def _number(cell: str, line: int, column: int) -> float | None:
    """The cell's value, None if it is not a number at all (maybe a header), or the reason it is refused."""
    if not cell:
        raise PointsFileError("empty_cell", line=line, column=column)
    try:
        value = float(cell)
    except ValueError:
        return None
    if not cell.isascii() or "_" in cell:  # float() also takes 1_000 and non-ASCII digits; a CSV does not
        return None
    if not math.isfinite(value):
        if cell.lower().lstrip("+-") in _NOT_FINITE_WORDS:
            raise PointsFileError("not_finite", line=line, column=column, cell=_cell_text(cell))
        raise PointsFileError("overflow", line=line, column=column, cell=_cell_text(cell))
    return value


def _cells(line: str) -> list[str]:
    """A CSV row's cells, trimmed of spaces and of the quotes a spreadsheet may put around them."""
    cells = [cell.strip() for cell in line.split(",")]
    return [cell[1:-1].strip() if len(cell) >= 2 and cell[0] == cell[-1] == '"' else cell for cell in cells]


def load_points(source: Any) -> np.ndarray:
    """Read a CSV of two numeric columns (x, y) into a float64 (n, 2) array, n ≥ 2.

    ``source`` is a path, bytes, or a file object such as a Streamlit upload. One header row
    (two non-numeric cells) may come first; blank lines are skipped. Anything else raises
    ``PointsFileError`` saying what is wrong and on which line and column. There is never a
    partial result: either every row is read or none is returned.
    """
    text = _decode(_read_bytes(source))
    xs: list[float] = []
    ys: list[float] = []
    first_line = header_line = data_line = None
    for number, raw_line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if not raw_line.strip():
            continue
        cells = _cells(raw_line)
        if first_line is None:
            first_line = number
            if len(cells) != 2:
                raise PointsFileError("columns", line=number, found=len(cells))
            if all(cell and _number(cell, number, col) is None for col, cell in enumerate(cells, 1)):
                header_line = number
                continue
        elif len(cells) != 2:
            raise PointsFileError("ragged", line=number, found=len(cells), first=first_line)
        row = []
        for column, cell in enumerate(cells, 1):
            value = _number(cell, number, column)
            if value is None:
                raise PointsFileError("text", line=number, column=column, cell=_cell_text(cell))
            row.append(value)
        if len(xs) == MAX_ROWS:
            raise PointsFileError("too_many_rows", line=number, limit=f"{MAX_ROWS:,}")
        xs.append(row[0])
        ys.append(row[1])
        data_line = number
    if not xs:
        if header_line is not None:
            raise PointsFileError("header_only", line=header_line)
        raise PointsFileError("empty")
    if len(xs) == 1:
        raise PointsFileError("too_few_rows", line=data_line)
    return np.column_stack([np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)])


def contour_view_box(
    path: pd.DataFrame, anchors: Any, best: tuple[float, float] | None = None, *, diverged: bool = False
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (b, w) box a loss-contour chart shows: the ``anchors`` (start, true line: (b, w) pairs),
    the closed form ``best`` and the descent ``path`` (columns b, m).

    A diverged path is left out: it would stretch the box until the valley it left is invisible.
    """
    points = [tuple(a) for a in anchors] + ([tuple(best)] if best is not None else [])
    bs, ws = [b for b, _ in points], [w for _, w in points]
    if not diverged:
        bs += list(path["b"])
        ws += list(path["m"])
    return view_box(bs, ws)
