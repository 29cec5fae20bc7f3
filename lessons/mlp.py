"""The course's three-layer network on MNIST, trained fast: H1 = relu(XW1 + b1), H2 = relu(H1W2 + b2), pred = H2W3 + b3.

The defaults of ``MLP`` and ``train`` are the course's recipe (``lessons.recipes.COURSE_RECIPE``,
re-exported here with ``TrainConfig``, the presets and 5c's settings table), inputs normalised with
mean 0.1307 and std 0.3081.

Speed: the images are turned into one normalised float32 tensor once per data set and kept
(``_tensors``); batches are slices of a seeded permutation of it, so there is no DataLoader and
no per-sample PIL transform.

Threads: a lone training uses every core (``TORCH_THREADS`` = the number of cores). A caller that
runs several trainings at once passes a scheduler as ``slots``: a context manager whose
``fair_share()`` is the threads one training may use now (the class server's shares the host's
cores between trainings and worker processes). The training runs inside it and re-applies its share
every epoch. ``share_tensors`` lets the caller keep the normalised images in one file that every
process maps. This module itself keeps nothing on disk and takes no locks.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from lessons import augment
from lessons.recipes import (  # noqa: F401 - re-exported: lessons.mlp is where the course's training is read
    ACTIVATIONS,
    BEST_PRESET,
    COURSE_RECIPE,
    COURSE_SETTINGS,
    DRAW_DEFAULT,
    FALLBACK_RECIPE,
    HIDDEN_NAMES,
    LOSSES,
    MNIST_TRAIN_IMAGES,
    N_CLASSES,
    N_PIXELS,
    NONE,
    OPTIMIZERS,
    PRESETS,
    ROBUST_PRESET,
    SCHEDULES,
    SETTINGS,
    TrainConfig,
    config_from_settings,
    network_text,
    posted_settings,
    preset_for,
    recipe_for,
    settings_from_config,
    steps_of,
)

if TYPE_CHECKING:
    from lessons.mnist import MnistData

MEAN, STD = 0.1307, 0.3081  # the course's normalisation (MNIST's pixel mean and std in [0, 1])
PROGRESS_SECONDS = 0.25  # on_progress at most four times a second: enough for a live chart
EVAL_BATCH = 4096
MAX_LAYERS, MAX_WIDTH = 8, 4096  # the largest hidden architecture a model file may ask for
MAX_CONV_LAYERS, MAX_CHANNELS = 3, 256  # ... and the largest convolutional front
AUGMENTED_SHARE = 0.5  # with augmentation, this share of each batch is distorted; the rest stays as MNIST drew it

CORES = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
TORCH_THREADS = CORES  # a lone training's threads: every core

ProgressFn = Callable[[float, pd.DataFrame], None]


def set_torch_threads(threads: int = TORCH_THREADS) -> None:
    """Run this thread's torch ops on ``threads`` intra-op threads (by default every core).

    PyTorch keeps the setting per thread once a thread has run a parallel op, so each training
    applies its own share (every epoch).
    """
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class Alone:
    """The ``slots`` of a training run with no scheduler: it starts at once, on every core."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def fair_share(self) -> int:
        """Threads for the training now: every core."""
        return TORCH_THREADS


ALONE = Alone()


# ------------------------------------------------------------------------ the network


