"""Lesson 4: from regression to classification.

The course's two steps after linear regression:

- **Logistic regression** squashes the line ``w·x + b`` into [0, 1] with the sigmoid, giving
  P(class 1) for two classes;
- **Classification** with k classes: each point gets one score (logit) per class, and softmax
  turns the scores into probabilities that add up to 1.

Both models are trained here by plain full-batch gradient descent, the same loop as the
course's ``gradient_descent_runner``, with either cross-entropy or the squared error against
one-hot targets that the course uses for MNIST. Pure numpy: importing this module never loads
torch, so the page stays light.

The page's settings table (``SETTINGS``) lives here too, and so do the notes the page picks by a run's
result, each with the claim its text makes in the docstring of the function that picks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lessons.settings import Setting

LOSSES = ("cross_entropy", "mse")
DATASETS = ("blobs", "overlap", "moons", "xor")
MAX_CLASSES = 6
# How far the sample picture reaches: every data set is laid out to fit in [-EXTENT, EXTENT]².
EXTENT = 6.0
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
N_TRAIN, N_TEST = 200, 1000  # the page's training sample and its fresh held-out sample

# The page's settings (URL name -> Setting); the take-home program and the benchmark read them too.
SETTINGS = {
    "w": Setting(1.0, -10.0, 10.0),
    "b": Setting(0.0, -10.0, 10.0),
    "data": Setting("blobs", options=DATASETS),
    "classes": Setting(3, 2, MAX_CLASSES),
    "noise": Setting(0.3, 0.0, 1.5),
    "seed": Setting(0, 0, 99),
    "lr": Setting(0.3, options=LEARNING_RATES),
    "steps": Setting(200, 1, 1000),
    "loss": Setting("cross_entropy", options=LOSSES),
    "px": Setting(0.5, -EXTENT, EXTENT),
    "py": Setting(0.5, -EXTENT, EXTENT),
}


# ------------------------------------------------------------------ the two squashing functions


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), computed without overflow for any finite z.

    e^(−z) overflows for z ≲ −710, so for negative z the equal form e^z / (1 + e^z) is used:
    both only ever exponentiate −|z|.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z) = z − log Σ e^z, stable for any finite z (the log-sum-exp trick)."""
    z = np.asarray(z, dtype=float)
    top = np.max(z, axis=axis, keepdims=True)
    # z − max can overflow to −inf when z spans more than the float range; e^(−inf) = 0 is
    # exactly the right probability then, so the warning is expected, not a fault.
    with np.errstate(over="ignore"):
        shifted = z - top
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(z)_k = e^(z_k) / Σ_j e^(z_j) along ``axis``: every slice sums to 1.

    Subtracting the largest logit first changes nothing mathematically but keeps every
    exponent ≤ 0, so nothing overflows and the largest term is exactly e^0 = 1.
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore"):
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def sigmoid_midpoint(w: float, b: float) -> float | None:
    """Where σ(w·x + b) = 0.5, i.e. where the line crosses 0: x = −b/w; None when w = 0.

    The page's notes, chosen here:
    - a number (``sigmoid_half``): σ(w·x + b) = 0.5 exactly there, below 0.5 on one side and above on the other;
    - None (``sigmoid_flat``): the line is flat, so σ(w·x + b) = σ(b) for every x.
    """
    return None if w == 0 else -b / w + 0.0  # + 0.0 turns −0.0 into 0.0


def sigmoid_curve(w: float, b: float, *, lo: float = -6.0, hi: float = 6.0, n: int = 241) -> pd.DataFrame:
    """The 1-D picture: the line z = w·x + b and its squashed version σ(z), on a grid of x."""
    x = np.linspace(lo, hi, n)
    z = w * x + b
    return pd.DataFrame({"x": x, "z": z, "sigma": sigmoid(z)})


# ------------------------------------------------------------------------------- data sets


