"""Lesson 1, gradient descent on the course's loss = x²·sin x.

The course derives f′(x) = 2x·sin x + x²·cos x by hand and steps x′ = x − lr·f′(x); it then names
three solvers (sgd, rmsprop, adam). Here those updates run in plain floats so the page can show
every number, and ``tests/test_descent.py`` checks them step for step against ``torch.optim``.
Importing this module never loads torch: only ``grad_by_autograd`` does, when it is called.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lessons import clipping
from lessons.settings import Setting

SOLVERS: tuple[str, ...] = ("sgd", "momentum", "rmsprop", "adam")
# torch.optim's defaults, except momentum, which torch leaves at 0 (that would be plain SGD).
DEFAULT_HYPER: dict[str, Any] = {"momentum": 0.9, "alpha": 0.99, "betas": (0.9, 0.999), "eps": 1e-8}
BLOW_UP = 1e6  # |x| beyond this counts as diverged: the run stops before the floats overflow
X_RANGE = (-10.0, 10.0)  # the start range the page offers: three valleys of x²·sin x lie in it
SETTLED = 1e-3  # a path whose last steps all stay this close to a minimum has converged
VIEW_CAP = 40.0  # the curve is drawn at most this far out, or a diverging path flattens it

# The page's sliders: the choices a student has, read by the page, the take-home program and the tests.
LR_OPTIONS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
EPS_OPTIONS = (1e-10, 1e-8, 1e-6, 1e-4, 1e-2)
MAX_STEPS = 300
SETTINGS = {
    "x0": Setting(3.0, -10.0, 10.0),
    "lr": Setting(0.05, options=LR_OPTIONS),
    "steps": Setting(40, 1, MAX_STEPS),
    "solvers": Setting(["sgd", "rmsprop", "adam"], options=SOLVERS),
    "focus": Setting("sgd", options=SOLVERS),
    "momentum": Setting(0.9, 0.0, 0.99),
    "alpha": Setting(0.99, 0.5, 0.999),
    "beta1": Setting(0.9, 0.0, 0.999),
    "beta2": Setting(0.999, 0.9, 0.9999),
    "eps": Setting(1e-8, options=EPS_OPTIONS),
    "stepwise": Setting(False),
}


def hyper_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The solvers' hyper-parameters from the page's settings, as ``descend`` takes them."""
    return {"momentum": values["momentum"], "alpha": values["alpha"],
            "betas": (values["beta1"], values["beta2"]), "eps": values["eps"]}


# The update rule of each solver in LaTeX, as the page shows it (t counts steps from 0).
RULES: dict[str, str] = {
    "sgd": r"x_{t+1} = x_t - \mathrm{lr}\cdot f'(x_t)",
    "momentum": (
        r"\begin{aligned} v_{t+1} &= \mu\, v_t + f'(x_t) \\ "
        r"x_{t+1} &= x_t - \mathrm{lr}\cdot v_{t+1} \end{aligned}"
    ),
    "rmsprop": (
        r"\begin{aligned} s_{t+1} &= \alpha\, s_t + (1-\alpha)\, f'(x_t)^2 \\ "
        r"x_{t+1} &= x_t - \mathrm{lr}\cdot \frac{f'(x_t)}{\sqrt{s_{t+1}} + \varepsilon} \end{aligned}"
    ),
    "adam": (
        r"\begin{aligned} m_{t+1} &= \beta_1 m_t + (1-\beta_1)\, f'(x_t), & "
        r"\hat m &= m_{t+1} / (1-\beta_1^{\,t+1}) \\ "
        r"v_{t+1} &= \beta_2 v_t + (1-\beta_2)\, f'(x_t)^2, & "
        r"\hat v &= v_{t+1} / (1-\beta_2^{\,t+1}) \\ "
        r"x_{t+1} &= x_t - \mathrm{lr}\cdot \frac{\hat m}{\sqrt{\hat v} + \varepsilon} \end{aligned}"
    ),
}
LOSS_LATEX = r"\mathrm{loss}(x) = x^2 \sin x, \qquad f'(x) = 2x\sin x + x^2\cos x"

