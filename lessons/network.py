"""Lesson 5's ideas about the network itself, in numpy: why stacking linear layers is not enough,
what the non-linear factors (sigmoid, tanh, ReLU) and their derivatives look like, why a deep
sigmoid net's gradient vanishes (梯度離散), and the pictures the MNIST pages draw
(loss curve, confusion matrix, mistakes, first-layer weights, image grids). Per-digit counts,
samples and mean images live with the data in ``lessons/mnist.py``.

Weights follow ``torch.nn.Linear``: ``W`` has shape (out, in), so a layer maps a row ``x`` to
``x Wᵀ + b``, which is the notes' ``W x + b`` written for a batch of rows. The torch model's
first-layer weights are read by ``first_layer_weights``, which is the only function that touches
torch, so the network page itself never loads it.

The settings tables of lesson 5a (``DATA_SETTINGS``) and 5b (``SETTINGS``) live here, and so do the
notes 5b picks by its numbers, each with its text's claim in the docstring of the function that picks it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from lessons import clipping
from lessons.settings import Setting

ACTIVATIONS = ("sigmoid", "tanh", "relu")
COURSE_SIZES = (784, 256, 64, 10)  # the course's 784-256-64-10 network
SIDE = 28  # MNIST images are SIDE × SIDE
N_CLASSES = 10
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the course's normalisation

# Lesson 5a, the data: which split to look at, and how many samples of each digit.
SPLITS = ("train", "test")
DATA_SETTINGS = {
    "split": Setting("train", options=SPLITS),
    "per_digit": Setting(10, 1, 20),
}

# Lesson 5b, the network: what sits between the nutshell's layers, and the deep nets' shape.
BETWEEN = ("none", *ACTIVATIONS)
WIDTHS = (16, 32, 64, 128, 256)
N_IMAGES = 100  # test images pushed through the nutshell's layers
N_BATCH = 256  # test images in the vanishing-gradient batch
SAME = 1e-5  # the largest output gap that still counts as "the same network"
SETTINGS = {
    "between": Setting("none", options=BETWEEN),
    "seed": Setting(0, 0, 999),
    "zmax": Setting(6.0, 1.0, 10.0),
    "depth": Setting(8, 1, 30),
    "width": Setting(64, options=WIDTHS),
}

Layers = list[tuple[np.ndarray, np.ndarray]]


# ------------------------------------------------------------------ (1) Nutshell


def normalise(images: np.ndarray) -> np.ndarray:
    """Flatten uint8 images (n, 28, 28) to rows of 784 and normalise them as the course does."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255.0
    return (flat - MNIST_MEAN) / MNIST_STD


def random_linear_layers(sizes: tuple[int, ...] = COURSE_SIZES, seed: int = 0) -> Layers:
    """Weights W_l (out, in) and biases b_l drawn as ``torch.nn.Linear`` does: U(−1/√in, 1/√in)."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(n_in)
        layers.append((rng.uniform(-bound, bound, (n_out, n_in)), rng.uniform(-bound, bound, n_out)))
    return layers


def activation(name: str, z: np.ndarray) -> np.ndarray:
    """The non-linear factor ``name`` applied elementwise: sigmoid 1/(1+e^−z), tanh z, or ReLU max(0, z)."""
    z = np.asarray(z, dtype=np.float64)
    if name == "sigmoid":
        # exp of a non-positive number only, so large |z| never overflows
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def activation_derivative(name: str, z: np.ndarray) -> np.ndarray:
    """d activation / dz: σ(1−σ) for sigmoid, 1−tanh² for tanh, and 1 where z > 0 else 0 for ReLU."""
    z = np.asarray(z, dtype=np.float64)
    if name == "sigmoid":
        s = activation("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        # at exactly 0 torch's autograd also takes 0, so the two agree everywhere
        return (z > 0).astype(np.float64)
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def nutshell_predict(x: np.ndarray, layers: Layers, between: str | None = None) -> np.ndarray:
    """pred = W₃{W₂[W₁x + b₁] + b₂} + b₃ for every row x; ``between`` puts that activation after each hidden layer."""
    h = np.asarray(x, dtype=np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if between is not None and i < len(layers) - 1:
            h = activation(between, h)
    return h


def collapse_linear(layers: Layers) -> tuple[np.ndarray, np.ndarray]:
    """The single layer equal to the linear stack: W = W₃W₂W₁ and b = W₃(W₂b₁ + b₂) + b₃."""
    w_total = np.eye(layers[0][0].shape[1])
    b_total = np.zeros(layers[0][0].shape[1])
    for w, b in layers:
        # feeding (W_total x + b_total) into the next layer: W (W_total x + b_total) + b
        w_total, b_total = w @ w_total, w @ b_total + b
    return w_total, b_total


def one_layer_predict(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """pred = W x + b for every row x: what one linear layer predicts."""
    return np.asarray(x, dtype=np.float64) @ w.T + b


def nutshell_comparison(x: np.ndarray, layers: Layers, between: str | None = None) -> pd.DataFrame:
    """Each output of the three-layer stack beside the collapsed single layer's, one row per (image, class)."""
    stacked = nutshell_predict(x, layers, between)
    single = one_layer_predict(x, *collapse_linear(layers))
    n, k = stacked.shape
    return pd.DataFrame(
        {
            "image": np.repeat(np.arange(n), k),
            "digit": np.tile(np.arange(k), n),
            "three_layers": stacked.ravel(),
            "one_layer": single.ravel(),
            "difference": (stacked - single).ravel(),
        }
    )


