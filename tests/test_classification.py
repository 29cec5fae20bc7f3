"""Lesson 4: sigmoid/softmax, logistic and softmax regression, the data sets, and the page.

References: torch (sigmoid, softmax, autograd) for the maths, scikit-learn's unpenalised
LogisticRegression for the fitted models.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import open_page
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from app import ui
from app.i18n import STRINGS
from lessons import classification as lc

PAGE = "pages/classification.py"
finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


def key(name: str) -> str:
    return ui.widget_key("classification", name)


# ------------------------------------------------------------------------- sigmoid, softmax


def test_sigmoid_and_softmax_match_torch():
    z = np.linspace(-30, 30, 121).reshape(11, 11)
    np.testing.assert_allclose(lc.sigmoid(z), torch.sigmoid(torch.tensor(z)).numpy(), rtol=1e-12, atol=1e-300)
    for axis in (0, 1, -1):
        np.testing.assert_allclose(lc.softmax(z, axis=axis), torch.softmax(torch.tensor(z), dim=axis).numpy(), rtol=1e-12)


def test_extreme_logits_stay_finite():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]])
    s = lc.sigmoid(z)
    assert np.all(np.isfinite(s)) and s[0, 0] == 1.0 and s[0, 1] == 0.0 and s[0, 2] == 0.5
    p = lc.softmax(z)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]])
    np.testing.assert_allclose(lc.softmax(z, axis=0).sum(axis=0), 1.0, atol=1e-15)
    assert np.all(np.isfinite(lc.log_softmax(z)))


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=finite_floats))
def test_softmax_rows_sum_to_one_for_any_finite_logits(z):
    p = lc.softmax(z, axis=1)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the largest logit always gets the largest probability (ties in p allowed after rounding)
    rows = np.arange(len(z))
    assert np.all(p[rows, np.argmax(z, axis=1)] == p.max(axis=1))


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=finite_floats))
def test_sigmoid_is_finite_bounded_and_symmetric_for_any_finite_z(z):
    s = lc.sigmoid(z)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s + lc.sigmoid(-z), 1.0, atol=1e-15)


def test_sigmoid_curve_is_the_squashed_line():
    curve = lc.sigmoid_curve(2.0, -1.0, lo=-3, hi=3, n=61)
    np.testing.assert_allclose(curve["z"], 2.0 * curve["x"] - 1.0)
    np.testing.assert_allclose(curve["sigma"], 1 / (1 + np.exp(-curve["z"])))
    assert curve["sigma"].between(0, 1).all() and curve["sigma"].is_monotonic_increasing


# --------------------------------------------------------------------- losses and gradients


@pytest.mark.parametrize("loss", lc.LOSSES)
def test_logistic_loss_and_gradient_match_autograd(loss):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, size=30)
    w, b = rng.normal(size=3), 0.3
    value, dw, db = lc.logistic_loss_and_gradient(w, b, X, y, loss)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True, dtype=torch.float64)
    logits = torch.tensor(X) @ tw + tb
    target = torch.tensor(y, dtype=torch.float64)
    if loss == "cross_entropy":
        ref = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    else:
        ref = torch.nn.functional.mse_loss(torch.sigmoid(logits), target)
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10)
    assert db == pytest.approx(tb.grad.item(), rel=1e-10)


@pytest.mark.parametrize("loss", lc.LOSSES)
def test_softmax_loss_and_gradient_match_autograd(loss):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 4, size=40)
    W, b = rng.normal(size=(2, 4)), rng.normal(size=4)
    value, dW, db = lc.softmax_loss_and_gradient(W, b, X, lc.one_hot(y, 4), loss)
    tW = torch.tensor(W, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    logits = torch.tensor(X) @ tW + tb
    if loss == "cross_entropy":
        ref = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
    else:
        # the course's squared error against one-hot targets, summed over classes, averaged over points
        onehot = torch.nn.functional.one_hot(torch.tensor(y), 4).double()
        ref = ((torch.softmax(logits, dim=1) - onehot) ** 2).sum(dim=1).mean()
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(dW, tW.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10, atol=1e-15)


# ----------------------------------------------------------------------------------- data


@pytest.mark.parametrize("name", lc.DATASETS)
def test_datasets_are_balanced_seeded_and_in_the_picture(name):
    X, y = lc.make_dataset(name, 120, n_classes=3, noise=0.3, seed=5)
    k = lc.dataset_classes(name, 3)
    assert X.shape == (120, 2) and y.shape == (120,)
    assert np.bincount(y).tolist() == [120 // k] * k
    X2, y2 = lc.make_dataset(name, 120, n_classes=3, noise=0.3, seed=5)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, lc.make_dataset(name, 120, n_classes=3, noise=0.3, seed=6)[0])
    assert np.mean(np.abs(X) < lc.EXTENT) > 0.97


def test_noise_spreads_the_classes():
    def spread(noise):
        X, y = lc.make_dataset("blobs", 600, n_classes=3, noise=noise, seed=0)
        return np.mean([X[y == c].std(axis=0).mean() for c in range(3)])

    assert spread(0.0) < spread(0.5) < spread(1.5)


def test_moons_and_xor_always_have_two_classes():
    assert lc.dataset_classes("moons", 5) == lc.dataset_classes("xor", 4) == 2
    assert lc.dataset_classes("blobs", 5) == 5
    with pytest.raises(ValueError):
        lc.dataset_classes("spirals", 2)
    with pytest.raises(ValueError):
        lc.make_dataset("blobs", n_classes=lc.MAX_CLASSES + 1)
    with pytest.raises(ValueError):
        lc.make_dataset("blobs", noise=float("nan"))


# ------------------------------------------------------------------------------ training


@pytest.fixture(scope="module")
def held_out():
    """Overlapping blob data, 2–4 classes: 300 training points and 2000 new points of the same distribution."""
    sets = {}
    for k in (2, 3, 4):
        for name, noise in (("overlap", 0.3), ("blobs", 1.0)):
            train = lc.make_dataset(name, 300, n_classes=k, noise=noise, seed=0)
            test = lc.make_dataset(name, 2000, n_classes=k, noise=noise, seed=1)
            sets[(k, name)] = train, test
    return sets


@pytest.mark.parametrize("name", ["overlap", "blobs"])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_held_out_accuracy_matches_unpenalised_sklearn(held_out, k, name):
    (X, y), (Xt, yt) = held_out[(k, name)]
    fit = lc.fit_logistic_regression if k == 2 else lc.fit_softmax_regression
    model = fit(X, y, lr=1.0, steps=500)
    # scikit-learn 1.9 deprecates penalty=None; C=inf is its documented unpenalised form.
    reference = LogisticRegression(C=np.inf, max_iter=5000).fit(X, y)
    assert abs(lc.accuracy(model, Xt, yt) - reference.score(Xt, yt)) <= 0.03
    if name == "overlap":  # the optimum is finite and unique there: the probabilities agree too
        np.testing.assert_allclose(model.class_probabilities(Xt), reference.predict_proba(Xt), atol=0.03)


def test_shapes_and_probabilities():
    X, y = lc.make_dataset("overlap", 100, n_classes=2, seed=3)
    logistic = lc.fit_logistic_regression(X, y, steps=50)
    assert logistic.predict_proba(X).shape == (100,)
    np.testing.assert_allclose(logistic.class_probabilities(X).sum(axis=1), 1.0)
    np.testing.assert_allclose(logistic.class_probabilities(X)[:, 1], logistic.predict_proba(X))
    np.testing.assert_array_equal(logistic.predict(X), (logistic.predict_proba(X) >= 0.5).astype(int))
    X, y = lc.make_dataset("overlap", 100, n_classes=4, seed=3)
    softmax = lc.fit_softmax_regression(X, y, steps=50)
    assert softmax.predict_proba(X).shape == (100, 4) and softmax.n_classes == 4
    np.testing.assert_allclose(softmax.predict_proba(X).sum(axis=1), 1.0)
    np.testing.assert_array_equal(softmax.predict(X), softmax.predict_proba(X).argmax(axis=1))


@pytest.mark.parametrize("loss", lc.LOSSES)
def test_history_records_every_step_and_ends_at_the_returned_model(loss):
    X, y = lc.make_dataset("overlap", 150, n_classes=3, noise=0.3, seed=4)
    model = lc.fit_softmax_regression(X, y, lr=0.3, steps=80, loss=loss, seed=1)
    hist = model.history
    assert len(hist.loss) == len(hist.accuracy) == 81
    assert hist.loss[-1] < hist.loss[0]
    # step 0 is the (nearly uniform) starting model: ln 3 for cross-entropy, (1 − 1/3)² + 2·(1/3)² for MSE
    start = np.log(3) if loss == "cross_entropy" else 2 / 3
    assert hist.loss[0] == pytest.approx(start, abs=0.02)
    # the last entry is the returned model evaluated on the raw inputs: standardisation was undone exactly
    p = model.predict_proba(X)
    final = -np.mean(np.log(p[np.arange(len(y)), y])) if loss == "cross_entropy" else np.mean(np.sum((p - lc.one_hot(y, 3)) ** 2, axis=1))
    assert hist.loss[-1] == pytest.approx(final, rel=1e-9)
    assert hist.accuracy[-1] == pytest.approx(lc.accuracy(model, X, y))


def test_logistic_history_ends_at_the_returned_model():
    X, y = lc.make_dataset("moons", 150, noise=0.2, seed=2)
    model = lc.fit_logistic_regression(X, y, lr=0.5, steps=60)
    p = model.predict_proba(X)
    assert model.history.loss[-1] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-9)
    assert model.history.accuracy[-1] == pytest.approx(lc.accuracy(model, X, y))


def test_raw_units_do_not_matter():
    """Standardising inside the fit: the same data in other units gives the same predictions."""
    X, y = lc.make_dataset("overlap", 200, n_classes=3, seed=8)
    a = lc.fit_softmax_regression(X, y, steps=100)
    b = lc.fit_softmax_regression(X * [1000.0, 0.01] + [5e4, -3.0], y, steps=100)
    np.testing.assert_allclose(b.predict_proba(X * [1000.0, 0.01] + [5e4, -3.0]), a.predict_proba(X), atol=1e-9)


@pytest.mark.parametrize("k", [2, 3])
def test_mse_and_cross_entropy_both_train(k):
    X, y = lc.make_dataset("blobs", 200, n_classes=k, noise=0.3, seed=0)
    Xt, yt = lc.make_dataset("blobs", 500, n_classes=k, noise=0.3, seed=1)
    for loss in lc.LOSSES:
        model = lc.fit_classifier(X, y, n_classes=k, lr=0.3, steps=150, loss=loss)
        assert model.loss_name == loss
        assert lc.accuracy(model, Xt, yt) > 0.95
        assert np.all(np.diff(model.history.loss) <= 1e-12), f"{loss} loss went up with a small step"


def test_huge_learning_rate_stays_finite():
    X, y = lc.make_dataset("overlap", 200, n_classes=6, noise=1.5, seed=0)
    for loss in lc.LOSSES:
        model = lc.fit_softmax_regression(X, y, lr=10.0, steps=300, loss=loss)
        assert np.all(np.isfinite(model.history.loss)) and np.all(np.isfinite(model.W))
        assert np.all(np.isfinite(model.predict_proba(np.array([[6.0, -6.0], [1e3, 1e3]]))))


def test_xor_defeats_a_linear_model_but_not_a_product_feature():
    X, y = lc.make_dataset("xor", 400, noise=0.3, seed=0)
    Xt, yt = lc.make_dataset("xor", 2000, noise=0.3, seed=1)
    for loss in lc.LOSSES:
        model = lc.fit_logistic_regression(X, y, lr=1.0, steps=1000, loss=loss)
        assert abs(lc.accuracy(model, Xt, yt) - 0.5) < 0.1, loss
    assert abs(LogisticRegression(C=np.inf).fit(X, y).score(Xt, yt) - 0.5) < 0.1
    # The data really are XOR: one non-linear feature x₁·x₂ makes them linearly separable.
    def lift(A):
        return np.column_stack([A, A[:, 0] * A[:, 1]])

    lifted = lc.fit_logistic_regression(lift(X), y, lr=1.0, steps=300)
    assert lc.accuracy(lifted, lift(Xt), yt) > 0.9


def test_bad_input_is_refused_clearly():
    X, y = lc.make_dataset("blobs", 50, n_classes=3)
    with pytest.raises(ValueError, match="labels 0 and 1"):
        lc.fit_logistic_regression(X, y)
    with pytest.raises(ValueError, match="loss"):
        lc.fit_softmax_regression(X, y, loss="hinge")
    with pytest.raises(ValueError, match="learning rate"):
        lc.fit_softmax_regression(X, y, lr=0.0)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lc.fit_softmax_regression(bad, y)
    with pytest.raises(ValueError):
        lc.fit_softmax_regression(X, y, n_classes=2)


# ------------------------------------------------------------------------- what is drawn


def test_probability_grid_covers_the_plane_and_sums_to_one():
    X, y = lc.make_dataset("overlap", 120, n_classes=4, seed=0)
    model = lc.fit_softmax_regression(X, y, steps=30)
    grid = lc.probability_grid(model, lo=-6, hi=6, resolution=10)
    assert len(grid) == 100
    probs = grid[[f"p{k}" for k in range(4)]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(grid["cls"], probs.argmax(axis=1))
    np.testing.assert_allclose(grid["confidence"], probs.max(axis=1))
    np.testing.assert_allclose(probs, model.predict_proba(grid[["x1", "x2"]].to_numpy()))
    # the cells tile [lo, hi]² exactly
    assert grid["x1_lo"].min() == pytest.approx(-6) and grid["x2_hi"].max() == pytest.approx(6)
    np.testing.assert_allclose((grid["x1_hi"] - grid["x1_lo"]).to_numpy(), 1.2)


def test_point_breakdown_is_softmax_of_the_logits():
    X, y = lc.make_dataset("blobs", 90, n_classes=3, seed=0)
    model = lc.fit_softmax_regression(X, y, steps=200)
    for point in ([0.5, 0.5], [-6.0, 6.0], [6.0, -6.0]):
        part = lc.point_breakdown(model, point)
        np.testing.assert_allclose(part.logits, np.asarray(point) @ model.W + model.b)
        np.testing.assert_allclose(part.exponentials / part.exponentials.sum(), part.probabilities)
        np.testing.assert_allclose(part.probabilities, torch.softmax(torch.tensor(part.logits), 0).numpy())
        assert part.exponentials.max() == 1.0
    X, y = lc.make_dataset("moons", 90, seed=0)
    logistic = lc.fit_logistic_regression(X, y, steps=100)
    part = lc.point_breakdown(logistic, [1.0, -1.0])
    p1 = logistic.predict_proba(np.array([[1.0, -1.0]]))[0]
    np.testing.assert_allclose(part.probabilities, [1 - p1, p1])
    np.testing.assert_allclose(lc.softmax(part.logits), part.probabilities)


def test_probability_bars_stack_to_exactly_one():
    bars = lc.probability_bars(lc.softmax(np.array([2.0, -1.0, 0.5, 0.0])))
    assert bars["start"].iloc[0] == 0 and bars["end"].iloc[-1] == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(bars["start"].iloc[1:].to_numpy(), bars["end"].iloc[:-1].to_numpy())
    np.testing.assert_allclose(bars["end"] - bars["start"], bars["p"])


def test_history_frame():
    X, y = lc.make_dataset("blobs", 60, n_classes=2)
    model = lc.fit_logistic_regression(X, y, steps=9)
    frame = lc.history_frame(model.history)
    assert frame["step"].tolist() == list(range(10))
    np.testing.assert_array_equal(frame["loss"], model.history.loss)


# ------------------------------------------------------------------------- the fitted run


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


# ------------------------------------------------------------------------- the live formula


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


# ------------------------------------------------------------------ what the page says, checked
# Each text the page picks by a result states a claim (in lessons/classification.py, beside the code that
# picks it); these properties check the claim over the page's whole slider ranges whenever the text shows.

S = lc.SETTINGS


def on_grid(name: str, step: float):
    """Setting ``name``'s values on its slider's grid of ``step``."""
    lo, hi = S[name].lo, S[name].hi
    return st.integers(0, round((hi - lo) / step)).map(lambda i: round(lo + i * step, 10))


weights, biases = on_grid("w", 0.1), on_grid("b", 0.1)
noises = on_grid("noise", 0.05)
seeds = st.integers(S["seed"].lo, S["seed"].hi)
rates = st.sampled_from(S["lr"].options)
step_counts = st.integers(S["steps"].lo, S["steps"].hi)
losses = st.sampled_from(S["loss"].options)
class_counts = st.integers(S["classes"].lo, S["classes"].hi)


@settings(max_examples=200, deadline=None)
@given(weights, biases)
def test_sigmoid_notes_say_where_sigma_is_a_half(w, b):
    """``sigmoid_half``: σ = 0.5 at x = −b/w, below on one side and above on the other;
    ``sigmoid_flat``: σ(b) at every x."""
    middle = lc.sigmoid_midpoint(w, b)
    x = torch.linspace(-6, 6, 241, dtype=torch.float64)
    sigma = torch.sigmoid(w * x + b)
    if middle is None:
        assert w == 0
        torch.testing.assert_close(sigma, torch.full_like(sigma, float(torch.sigmoid(torch.tensor(b)))))
        return
    at = lambda v: float(torch.sigmoid(torch.tensor(w * v + b, dtype=torch.float64)))
    assert at(middle) == pytest.approx(0.5, abs=1e-12)
    assert (at(middle - 1) - 0.5) * (at(middle + 1) - 0.5) < 0


@settings(max_examples=100, deadline=None)
@given(st.floats(-700, 700))
def test_two_is_softmax_sigma_is_the_second_entry_of_softmax_0_z(z):
    """``two_is_softmax`` (shown for two classes): σ(z) is exactly the second entry of softmax(0, z)."""
    reference = torch.softmax(torch.tensor([0.0, z], dtype=torch.float64), dim=0)[1].item()
    assert float(lc.sigmoid(z)) == pytest.approx(reference, rel=1e-12, abs=1e-300)
    assert lc.softmax(np.array([0.0, z]))[1] == pytest.approx(reference, rel=1e-12, abs=1e-300)


def separable(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether some straight line puts the two classes on its two sides (a linear programme's feasibility)."""
    sign = np.where(y == 1, 1.0, -1.0)
    rows = -sign[:, None] * np.column_stack([X, np.ones(len(X))])
    found = linprog(np.zeros(3), A_ub=rows, b_ub=-np.ones(len(X)), bounds=[(None, None)] * 3)
    return found.status == 0