# Verdict codes: what a run did, for the page to say in words.
CONVERGED = "converged"  # settled at the lowest minimum in view
STUCK = "stuck"  # settled at a minimum, but a deeper one is in view
OSCILLATING = "oscillating"  # keeps jumping across a minimum (the course's 在最優解附近波動)
APPROACHING = "approaching"  # still walking downhill toward a minimum: more steps needed
STALLED = "stalled"  # creeping into, or sitting on, a point with f′ = 0 that is no minimum (x = 0)
WANDERING = "wandering"  # not settled in any valley
DIVERGED = "diverged"  # the learning rate was too large: |x| blew past BLOW_UP
SLOW = "slow"  # still walking toward a minimum, though lr and steps are already at their maximum
START = "start"  # no step taken yet (step-by-step mode at step 0)
CROSSING = "crossing"  # said after OSCILLATING when every one of the last steps crossed the floor
# A path whose last steps all stay this close to the flat point x = 0 sits on it: near 0 the slope
# is about 3x², so even at lr 1 a step there is under 3·10⁻⁴ and the path barely moves.
FLAT_NEAR = 1e-2


def loss(x):
    """The course's loss, x²·sin x, for a float or a numpy array."""
    return x * x * np.sin(x)


def grad(x):
    """The course's hand-derived derivative f′(x) = 2x·sin x + x²·cos x (floats or arrays)."""
    return 2 * x * np.sin(x) + x * x * np.cos(x)


def second_derivative(x):
    """f″(x) = 2 sin x + 4x cos x − x² sin x: its sign tells a valley from a hump."""
    return 2 * np.sin(x) + 4 * x * np.cos(x) - x * x * np.sin(x)


def grad_by_autograd(x: float) -> float:
    """f′(x) as PyTorch's autograd computes it from loss = x²·sin x, in float64.

    Torch is imported here, not at the top, so the page only pays for it when asked.
    """
    import torch

    t = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    (t * t * torch.sin(t)).backward()
    return float(t.grad)


def compare_with_autograd(xs) -> pd.DataFrame:
    """The hand derivative next to autograd's at each x: columns x, hand, autograd, difference."""
    xs = [float(x) for x in np.atleast_1d(xs)]
    hand = [float(grad(x)) for x in xs]
    auto = [grad_by_autograd(x) for x in xs]
    return pd.DataFrame(
        {"x": xs, "hand": hand, "autograd": auto, "difference": np.abs(np.subtract(hand, auto))}
    )


def _hyper(optimizer: str, hyper: dict[str, Any]) -> dict[str, Any]:
    """The solver's hyper-parameters: defaults filled in, values checked (ValueError if invalid)."""
    if optimizer not in SOLVERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {SOLVERS}")
    unknown = set(hyper) - set(DEFAULT_HYPER)
    if unknown:
        raise ValueError(f"unknown hyper-parameters {sorted(unknown)}")
    h = {**DEFAULT_HYPER, **hyper}
    beta1, beta2 = (float(b) for b in h["betas"])
    # Outside these ranges the running averages stop averaging, or a division meets 0/0.
    if not 0 <= h["momentum"] < 1:
        raise ValueError("momentum must be in [0, 1)")
    if not 0 <= h["alpha"] < 1:
        raise ValueError("alpha must be in [0, 1)")
    if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
        raise ValueError("betas must be in [0, 1)")
    if not (h["eps"] > 0 and math.isfinite(h["eps"])):
        raise ValueError("eps must be positive")
    return {"momentum": float(h["momentum"]), "alpha": float(h["alpha"]),
            "beta1": beta1, "beta2": beta2, "eps": float(h["eps"])}


