"""Lesson 4's speed goal: a page rerun that has to retrain stays well under a second.

The slowest settings the page allows (6 classes, 1000 steps) are trained with both losses, as
the page does for its side-by-side comparison, and compared with scikit-learn's lbfgs fit of the
same data measured in the same run.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from lessons import classification as lc


def best_of(repeats: int, work) -> float:
    """The fastest of ``repeats`` runs of ``work()``, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> list[str]:
    """Time the page's worst-case training, its decision-region grid, and the sklearn reference."""
    settings = lc.SETTINGS  # the page's own ranges: the most classes, noise, steps and learning rate it allows
    classes, steps = settings["classes"].hi, settings["steps"].hi
    X, y = lc.make_dataset("overlap", lc.N_TRAIN, n_classes=classes, noise=settings["noise"].hi, seed=0)

    def page_worst_case():
        for loss in lc.LOSSES:
            model = lc.fit_softmax_regression(X, y, lr=max(settings["lr"].options), steps=steps, loss=loss)
            lc.probability_grid(model, resolution=40)

    ours = best_of(3, page_worst_case)
    one_fit = best_of(3, lambda: lc.fit_softmax_regression(X, y, lr=1.0, steps=steps))
    model = lc.fit_softmax_regression(X, y, steps=10)
    grid = best_of(5, lambda: lc.probability_grid(model, resolution=40))
    sklearn = best_of(3, lambda: LogisticRegression(C=np.inf, max_iter=1000).fit(X, y))
    return [
        f"page worst case (2 fits x {steps} steps, {classes} classes, + grids): {ours * 1e3:.0f} ms (goal < 1000 ms)",
        f"one softmax fit, {steps} full-batch steps: {one_fit * 1e3:.0f} ms = {one_fit / steps * 1e6:.0f} µs per step",
        f"decision-region grid 40x40: {grid * 1e3:.1f} ms",
        f"scikit-learn lbfgs fit of the same data: {sklearn * 1e3:.1f} ms; our {steps}-step fit / sklearn = {one_fit / sklearn:.1f}x",
    ]
