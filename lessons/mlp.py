"""The course's three-layer network on MNIST, trained fast: H1 = relu(XW1 + b1), H2 = relu(H1W2 + b2), pred = H2W3 + b3.

The defaults of ``TrainConfig`` and ``train`` are the course's recipe: 784-256-64-10 with ReLU,
MSE against one-hot targets, SGD at lr 0.01 with momentum 0.9, batches of 512, 3 epochs,
inputs normalised with mean 0.1307 and std 0.3081.

Speed: the images are turned into one normalised float32 tensor once per data set and kept
(``_tensors``); batches are slices of a seeded permutation of it, so there is no DataLoader and
no per-sample PIL transform.

Threads (a deliberate policy, see ``TrainingSlots``): a lone training uses every core
(``TORCH_THREADS`` = the number of cores; on 2 cores a course epoch takes 0.43 s against 0.76 s
on one thread). Concurrent trainings share the cores instead of oversubscribing them: each holds
one of ``MAX_CONCURRENT_TRAININGS`` = number-of-cores slots, counted across threads *and* across
the class server's worker processes (``flock``-ed slot files in a per-host folder), and each
training runs on cores ÷ trainings-running threads (at least one), re-checked every epoch
(PyTorch keeps the thread count per thread, so each training sets its own). The others queue for a
slot rather than thrash the CPU (on a busy 2-core machine, OpenMP threads spinning against each
other made a course epoch take 5-10 s instead of 0.7 s). ``train_cached`` adds that identical
requests wait for one shared training, across processes through ``lessons.modelstore``.
"""

from __future__ import annotations

import fcntl
import io
import math
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from lessons import augment, modelstore

if TYPE_CHECKING:
    from lessons.mnist import MnistData

MEAN, STD = 0.1307, 0.3081  # the course's normalisation (MNIST's pixel mean and std in [0, 1])
N_PIXELS, N_CLASSES = 28 * 28, 10
ACTIVATIONS = ("relu", "sigmoid", "tanh")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
LOSSES = ("mse", "cross_entropy")
SCHEDULES = (None, "onecycle")
PROGRESS_SECONDS = 0.25  # on_progress at most four times a second: enough for a live chart
EVAL_BATCH = 4096
MAX_LAYERS, MAX_WIDTH = 8, 4096  # the largest hidden architecture a model file may ask for
MAX_CONV_LAYERS, MAX_CHANNELS = 3, 256  # ... and the largest convolutional front
AUGMENTED_SHARE = 0.5  # with augmentation, this share of each batch is distorted; the rest stays as MNIST drew it

CORES = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
TORCH_THREADS = CORES  # a lone training's threads: every core
MAX_CONCURRENT_TRAININGS = CORES
SLOT_POLL_SECONDS = 0.05

ProgressFn = Callable[[float, pd.DataFrame], None]


def set_torch_threads(threads: int | None = None) -> None:
    """Run this thread's torch ops on ``threads`` intra-op threads; by default on its fair share now.

    The fair share is every core with no training running here, else cores ÷ trainings running
    on the host (``TrainingSlots.fair_share``). PyTorch keeps the setting per thread once a thread
    has run a parallel op, so each training re-applies its own share (every epoch).
    """
    if threads is None:
        threads = _SLOTS.fair_share()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _slot_dir() -> Path:
    """This host's folder of training-slot files, shared by every worker process of one user."""
    return Path(os.environ.get("TRAINING_SLOTS_DIR") or Path(tempfile.gettempdir()) / f"dl-demo-slots-{os.getuid()}")