def _walk(x0: float, lr: float, steps: int, optimizer: str, hyper: dict[str, Any]):
    """Run the solver; return (one dict per update, the step that blew up or None).

    Each dict holds the numbers of one update x_t → x_{t+1}: the gradient, lr·f′, the solver's
    running averages, the step taken (delta) and the new x. The float operations follow
    torch.optim's order so the two agree to rounding.
    """
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError("lr must be a finite number ≥ 0")
    if steps < 0:
        raise ValueError("steps must be ≥ 0")
    h = _hyper(optimizer, hyper)
    x = float(x0)
    if not math.isfinite(x) or abs(x) > BLOW_UP:
        return [], 0
    records: list[dict[str, float]] = []
    velocity = square_avg = exp_avg = exp_avg_sq = 0.0
    for t in range(1, steps + 1):
        g = float(grad(x))
        row = {"step": t, "x": x, "grad": g, "lr_grad": lr * g}
        if optimizer == "sgd":
            delta = lr * g
        elif optimizer == "momentum":
            # torch.optim.SGD: the buffer starts as the first gradient (dampening 0, no Nesterov).
            velocity = g if t == 1 else h["momentum"] * velocity + g
            delta = lr * velocity
            row["velocity"] = velocity
        elif optimizer == "rmsprop":
            square_avg = h["alpha"] * square_avg + (1 - h["alpha"]) * g * g
            denom = math.sqrt(square_avg) + h["eps"]
            delta = lr * (g / denom)
            row["square_avg"] = square_avg
        else:  # adam
            exp_avg = exp_avg + (g - exp_avg) * (1 - h["beta1"])  # torch's lerp
            exp_avg_sq = h["beta2"] * exp_avg_sq + (1 - h["beta2"]) * g * g
            correction1 = 1 - h["beta1"] ** t
            correction2 = 1 - h["beta2"] ** t
            denom = math.sqrt(exp_avg_sq) / math.sqrt(correction2) + h["eps"]
            delta = (lr / correction1) * (exp_avg / denom)
            row.update(m=exp_avg, v=exp_avg_sq, m_hat=exp_avg / correction1, v_hat=exp_avg_sq / correction2)
        new_x = x - delta
        if not math.isfinite(new_x) or abs(new_x) > BLOW_UP:
            return records, t
        row.update(delta=delta, new_x=new_x)
        records.append(row)
        x = new_x
    return records, None


def updates(x0: float, lr: float, steps: int, optimizer: str = "sgd", **hyper) -> pd.DataFrame:
    """The arithmetic of every update: step, x, grad, lr_grad, the solver's state, delta, new_x.

    Row t is the update from x_{t−1} to x_t (t from 1). A run that blows up keeps only the updates
    before it; ``attrs`` carries ``diverged`` and ``diverged_step`` as in ``descend``.
    """
    records, blew_up = _walk(x0, lr, steps, optimizer, hyper)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        frame = pd.DataFrame(columns=["step", "x", "grad", "lr_grad", "delta", "new_x"], dtype=float)
    frame.attrs["diverged"] = blew_up is not None
    frame.attrs["diverged_step"] = blew_up
    return frame


def descend(x0: float, lr: float, steps: int, optimizer: str = "sgd", **hyper) -> pd.DataFrame:
    """Gradient descent on x²·sin x: columns step, x, loss, grad; row 0 is the start.

    ``optimizer`` is "sgd" (the course's x′ = x − lr·f′(x)), "momentum", "rmsprop" or "adam",
    matching torch.optim; ``hyper`` takes momentum, alpha, betas, eps. If x leaves the finite
    numbers or |x| passes 1e6 the run stops: only the rows before are returned, and
    ``df.attrs["diverged"]`` is True (``"diverged_step"`` says at which step). It never raises
    for that; bad arguments (unknown solver, lr < 0, eps ≤ 0 …) raise ValueError.
    """
    records, blew_up = _walk(x0, lr, steps, optimizer, hyper)
    start = [float(x0)] if blew_up != 0 else []
    xs = np.array(start + [r["new_x"] for r in records], dtype=float)
    frame = pd.DataFrame({"step": np.arange(len(xs)), "x": xs, "loss": loss(xs), "grad": grad(xs)})
    frame.attrs["diverged"] = blew_up is not None
    frame.attrs["diverged_step"] = blew_up
    return frame


def curve(lo: float, hi: float, points: int = 600) -> pd.DataFrame:
    """The loss curve sampled on [lo, hi] for plotting: columns x, loss."""
    xs = np.linspace(lo, hi, points)
    return pd.DataFrame({"x": xs, "loss": loss(xs)})