def dataset_classes(name: str, n_classes: int) -> int:
    """How many classes data set ``name`` has: blobs take the number asked for, moons and XOR have 2."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {DATASETS}")
    if name in ("moons", "xor"):
        return 2
    if not 2 <= n_classes <= MAX_CLASSES:
        raise ValueError(f"n_classes must be between 2 and {MAX_CLASSES}, got {n_classes}")
    return int(n_classes)


def make_dataset(
    name: str, n: int = 200, *, n_classes: int = 2, noise: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small 2-D data set: points X of shape (n, 2) and integer labels y in 0..k−1.

    - ``blobs``: k well-separated Gaussian clusters on a circle;
    - ``overlap``: k clusters close together, so they overlap;
    - ``moons``: two interleaved half circles (a curved boundary);
    - ``xor``: four clusters whose diagonal pairs share a class (no straight line separates them).

    ``noise`` widens every cluster (or jitters the moons); the layout itself never depends on the
    seed, so two seeds give two samples of the same distribution (training and held-out data).
    Classes are balanced.
    """
    k = dataset_classes(name, n_classes)
    if n < k:
        raise ValueError(f"need at least one point per class: n={n} < {k} classes")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number ≥ 0, got {noise}")
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % k)
    if name in ("blobs", "overlap"):
        radius, spread = (3.0, 0.35 + noise) if name == "blobs" else (2.0, 0.8 + noise)
        # Start at 45° so that two classes sit on the diagonal, away from the axes.
        angle = 2 * np.pi * np.arange(k) / k + np.pi / 4
        centres = radius * np.column_stack([np.cos(angle), np.sin(angle)])
        X = centres[y] + rng.normal(0.0, spread, size=(n, 2))
    elif name == "moons":
        t = rng.uniform(0.0, np.pi, size=n)
        # The two half circles of the classic picture, centred on the origin and scaled up.
        upper = np.column_stack([np.cos(t), np.sin(t)])
        lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
        X = 2.5 * (np.where(y[:, None] == 0, upper, lower) - [0.5, 0.25])
        X = X + rng.normal(0.0, 0.1 + noise, size=(n, 2))
    else:  # xor
        corner = rng.integers(0, 2, size=n)  # which of the class's two diagonal corners
        sx = np.where(corner == 0, 1.0, -1.0)
        sy = np.where(y == 0, sx, -sx)  # class 0: same signs (x·y > 0), class 1: opposite signs
        X = 2.0 * np.column_stack([sx, sy]) + rng.normal(0.0, 0.4 + noise, size=(n, 2))
    return X, y.astype(int)


# ---------------------------------------------------------------------------- models


@dataclass(frozen=True)
class TrainingHistory:
    """Loss and training accuracy before training (index 0) and after each gradient step."""

    loss: np.ndarray
    accuracy: np.ndarray


@dataclass(frozen=True)
class LogisticRegressionModel:
    """Two classes: P(class 1 | x) = σ(w·x + b), with w and b in the units of the raw inputs."""

    w: np.ndarray  # (d,)
    b: float
    loss_name: str
    history: TrainingHistory

    n_classes = 2

    def decision(self, X: np.ndarray) -> np.ndarray:
        """The line before squashing: z = X·w + b, shape (n,)."""
        return np.asarray(X, dtype=float) @ self.w + self.b

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(class 1) for each row of X, shape (n,)."""
        return sigmoid(self.decision(X))

    def class_logits(self, X: np.ndarray) -> np.ndarray:
        """Per-class scores (0, z): softmax of them is (1 − σ(z), σ(z)), shape (n, 2)."""
        z = self.decision(X)
        return np.column_stack([np.zeros_like(z), z])

    def class_probabilities(self, X: np.ndarray) -> np.ndarray:
        """(P(class 0), P(class 1)) per row, shape (n, 2); σ(−z) keeps the small one accurate."""
        z = self.decision(X)
        return np.column_stack([sigmoid(-z), sigmoid(z)])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted class: 1 where P(class 1) ≥ 0.5, i.e. where z ≥ 0."""
        return (self.decision(X) >= 0).astype(int)


@dataclass(frozen=True)
class SoftmaxRegressionModel:
    """k classes: P(class | x) = softmax(x·W + b), with W (d, k) and b (k,) in raw-input units."""

    W: np.ndarray
    b: np.ndarray
    loss_name: str
    history: TrainingHistory

    @property
    def n_classes(self) -> int:
        """The number of classes k."""
        return self.W.shape[1]

    def class_logits(self, X: np.ndarray) -> np.ndarray:
        """Per-class scores z = x·W + b, shape (n, k)."""
        return np.asarray(X, dtype=float) @ self.W + self.b

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities per row, shape (n, k); each row sums to 1."""
        return softmax(self.class_logits(X), axis=1)

    def class_probabilities(self, X: np.ndarray) -> np.ndarray:
        """The same as ``predict_proba``: one column per class."""
        return self.predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class of each row."""
        return np.argmax(self.class_logits(X), axis=1)