class TrainingSlots:
    """``MAX_CONCURRENT_TRAININGS`` slots per host, shared by threads and processes (module docstring).

    A slot is an ``flock`` on one of ``slots`` files: the kernel drops it when its holder dies,
    so a killed worker never leaks one. Entering waits for a slot, then sets the entering thread's
    torch threads to its ``fair_share``; a training re-applies its share as it goes
    (``set_torch_threads`` every epoch), so it gives cores back when others start and takes
    them again when they end.
    """

    def __init__(self, slots: int = MAX_CONCURRENT_TRAININGS) -> None:
        self.slots = slots
        self._local = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # thread id -> fd of its slot file
        self._fds: list[int] | None = None

    def _files(self) -> list[int]:
        if self._fds is None:
            folder = _slot_dir()
            folder.mkdir(parents=True, exist_ok=True)
            self._fds = []
            for i in range(self.slots):
                self._fds.append(os.open(folder / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o600))
        return self._fds

    def _free_files(self, fds: list[int]) -> Iterator[int]:
        """Each slot file not held in this process, yielded locked when it was free (the caller
        keeps or unlocks it), else -1 (another process holds it)."""
        for fd in fds:
            if fd in self._held.values():
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield -1
            else:
                yield fd

    def _busy_elsewhere(self, fds: list[int]) -> int:
        """How many slots other processes hold now (each free one is taken and released at once)."""
        busy = 0
        for fd in self._free_files(fds):
            if fd < 0:
                busy += 1
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return busy

    def _take_file(self) -> int | None:
        """A slot file's fd, locked for this process; None when the host's slots cannot be used."""
        try:
            fds = self._files()
        except OSError:
            return None
        while True:
            with self._lock:
                fd = next((fd for fd in self._free_files(fds) if fd >= 0), None)
                if fd is not None:
                    self._held[threading.get_ident()] = fd
                    return fd
            time.sleep(SLOT_POLL_SECONDS)

    def fair_share(self) -> int:
        """Threads for one training now: cores ÷ trainings holding a slot on the host (probed
        without blocking), at least one; ``TORCH_THREADS`` when this process trains nothing."""
        with self._lock:
            mine = len(self._held)
            others = self._busy_elsewhere(self._fds) if self._fds and mine else 0
        running = mine + others
        return max(1, CORES // running) if running else TORCH_THREADS

    def __enter__(self) -> TrainingSlots:
        self._local.acquire()
        try:
            if self._take_file() is None:
                with self._lock:
                    self._held[threading.get_ident()] = -1  # no slot files: count this process alone
            set_torch_threads(self.fair_share())
        except BaseException:
            self._local.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            fd = self._held.pop(threading.get_ident(), -1)
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_UN)
        self._local.release()
        set_torch_threads(self.fair_share())


_SLOTS = _TRAINING_SLOTS = TrainingSlots()  # tests may replace _TRAINING_SLOTS; the share reads _SLOTS


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
        hidden=(256, 64),
        activation: str = "relu",
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
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
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


# ------------------------------------------------------------------------ configurations


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained model (with the data source): hashable, so it keys the cache.

    ``schedule="onecycle"`` ramps the learning rate up to ``lr`` and anneals it (torch's
    OneCycleLR); None keeps ``lr`` constant, as the course does.
    """

    hidden: tuple[int, ...] = (256, 64)
    activation: str = "relu"
    final_activation: str | None = None
    epochs: int = 3
    batch_size: int = 512
    lr: float = 0.01
    optimizer: str = "sgd"
    momentum: float = 0.9
    loss: str = "mse"
    seed: int = 0
    schedule: str | None = None
    conv: tuple[int, ...] = ()  # convolution channels in front of the hidden layers (see MLP); () = none
    augment: float = 0.0  # strength of the random distortions (lessons.augment.augment_batch); 0 = none

    def __post_init__(self) -> None:
        """Store ``hidden`` and ``conv`` as tuples of ints, so a list from a widget still gives a hashable key."""
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "conv", tuple(int(c) for c in self.conv))
        if not (math.isfinite(self.augment) and 0.0 <= self.augment <= 2.0):
            raise ValueError(f"augment must be a strength from 0 to 2, not {self.augment!r}")


COURSE_RECIPE = TrainConfig()
# The same 784-256-64-10 network, trained better: Adam with cross-entropy and a one-cycle
# learning rate (up to 0.005, then annealed) over 5 epochs of batches of 256. Test accuracy
# about 0.983 for seeds 0, 1 and 2 (the course recipe: 0.886), in about 6 course epochs' time.
BEST_PRESET = TrainConfig(
    epochs=5,
    batch_size=256,
    lr=0.005,
    optimizer="adam",
    loss="cross_entropy",
    schedule="onecycle",
)
# The course recipe sized for the offline fallback's 1,437 training digits: at batches of 512,
# 3 epochs are only 9 steps (about 15 % accuracy). Batches of 32 for 20 epochs are 900 steps of
# the same maths, about 0.97 test accuracy in a second.
FALLBACK_RECIPE = replace(COURSE_RECIPE, batch_size=32, epochs=20)
# Trained as the course's last line says, for real handwriting (issue 12): two small convolutions
# (8 and 16 channels, each halving the image) in front of one hidden layer of 64, and half of
# every batch slanted, turned, resized, moved, thickened or thinned, blurred and wobbled afresh
# (lessons.augment). Best preset's optimiser and schedule, 3 epochs: within 12 course epochs' time.
ROBUST_PRESET = replace(BEST_PRESET, conv=(8, 16), hidden=(64,), epochs=3, augment=1.0)
PRESETS: dict[str, TrainConfig] = {"course": COURSE_RECIPE, "best": BEST_PRESET, "robust": ROBUST_PRESET}
DRAW_DEFAULT = "robust"  # the preset the draw page reads with unless the student picks another


def preset_for(name: str, data: MnistData) -> TrainConfig:
    """``PRESETS[name]`` for ``data``: as given on MNIST; on the small fallback set resized like
    ``FALLBACK_RECIPE`` (batches of 32 for 20 epochs), so "course" gives exactly the fallback recipe."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)}, not {name!r}")
    config = PRESETS[name]
    if data.is_fallback:
        return replace(config, batch_size=FALLBACK_RECIPE.batch_size, epochs=FALLBACK_RECIPE.epochs)
    return config