def test_separable_tells_a_line_from_no_line():
    X, y = lc.make_dataset("blobs", 200, n_classes=2, noise=0.0, seed=0)
    assert separable(X, y)
    assert not separable(np.array([[1.0, 1], [-1, -1], [1, -1], [-1, 1]]), np.array([0, 0, 1, 1]))


@settings(max_examples=100, deadline=None)
@given(noises, seeds)
def test_moons_note_no_straight_line_separates_the_moons(noise, seed):
    """``moons_note``: no straight line separates the training points, so some always stay wrong."""
    X, y = lc.make_dataset("moons", lc.N_TRAIN, noise=noise, seed=seed)
    assert lc.fit_note("moons", 1.0) == "moons_note"
    assert not separable(X, y)


@settings(max_examples=60, deadline=None)
@given(class_counts, noises, seeds, rates, step_counts, losses)
def test_xor_notes_hold_for_every_setting(classes, noise, seed, lr, steps, loss):
    """``xor_guess``: held-out accuracy under 60%; ``xor_corner``: from 60% up to at most 80%."""
    run = lc.fit_run("xor", classes, noise, seed, lr, steps, loss, n_train=lc.N_TRAIN, n_test=lc.N_TEST)
    X_test, y_test = lc.make_dataset("xor", lc.N_TEST, noise=noise, seed=seed + 1000)
    accuracy = accuracy_score(y_test, run.model.predict(X_test))
    assert accuracy == pytest.approx(run.test_accuracy)
    note = lc.fit_note("xor", run.test_accuracy)
    if note == "xor_guess":
        assert accuracy < 0.6
    else:
        assert note == "xor_corner" and 0.6 <= accuracy <= 0.8