# --------------------------------------------------------------------- losses and gradients


def one_hot(y: np.ndarray, k: int) -> np.ndarray:
    """Labels 0..k−1 as rows of the k×k identity: the targets the squared error compares with."""
    return np.eye(k)[np.asarray(y, dtype=int)]


def _check_loss(loss: str) -> None:
    """Refuse a loss name other than the two the lesson compares."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def logistic_loss_and_gradient(
    w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, loss: str = "cross_entropy"
) -> tuple[float, np.ndarray, float]:
    """The mean loss of P(1) = σ(X·w + b) against labels y ∈ {0, 1}, and its gradient (∂w, ∂b).

    - cross-entropy: −mean[y·log p + (1 − y)·log(1 − p)]; its gradient is the plain error p − y;
    - mse: mean[(p − y)²]; the chain rule adds σ' = p(1 − p), which is tiny where the sigmoid is
      flat — why squared error learns slowly from confidently wrong points.
    """
    _check_loss(loss)
    z = X @ w + b
    p = sigmoid(z)
    n = len(y)
    if loss == "cross_entropy":
        # log σ(z) = −log(1 + e^(−z)) and log(1 − σ(z)) = −log(1 + e^z), written with logaddexp
        # so that a confident wrong prediction gives a large finite loss instead of log 0.
        value = float(np.mean(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)))
        dz = (p - y) / n
    else:
        value = float(np.mean((p - y) ** 2))
        dz = 2.0 * (p - y) * p * (1.0 - p) / n
    return value, X.T @ dz, float(np.sum(dz))


def softmax_loss_and_gradient(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray, loss: str = "cross_entropy"
) -> tuple[float, np.ndarray, np.ndarray]:
    """The mean loss of P = softmax(X·W + b) against one-hot targets Y, and its gradient (∂W, ∂b).

    - cross-entropy: −mean over points of log P(true class); gradient per logit P − Y;
    - mse: mean over points of Σ_k (P_k − Y_k)², the course's squared error against one-hot
      targets; the gradient goes back through the softmax's Jacobian.
    """
    _check_loss(loss)
    z = X @ W + b
    n = len(Y)
    if loss == "cross_entropy":
        logp = log_softmax(z, axis=1)
        value = float(-np.mean(np.sum(Y * logp, axis=1)))
        dz = (np.exp(logp) - Y) / n
    else:
        p = softmax(z, axis=1)
        value = float(np.mean(np.sum((p - Y) ** 2, axis=1)))
        dp = 2.0 * (p - Y) / n
        # Softmax Jacobian-vector product: ∂p_k/∂z_j = p_k(δ_kj − p_j).
        dz = p * (dp - np.sum(dp * p, axis=1, keepdims=True))
    return value, X.T @ dz, np.sum(dz, axis=0)


# --------------------------------------------------------------------------------- training


def _prepare(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check the inputs; return X standardised to mean 0 and spread 1 per feature, its mean and spread, y.

    Standardising makes one learning rate work for every data set, whatever the units of x.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty (n, d) array, got shape {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"y must have one label per row of X: {y.shape} vs {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if not np.all(np.equal(np.mod(y, 1), 0)) or np.any(y < 0):
        raise ValueError("labels must be whole numbers 0, 1, 2, ...")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive number, got {lr}")
    if steps < 0:
        raise ValueError(f"steps must be ≥ 0, got {steps}")
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature carries no information; leave it unscaled
    return (X - mean) / scale, mean, scale, y.astype(int)


def fit_logistic_regression(
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr: float = 0.5,
    steps: int = 300,
    loss: str = "cross_entropy",
    seed: int = 0,
) -> LogisticRegressionModel:
    """Train P(1) = σ(w·x + b) on labels 0/1 by ``steps`` full-batch gradient-descent steps.

    Starts from small random weights (``seed``) and records loss and accuracy before training
    and after every step. The returned weights are mapped back to the raw inputs' units.
    """
    _check_loss(loss)
    Z, mean, scale, y = _prepare(X, y, lr, steps)
    if np.any(y > 1):
        raise ValueError("logistic regression takes labels 0 and 1; use fit_softmax_regression for more classes")
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.01, size=Z.shape[1])
    b = 0.0
    losses, accuracies = np.empty(steps + 1), np.empty(steps + 1)
    for step in range(steps + 1):
        value, dw, db = logistic_loss_and_gradient(w, b, Z, y, loss)
        losses[step] = value
        accuracies[step] = np.mean(((Z @ w + b) >= 0) == y)
        if step < steps:
            w, b = w - lr * dw, b - lr * db
    # σ(w·(x − mean)/scale + b) = σ((w/scale)·x + b − w·mean/scale): the same model on raw x.
    raw_w = w / scale
    return LogisticRegressionModel(
        raw_w, float(b - raw_w @ mean), loss, TrainingHistory(losses, accuracies)
    )


def fit_softmax_regression(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_classes: int | None = None,
    lr: float = 0.5,
    steps: int = 300,
    loss: str = "cross_entropy",
    seed: int = 0,
) -> SoftmaxRegressionModel:
    """Train P = softmax(x·W + b) on labels 0..k−1 by ``steps`` full-batch gradient-descent steps.

    k is ``n_classes`` or, by default, the largest label + 1. Records loss and accuracy before
    training and after every step; the returned W, b work on the raw inputs.
    """
    _check_loss(loss)
    Z, mean, scale, y = _prepare(X, y, lr, steps)
    k = int(y.max()) + 1 if n_classes is None else int(n_classes)
    if k < 2 or y.max() >= k:
        raise ValueError(f"need k ≥ 2 classes covering every label, got k={k}, largest label {y.max()}")
    Y = one_hot(y, k)
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 0.01, size=(Z.shape[1], k))
    b = np.zeros(k)
    losses, accuracies = np.empty(steps + 1), np.empty(steps + 1)
    for step in range(steps + 1):
        value, dW, db = softmax_loss_and_gradient(W, b, Z, Y, loss)
        losses[step] = value
        accuracies[step] = np.mean(np.argmax(Z @ W + b, axis=1) == y)
        if step < steps:
            W, b = W - lr * dW, b - lr * db
    raw_W = W / scale[:, None]
    return SoftmaxRegressionModel(raw_W, b - mean @ raw_W, loss, TrainingHistory(losses, accuracies))


def fit_classifier(
    X: np.ndarray, y: np.ndarray, *, n_classes: int, lr: float, steps: int, loss: str, seed: int = 0
) -> LogisticRegressionModel | SoftmaxRegressionModel:
    """The lesson's model for k classes: logistic regression for 2, softmax regression for more."""
    if n_classes == 2:
        return fit_logistic_regression(X, y, lr=lr, steps=steps, loss=loss, seed=seed)
    return fit_softmax_regression(X, y, n_classes=n_classes, lr=lr, steps=steps, loss=loss, seed=seed)