def _activation(name: str) -> nn.Module:
    """The torch module for an activation name ("relu", "sigmoid" or "tanh")."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, not {name!r}")
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[name]()


class MLP(nn.Module):
    """784 -> hidden... -> 10: linear layers with ``activation`` between them.

    ``final_activation="relu"`` applies relu to the output too (the notes' H3 = relu(H2W3 + b3));
    the course's code leaves the output linear (None). Weights start from ``seed`` (PyTorch's
    default Linear initialisation, drawn from a private generator so concurrent trainings
    cannot disturb each other's draws).

    ``conv`` (channels, e.g. (16, 32)) puts small convolutions in front: each halves the image
    (stride 2; 5×5 kernels first, then 3×3) and is followed by ``activation``, and the linear
    layers read their output. They look at neighbouring pixels together, so a digit drawn a
    little off or slanted still gives the same features. () is the course's plain network.
    """

    def __init__(
        self,
        hidden=COURSE_RECIPE.hidden,
        activation: str = COURSE_RECIPE.activation,
        final_activation: str | None = None,
        seed: int = 0,
        conv: tuple[int, ...] = (),
    ) -> None:
        super().__init__()
        if final_activation not in (None, *ACTIVATIONS):
            raise ValueError(f"final_activation must be None or one of {ACTIVATIONS}, not {final_activation!r}")
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = activation
        self.final_activation = final_activation
        self.conv = tuple(int(c) for c in conv)
        self.loss = "mse"  # the loss its outputs were trained for: it decides how predict_proba reads them
        if len(self.conv) > MAX_CONV_LAYERS or not all(1 <= c <= MAX_CHANNELS for c in self.conv):
            raise ValueError(f"conv must be up to {MAX_CONV_LAYERS} layers of 1..{MAX_CHANNELS} channels, not {conv}")
        n_inputs, side, channels = N_PIXELS, 28, 1
        if self.conv:
            features: list[nn.Module] = []
            for i, out in enumerate(self.conv):
                kernel = 5 if i == 0 else 3
                features += [nn.Conv2d(channels, out, kernel, stride=2, padding=kernel // 2), _activation(activation)]
                channels, side = out, (side + 1) // 2
            self.features = nn.Sequential(*features)
            n_inputs = channels * side * side
        sizes = (n_inputs, *self.hidden, N_CLASSES)
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(_activation(activation))
        if final_activation is not None:
            layers.append(_activation(final_activation))
        self.layers = nn.Sequential(*layers)
        self.reset_parameters(seed)

    def linears(self) -> list[nn.Linear]:
        """The linear layers in order: (W1, b1), (W2, b2), (W3, b3) of the notes."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def reset_parameters(self, seed: int) -> None:
        """PyTorch's default Linear (and Conv2d) initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from ``seed`` alone."""
        gen = torch.Generator().manual_seed(int(seed))
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)] if self.conv else []
        with torch.no_grad():
            for layer in [*convs, *self.linears()]:
                # kaiming_uniform_(a=sqrt(5)), torch's default for both, has exactly this bound
                bound = 1.0 / math.sqrt(layer.weight[0].numel())
                layer.weight.uniform_(-bound, bound, generator=gen)
                layer.bias.uniform_(-bound, bound, generator=gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (n, 10) for normalised images (n, 784) or (n, 28, 28)."""
        if self.conv:
            x = self.features(x.reshape(x.shape[0], 1, 28, 28))
        return self.layers(x.reshape(x.shape[0], -1))


# ------------------------------------------------------------------------ data as tensors

_TENSOR_CACHE: OrderedDict[str, tuple[np.ndarray, tuple]] = OrderedDict()
_TENSOR_CACHE_SIZE = 3
_TENSOR_LOCK = threading.Lock()


def normalise(images: Any) -> torch.Tensor:
    """Images in [0, 1] (n, 28, 28) -> float32 (n, 784), standardised with the course's mean and std."""
    x = torch.as_tensor(np.array(images, dtype=np.float32)).reshape(-1, N_PIXELS)  # a writable copy
    return (x - MEAN) / STD


ArrayShare = Callable[[Any, str, Callable[[], np.ndarray]], np.ndarray]  # (data, "train" or "test", make) -> array


def _in_memory(_data: Any, _part: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    return make()


def _tensors(data: MnistData, share: ArrayShare | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test) as tensors, normalised once per data set and kept.

    Keyed by ``data.source`` and checked by identity of the image array, so a reloaded data set
    with the same source is converted again rather than mixed up. ``share`` makes the normalised
    images the first time (see ``share_tensors``); once kept, the kept ones are returned.
    """
    share = share or _in_memory
    with _TENSOR_LOCK:
        hit = _TENSOR_CACHE.get(data.source)
        if hit is not None and hit[0] is data.train_images:
            _TENSOR_CACHE.move_to_end(data.source)
            return hit[1]
        tensors = (
            torch.from_numpy(share(data, "train", lambda: normalise(data.train_images.astype(np.float32) / 255.0).numpy())),
            torch.tensor(data.train_labels, dtype=torch.int64),  # a copy: the arrays are read-only
            torch.from_numpy(share(data, "test", lambda: normalise(data.test_images.astype(np.float32) / 255.0).numpy())),
            torch.tensor(data.test_labels, dtype=torch.int64),
        )
        _TENSOR_CACHE[data.source] = (data.train_images, tensors)
        while len(_TENSOR_CACHE) > _TENSOR_CACHE_SIZE:
            _TENSOR_CACHE.popitem(last=False)
        return tensors


def share_tensors(data: MnistData, share: ArrayShare) -> None:
    """Normalise ``data``'s images now through ``share(data, "train" or "test", make)``, which returns
    ``make()`` or an equal float32 array (e.g. one file every worker process maps: 220 MB a copy for
    MNIST), and keep them for ``train``, ``evaluate`` and ``predict_test_set``. A no-op once kept."""
    _tensors(data, share)


# ------------------------------------------------------------------------ training


def make_optimizer(name: str, params: Any, lr: float, momentum: float) -> torch.optim.Optimizer:
    """torch's SGD (with ``momentum``), Adam or RMSprop at learning rate ``lr``."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {name!r}")


def objective(scores: torch.Tensor, labels: torch.Tensor, loss: str) -> torch.Tensor:
    """The loss of one batch.

    "mse": the course's objective Σ(pred − Y)² against one-hot Y, averaged over the batch's
    n × 10 entries, i.e. Σ(pred − Y)² / (10 n) as the course's ``F.mse_loss`` does (same minimum,
    a learning-rate scale independent of the batch size). "cross_entropy": mean −log softmax(pred)[y].
    """
    if loss == "mse":
        return F.mse_loss(scores, F.one_hot(labels, N_CLASSES).to(scores.dtype))
    if loss == "cross_entropy":
        return F.cross_entropy(scores, labels)
    raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")


def train(
    model: MLP,
    data: MnistData,
    *,
    epochs: int = COURSE_RECIPE.epochs,
    batch_size: int = COURSE_RECIPE.batch_size,
    lr: float = COURSE_RECIPE.lr,
    optimizer: str = COURSE_RECIPE.optimizer,
    momentum: float = COURSE_RECIPE.momentum,
    loss: str = COURSE_RECIPE.loss,
    seed: int = COURSE_RECIPE.seed,
    schedule: str | None = COURSE_RECIPE.schedule,
    augment: float = COURSE_RECIPE.augment,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    slots: Any = None,
) -> pd.DataFrame:
    """Train ``model`` in place on ``data``'s training set; the history (step, epoch, loss) per batch.

    Each epoch visits the training images once in an order drawn from ``seed``; the same seed,
    model and data give the same history. ``on_progress(fraction_done, history_so_far)`` is called
    at most every ``PROGRESS_SECONDS`` and once at the end.

    ``should_stop()`` is asked before every batch; once it says True the training ends there, the
    model keeps the batches it has learnt, and the history so far comes back with
    ``attrs["stopped"]`` True (False after a full run): a partial model, never to be cached as the
    finished one.

    A batch whose loss is no finite number (NaN or ±inf) ends the training at once: the history's last
    row is that step (``diverged_at`` finds it), and the run counts as finished, not stopped.

    ``augment`` > 0 distorts ``AUGMENTED_SHARE`` of every batch afresh (``lessons.augment``, at that
    strength), from a generator of its own: the batch order stays the one ``seed`` gives.

    ``slots``: the scheduler the training runs in (see the module docstring); ``ALONE`` by default.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, not {schedule!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    slots = ALONE if slots is None else slots
    model.loss = loss
    x_train, y_train, _, _ = _tensors(data)
    n = len(x_train)
    steps_per_epoch = -(-n // batch_size)
    total = epochs * steps_per_epoch
    opt = make_optimizer(optimizer, model.parameters(), lr, momentum)
    sched = (
        torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(total, 1))
        if schedule == "onecycle"
        else None
    )
    gen = torch.Generator().manual_seed(int(seed))
    distortions = torch.Generator().manual_seed(int(seed) + 1)
    steps: list[int] = []
    epoch_of: list[int] = []
    losses: list[float] = []

    def history() -> pd.DataFrame:
        return pd.DataFrame({"step": steps, "epoch": epoch_of, "loss": losses})

    last_report = time.monotonic()
    stopped = False
    with slots:
        model.train()
        for epoch in range(epochs):
            set_torch_threads(slots.fair_share())  # this training's share now: other trainings may have started or ended
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, batch_size):
                if should_stop is not None and should_stop():
                    stopped = True
                    break
                idx = order[start : start + batch_size]
                inputs = x_train[idx] if augment <= 0 else _augmented(x_train[idx], distortions, augment, y_train[idx])
                batch_loss = objective(model(inputs), y_train[idx], loss)
                opt.zero_grad(set_to_none=True)
                batch_loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                steps.append(len(steps) + 1)
                epoch_of.append(epoch + 1)
                losses.append(batch_loss.item())
                if not math.isfinite(losses[-1]):
                    break  # blown up: the weights are no numbers now, and no later step can bring them back
                if on_progress is not None and time.monotonic() - last_report >= PROGRESS_SECONDS:
                    on_progress(len(steps) / total, history())
                    last_report = time.monotonic()
            if stopped or not math.isfinite(losses[-1] if losses else 0.0):
                break
        model.eval()
    result = history()
    result.attrs["stopped"] = stopped
    if on_progress is not None:
        on_progress(len(steps) / total if stopped else 1.0, result)
    return result


def diverged_at(history: pd.DataFrame) -> int | None:
    """The step at which ``train`` stopped itself because the loss was no finite number, else None.

    Claim of "mnist.train.diverged_at": the loss of exactly this step was NaN or ±inf, every earlier
    step's was finite, and the training took no step after it (a history that goes on past its first
    NaN, e.g. one saved before training stopped itself, gives None)."""
    losses = history["loss"].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(losses))
    return int(history["step"].iloc[-1]) if bad.size and bad[0] == len(losses) - 1 else None


def loss_notes(history: pd.DataFrame) -> list[str]:
    """What a loss chart must say instead of, or beside, drawing the loss: any of "diverged", "no_loss", "no_steps".

    "diverged" (claim of "mnist.diverged"): some step's loss was NaN or ±inf. "no_loss" (claim of
    "mnist.no_loss"): steps were trained and not one loss, the first included, was a finite number.
    "no_steps" (claim of "mnist.no_steps"): the history has no step at all."""
    losses = history["loss"].to_numpy(dtype=np.float64)
    if not len(losses):
        return ["no_steps"]
    finite = np.isfinite(losses)
    return [] if finite.all() else ["diverged"] if finite.any() else ["diverged", "no_loss"]


def loss_chart_cut(history: pd.DataFrame) -> str | None:
    """How the loss chart (``network.loss_view``) is cut, for its caption: "capped", "blew_up" or None.

    "capped" (claim of "mnist.train.chart_clipped"): a finite loss is above ``LOSS_CAP`` (3) times the
    first one (the untrained network's), so the chart's top is that cap and the higher part is cut.
    "blew_up" (claim of "mnist.train.chart_blew_up"): no loss is above the cap, and a loss was NaN or
    ±inf after at least one finite loss: the chart shows the finite losses, and a ✕ marks the step
    the loss stopped being a number. None: nothing is cut, or there is no finite loss and no chart."""
    from lessons.network import LOSS_CAP

    losses = history["loss"].to_numpy(dtype=np.float64)
    finite = losses[np.isfinite(losses)]
    if finite.size and finite.max() > LOSS_CAP * abs(finite[0]):
        return "capped"
    return "blew_up" if 0 < finite.size < losses.size else None  # no finite loss: no chart to caption


def outcome(history: pd.DataFrame, probabilities: Any, *, stopped: bool) -> str:
    """What became of a run: "diverged", "stopped" or "ok" (the comparison table's status; 5c's notes).

    "diverged" (claim of "mnist.train.broken_model" and "mnist.train.status_diverged"): a training loss
    or a test-set probability is NaN or ±inf, so the network's answers mean nothing and no accuracy is
    shown. "stopped" (claim of "mnist.train.stopped_note"): Stop ended it before its last step, with
    every loss and answer a number. "ok": every step was taken, every loss and answer is a number."""
    losses = history["loss"].to_numpy(dtype=np.float64)
    if not (np.isfinite(losses).all() and np.isfinite(np.asarray(probabilities, dtype=np.float64)).all()):
        return "diverged"
    return "stopped" if stopped else "ok"


def came_from_cache(waited: float, trained_seconds: float) -> bool:
    """True when a model arrived in under half the time its training took: it was trained before, by a
    classmate or an earlier visit, and read from the class's cache.

    Claim of "mnist.train.from_cache" and the quick start's "mnist.qs.from_cache": this request did not
    train the model (a training in this request makes the wait at least the training's own time)."""
    return waited < 0.5 * trained_seconds


def _augmented(x: torch.Tensor, generator: torch.Generator, strength: float,
               labels: torch.Tensor | None = None) -> torch.Tensor:
    """The normalised batch with its first ``AUGMENTED_SHARE`` distorted (in [0, 1] pixels, where the
    background is 0 and ``augment`` works). With the batch's ``labels``, also the styles MNIST lacks,
    contrast and paper grain (``augment.augment_training_batch``)."""
    k = round(len(x) * AUGMENTED_SHARE)
    pixels = (x[:k] * STD + MEAN).reshape(k, 28, 28)
    distorted = (augment.augment_batch(pixels, generator, strength) if labels is None
                 else augment.augment_training_batch(pixels, labels[:k], generator, strength))
    distorted = (distorted.reshape(k, -1) - MEAN) / STD
    return torch.cat([distorted, x[k:]])


MEASURE_SECONDS = 0.3  # how long estimate_seconds times batches
MEASURE_BATCHES = 5  # ... and at least this many, after a fresh network's first batch
# MNIST's 10,000 test images beside its 60,000 training images: the test set train_config evaluates on
# after training, when the caller does not say how large it is.
TEST_PER_TRAIN = 1 / 6
_BATCH_SECONDS: dict[tuple, tuple[float, float, float]] = {}  # per architecture and batch size: see _timings
_BATCH_SECONDS_LOCK = threading.Lock()


def _one_batch(model: MLP, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, config: TrainConfig,
               gen: torch.Generator) -> float:
    """Seconds for one training batch of ``config``'s size, gathered from ``x`` as training slices its data."""
    start = time.perf_counter()
    idx = torch.randint(0, len(x), (config.batch_size,), generator=gen)
    inputs = x[idx] if config.augment <= 0 else _augmented(x[idx], gen, config.augment, y[idx])
    batch_loss = objective(model(inputs), y[idx], config.loss)
    opt.zero_grad(set_to_none=True)
    batch_loss.backward()
    opt.step()
    batch_loss.item()
    return time.perf_counter() - start


def _timings(config: TrainConfig, slots: Any = None) -> tuple[float, float, float]:
    """(a fresh network's first batch, each later batch, one test image's evaluation) in seconds for
    ``config``'s network, optimiser, loss, batch size and augmentation, timed on random inputs (a batch
    costs the same whatever its pixels), measured once per process.

    Every training starts from a fresh network and optimiser, whose first batch allocates the
    gradients and the optimiser's state: that batch is timed on its own and counted once. What a
    process loads once (the first optimiser imports part of torch) is paid by a throw-away batch
    first, so it is not counted. The evaluation is a forward pass without gradients, in
    ``EVAL_BATCH`` chunks, as ``evaluate`` does.

    It is timed inside ``slots`` (see ``train``), on the threads a training would get now: on a busy
    machine two threads per op run several times slower than one, so timing outside the scheduler
    misleads.
    """
    key = (config.hidden, config.conv, config.activation, config.final_activation, config.optimizer, config.loss,
           config.batch_size, config.augment)
    with _BATCH_SECONDS_LOCK:
        if key in _BATCH_SECONDS:
            return _BATCH_SECONDS[key]
    gen = torch.Generator().manual_seed(0)

    def fresh() -> tuple[MLP, torch.optim.Optimizer]:
        model = MLP(config.hidden, config.activation, config.final_activation, conv=config.conv)
        return model, make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)

    pool = 4 * config.batch_size  # batches are gathered from a larger tensor, as training slices its data
    x = torch.randn(pool, N_PIXELS, generator=gen)
    y = torch.randint(0, N_CLASSES, (pool,), generator=gen)
    times: list[float] = []
    slots = ALONE if slots is None else slots
    with slots:
        set_torch_threads(slots.fair_share())
        _one_batch(*fresh(), x, y, config, gen)  # the process's own first-call costs, paid once, not counted
        model, opt = fresh()
        first = _one_batch(model, opt, x, y, config, gen)
        begin = time.perf_counter()
        while len(times) < MEASURE_BATCHES or time.perf_counter() - begin < MEASURE_SECONDS:
            times.append(_one_batch(model, opt, x, y, config, gen))
        model.eval()
        chunk = torch.randn(min(EVAL_BATCH, 1024), N_PIXELS, generator=gen)
        with torch.no_grad():
            model(chunk)
            begin = time.perf_counter()
            model(chunk)
            per_image = (time.perf_counter() - begin) / len(chunk)
    timed = (first, float(np.mean(times)), per_image)
    with _BATCH_SECONDS_LOCK:
        _BATCH_SECONDS[key] = timed
    return timed


def _seconds_per_batch(config: TrainConfig, slots: Any = None) -> float:
    """One training batch's seconds for ``config``, after the first (``_timings``)."""
    return _timings(config, slots)[1]


def estimate_seconds(config: TrainConfig, data_size: int, *, slots: Any = None, test_size: int | None = None) -> float:
    """About how long ``train_config`` takes for ``config`` on ``data_size`` training images: a fresh
    network's first batch, the run's other batches, and the test-set evaluation after them
    (``test_size`` images, by default ``TEST_PER_TRAIN`` of ``data_size`` as in MNIST), each timed
    (once per architecture, then remembered, ``_timings``).

    Claim of "mnist.train.estimate" ("about {time} on this server"): a real training of that many
    batches and its evaluation, on a machine as busy as while it was timed, take within a factor of
    two of it, short runs included. Loading the data's tensors and a wait for a free slot are not
    counted."""
    if data_size < 0:
        raise ValueError("data_size must be ≥ 0")
    batches = config.epochs * -(-int(data_size) // config.batch_size)
    if batches == 0:
        return 0.0
    first, per_batch, per_image = _timings(config, slots)
    tested = round(TEST_PER_TRAIN * data_size) if test_size is None else int(test_size)
    return first + (batches - 1) * per_batch + tested * per_image


def remaining_seconds(elapsed: float, fraction: float, estimate: float | None = None) -> float | None:
    """The time a running training still needs, from how long it has run and the share done.

    Early on (under 2 % or half a second in) progress says little, so the estimate made before the
    start stands in for it (None without one); after that the rate so far is extrapolated.
    """
    if fraction >= 1:
        return 0.0
    if fraction < 0.02 or elapsed < 0.5:
        return None if estimate is None else max(estimate - elapsed, 0.0)
    return elapsed * (1 - fraction) / fraction


def _scores(model: MLP, x: torch.Tensor) -> torch.Tensor:
    """The model's outputs for normalised inputs, in chunks, without gradients."""
    model.eval()
    with torch.no_grad():
        chunks = [model(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)]
    return torch.cat(chunks) if chunks else torch.zeros(0, N_CLASSES)


def evaluate(model: MLP, data: MnistData) -> float:
    """Test accuracy: the fraction of test images whose largest score is the true digit."""
    _, _, x_test, y_test = _tensors(data)
    return float((_scores(model, x_test).argmax(dim=1) == y_test).float().mean())


def predict_test_set(model: MLP, data: MnistData) -> np.ndarray:
    """The predicted digit for every test image (int64, in test-set order)."""
    _, _, x_test, _ = _tensors(data)
    return _scores(model, x_test).argmax(dim=1).numpy()


def probabilities_from_scores(scores: Any, loss: str) -> np.ndarray:
    """Each row of 10 outputs read as digit probabilities, the way the training ``loss`` defines them.

    Cross-entropy trains the outputs as logits, so their softmax is the probability. MSE against
    one-hot targets trains each output to *be* its class's probability (the mean of a 0/1 target),
    so the outputs clipped at 0 and rescaled to sum to 1 are the probabilities; a softmax would
    squash even a perfectly sure (1, 0, ..., 0) to e / (e + 9) = 23 %. A row with no positive
    output backs no digit strongly: its softmax keeps the order and shows the doubt.
    """
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    exp = np.exp(s - s.max(axis=1, keepdims=True))
    softmax = exp / exp.sum(axis=1, keepdims=True)
    if loss == "cross_entropy":
        return softmax
    positive = np.clip(s, 0.0, None)
    total = positive.sum(axis=1, keepdims=True)
    return np.where(total > 0, positive / np.where(total > 0, total, 1.0), softmax)


def predict_proba(model: MLP, images: Any) -> np.ndarray:
    """Digit probabilities (n, 10) for float images in [0, 1] (ink high), (28, 28) or (n, 28, 28).

    Normalises the images itself; reads the outputs as ``model.loss`` trained them (see
    ``probabilities_from_scores``). Rows sum to 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.shape[-2:] != (28, 28):
        raise ValueError(f"images must be 28×28, got shape {images.shape}")
    scores = _scores(model, normalise(images.reshape(-1, 28, 28))).numpy()
    return probabilities_from_scores(scores, model.loss)


# ------------------------------------------------------------------------ trained models


@dataclass
class TrainedModel:
    """A trained network with how it was made and how well it does."""

    model: MLP
    history: pd.DataFrame
    accuracy: float
    config: TrainConfig
    source: str
    seconds: float

    @property
    def stopped(self) -> bool:
        """True for a run ended early by ``should_stop``: a partial model, never cached as the finished one."""
        return bool(self.history.attrs.get("stopped", False))


def train_config(
    config: TrainConfig, data: MnistData, on_progress: ProgressFn | None = None, *,
    should_stop: Callable[[], bool] | None = None, slots: Any = None,
) -> TrainedModel:
    """Build the MLP ``config`` describes, train it on ``data``, and measure its test accuracy
    (``should_stop`` and ``slots``: see ``train``; a stopped run comes back with ``stopped`` True)."""
    model = MLP(config.hidden, config.activation, config.final_activation, seed=config.seed, conv=config.conv)
    start = time.perf_counter()
    history = train(
        model,
        data,
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        optimizer=config.optimizer,
        momentum=config.momentum,
        loss=config.loss,
        seed=config.seed,
        schedule=config.schedule,
        augment=config.augment,
        on_progress=on_progress,
        should_stop=should_stop,
        slots=slots,
    )
    seconds = time.perf_counter() - start
    return TrainedModel(model, history, evaluate(model, data), config, data.source, seconds)


# ------------------------------------------------------------------------ download and upload


def model_to_bytes(model: MLP) -> bytes:
    """The model as bytes for download: its state_dict and architecture, via ``torch.save``."""
    buf = io.BytesIO()
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hidden": list(model.hidden),
            "conv": list(model.conv),
            "activation": model.activation,
            "final_activation": model.final_activation,
            "loss": model.loss,
        },
        buf,
    )
    return buf.getvalue()


def model_from_bytes(blob: bytes) -> MLP:
    """An MLP rebuilt from ``model_to_bytes`` output, read with ``torch.load(weights_only=True)`` only.

    Anything else (another file, a damaged one, an absurd architecture) raises ValueError
    before any large allocation.
    """
    try:
        saved = torch.load(io.BytesIO(blob), weights_only=True)
        hidden = tuple(int(h) for h in saved["hidden"])
        if not 1 <= len(hidden) <= MAX_LAYERS or not all(1 <= h <= MAX_WIDTH for h in hidden):
            raise ValueError(f"hidden sizes {hidden} are outside 1..{MAX_WIDTH} per layer, 1..{MAX_LAYERS} layers")
        model = MLP(hidden, saved["activation"], saved["final_activation"], conv=saved.get("conv", ()))
        model.load_state_dict(saved["state_dict"])
        model.loss = str(saved.get("loss", "mse"))
        if model.loss not in LOSSES:
            raise ValueError(f"unknown loss {model.loss!r}")
    except Exception as exc:  # unpickling, missing keys, shape mismatches: all mean "not ours"
        raise ValueError(f"not a model saved by this app: {exc}") from exc
    model.eval()
    return model