def recipe_for(data: MnistData) -> TrainConfig:
    """The course recipe for ``data``: as the course gives it on MNIST, resized for the small fallback set."""
    return FALLBACK_RECIPE if data.is_fallback else COURSE_RECIPE


# ------------------------------------------------------------------------ data as tensors

_TENSOR_CACHE: OrderedDict[str, tuple[np.ndarray, tuple]] = OrderedDict()
_TENSOR_CACHE_SIZE = 3
_TENSOR_LOCK = threading.Lock()


def normalise(images: Any) -> torch.Tensor:
    """Images in [0, 1] (n, 28, 28) -> float32 (n, 784), standardised with the course's mean and std."""
    x = torch.as_tensor(np.array(images, dtype=np.float32)).reshape(-1, N_PIXELS)  # a writable copy
    return (x - MEAN) / STD


def _mapped(name: str, images: np.ndarray) -> torch.Tensor:
    """``normalise(images / 255)``, shared between processes through ``modelstore.shared_array``."""
    array = modelstore.shared_array(name, lambda: normalise(images.astype(np.float32) / 255.0).numpy())
    return torch.from_numpy(array)


def _tensors(data: MnistData) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test) as tensors, normalised once per data set and kept.

    Keyed by ``data.source`` and checked by identity of the image array, so a reloaded data set
    with the same source is converted again rather than mixed up.
    """
    with _TENSOR_LOCK:
        hit = _TENSOR_CACHE.get(data.source)
        if hit is not None and hit[0] is data.train_images:
            _TENSOR_CACHE.move_to_end(data.source)
            return hit[1]
        # The normalised images live once on disk, mapped by every worker (220 MB a copy for MNIST).
        stem = f"images-{modelstore.data_identity(data)}"
        tensors = (
            _mapped(f"{stem}-train", data.train_images),
            torch.tensor(data.train_labels, dtype=torch.int64),  # a copy: the arrays are read-only
            _mapped(f"{stem}-test", data.test_images),
            torch.tensor(data.test_labels, dtype=torch.int64),
        )
        _TENSOR_CACHE[data.source] = (data.train_images, tensors)
        while len(_TENSOR_CACHE) > _TENSOR_CACHE_SIZE:
            _TENSOR_CACHE.popitem(last=False)
        return tensors


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
    epochs: int = 3,
    batch_size: int = 512,
    lr: float = 0.01,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    loss: str = "mse",
    seed: int = 0,
    schedule: str | None = None,
    augment: float = 0.0,
    on_progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """Train ``model`` in place on ``data``'s training set; the history (step, epoch, loss) per batch.

    Each epoch visits the training images once in an order drawn from ``seed``; the same seed,
    model and data give the same history. ``on_progress(fraction_done, history_so_far)`` is called
    at most every ``PROGRESS_SECONDS`` and once at the end.

    ``should_stop()`` is asked before every batch; once it says True the training ends there, the
    model keeps the batches it has learnt, and the history so far comes back with
    ``attrs["stopped"]`` True (False after a full run): a partial model, never to be cached as the
    finished one.

    ``augment`` > 0 distorts ``AUGMENTED_SHARE`` of every batch afresh (``lessons.augment``, at that
    strength), from a generator of its own: the batch order stays the one ``seed`` gives.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, not {schedule!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    set_torch_threads()
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
    with _TRAINING_SLOTS:
        model.train()
        for epoch in range(epochs):
            set_torch_threads()  # this training's share now: other trainings may have started or ended
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, batch_size):
                if should_stop is not None and should_stop():
                    stopped = True
                    break
                idx = order[start : start + batch_size]
                inputs = x_train[idx] if augment <= 0 else _augmented(x_train[idx], distortions, augment)
                batch_loss = objective(model(inputs), y_train[idx], loss)
                opt.zero_grad(set_to_none=True)
                batch_loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                steps.append(len(steps) + 1)
                epoch_of.append(epoch + 1)
                losses.append(batch_loss.item())
                if on_progress is not None and time.monotonic() - last_report >= PROGRESS_SECONDS:
                    on_progress(len(steps) / total, history())
                    last_report = time.monotonic()
            if stopped:
                break
        model.eval()
    result = history()
    result.attrs["stopped"] = stopped
    if on_progress is not None:
        on_progress(len(steps) / total if stopped else 1.0, result)
    return result


