"""What a training on MNIST is made of, without torch: ``TrainConfig``, the course's recipe and the
other presets, and lesson 5c's one settings table with its codec (``lessons.mlp`` re-exports all of it).

``SETTINGS`` is 5c's settings table (URL name -> ``Setting``): the page, the take-home program, the
class board and the benchmarks read it. ``settings_from_config`` / ``config_from_settings`` turn a
``TrainConfig`` into those settings and back; ``posted_settings`` reads a run posted to the class
board in either form it was ever posted in. It lives apart from ``lessons.mlp`` because the pages
that only describe a training (the take-home program, the class board) must not load torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lessons.settings import Setting

if TYPE_CHECKING:
    from lessons.mnist import MnistData

ACTIVATIONS = ("relu", "sigmoid", "tanh")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
LOSSES = ("mse", "cross_entropy")
SCHEDULES = (None, "onecycle")
N_PIXELS, N_CLASSES = 28 * 28, 10
MNIST_TRAIN_IMAGES = 60_000  # the real MNIST training set: the course recipe's 3 epochs are 354 steps on it


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained model (with the data source): hashable, so it keys the cache.

    The defaults are the course's recipe: 784-256-64-10 with ReLU, MSE against one-hot targets, SGD
    at lr 0.01 with momentum 0.9, batches of 512, 3 epochs. ``schedule="onecycle"`` ramps the
    learning rate up to ``lr`` and anneals it (torch's OneCycleLR); None keeps ``lr`` constant, as
    the course does.
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
    conv: tuple[int, ...] = ()  # convolution channels in front of the hidden layers (see mlp.MLP); () = none
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
# Trained as the course's last line says, for real handwriting: two convolutions (32 and 64
# channels, each halving the image) in front of one hidden layer of 128, and half of every batch
# slanted, turned, resized, moved, thickened or thinned, blurred and wobbled afresh, with the styles
# MNIST lacks (flagged and based 1s, crossed 7s), contrast, paper grain and shadows
# (lessons.augment.augment_training_batch). Best preset's optimiser and schedule, 6 epochs:
# about 1.5 minutes of one core (benchmarks handwriting).
ROBUST_PRESET = replace(BEST_PRESET, conv=(32, 64), hidden=(128,), epochs=6, augment=1.0)
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


def steps_of(config: TrainConfig, n_train: int) -> int:
    """The batches a full run of ``config`` takes on ``n_train`` images (the last batch of an epoch may be short)."""
    return config.epochs * -(-int(n_train) // config.batch_size)


def network_text(hidden: tuple[int, ...] | list[int]) -> str:
    """The network's layer sizes as the course writes them: 784-256-64-10."""
    return "-".join(map(str, (N_PIXELS, *hidden, N_CLASSES)))


# ------------------------------------------------------------------------ lesson 5c's settings

NONE = "none"  # None (no output activation, constant learning rate) as a URL-friendly word
HIDDEN_SLOTS = max(3, len(COURSE_RECIPE.hidden), len(BEST_PRESET.hidden))  # 5c's h1 … h3
MAX_EPOCHS = max(20, COURSE_RECIPE.epochs, BEST_PRESET.epochs)
# The choices offered always include the course's and the best preset's values.
SIZES = tuple(sorted({16, 32, 64, 128, 256, 512, 1024, *COURSE_RECIPE.hidden, *BEST_PRESET.hidden}))
LRS = tuple(sorted({0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, COURSE_RECIPE.lr, BEST_PRESET.lr}))
BATCHES = tuple(sorted({32, 64, 128, 256, 512, 1024, 2048, COURSE_RECIPE.batch_size, BEST_PRESET.batch_size}))
FINALS = (NONE, *ACTIVATIONS)
SCHEDULE_NAMES = tuple(NONE if s is None else s for s in SCHEDULES)
HIDDEN_NAMES = tuple(f"h{i + 1}" for i in range(HIDDEN_SLOTS))
# A TrainConfig's field names that 5c's URL spells otherwise (the quick start posts asdict(config)).
CONFIG_NAMES = {"batch_size": "batch", "final_activation": "final"}