def accuracy(model: LogisticRegressionModel | SoftmaxRegressionModel, X: np.ndarray, y: np.ndarray) -> float:
    """The share of points whose predicted class is their label."""
    return float(np.mean(model.predict(X) == np.asarray(y)))


# ------------------------------------------------------------------------- what the page draws


def history_frame(history: TrainingHistory) -> pd.DataFrame:
    """The loss and accuracy curves as a table: one row per step (step 0 = before training)."""
    return pd.DataFrame(
        {"step": np.arange(len(history.loss)), "loss": history.loss, "accuracy": history.accuracy}
    )


def probability_grid(
    model: LogisticRegressionModel | SoftmaxRegressionModel,
    *,
    lo: float = -EXTENT,
    hi: float = EXTENT,
    resolution: int = 40,
) -> pd.DataFrame:
    """The decision regions: a resolution × resolution grid of cells over [lo, hi]².

    Each row is one cell: its centre (x1, x2), its edges (x1_lo … x2_hi, for rectangle marks),
    the predicted class, the model's confidence in it (the largest probability) and every
    class's probability ``p0``, ``p1``, ….
    """
    edges = np.linspace(lo, hi, resolution + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    gx, gy = np.meshgrid(centres, centres)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    probs = model.class_probabilities(points)
    half = (hi - lo) / resolution / 2
    frame = pd.DataFrame(
        {
            "x1": points[:, 0],
            "x2": points[:, 1],
            "x1_lo": points[:, 0] - half,
            "x1_hi": points[:, 0] + half,
            "x2_lo": points[:, 1] - half,
            "x2_hi": points[:, 1] + half,
            "cls": np.argmax(probs, axis=1),
            "confidence": np.max(probs, axis=1),
        }
    )
    for k in range(probs.shape[1]):
        frame[f"p{k}"] = probs[:, k]
    return frame


@dataclass(frozen=True)
class PointBreakdown:
    """One point's way through the model: logits, their shifted exponentials, and the probabilities."""

    logits: np.ndarray  # z, shape (k,)
    exponentials: np.ndarray  # e^(z_k − max z): softmax's numerators after the stability shift
    probabilities: np.ndarray  # exponentials / their sum; sums to 1


def point_breakdown(model: LogisticRegressionModel | SoftmaxRegressionModel, point: np.ndarray) -> PointBreakdown:
    """The logits z_k of one point and softmax(z)_k = e^(z_k − m) / Σ_j e^(z_j − m), m = max z.

    Subtracting m changes no probability but keeps every exponential in (0, 1], so the page can
    print the numbers even for points far out in the plane.
    """
    row = np.asarray(point, dtype=float).reshape(1, -1)
    logits = model.class_logits(row)[0]
    exponentials = np.exp(logits - logits.max())
    return PointBreakdown(logits, exponentials, model.class_probabilities(row)[0])


def probability_bars(probabilities: np.ndarray) -> pd.DataFrame:
    """One row per class: its probability and where its piece starts and ends on a 0-to-1 stacked bar."""
    p = np.asarray(probabilities, dtype=float)
    end = np.cumsum(p)
    return pd.DataFrame({"cls": np.arange(len(p)), "p": p, "start": end - p, "end": end})


def takes_class_count(name: str) -> bool:
    """Whether the student chooses data set ``name``'s number of classes (moons and XOR always have 2)."""
    return dataset_classes(name, 2) != dataset_classes(name, 3)


@dataclass(frozen=True)
class FittedRun:
    """A data set, the model fitted to it, and how well it does on those points and on new ones."""

    k: int  # number of classes
    X: np.ndarray  # training points, shape (n, 2)
    y: np.ndarray  # their labels in 0..k−1
    model: LogisticRegressionModel | SoftmaxRegressionModel
    train_accuracy: float
    test_accuracy: float  # on a fresh sample of the same data set (another seed)


def fit_run(
    name: str, n_classes: int, noise: float, seed: int, lr: float, steps: int, loss: str,
    *, n_train: int = 200, n_test: int = 1000,
) -> FittedRun:
    """Draw ``n_train`` points of data set ``name``, fit a classifier, and score it on ``n_test`` new points."""
    k = dataset_classes(name, n_classes)
    X, y = make_dataset(name, n_train, n_classes=k, noise=noise, seed=seed)
    X_test, y_test = make_dataset(name, n_test, n_classes=k, noise=noise, seed=seed + 1000)
    model = fit_classifier(X, y, n_classes=k, lr=lr, steps=steps, loss=loss, seed=seed)
    return FittedRun(k, X, y, model, accuracy(model, X, y), accuracy(model, X_test, y_test))


def _latex_number(value: float, digits: int = 2) -> str:
    """A number for the formula: fixed decimals, or m·10^e where fixed decimals would hide it."""
    if value != 0 and not 1e-3 <= abs(value) < 1e5:
        mantissa, exponent = f"{value:.{digits}e}".split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return f"{value:.{digits}f}"


def _latex_factor(value: float, digits: int = 2) -> str:
    """A number to multiply with: negatives in brackets, so '· (−1.2)' reads right."""
    text = _latex_number(value, digits)
    return f"({text})" if value < 0 else text


def _latex_coordinate(value: float) -> str:
    """A coordinate of the picked point exactly as the page's slider shows it (no padding zeros)."""
    text = format(float(value), ".4g")
    return f"({text})" if value < 0 else text


def point_latex(
    model: LogisticRegressionModel | SoftmaxRegressionModel, point: np.ndarray, breakdown: PointBreakdown
) -> str:
    """The formula with the live numbers: the logits, then sigmoid or softmax, then the sum = 1
    (the twin of ``lessons.descent.step_latex``)."""
    x1, x2 = _latex_coordinate(point[0]), _latex_coordinate(point[1])
    number, factor = _latex_number, _latex_factor
    p = breakdown.probabilities
    if isinstance(model, LogisticRegressionModel):
        w1, w2 = model.w
        z = breakdown.logits[1]
        rows = [
            rf"z &= w_1 x_1 + w_2 x_2 + b = {number(w1)}\cdot{x1} + {factor(w2)}\cdot{x2} + {factor(model.b)} = {number(z)}",
            rf"P(1) &= \sigma(z) = \frac{{1}}{{1+e^{{-z}}}} = \frac{{1}}{{1+e^{{{number(-z)}}}}} = {p[1]:.4f}",
            rf"P(0) &= 1-\sigma(z) = {p[0]:.4f}",
            rf"P(0)+P(1) &= {p.sum():.4f}",
        ]
    else:
        k = model.n_classes
        m = breakdown.logits.max()
        rows = []
        for i in range(k):
            w1, w2 = model.W[:, i]
            rows.append(
                rf"z_{i} &= {number(w1)}\cdot{x1} + {factor(w2)}\cdot{x2} + {factor(model.b[i])} = {number(breakdown.logits[i])}"
            )
        rows.append(
            rf"p_k &= \frac{{e^{{z_k}}}}{{\sum_j e^{{z_j}}}} = \frac{{e^{{z_k-m}}}}{{\sum_j e^{{z_j-m}}}},\quad m = \max_j z_j = {number(m)}"
        )
        # Every e^(z − m) lies in (0, 1], so four decimals print all of them the same way.
        total = breakdown.exponentials.sum()
        terms = " + ".join(f"{v:.4f}" for v in breakdown.exponentials)
        rows += [r"S &= \textstyle\sum_j e^{z_j-m}", rf"&= {terms}", rf"&= {total:.4f}"]
        for i in range(k):
            rows.append(rf"p_{i} &= e^{{z_{i}-m}} / S = {breakdown.exponentials[i]:.4f} / {total:.4f} = {p[i]:.4f}")
        rows += [rf"\textstyle\sum_k p_k &= {' + '.join(f'{v:.4f}' for v in p)}", rf"&= {p.sum():.4f}"]
    return r"\small\begin{aligned}" + r"\\".join(rows) + r"\end{aligned}"


# ------------------------------------------------------------------------- what the page says


GUESSING = 0.6  # below this held-out accuracy, two balanced classes are "hardly better than guessing"
FIT_NOTES = ("xor_guess", "xor_corner", "moons_note")
COMPARE_NOTES = ("compare_ce_surer", "compare_mse_surer", "compare_same")
SAME_CONFIDENCE = 0.005  # mean confidences closer than half a percentage point read as the same


def fit_note(name: str, test_accuracy: float) -> str | None:
    """The note the page shows under a fitted run, chosen by its data set and held-out accuracy.

    - ``xor_guess`` (XOR, accuracy < ``GUESSING``): hardly better than guessing one of two classes (50%);
    - ``xor_corner`` (XOR, accuracy ≥ ``GUESSING``): somewhat better than guessing, but at least one new
      point in five is still wrong (accuracy ≤ 0.8);
    - ``moons_note`` (moons): no straight line separates the training points, so however long the model
      trains, some of them stay on the wrong side;
    - None for the blob data sets.
    """
    if name == "xor":
        return "xor_guess" if test_accuracy < GUESSING else "xor_corner"
    return "moons_note" if name == "moons" else None


def mean_confidence(run: FittedRun) -> float:
    """How sure the model is on its training points: the mean of each point's largest class probability."""
    return float(np.mean(np.max(run.model.class_probabilities(run.X), axis=1)))


def compare_note(cross_entropy: FittedRun, mse: FittedRun) -> str:
    """Which loss ended more sure of its training points, after the same steps on the same data.

    - ``compare_ce_surer``: cross-entropy's mean confidence is higher than MSE's by more than ``SAME_CONFIDENCE``;
    - ``compare_mse_surer``: MSE's is higher than cross-entropy's by more than ``SAME_CONFIDENCE``;
    - ``compare_same``: the two are within ``SAME_CONFIDENCE`` of each other.
    """
    gap = mean_confidence(cross_entropy) - mean_confidence(mse)
    if abs(gap) <= SAME_CONFIDENCE:
        return "compare_same"
    return "compare_ce_surer" if gap > 0 else "compare_mse_surer"
