"""A session's log of runs to compare (the regression and 5c pages): settings, results and loss curves,
plain data kept in session state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


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