def mean_confidence(run: lc.FittedRun) -> float:
    """Independently of ``lc.mean_confidence``: torch's softmax of the class scores, largest per point."""
    probabilities = torch.softmax(torch.tensor(run.model.class_logits(run.X)), dim=1)
    return float(probabilities.max(dim=1).values.mean())


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(lc.DATASETS), class_counts, noises, seeds, rates, step_counts)
def test_compare_notes_name_the_surer_loss(data, classes, noise, seed, lr, steps):
    """``compare_ce_surer`` / ``compare_mse_surer``: that loss's mean confidence is higher by more than half a
    percentage point (so the two numbers the note prints differ); ``compare_same``: within half a point."""
    ce, mse = (lc.fit_run(data, classes, noise, seed, lr, steps, loss) for loss in ("cross_entropy", "mse"))
    assert lc.mean_confidence(ce) == pytest.approx(mean_confidence(ce), abs=1e-12)
    gap = mean_confidence(ce) - mean_confidence(mse)
    note = lc.compare_note(ce, mse)
    if note == "compare_ce_surer":
        assert gap > 0.005 - 1e-12 and f"{mean_confidence(ce):.1%}" != f"{mean_confidence(mse):.1%}"
    elif note == "compare_mse_surer":
        assert gap < -0.005 + 1e-12 and f"{mean_confidence(ce):.1%}" != f"{mean_confidence(mse):.1%}"
    else:
        assert note == "compare_same" and abs(gap) <= 0.005 + 1e-12