def _stationary(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The x in [lo, hi] where f′(x) = 0, sorted, and each one's kind: "min", "max" or "flat".

    Solved once per whole-number window around [lo, hi] (a slider rerun asks for nearly the same
    window every time) and cut to [lo, hi].
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo > 10_000:
        return _solve_stationary(lo, hi)
    roots, kinds = _stationary_between(math.floor(lo), math.ceil(hi))
    inside = (roots >= lo) & (roots <= hi)
    return roots[inside], kinds[inside]


@functools.lru_cache(maxsize=256)
def _stationary_between(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    return _solve_stationary(float(lo), float(hi))


def _solve_stationary(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """``_stationary`` solved afresh.

    f′(x) = x·(2 sin x + x cos x), and the bracket is zero at x = 0 as well, so the roots of
    the bracket are all of them; each is bracketed on a fine grid and refined by bisection.
    A root with f″ = 0 too (x = 0, where loss ≈ x³) is "flat": no valley, no hump.
    """
    def bracket(x):
        return 2 * np.sin(x) + x * np.cos(x)

    xs = np.linspace(lo, hi, max(2, int((hi - lo) / 0.01) + 1))
    hs = bracket(xs)
    change = hs[:-1] * hs[1:] < 0
    left, right = xs[:-1][change], xs[1:][change]
    for _ in range(60):  # halves each 0.01-wide bracket down to float resolution
        mid = (left + right) / 2
        same = np.sign(bracket(mid)) == np.sign(bracket(left))
        left, right = np.where(same, mid, left), np.where(same, right, mid)
    roots = np.sort(np.concatenate([xs[hs == 0], (left + right) / 2]))
    curvature = second_derivative(roots)
    kinds = np.where(np.abs(curvature) < 1e-9, "flat", np.where(curvature > 0, "min", "max"))
    return roots, kinds


def stationary_points(lo: float, hi: float) -> pd.DataFrame:
    """Every x in [lo, hi] with f′(x) = 0: columns x, loss, kind ("min", "max" or "flat")."""
    roots, kinds = _stationary(lo, hi)
    return pd.DataFrame({"x": roots, "loss": loss(roots), "kind": kinds})


def local_minima(lo: float, hi: float) -> pd.DataFrame:
    """The local minima of x²·sin x inside [lo, hi], left to right: columns x, loss."""
    points = stationary_points(lo, hi)
    return points[points["kind"] == "min"][["x", "loss"]].reset_index(drop=True)


def view_window(xs, base: tuple[float, float] = X_RANGE, cap: float = VIEW_CAP) -> tuple[float, float]:
    """The x-range to draw: the base range widened to hold the paths, padded, but never past ±cap."""
    xs = np.asarray(xs, dtype=float)
    lo, hi = base
    if xs.size:
        lo, hi = min(lo, float(xs.min())), max(hi, float(xs.max()))
    pad = 0.03 * (hi - lo)
    return max(lo - pad, -cap), min(hi + pad, cap)


def step_view(runs: dict[str, pd.DataFrame], field: str, step: int | None = None) -> clipping.ChartView:
    """The step chart of ``field`` ("x" or "loss") for the solvers' runs, kept readable.

    A run that blew up is cut at the edge of the range the other runs span (at least the start
    range X_RANGE, or the loss curve's range over it), with a mark where it left; the others keep
    their shape. ``step`` shows the runs as they stood after that many steps (step-by-step mode);
    the range stays the whole runs' so it does not jump while stepping, and a run is marked as
    blown up once the step shown is its last before the blow-up.
    The frame has columns solver, step, x, loss, grad and clipped. ``clipped`` is set only when a run
    blew up, the runs that did not setting the range: the page's note (``descent.clipped``) says a path diverged.
    """
    if field not in ("x", "loss"):
        raise ValueError('field must be "x" or "loss"')
    columns = ["solver", "step", "x", "loss", "grad"]
    frames = [run.assign(solver=s)[columns] for s, run in runs.items() if len(run)]
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    reference = X_RANGE if field == "x" else tuple(curve(*X_RANGE)["loss"].agg(["min", "max"]))
    blew = {s: run.attrs.get("diverged_step") for s, run in runs.items() if run.attrs.get("diverged")}
    whole = clipping.clip_series(long, field, series="solver", blew_up=blew, reference=reference)
    if step is None:
        return whole
    cut = long[long["step"] <= step]
    # the range is the whole runs'; the blow-up is marked once the shown step is the last before it
    blown = {s: d for s, d in blew.items() if step >= d - 1}
    return clipping.clip_series(cut, field, series="solver", blew_up=blown, domain=whole.domain)


def outside(xs, window: tuple[float, float]) -> int:
    """How many points of the paths lie outside the drawn x-range (``descent.hidden`` says that many are not drawn)."""
    xs = np.asarray(xs, dtype=float)
    return int(((xs < window[0]) | (xs > window[1])).sum())


def spaced_steps(xs, gap: float, limit: int = 10) -> np.ndarray:
    """Which points of a path to number on a chart: the start, then each point at least ``gap``
    away in x from the last numbered one, at most ``limit`` in all (a mask over ``xs``).

    Numbers of points closer than that would print on top of each other.
    """
    xs = np.asarray(xs, dtype=float)
    chosen = np.zeros(xs.shape, dtype=bool)
    anchor = math.inf
    for i, x in enumerate(xs):
        if chosen.sum() >= limit:
            break
        if not abs(x - anchor) < gap:  # the first point always (its anchor is infinitely far)
            chosen[i], anchor = True, x
    return chosen


@dataclass(frozen=True)
class Verdict:
    """What a run did. ``code`` is one of the verdict codes; the numbers fill the page's sentence.

    x: the last x reached. minimum/minimum_loss: the valley it settled in, circles or heads for
    (or the flat point for STALLED). lowest/lowest_loss: the deepest minimum in view.
    amplitude: how far the last steps swing around ``minimum``. step: where a divergence blew up.
    crossings: for OSCILLATING, how many of the last steps each jumped across the floor when every
    one of them did (0 otherwise).
    """

    code: str
    x: float
    minimum: float | None = None
    minimum_loss: float | None = None
    lowest: float | None = None
    lowest_loss: float | None = None
    amplitude: float = 0.0
    step: int | None = None
    crossings: int = 0


# What the page's text for each verdict asserts (its words are ``descent.v.<code>``), checked whenever
# the text is shown by tests/test_descent_claims.py over the page's whole slider ranges.
CLAIMS = {
    CONVERGED: "the last quarter of the path stays within SETTLED of `minimum`, the deepest minimum in view",
    STUCK: "the last quarter stays within SETTLED of `minimum`, where f′ ≈ 0, and a deeper minimum `lowest` is in view",
    OSCILLATING: "the last quarter stays in `minimum`'s valley (between the walls either side), reaches `amplitude` "
                 "> SETTLED from its floor, and crosses the floor, turns back or climbs away from it",
    CROSSING: "each of the last `crossings` steps lands on the other side of the floor from the step before",
    APPROACHING: "every move of the last quarter goes one way, toward `minimum`, the next point with f′ = 0 ahead",
    SLOW: "as approaching, with lr and steps at the sliders' maximum",
    STALLED: "`minimum` is the flat point x = 0 (f′ = f″ = 0, an inflection point), and the last quarter lies "
             "within FLAT_NEAR of it or walks straight toward it",
    WANDERING: "the last quarter is in no single valley: it spans more than one, or climbs toward a hump",
    DIVERGED: "|x| passed BLOW_UP at `step`",
    START: "no step has been taken: the path is its start alone",
}


def upto(run: pd.DataFrame, step: int | None) -> pd.DataFrame:
    """A ``descend`` run as it stood after ``step`` steps (None: the whole run).

    A diverged run keeps its ``diverged`` flag only when ``step`` reaches its last row, the point
    where the next step blows up; before that it is an ordinary run that has not blown up yet.
    """
    if step is None or step >= len(run) - 1:
        return run
    cut = run[run["step"] <= step].copy()
    cut.attrs.update(diverged=False, diverged_step=None)
    return cut


def tail_of(xs: np.ndarray) -> np.ndarray:
    """The part of a path a verdict is judged on: its last quarter, at least 3 points."""
    return xs[-max(3, len(xs) // 4):]


def basin(minimum: float) -> tuple[float, float]:
    """The valley of a local minimum: from the hump or flat point on its left to the one on its right."""
    roots, kinds = _stationary(minimum - 2 * math.pi, minimum + 2 * math.pi)
    walls = roots[kinds != "min"]
    return walls[walls < minimum].max(initial=-math.inf), walls[walls > minimum].min(initial=math.inf)


def classify(
    run: pd.DataFrame,
    lo: float = X_RANGE[0],
    hi: float = X_RANGE[1],
    *,
    step: int | None = None,
    at_limits: bool = False,
) -> Verdict:
    """Say what a ``descend`` run did: converged (to the deepest minimum in [lo, hi] or a shallower
    one), oscillating around a minimum, still approaching one, stalled at a flat point, wandering,
    or diverged (and at which step). Judged from the last quarter of the path (at least 3 points).

    ``step`` judges the run as it stood after that many steps (step-by-step mode): the verdict
    describes the step the chart shows, START at step 0. ``at_limits`` says the page's lr and steps
    are already at their maximum, so a path still approaching a minimum gets SLOW, not APPROACHING.
    What the text of each code asserts is written in ``CLAIMS``.
    """
    run = upto(run, step)
    xs = run["x"].to_numpy(dtype=float)
    last = float(xs[-1]) if xs.size else math.nan
    if run.attrs.get("diverged"):
        return Verdict(DIVERGED, last, step=run.attrs.get("diverged_step"))
    if step is not None and xs.size == 1:
        return Verdict(START, last)
    return judge(xs, lo, hi, at_limits=at_limits)


def judge(xs: np.ndarray, lo: float = X_RANGE[0], hi: float = X_RANGE[1], *, at_limits: bool = False) -> Verdict:
    """``classify`` for a path that did not blow up, given as its x values (at least one)."""
    last = float(xs[-1])
    tail = tail_of(xs)
    if np.ptp(tail) > 2 * (hi - lo):  # leaping across many valleys: no valley to name
        return Verdict(WANDERING, last)
    roots, kinds = _stationary(min(lo, tail.min() - 2 * math.pi), max(hi, tail.max() + 2 * math.pi))
    minima = roots[kinds == "min"]
    nearest = float(minima[np.argmin(np.abs(minima - last))])
    # in view: the start range, the tail and the valley floor it is nearest to (the chart holds all three)
    in_view = minima[(minima >= min(lo, tail.min(), nearest)) & (minima <= max(hi, tail.max(), nearest))]
    deepest = float(in_view[np.argmin(loss(in_view))])
    common = {"x": last, "lowest": deepest, "lowest_loss": float(loss(deepest))}
    target = {"minimum": nearest, "minimum_loss": float(loss(nearest))}
    offset = tail - nearest
    amplitude = float(np.abs(offset).max())
    if amplitude <= SETTLED:
        # "converged to the deepest valley in view" / "stuck in a shallower one": it rests within SETTLED
        return Verdict(CONVERGED if nearest == deepest else STUCK, amplitude=amplitude, **target, **common)
    walls = roots[kinds != "min"]  # the humps and flat points either side bound the valley
    basin_lo = walls[walls < nearest].max(initial=-math.inf)
    basin_hi = walls[walls > nearest].min(initial=math.inf)
    moves = np.diff(tail)
    crossed = np.any(offset[:-1] * offset[1:] < 0)
    turned = np.any(moves[:-1] * moves[1:] < 0)  # a slow swing turns back before it crosses
    overshot = offset.size > 1 and abs(offset[-1]) > abs(offset[-2])  # climbing the valley's wall
    if (crossed or turned or overshot) and basin_lo < tail.min() and tail.max() < basin_hi:
        # "x stays in the valley but has not settled; it overshoots the floor or turns back";
        # "each of its last steps jumped across the floor" only where every one of them did
        every = bool(np.all(offset[:-1] * offset[1:] < 0))
        return Verdict(OSCILLATING, amplitude=amplitude, crossings=offset.size - 1 if every else 0, **target, **common)
    flat = roots[kinds == "flat"]
    if flat.size:  # sitting on the flat point, whichever way it creeps: no slider setting moves it on
        gaps = np.abs(tail[:, None] - flat[None, :]).max(axis=0)
        if gaps.min() <= FLAT_NEAR:
            spot = float(flat[np.argmin(gaps)])
            # "stalled at the flat spot x = 0": every point of the tail lies within FLAT_NEAR of it
            return Verdict(STALLED, amplitude=amplitude, minimum=spot, minimum_loss=float(loss(spot)), **common)
    if not np.any(moves):  # standing still: only a point where f′ = 0 holds a path in place
        ahead = np.abs(roots - last) <= SETTLED
    elif np.all(moves > 0):  # heading right: the first point with f′ = 0 to the right is next
        ahead = roots > last
    elif np.all(moves < 0):
        ahead = roots < last
    else:
        ahead = np.zeros(roots.shape, dtype=bool)
    if ahead.any():
        i = np.flatnonzero(ahead)[np.argmin(np.abs(roots[ahead] - last))]
        spot = {"minimum": float(roots[i]), "minimum_loss": float(loss(roots[i]))}
        if kinds[i] == "min":
            # "still walking toward the valley floor": every move of the tail goes its way
            return Verdict(SLOW if at_limits else APPROACHING, amplitude=amplitude, **spot, **common)
        if kinds[i] == "flat" or not np.any(moves):  # walking up to a hump is no stall
            # "stalled at the flat spot": the tail walks straight toward x = 0, the next point with f′ = 0
            return Verdict(STALLED, amplitude=amplitude, **spot, **common)
    # "not settled in any valley": the tail spans more than one valley, or climbs toward a hump
    return Verdict(WANDERING, amplitude=amplitude, **common)


# ------------------------------------------------------------------------ advice, checked

FIX_SMALLER_LR = "smaller_lr"  # a smaller rate on the slider, same start and steps, settles in a valley
FIX_LARGER_LR = "larger_lr"  # a larger rate on the slider, same start and steps, settles in a valley
FIX_MORE_STEPS = "more_steps"  # MAX_STEPS at the same rate settles in a valley
FIX_SAFE_LR = "safe_lr"  # the largest smaller rate on the slider at which the run does not blow up
# What the text of each fix asserts. The page shows a fix only after ``remedy`` ran it; the claims
# test runs it again.
FIX_CLAIMS = {
    FIX_SMALLER_LR: "the same start and steps at the smaller rate `value` settle (converged or stuck) at `at`",
    FIX_LARGER_LR: "the same start and steps at the larger rate `value` settle at `at`",
    FIX_MORE_STEPS: "the same start and rate with `value` = MAX_STEPS steps settle at `at`",
    FIX_SAFE_LR: "the same start and steps at the smaller rate `value` do not blow up; so the rate is too large",
}
SETTLES = (CONVERGED, STUCK)


@dataclass(frozen=True)
class Fix:
    """One slider change that was tried and works: ``kind`` (a FIX_ code), the new ``value`` (a learning rate
    or a number of steps) and, unless the fix only avoids a blow-up, the valley floor ``at`` where the run settles."""

    kind: str
    value: float
    at: float | None = None


def remedy(x0: float, lr: float, steps: int, optimizer: str, code: str, **hyper) -> Fix | None:
    """Advice for a run whose verdict is ``code``, found by trying it: which one slider change makes the run
    settle in a valley (or, for DIVERGED, stop blowing up). None when the sliders offer no such change.

    Oscillating or wandering: the largest smaller rate that settles, else MAX_STEPS at this rate.
    Approaching: MAX_STEPS at this rate, else the smallest larger rate that settles. Diverged: the
    largest smaller rate that does not blow up. Other verdicts need no advice.
    """
    key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in hyper.items()))
    return _remedy(float(x0), float(lr), int(steps), optimizer, code, key)


@functools.lru_cache(maxsize=512)
def _remedy(x0: float, lr: float, steps: int, optimizer: str, code: str, hyper: tuple) -> Fix | None:
    h = dict(hyper)

    def settled(rate: float, n: int) -> float | None:
        records, blew = _walk(x0, rate, n, optimizer, h)
        if blew is not None:
            return None
        v = judge(np.array([x0] + [r["new_x"] for r in records]))
        return v.minimum if v.code in SETTLES else None

    smaller = [o for o in reversed(LR_OPTIONS) if o < lr]
    larger = [o for o in LR_OPTIONS if o > lr]
    if code == DIVERGED:
        for rate in smaller:
            if _walk(x0, rate, steps, optimizer, h)[1] is None:
                return Fix(FIX_SAFE_LR, rate)
        return None
    if code in (OSCILLATING, WANDERING):
        for rate in smaller:
            if (at := settled(rate, steps)) is not None:
                return Fix(FIX_SMALLER_LR, rate, at)
        if steps < MAX_STEPS and (at := settled(lr, MAX_STEPS)) is not None:
            return Fix(FIX_MORE_STEPS, MAX_STEPS, at)
        return None
    if code == APPROACHING:
        if steps < MAX_STEPS and (at := settled(lr, MAX_STEPS)) is not None:
            return Fix(FIX_MORE_STEPS, MAX_STEPS, at)
        for rate in larger:
            if (at := settled(rate, steps)) is not None:
                return Fix(FIX_LARGER_LR, rate, at)
    return None


def _tex(v: float) -> str:
    """A number for LaTeX: 6 significant digits, powers of ten written out, negatives bracketed."""
    text = f"{v:.6g}"
    if "e" in text:
        mantissa, power = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(power)}}}"
    return f"({text})" if v < 0 else text


