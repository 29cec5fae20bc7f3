"""The regression contour's view box: it holds the start, the closed-form minimum and the path, and
leaves out a path that blew up."""

import pandas as pd

from lessons import regression


def inside(box, b, w) -> bool:
    (b_lo, b_hi), (w_lo, w_hi) = box
    return b_lo < b < b_hi and w_lo < w < w_hi


def test_contour_view_box_holds_the_start_the_closed_form_and_the_path():
    points = regression.make_noisy_line(2.0, 1.0, n=50, noise_mean=0.0, noise_std=1.0, x_range=(0, 10), seed=0)
    run = regression.gradient_descent_history(points, 0.0, 0.0, 0.01, 300)
    path = regression.path_frame(run)
    best = regression.least_squares(points)
    box = regression.contour_view_box(path, [(0.0, 0.0), (1.0, 2.0)], best)
    assert inside(box, 0.0, 0.0) and inside(box, 1.0, 2.0) and inside(box, *best)
    assert all(inside(box, b, m) for b, m in zip(path["b"], path["m"]))


def test_contour_view_box_leaves_out_a_diverged_path():
    path = pd.DataFrame({"iteration": [0, 1, 2], "b": [0.0, 50.0, -5e4], "m": [0.0, 9e3, -1e6], "error": [1.0, 1e6, 1e12]})
    box = regression.contour_view_box(path, [(0.0, 0.0)], (1.0, 2.0), diverged=True)
    assert inside(box, 0.0, 0.0) and inside(box, 1.0, 2.0)
    assert not inside(box, 50.0, 9e3), "a path that blew up would hide the valley"
    assert regression.contour_view_box(path, [(0.0, 0.0)], None, diverged=False)[1][0] < -1e6