def nutshell_agreement(table: pd.DataFrame) -> tuple[float, float]:
    """From ``nutshell_comparison``: the largest |difference| of any output, and the share of images
    for which the stack and the single layer pick the same digit (largest output)."""
    stacked = table.pivot(index="image", columns="digit", values="three_layers").to_numpy()
    single = table.pivot(index="image", columns="digit", values="one_layer").to_numpy()
    return float(table["difference"].abs().max()), float(np.mean(stacked.argmax(axis=1) == single.argmax(axis=1)))


def nutshell_note(gap: float) -> str:
    """The nutshell's verdict, chosen by the largest output gap between three layers and the collapsed one.

    - ``identical`` (gap < ``SAME``): on every output of every image, the single layer W·x + b gives what
      the three layers give, to within ``SAME``;
    - ``not_identical``: the three layers are no longer one linear layer, collapsed or any other: the stack
      is not linear (the output at the midpoint of two images is not the midpoint of their outputs).
    """
    return "identical" if gap < SAME else "not_identical"


# ------------------------------------------------------------ (2) Non-linear factor


def activation_curves(names: tuple[str, ...] = ACTIVATIONS, lo: float = -6.0, hi: float = 6.0, n: int = 241) -> pd.DataFrame:
    """Each activation and its derivative sampled on [lo, hi]: long form (z, activation, curve, value)."""
    z = np.linspace(lo, hi, n)
    frames = [
        pd.DataFrame({"z": z, "activation": name, "curve": curve, "value": values})
        for name in names
        for curve, values in (("f(z)", activation(name, z)), ("f′(z)", activation_derivative(name, z)))
    ]
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------- gradient vanishing (梯度離散)


def deep_layers(depth: int, width: int, name: str, n_in: int = 784, n_out: int = N_CLASSES, seed: int = 0) -> Layers:
    """``depth`` hidden layers of ``width`` units, each started the way it is meant to be:
    He init N(0, 2/in) for ReLU and Xavier init N(0, 2/(in+out)) for sigmoid and tanh, biases 0.

    With the right start a ReLU net passes gradients through unchanged on average, so what is
    left to shrink a sigmoid net's gradient is its derivative, never more than 1/4 per layer.
    """
    rng = np.random.default_rng(seed)
    sizes = (n_in, *([width] * depth), n_out)
    layers = []
    for a, b in itertools.pairwise(sizes):
        std = np.sqrt(2.0 / a) if name == "relu" else np.sqrt(2.0 / (a + b))
        layers.append((rng.normal(0.0, std, (b, a)), np.zeros(b)))
    return layers


