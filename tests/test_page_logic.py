"""Logic that moved out of the pages into lessons/: the classification page's fitted run, which
data sets fix their class count, the live formula at a picked point, and the contour's view box."""

import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score

from lessons import classification as lc
from lessons import regression

# ------------------------------------------------------------------ classification: the fitted run


def test_fit_run_scores_the_model_on_its_sample_and_on_new_points():
    run = lc.fit_run("blobs", 3, 0.5, 7, 0.3, 100, "cross_entropy", n_train=120, n_test=300)
    X, y = lc.make_dataset("blobs", 120, n_classes=3, noise=0.5, seed=7)
    X_test, y_test = lc.make_dataset("blobs", 300, n_classes=3, noise=0.5, seed=1007)
    np.testing.assert_array_equal(run.X, X)
    np.testing.assert_array_equal(run.y, y)
    assert run.k == 3 and run.model.n_classes == 3
    assert run.train_accuracy == pytest.approx(accuracy_score(y, run.model.predict(X)))
    assert run.test_accuracy == pytest.approx(accuracy_score(y_test, run.model.predict(X_test)))


def test_fit_run_gives_moons_and_xor_two_classes_whatever_is_asked():
    for name in ("moons", "xor"):
        run = lc.fit_run(name, 5, 0.2, 0, 0.3, 20, "mse", n_train=60, n_test=60)
        assert run.k == 2 and set(np.unique(run.y)) == {0, 1}


def test_takes_class_count_agrees_with_the_labels_the_data_sets_make():
    for name in lc.DATASETS:
        _, y = lc.make_dataset(name, 300, n_classes=4, noise=0.3, seed=0)
        assert lc.takes_class_count(name) == (len(np.unique(y)) == 4), name


# ------------------------------------------------------------------ classification: the live formula


def numbers_after(latex: str, label: str) -> list[float]:
    """The decimals printed on the row that starts with ``label`` (its last ``= value``)."""
    row = next(r for r in latex.split(r"\\") if r.removeprefix(r"\small\begin{aligned}").startswith(label))
    return [float(v) for v in re.findall(r"-?\d+\.\d+", row.split("=")[-1])]


def test_point_latex_for_two_classes_prints_sigmoid_of_the_logit():
    model = lc.fit_run("moons", 2, 0.2, 1, 1.0, 200, "cross_entropy", n_train=100, n_test=100).model
    point = np.array([-1.5, 0.25])
    latex = lc.point_latex(model, point, lc.point_breakdown(model, point))
    z = torch.tensor(point) @ torch.tensor(model.w) + model.b
    assert numbers_after(latex, "P(1)") == [pytest.approx(float(torch.sigmoid(z)), abs=5e-5)]
    assert numbers_after(latex, "P(0)") == [pytest.approx(1 - float(torch.sigmoid(z)), abs=5e-5)]
    assert numbers_after(latex, "P(0)+P(1)") == [1.0]
    assert r"\cdot(-1.5)" in latex and r"\cdot0.25" in latex, "coordinates as the slider shows them, negatives bracketed"


def test_point_latex_for_k_classes_prints_softmax_and_its_sum():
    model = lc.fit_run("blobs", 4, 0.4, 2, 0.3, 100, "cross_entropy", n_train=120, n_test=120).model
    point = np.array([2.0, -3.0])
    latex = lc.point_latex(model, point, lc.point_breakdown(model, point))
    expected = torch.softmax(torch.tensor(point) @ torch.tensor(model.W) + torch.tensor(model.b), dim=0).numpy()
    for i, p in enumerate(expected):
        assert numbers_after(latex, f"p_{i}") == [pytest.approx(p, abs=5e-5)]
    assert latex.removesuffix(r"\end{aligned}").endswith("1.0000")


def test_point_latex_writes_tiny_and_huge_weights_as_powers_of_ten():
    history = lc.TrainingHistory(loss=np.array([1.0]), accuracy=np.array([0.5]))
    model = lc.LogisticRegressionModel(w=np.array([2e-5, -3e6]), b=0.0, loss_name="mse", history=history)
    point = np.array([1.0, 1e-7])
    latex = lc.point_latex(model, point, lc.point_breakdown(model, point))
    assert r"2.00\times 10^{-5}" in latex and r"(-3.00\times 10^{6})" in latex


# ------------------------------------------------------------------ regression: the contour's view box


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