@settings(max_examples=200, deadline=None)
@given(st.floats(-30, 30), st.sampled_from([0, 1]))
def test_compare_caption_mse_gradient_carries_the_slope_of_sigma(z, y):
    """``compare_caption``: cross-entropy's gradient is p − y; MSE's is that times 2·σ′ = 2p(1 − p),
    nearly 0 where the model is sure, right or wrong."""
    X = np.array([[1.0]])
    p = float(torch.sigmoid(torch.tensor(z, dtype=torch.float64)))
    _, ce_dw, _ = lc.logistic_loss_and_gradient(np.array([z]), 0.0, X, np.array([y]), "cross_entropy")
    _, mse_dw, _ = lc.logistic_loss_and_gradient(np.array([z]), 0.0, X, np.array([y]), "mse")
    assert ce_dw[0] == pytest.approx(p - y, abs=1e-12)
    assert mse_dw[0] == pytest.approx(2 * (p - y) * p * (1 - p), abs=1e-12)
    if abs(z) > 10:  # sure: the MSE push is tiny even when wrong (|p − y| near 1)
        assert abs(mse_dw[0]) < 1e-4


# The "try it" prompts' claims, at the prompt's settings with everything it leaves alone anywhere.


def preset(text_key: str) -> dict:
    """The settings the page's "try it" prompt ``text_key`` loads, read from the page's ``PRESETS``."""
    tree = ast.parse((Path(__file__).resolve().parent.parent / PAGE).read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Preset"]
    return next(ast.literal_eval(call.args[1]) for call in calls if ast.literal_eval(call.args[0]) == text_key)


@settings(max_examples=20, deadline=None)
@given(class_counts, seeds, losses)
def test_try_xor_stays_far_from_perfect(classes, seed, loss):
    """``try_xor``: after the prompt's 1000 steps, at least one new point in five is still wrong."""
    values = {**{name: s.default for name, s in S.items()}, "classes": classes, "seed": seed, "loss": loss,
              **preset("classification.try_xor")}
    run = lc.fit_run(values["data"], values["classes"], values["noise"], values["seed"], values["lr"],
                     values["steps"], values["loss"])
    assert run.test_accuracy <= 0.8


@settings(max_examples=20, deadline=None)
@given(seeds)
def test_try_noise_is_less_sure_and_less_accurate_than_the_default(seed):
    """``try_noise``: against the default blobs (same seed), lower mean confidence and held-out accuracy."""
    values = {**{name: s.default for name, s in S.items()}, "seed": seed}
    noisy = {**values, **preset("classification.try_noise")}

    def run(v):
        return lc.fit_run(v["data"], v["classes"], v["noise"], v["seed"], v["lr"], v["steps"], v["loss"])

    default, overlapping = run(values), run(noisy)
    assert mean_confidence(overlapping) < mean_confidence(default)
    assert overlapping.test_accuracy < default.test_accuracy


@settings(max_examples=30, deadline=None)
@given(noises, seeds)
def test_try_slow_cross_entropy_is_surer_after_50_steps(noise, seed):
    """``try_slow``: after the prompt's 50 steps, cross-entropy is more sure than MSE, at any noise and seed."""
    v = {**{name: s.default for name, s in S.items()}, "noise": noise, "seed": seed, **preset("classification.try_slow")}
    ce, mse = (lc.fit_run(v["data"], v["classes"], v["noise"], v["seed"], v["lr"], v["steps"], loss) for loss in lc.LOSSES)
    assert mean_confidence(ce) > mean_confidence(mse)
    assert lc.compare_note(ce, mse) == "compare_ce_surer"


def test_try_steep_jumps_at_a_half():
    """``try_steep``: with w = 10, b = −5, σ goes from almost 0 to almost 1 around x = −b/w = 0.5."""
    v = preset("classification.try_steep")
    assert lc.sigmoid_midpoint(v["w"], v["b"]) == 0.5
    assert lc.sigmoid(v["w"] * 0.0 + v["b"]) < 0.01
    assert lc.sigmoid(v["w"] * 1.0 + v["b"]) > 0.99


# ------------------------------------------------------------------------------- the page

SLIDERS = {  # widget name: (lowest, highest)
    "w": (-10.0, 10.0),
    "b": (-10.0, 10.0),
    "classes": (2, lc.MAX_CLASSES),
    "noise": (0.0, 1.5),
    "seed": (0, 99),
    "steps": (1, 1000),
    "px": (-lc.EXTENT, lc.EXTENT),
    "py": (-lc.EXTENT, lc.EXTENT),
}


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_renders_with_every_slider_at_its_top_end_at_once(lang):
    """One slider at a time is tests/test_sweep.py's; here all at once (the slowest fits), both losses."""
    at = open_page(PAGE, lang=lang, timeout=120)
    assert_clean(at)
    assert STRINGS["classification.point_header"][lang] in [h.value for h in at.header]
    for name, (_, hi) in SLIDERS.items():
        at.slider(key=key(name)).set_value(hi)
    at.selectbox(key=key("data")).set_value("overlap")
    at.run()
    assert_clean(at)
    at.radio(key=key("loss")).set_value("mse").run()
    assert_clean(at)
    assert len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")) >= 6


@pytest.mark.parametrize("data", lc.DATASETS)
def test_every_data_set_and_loss_renders(data):
    at = open_page(PAGE, lang="en", query={"data": data, "loss": "mse"}, timeout=120)
    assert_clean(at)
    assert at.selectbox(key=key("data")).value == data
    assert at.radio(key=key("loss")).value == "mse"


def test_xor_preset_shows_the_failure_and_lands_in_the_url():
    at = open_page(PAGE, lang="en", timeout=120)
    prompts = [m.value for m in at.expander[0].markdown]
    preset = prompts.index(STRINGS["classification.try_xor"]["en"])
    at.button(key=f"classification.__preset{preset + 1}").click().run()  # __try is the first prompt
    assert_clean(at)
    assert at.selectbox(key=key("data")).value == "xor"
    warnings = [w.value for w in at.warning]
    assert any("XOR" in w for w in warnings), warnings
    assert at.query_params.get("data") == "xor"


def test_hostile_url_values_are_tamed():
    clean = open_page(PAGE, lang="zh", timeout=120)
    at = open_page(PAGE, lang="zh", query={"classes": "99", "lr": "7", "noise": "nan", "data": "<script>", "px": "-1e9"}, timeout=120)
    assert_clean(at)
    assert at.slider(key=key("classes")).value == lc.MAX_CLASSES
    assert at.select_slider(key=key("lr")).value == clean.select_slider(key=key("lr")).value
    assert at.slider(key=key("noise")).value == clean.slider(key=key("noise")).value
    assert at.selectbox(key=key("data")).value == "blobs"
    assert at.slider(key=key("px")).value == -lc.EXTENT