def step_latex(run: pd.DataFrame, t: int, optimizer: str, lr: float, **hyper) -> list[str]:
    """The arithmetic of update t (x_{t−1} → x_t) of an ``updates`` frame, as rows of a LaTeX
    ``aligned`` block ("left &= right").

    Every number is the one the solver used (its running averages included), so a student can
    redo the step on a calculator.
    """
    h = _hyper(optimizer, hyper)
    r = run.iloc[t - 1]
    before = run.iloc[t - 2] if t > 1 else None

    def prev(column: str) -> str:  # a running average before this step: 0 at the start
        return _tex(before[column] if before is not None else 0.0)

    def eq(left: str, working: str, result: float) -> list[str]:  # the result on its own row
        return [rf"{left} &= {working}", rf"&= {_tex(result)}"]

    x, g, a, b = _tex(r["x"]), _tex(r["grad"]), rf"x_{{{t - 1}}}", rf"x_{{{t}}}"
    rows = [
        rf"{a} &= {x}",
        rf"f'({a}) &= 2{a}\sin {a} + {a}^2 \cos {a}",
        rf"&= 2\cdot{x}\cdot\sin{x}",
        rf"&\quad + {x}^2\cdot\cos{x}",
        rf"&= {g}",
    ]
    if optimizer == "sgd":
        rows += eq(rf"\delta x = \mathrm{{lr}}\cdot f'({a})", rf"{_tex(lr)} \times {g}", r["lr_grad"])
    elif optimizer == "momentum":
        rows += eq(rf"v_{{{t}}}", rf"{_tex(h['momentum'])} \times {prev('velocity')} + {g}", r["velocity"])
        rows += eq(rf"\delta x = \mathrm{{lr}}\cdot v_{{{t}}}", rf"{_tex(lr)} \times {_tex(r['velocity'])}", r["delta"])
    elif optimizer == "rmsprop":
        rows += eq(rf"s_{{{t}}}", rf"{_tex(h['alpha'])} \times {prev('square_avg')} + {_tex(1 - h['alpha'])} \times {g}^2",
                   r["square_avg"])
        rows += eq(rf"\delta x = \mathrm{{lr}}\cdot\frac{{f'({a})}}{{\sqrt{{s_{{{t}}}}}+\varepsilon}}",
                   rf"{_tex(lr)} \times \frac{{{g}}}{{\sqrt{{{_tex(r['square_avg'])}}} + {_tex(h['eps'])}}}", r["delta"])
    else:
        rows += eq(rf"m_{{{t}}}", rf"{_tex(h['beta1'])} \times {prev('m')} + {_tex(1 - h['beta1'])} \times {g}", r["m"])
        rows += eq(rf"v_{{{t}}}", rf"{_tex(h['beta2'])} \times {prev('v')} + {_tex(1 - h['beta2'])} \times {g}^2", r["v"])
        rows += eq(rf"\hat m_{{{t}}}", rf"{_tex(r['m'])} / (1 - {_tex(h['beta1'])}^{{{t}}})", r["m_hat"])
        rows += eq(rf"\hat v_{{{t}}}", rf"{_tex(r['v'])} / (1 - {_tex(h['beta2'])}^{{{t}}})", r["v_hat"])
        rows += eq(rf"\delta x = \mathrm{{lr}}\cdot\frac{{\hat m_{{{t}}}}}{{\sqrt{{\hat v_{{{t}}}}}+\varepsilon}}",
                   rf"{_tex(lr)} \times \frac{{{_tex(r['m_hat'])}}}{{\sqrt{{{_tex(r['v_hat'])}}} + {_tex(h['eps'])}}}",
                   r["delta"])
    rows += eq(rf"{b} = {a} - \delta x", rf"{x} - {_tex(r['delta'])}", r["new_x"])  # the course's x′ = x − δx
    return rows


def aligned(rows: list[str]) -> str:
    """Rows of ``step_latex`` as one LaTeX block, lined up on their = signs."""
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"