def _augmented(x: torch.Tensor, generator: torch.Generator, strength: float) -> torch.Tensor:
    """The normalised batch with its first ``AUGMENTED_SHARE`` distorted (in [0, 1] pixels, where the
    background is 0 and ``augment`` works)."""
    k = round(len(x) * AUGMENTED_SHARE)
    pixels = (x[:k] * STD + MEAN).reshape(k, 28, 28)
    distorted = (augment.augment_batch(pixels, generator, strength).reshape(k, -1) - MEAN) / STD
    return torch.cat([distorted, x[k:]])


MEASURE_SECONDS = 0.3  # how long estimate_seconds times batches
MEASURE_BATCHES = 5  # ... and at least this many, after one warm-up batch
_BATCH_SECONDS: dict[tuple, float] = {}  # measured seconds per batch, per architecture and batch size
_BATCH_SECONDS_LOCK = threading.Lock()


def _seconds_per_batch(config: TrainConfig) -> float:
    """One training batch's seconds for ``config``'s network, optimiser, loss, batch size and
    augmentation, timed on random inputs (a batch costs the same whatever its pixels), measured
    once per process.

    It is timed in a training slot, on the threads a training would get now: on a busy machine two
    threads per op run several times slower than one, so timing outside the policy misleads. Like
    a training, it waits while every slot is taken.
    """
    key = (config.hidden, config.conv, config.activation, config.final_activation, config.optimizer, config.loss,
           config.batch_size, config.augment)
    with _BATCH_SECONDS_LOCK:
        if key in _BATCH_SECONDS:
            return _BATCH_SECONDS[key]
    gen = torch.Generator().manual_seed(0)
    model = MLP(config.hidden, config.activation, config.final_activation, conv=config.conv)
    opt = make_optimizer(config.optimizer, model.parameters(), config.lr, config.momentum)
    pool = 4 * config.batch_size  # batches are gathered from a larger tensor, as training slices its data
    x = torch.randn(pool, N_PIXELS, generator=gen)
    y = torch.randint(0, N_CLASSES, (pool,), generator=gen)
    times: list[float] = []
    with _TRAINING_SLOTS:
        begin = time.perf_counter()
        # one more batch than counted: the first warms up (allocations, first-call costs)
        while len(times) <= MEASURE_BATCHES or time.perf_counter() - begin < MEASURE_SECONDS:
            start = time.perf_counter()
            idx = torch.randint(0, pool, (config.batch_size,), generator=gen)
            inputs = x[idx] if config.augment <= 0 else _augmented(x[idx], gen, config.augment)
            batch_loss = objective(model(inputs), y[idx], config.loss)
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            opt.step()
            batch_loss.item()
            times.append(time.perf_counter() - start)
    seconds = float(np.mean(times[1:]))
    with _BATCH_SECONDS_LOCK:
        _BATCH_SECONDS[key] = seconds
    return seconds


def estimate_seconds(config: TrainConfig, data_size: int) -> float:
    """About how long ``train`` takes for ``config`` on ``data_size`` training images: a few batches
    timed (once per architecture, then remembered) times the run's number of batches."""
    if data_size < 0:
        raise ValueError("data_size must be ≥ 0")
    return _seconds_per_batch(config) * config.epochs * -(-int(data_size) // config.batch_size)


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


# ------------------------------------------------------------------------ trained models and the class cache


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
    should_stop: Callable[[], bool] | None = None,
) -> TrainedModel:
    """Build the MLP ``config`` describes, train it on ``data``, and measure its test accuracy
    (``should_stop``: see ``train``; a stopped run comes back with ``stopped`` True)."""
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
    )
    seconds = time.perf_counter() - start
    return TrainedModel(model, history, evaluate(model, data), config, data.source, seconds)


