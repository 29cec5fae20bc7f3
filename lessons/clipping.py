"""A diverging run clipped out of the other runs' way, and marked where it left: chart data kept readable.

A run that blows up reaches 10⁶ while the others move within ±10: drawn on one axis, the others
become flat lines. ``clip_series`` picks the y-range from the runs that did not blow up (or from a
reference range the lesson gives), cuts the rest at its edge and says where each run left it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

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