def one_hot(labels: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """The one-hot target rows the course's MSE compares against."""
    return np.eye(n_classes)[np.asarray(labels, dtype=np.int64)]


def backprop(x: np.ndarray, y: np.ndarray, layers: Layers, name: str) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """Loss = mean over the batch of Σ(pred − Y)², and its gradients dL/dW_l, dL/db_l by the chain rule.

    Every hidden layer multiplies the gradient flowing back by Wᵀ and by the activation's
    derivative, which is where a sigmoid net loses it layer after layer.
    """
    h = np.asarray(x, dtype=np.float64)
    inputs, pre = [], []
    for i, (w, b) in enumerate(layers):
        inputs.append(h)
        z = h @ w.T + b
        pre.append(z)
        h = activation(name, z) if i < len(layers) - 1 else z
    n = len(h)
    loss = float(np.sum((h - y) ** 2) / n)
    delta = 2.0 * (h - y) / n  # dL/dpred
    grads_w: list[np.ndarray] = [np.empty(0)] * len(layers)
    grads_b: list[np.ndarray] = [np.empty(0)] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        grads_w[i] = delta.T @ inputs[i]
        grads_b[i] = delta.sum(axis=0)
        if i > 0:
            delta = (delta @ layers[i][0]) * activation_derivative(name, pre[i - 1])
    return loss, grads_w, grads_b


def layer_gradient_norms(x: np.ndarray, y: np.ndarray, depth: int, width: int, name: str, seed: int = 0) -> np.ndarray:
    """‖dL/dW_l‖ (Frobenius) for every layer l = 1 … depth+1 of a fresh ``deep_layers`` net."""
    _, grads_w, _ = backprop(x, y, deep_layers(depth, width, name, x.shape[1], y.shape[1], seed), name)
    return np.array([np.linalg.norm(g) for g in grads_w])


def vanishing_table(x: np.ndarray, y: np.ndarray, depth: int, width: int, names: tuple[str, ...] = ACTIVATIONS, seed: int = 0) -> pd.DataFrame:
    """Per-layer gradient norms for each activation: long form (layer, activation, grad_norm, relative).

    ``relative`` is each norm over the last layer's, so "the first layer gets 10⁻⁶ of the signal"
    reads straight off the chart.
    """
    frames = []
    for name in names:
        norms = layer_gradient_norms(x, y, depth, width, name, seed)
        frames.append(
            pd.DataFrame(
                {
                    "layer": np.arange(1, len(norms) + 1),
                    "activation": name,
                    "grad_norm": norms,
                    "relative": norms / norms[-1],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def first_layer_share(table: pd.DataFrame) -> pd.Series:
    """From ``vanishing_table``: each activation's first-layer gradient norm over its last layer's."""
    return table[table["layer"] == 1].set_index("activation")["relative"]


TENTH, HUNDREDTH = 0.1, 0.01
VANISHING_NOTES = ("vanishing_not_yet", "vanishing_shrinking", "vanishing_small")


def vanishing_note(sigmoid_share: float) -> str:
    """The vanishing-gradient note, chosen by the sigmoid net's first-layer share (``first_layer_share``).

    - ``vanishing_not_yet`` (share ≥ 1/10): the first layer still gets at least a tenth of the last
      layer's gradient, so a net this shallow learns with sigmoid too;
    - ``vanishing_shrinking`` (1/100 ≤ share < 1/10): less than a tenth already, and at the page's
      deepest (30 hidden layers, same width and seed) the share is smaller still;
    - ``vanishing_small`` (share < 1/100): less than a hundredth, so the early layers barely learn, while
      the ReLU net of the same shape gives its first layer more than ten times the sigmoid net's share.
    """
    if sigmoid_share >= TENTH:
        return "vanishing_not_yet"
    return "vanishing_shrinking" if sigmoid_share >= HUNDREDTH else "vanishing_small"


# ------------------------------------------------------------------ the results


def thin_history(history: pd.DataFrame, max_points: int = 400) -> pd.DataFrame:
    """A training history (step, epoch, loss) cut to at most ``max_points`` rows for a chart.

    Consecutive steps are averaged in equal runs, so a long run keeps its shape without sending
    tens of thousands of points to the browser. Non-finite losses (a run that blew up) are left
    out: a chart never draws NaN or infinity as data.
    """
    finite = history[np.isfinite(history["loss"].to_numpy(dtype=np.float64))]
    if len(finite) <= max_points:
        return finite.reset_index(drop=True)
    run = -(-len(finite) // max_points)
    groups = np.arange(len(finite)) // run
    return finite.groupby(groups).agg(step=("step", "last"), epoch=("epoch", "last"), loss=("loss", "mean")).reset_index(drop=True)


LOSS_CAP = 3.0  # a loss above this many times the untrained network's is a run blowing up


def loss_view(history: pd.DataFrame, max_points: int = 400) -> tuple[clipping.ChartView, tuple[int, int]]:
    """The loss chart's data made readable, and its x-domain (the first and last step trained, whole numbers).

    The history is thinned as ``thin_history`` does (non-finite losses left out). The y-range runs
    from the lowest loss up to at most ``LOSS_CAP`` times the first batch's (the untrained network's
    loss): a run blowing up is cut there and marked where it left, and where it stopped being a
    number (``marks.blew_up_at``), so the rest of the curve keeps its shape. Steps are integers, so
    the page can tick them as whole numbers.
    """
    losses = history["loss"].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(losses))
    blew = {0: int(history["step"].iloc[bad[0]])} if bad.size else {}
    thin = thin_history(history, max_points).astype({"step": np.int64, "epoch": np.int64})
    finite = losses[np.isfinite(losses)]
    domain = None
    if finite.size:
        lo, hi = float(finite.min()), min(float(finite.max()), LOSS_CAP * abs(float(finite[0])))
        domain = clipping.padded(lo, max(hi, lo), clipping.PAD)
    view = clipping.clip_series(thin, "loss", blew_up=blew, domain=domain)
    steps = (int(history["step"].min()), int(history["step"].max())) if len(history) else (0, 1)
    if bad.size and not view.clipped:
        view = clipping.ChartView(view.frame, view.domain, view.marks, True)  # NaN rows were left out before clipping
    return view, (steps[0], max(steps[1], steps[0] + 1))


def readable(value: float, digits: int = 2) -> str:
    """A number as a person writes it: "2.6", "0.031", "1.2 × 10⁻⁶", never "2.6e+00".

    ``digits`` significant digits; plain decimals between 10⁻³ and 10⁴, powers of ten outside.
    No NaN or infinity reaches a page as a number: they come back as "—".
    """
    value = float(value)
    if not np.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    mantissa, power = f"{value:.{digits - 1}e}".split("e")  # rounded first, so 9.96 carries to 10
    power = int(power)
    if -3 <= power < 4:
        text = f"{float(mantissa) * 10.0**power:.{max(digits - 1 - power, 0)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{mantissa} × 10{str(power).translate(_SUPERSCRIPT)}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Counts C[i, j] of images of digit i that the network called j (rows: truth, columns: prediction)."""
    true = np.asarray(true, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    return np.bincount(true * n_classes + pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_frame(matrix: np.ndarray) -> pd.DataFrame:
    """The confusion matrix in long form (true, predicted, count, share of that true digit) for a heatmap."""
    k = matrix.shape[0]
    row_totals = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    return pd.DataFrame(
        {
            "true": np.repeat(np.arange(k), k),
            "predicted": np.tile(np.arange(k), k),
            "count": matrix.ravel(),
            "share": (matrix / row_totals).ravel(),
        }
    )


def misclassified(probs: np.ndarray, labels: np.ndarray, limit: int = 24) -> pd.DataFrame:
    """The test images the network got wrong, most confident mistakes first: (index, true, predicted, confidence)."""
    labels = np.asarray(labels, dtype=np.int64)
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != labels)
    confidence = probs[wrong, pred[wrong]]
    order = np.argsort(-confidence, kind="stable")[:limit]
    return pd.DataFrame(
        {"index": wrong[order], "true": labels[wrong[order]], "predicted": pred[wrong[order]], "confidence": confidence[order]}
    )


def first_layer_weights(model: Any) -> np.ndarray:
    """The first linear layer's weight rows as images (units, 28, 28): what each hidden unit looks for."""
    import torch

    first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    weight = first.weight.detach().cpu().numpy().astype(np.float64)
    return weight.reshape(len(weight), SIDE, SIDE)


# ------------------------------------------------------------------- pictures


def diverging_rgb(images: np.ndarray) -> np.ndarray:
    """Signed images as RGB uint8: positive red, negative blue, 0 white, each scaled by its own largest |value|."""
    images = np.asarray(images, dtype=np.float64)
    scale = np.abs(images).reshape(len(images), -1).max(axis=1)
    v = images / np.where(scale > 0, scale, 1.0)[:, None, None]
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    # white fades to red (1, 0, 0) as v → 1 and to blue (0, 0.3, 1) as v → −1
    r = 1.0 - neg
    g = 1.0 - pos - 0.7 * neg
    b = 1.0 - pos
    return np.round(np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)


def tile(images: np.ndarray, cols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """Lay images (n, h, w[, 3]) out in a grid ``cols`` wide with ``pad`` pixels of ``fill`` between them."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    rows = max(1, -(-n // cols))
    extra = images.shape[3:]
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, *extra), fill, dtype=images.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = images[i]
    return out


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel as a factor × factor block, so browsers show crisp squares instead of a blur."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def montage(images: Any, columns: int = 10, gap: int = 2) -> np.ndarray:
    """Images (n, 28, 28) tiled left to right in rows of ``columns``, ``gap`` pixels apart, as one
    uint8 picture (ink high; floats are read as [0, 1]). An empty list gives an empty (0, 0) picture."""
    stack = np.asarray(images)
    if stack.size == 0:
        return np.zeros((0, 0), dtype=np.uint8)
    if stack.dtype.kind == "f":
        stack = np.rint(np.clip(stack, 0.0, 1.0) * 255.0)
    stack = stack.astype(np.uint8).reshape(-1, 28, 28)
    count = len(stack)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    step = 28 + gap
    picture = np.zeros((rows * step - gap, columns * step - gap), dtype=np.uint8)
    for k, image in enumerate(stack):
        r, c = divmod(k, columns)
        picture[r * step:r * step + 28, c * step:c * step + 28] = image
    return picture


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Pixel values (0–255, maybe float like a mean image) as uint8 for display."""
    return np.clip(np.round(np.asarray(images, dtype=np.float64)), 0, 255).astype(np.uint8)