CACHE_SIZE = 64  # trained models kept per server; the oldest is dropped beyond this
_cache: OrderedDict[tuple, TrainedModel] = OrderedDict()
_key_locks: dict[tuple, threading.Lock] = {}
_cache_lock = threading.Lock()


def _to_payload(trained: TrainedModel) -> dict:
    """A trained model as plain tensors, numbers and strings, for ``lessons.modelstore``."""
    model = trained.model
    return {
        "state_dict": model.state_dict(),
        "hidden": list(model.hidden),
        "conv": list(model.conv),
        "activation": model.activation,
        "final_activation": model.final_activation,
        "loss": model.loss,
        "history": {c: torch.tensor(trained.history[c].to_numpy()) for c in trained.history.columns},
        "accuracy": float(trained.accuracy),
        "source": trained.source,
        "seconds": float(trained.seconds),
    }


def _from_payload(payload: dict, config: TrainConfig) -> TrainedModel | None:
    """The ``TrainedModel`` a stored payload describes, or None when it does not fit ``config``."""
    try:
        model = MLP(payload["hidden"], payload["activation"], payload["final_activation"], conv=payload.get("conv", ()))
        model.load_state_dict(payload["state_dict"])
        model.loss = str(payload["loss"])
        model.eval()
        history = pd.DataFrame({c: v.numpy() for c, v in payload["history"].items()})
        return TrainedModel(model, history, float(payload["accuracy"]), config, str(payload["source"]), float(payload["seconds"]))
    except (KeyError, TypeError, ValueError, RuntimeError):
        return None  # a file from an older layout: retrain and overwrite it


def _load_or_train(config: TrainConfig, data: MnistData, on_progress: ProgressFn | None,
                   should_stop: Callable[[], bool] | None = None) -> TrainedModel:
    """The model from the disk store, else trained under the store's lock (one training per host set) and saved."""
    store = modelstore.ModelStore()
    key = modelstore.model_key(config, data)
    payload = store.load(key)
    hit = _from_payload(payload, config) if payload is not None else None
    if hit is None:
        with store.lock(key):
            payload = store.load(key)  # another process may have trained it while this one waited
            hit = _from_payload(payload, config) if payload is not None else None
            if hit is None:
                hit = train_config(config, data, on_progress, should_stop=should_stop)
                if not hit.stopped:  # a stopped run is this student's alone, never the class's model
                    store.save(key, _to_payload(hit))
                return hit
    if on_progress is not None:
        on_progress(1.0, hit.history)
    return hit


def train_cached(
    config: TrainConfig, data: MnistData, on_progress: ProgressFn | None = None, *,
    should_stop: Callable[[], bool] | None = None,
) -> TrainedModel:
    """``train_config`` once per (config, data); everyone else, in any worker process, gets the same model.

    In a process, a per-key lock makes concurrent identical requests wait for the one training
    (their ``on_progress`` is then called once, at the end) and they get the same object.
    Across processes and restarts, ``lessons.modelstore`` keeps the trained models on disk under
    a lock. Different keys train in parallel, limited only by the training slots.

    ``should_stop`` (see ``train``) ends this caller's own training early; the partial model comes
    back with ``stopped`` True and is kept neither here nor on disk, so the next request trains afresh.
    """
    key = (config, data.source)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        key_lock = _key_locks.setdefault(key, threading.Lock())
    if hit is None:
        with key_lock:
            with _cache_lock:
                hit = _cache.get(key)
            if hit is None:
                hit = _load_or_train(config, data, on_progress, should_stop)
                if hit.stopped:
                    return hit
                with _cache_lock:
                    _cache[key] = hit
                    while len(_cache) > CACHE_SIZE:
                        _cache.popitem(last=False)  # its key lock stays: someone may be waiting on it
                return hit
    if on_progress is not None:
        on_progress(1.0, hit.history)
    return hit


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
    except Exception as exc:  # noqa: BLE001 - unpickling, missing keys, shape mismatches: all mean "not ours"
        raise ValueError(f"not a model saved by this app: {exc}") from exc
    model.eval()
    return model
