"""``gradient_descent_runner`` against the course's own loop code, 1000 iterations, same run.

Goal (issue 4): at least 10× faster at 100 points and at least 150× at 10,000 points. Up to
``SEQUENTIAL_LIMIT`` points the results are the loop's bit for bit; above it they are numpy's
pairwise sums, and the report gives the largest relative difference from the loop's result.
The course's code is in ``benchmarks/course_code.py``, verbatim.
"""

from __future__ import annotations

import time

from benchmarks.course_code import course_gradient_descent_runner
from lessons.regression import (
    SEQUENTIAL_LIMIT,
    gradient_descent_runner,
    make_noisy_line,
)

ITERATIONS = 1000
GOALS = {100: 10.0, 10_000: 150.0}


def best_time(fn, repeats: int) -> tuple[float, object]:
    """The fastest of ``repeats`` runs (seconds) and the last result: the least disturbed by other load."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> list[str]:
    lines = [f"gradient_descent_runner vs the course's loop, {ITERATIONS} iterations, lr 0.0001, b = m = 0"]
    for n, goal in GOALS.items():
        # Data shaped like the course's data.csv: x in [20, 80], a slope near 1.4, noisy.
        points = make_noisy_line(1.4, 6.0, n=n, noise_std=10.0, x_range=(20.0, 80.0), seed=1)
        course_s, course_result = best_time(
            lambda: course_gradient_descent_runner(points, 0, 0, 0.0001, ITERATIONS), 3 if n <= 1000 else 1)
        ours_s, ours_result = best_time(
            lambda: gradient_descent_runner(points, 0, 0, 0.0001, ITERATIONS), 5)
        difference = max(abs(float(c) - o) / abs(float(c)) for c, o in zip(course_result, ours_result))
        sums = "in the loop's order" if n <= SEQUENTIAL_LIMIT else "pairwise"
        ratio = course_s / ours_s
        lines.append(
            f"{n:>6} points: course loop {course_s * 1000:9.1f} ms, vectorised {ours_s * 1000:7.2f} ms, "
            f"{ratio:6.1f}x faster (goal >= {goal:g}x: {'met' if ratio >= goal else 'MISSED'}); "
            f"sums {sums}, largest relative difference {difference:.1e}"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(main()))