def settings_from_config(config: TrainConfig) -> dict[str, Any]:
    """5c's settings (URL names) that describe ``config``; unused hidden-size slots keep the course's last size.

    ``conv`` and ``augment`` are no settings of 5c: a config with them has no exact 5c settings."""
    sizes = list(config.hidden) + [COURSE_RECIPE.hidden[-1]] * (HIDDEN_SLOTS - len(config.hidden))
    return {
        "layers": len(config.hidden),
        **dict(zip(HIDDEN_NAMES, sizes)),
        "activation": config.activation,
        "final": config.final_activation or NONE,
        "loss": config.loss,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "momentum": config.momentum,
        "schedule": config.schedule or NONE,
        "batch": config.batch_size,
        "epochs": config.epochs,
        "seed": config.seed,
    }


COURSE_SETTINGS = settings_from_config(COURSE_RECIPE)
SETTINGS: dict[str, Setting] = {
    "layers": Setting(COURSE_SETTINGS["layers"], 1, HIDDEN_SLOTS),
    **{name: Setting(COURSE_SETTINGS[name], options=SIZES) for name in HIDDEN_NAMES},
    "activation": Setting(COURSE_SETTINGS["activation"], options=ACTIVATIONS),
    "final": Setting(COURSE_SETTINGS["final"], options=FINALS),
    "loss": Setting(COURSE_SETTINGS["loss"], options=LOSSES),
    "optimizer": Setting(COURSE_SETTINGS["optimizer"], options=OPTIMIZERS),
    "lr": Setting(COURSE_SETTINGS["lr"], options=LRS),
    "momentum": Setting(COURSE_SETTINGS["momentum"], 0.0, 0.99),
    "schedule": Setting(COURSE_SETTINGS["schedule"], options=SCHEDULE_NAMES),
    "batch": Setting(COURSE_SETTINGS["batch"], options=BATCHES),
    "epochs": Setting(COURSE_SETTINGS["epochs"], 1, MAX_EPOCHS),
    "seed": Setting(COURSE_SETTINGS["seed"], 0, 9_999),
}


def config_from_settings(settings: Mapping[str, Any]) -> TrainConfig:
    """The ``TrainConfig`` 5c's settings describe; a setting left out is the course's."""
    v = {**COURSE_SETTINGS, **{name: value for name, value in settings.items() if name in SETTINGS}}
    layers = int(v["layers"])
    return TrainConfig(
        hidden=tuple(int(v[name]) for name in HIDDEN_NAMES[:layers]),
        activation=str(v["activation"]),
        final_activation=None if v["final"] in (NONE, None) else str(v["final"]),
        epochs=int(v["epochs"]),
        batch_size=int(v["batch"]),
        lr=float(v["lr"]),
        optimizer=str(v["optimizer"]),
        momentum=float(v["momentum"]),
        loss=str(v["loss"]),
        seed=int(v["seed"]),
        schedule=None if v["schedule"] in (NONE, None) else str(v["schedule"]),
    )


def posted_settings(posted: Mapping[str, Any]) -> dict[str, Any]:
    """The 5c settings a run posted to the class board carries, under 5c's names, whatever form it was
    posted in: 5c's own settings, or a ``TrainConfig`` as ``dataclasses.asdict`` (hidden, batch_size,
    final_activation; None as "none"). Anything 5c has no setting for is left out, and nothing is filled in."""
    out: dict[str, Any] = {}
    hidden = posted.get("hidden")
    if isinstance(hidden, (list, tuple)) and 0 < len(hidden) <= HIDDEN_SLOTS:
        out["layers"] = len(hidden)
        out.update(zip(HIDDEN_NAMES, hidden))
    for name, value in posted.items():
        name = CONFIG_NAMES.get(name, name)
        if name in SETTINGS:
            out.setdefault(name, NONE if value is None and name in ("final", "schedule") else value)
    return out


def posted_hidden(settings: Mapping[str, Any]) -> list[Any] | None:
    """The hidden sizes ``posted_settings`` gives, or None when they are not all there."""
    layers = settings.get("layers")
    if not isinstance(layers, int) or not 1 <= layers <= HIDDEN_SLOTS:
        return None
    hidden = [settings.get(name) for name in HIDDEN_NAMES[:layers]]
    return hidden if all(isinstance(h, int) for h in hidden) else None
