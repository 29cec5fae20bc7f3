"""What the pages need to keep their charts readable and alive, with no UI in it: a diverging run
clipped out of the other runs' way (and marked), the steps an animation visits, and a session's
log of runs to compare.

A run that blows up reaches 10⁶ while the others move within ±10: drawn on one axis, the others
become flat lines. ``clip_series`` picks the y-range from the runs that did not blow up (or from a
reference range the lesson gives), cuts the rest at its edge and says where each run left it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lessons.regression import sample_iterations

PAD = 0.05  # a share of the y-range added either side, so no line runs along the chart's edge


@dataclass(frozen=True)
class ChartView:
    """A chart's data made readable.

    frame: the rows to draw, the value column cut into ``domain``; the bool column ``clipped``
    marks the rows that were cut, and rows whose value was not a finite number are left out.
    domain: (lo, hi), the y-range to draw (the page sets its scale to it, without "nice" rounding).
    marks: one row per series that left the range or blew up: series, step (the first step
    outside the range, or the last one drawn before a blow-up), value (the true value there),
    shown (where the mark sits on the chart) and blew_up_at (the step that blew up, or -1).
    clipped: whether anything was cut or left out, so the page says so.
    """

    frame: pd.DataFrame
    domain: tuple[float, float]
    marks: pd.DataFrame
    clipped: bool


def padded(lo: float, hi: float, pad: float) -> tuple[float, float]:
    """[lo, hi] widened by ``pad`` of its span (by 1 if it is a single value)."""
    span = hi - lo
    if not span > 0:
        span = max(abs(lo), 1.0)
    return lo - pad * span, hi + pad * span


def clip_series(
    frame: pd.DataFrame,
    value: str,
    *,
    series: str | None = None,
    step: str = "step",
    blew_up: Mapping[Any, int | None] | None = None,
    reference: tuple[float, float] | None = None,
    pad: float = PAD,
    domain: tuple[float, float] | None = None,
) -> ChartView:
    """Cut ``frame[value]`` to a readable y-range, one line per ``series`` (None: one line, keyed 0).

    ``blew_up`` maps a series to the step at which it blew up (None or absent: it did not). The
    range spans the series that did not blow up, and ``reference`` (a range the lesson knows is
    sensible, e.g. the loss curve's) where those are none; with neither it spans everything finite.
    ``domain`` fixes the range instead (e.g. a whole run's, while a part of it is shown).
    """
    blew_up = {k: v for k, v in (blew_up or {}).items() if v is not None}
    data = frame.reset_index(drop=True)
    values = data[value].to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    keys = data[series].to_numpy() if series is not None else np.zeros(len(data), dtype=int)
    tame = finite & ~np.isin(keys, list(blew_up)) if blew_up else finite.copy()
    if domain is not None:
        lo, hi = map(float, domain)
    elif tame.any():
        lo, hi = float(values[tame].min()), float(values[tame].max())
        if reference is not None and len(blew_up):  # a lone tame run must not shrink the view below the lesson's
            lo, hi = min(lo, reference[0]), max(hi, reference[1])
    elif reference is not None:
        lo, hi = map(float, reference)
    elif finite.any():
        lo, hi = float(values[finite].min()), float(values[finite].max())
    else:
        lo, hi = -1.0, 1.0
    if domain is None:
        lo, hi = padded(lo, hi, pad)
    shown = np.clip(values, lo, hi)
    cut = finite & (shown != values)
    drawn = data.assign(**{value: shown, "clipped": cut})[finite].reset_index(drop=True)

    marks = []
    for key in pd.unique(keys):
        rows = np.flatnonzero(keys == key)
        outside = rows[cut[rows] | ~finite[rows]]
        blow = blew_up.get(key)
        if outside.size:
            i = outside[0]
            if not finite[i]:  # a value that is no number: the mark goes on the last one drawn
                before = rows[(rows < i) & finite[rows]]
                if not before.size:
                    continue
                i = before[-1]
        elif blow is not None:
            i = rows[finite[rows]][-1] if finite[rows].any() else None
            if i is None:
                continue
        else:
            continue
        marks.append({
            "series": key, "step": data[step].iloc[i], "value": float(values[i]), "shown": float(shown[i]),
            "blew_up_at": int(blow) if blow is not None else -1,
        })
    marks_frame = pd.DataFrame(marks, columns=["series", "step", "value", "shown", "blew_up_at"])
    return ChartView(drawn, (lo, hi), marks_frame, bool(cut.any() or not finite.all()))


# ------------------------------------------------------------------------------ animation

FRAME_SECONDS = (1.0, 0.5, 0.25, 0.1)  # the seconds per frame of play speeds 1 (slowest) to 4


def play_steps(last: int, most: int = 120) -> np.ndarray:
    """The step numbers a play visits from 0 to ``last``: every step when there are few, else about
    ``most`` of them, dense at the start where descent moves most and sparser in the long tail."""
    return sample_iterations(last, most)


def next_step(current: int, stops: Sequence[int] | np.ndarray) -> int | None:
    """The play's next step after ``current`` (None once it has shown the last one)."""
    stops = np.asarray(stops)
    later = stops[stops > current]
    return int(later[0]) if later.size else None


def frame_seconds(speed: int) -> float:
    """Seconds per frame at play speed 1 … len(FRAME_SECONDS)."""
    if not 1 <= speed <= len(FRAME_SECONDS):
        raise ValueError(f"speed must be 1 … {len(FRAME_SECONDS)}")
    return FRAME_SECONDS[speed - 1]


def frame(path: pd.DataFrame, upto: int, step: str = "step") -> pd.DataFrame:
    """The rows of an already computed path up to step ``upto``: one animation frame, nothing recomputed."""
    steps = path[step].to_numpy()
    return path.iloc[: int(np.searchsorted(steps, upto, side="right"))] if _sorted(steps) else path[steps <= upto]


def _sorted(values: np.ndarray) -> bool:
    """Whether the steps rise along the frame (one path), so a frame is a prefix found by bisection."""
    return bool(values.size < 2 or np.all(values[1:] >= values[:-1]))


# ------------------------------------------------------------------------------ comparing runs


@dataclass(frozen=True)
class Run:
    """One logged run: its number, settings, results (accuracy, error, …), seconds and loss curve (step, value)."""

    number: int
    settings: dict[str, Any]
    results: dict[str, Any]
    seconds: float
    curve: pd.DataFrame


@dataclass
class RunLog:
    """A session's runs, newest last, at most ``limit`` of them (the oldest are dropped).

    A run with the same settings as a logged one replaces it (training is seeded, so it is the
    same run again). Kept in the page's session state; plain data, so it pickles.
    """

    limit: int = 10
    runs: list[Run] = field(default_factory=list)
    _count: int = 0

    def add(self, settings: Mapping[str, Any], *, results: Mapping[str, Any] | None = None,
            seconds: float = 0.0, curve: pd.DataFrame | None = None, step: str = "step", value: str = "loss") -> int:
        """Log a run; ``curve`` is its loss history, read from columns ``step`` and ``value``. Returns its number."""
        if self.limit < 1:
            raise ValueError("limit must be at least 1")
        settings = dict(settings)
        points = pd.DataFrame({"step": [], "value": []})
        if curve is not None and len(curve):
            points = pd.DataFrame({"step": curve[step].to_numpy(), "value": curve[value].to_numpy(dtype=np.float64)})
        self._count += 1
        self.runs = [r for r in self.runs if r.settings != settings]
        self.runs.append(Run(self._count, settings, dict(results or {}), float(seconds), points))
        del self.runs[: max(0, len(self.runs) - self.limit)]
        return self._count

    def clear(self) -> None:
        """Forget every run (numbering goes on, so old numbers are never reused)."""
        self.runs = []

    def table(self) -> pd.DataFrame:
        """One row per run: number, then the settings, the results and seconds (columns in order of first use)."""
        rows = [{"run": r.number, **r.settings, **r.results, "seconds": r.seconds} for r in self.runs]
        return pd.DataFrame(rows, columns=_columns(self.runs))

    def curves(self, max_points: int = 300) -> pd.DataFrame:
        """Every run's loss curve in one long frame (run, step, value) for an overlay chart.

        Each curve is thinned to at most ``max_points`` evenly spaced rows (its first and last kept);
        values that are no finite number are left out, never drawn.
        """
        frames = []
        for r in self.runs:
            c = r.curve[np.isfinite(r.curve["value"].to_numpy(dtype=np.float64))]
            if len(c) > max_points:
                c = c.iloc[np.unique(np.linspace(0, len(c) - 1, max_points).round().astype(int))]
            frames.append(c.assign(run=r.number)[["run", "step", "value"]])
        if not frames:
            return pd.DataFrame({"run": [], "step": [], "value": []})
        return pd.concat(frames, ignore_index=True)


def _columns(runs: list[Run]) -> list[str]:
    """The table's columns: run, every setting and result in the order first seen, seconds."""
    names = ["run"]
    for r in runs:
        names += [k for k in (*r.settings, *r.results) if k not in names]
    return [*[n for n in names if n != "seconds"], "seconds"]
