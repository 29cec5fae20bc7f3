"""Real handwriting for lesson 7: the development set of digits drawn on tablets (not MNIST), harder
variants of it made in memory (thin pens, photos of paper), lesson 7's settings and the networks it
compares, and how a network reads a set of digits.

The set lives outside the repository, in ``../shared/data/handwriting/`` (``labels.csv``:
file,label,writer,collection; 280×280 greyscale PNGs, black strokes on white, drawn with a 24 px
pen). It is for measuring how well a model reads real writing, never for training or tuning. The
variants are made here, in memory, and never written anywhere.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lessons import augment, canvas, imaging
from lessons.recipes import PRESETS, TrainConfig, preset_for
from lessons.settings import Setting

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "handwriting"
ENV_DIR = "HANDWRITING_DIR"  # overrides the default folder
PEN = 24.0  # the pen width the set was drawn with (its README)
SIDE = 280
COLUMNS = ("file", "label", "writer", "collection")


SET_PROBLEMS = ("absent", "bad_set")  # HandwritingError's codes


class HandwritingError(ValueError):
    """The development set cannot be read; ``code``: ``absent`` (no folder or labels) or ``bad_set``.

    ``absent`` chooses ``handwriting.err.absent``, which claims: this server has no development set
    (no ``labels.csv`` in its folder). ``bad_set`` chooses ``handwriting.err.bad_set``, which claims:
    there is one, but it cannot be read. Either way lesson 7 tests on the digits the student kept.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class HandwritingSet:
    """The development set: greyscale images (n, 280, 280) uint8, ink dark, with their labels and origins."""

    images: np.ndarray
    labels: np.ndarray  # int64 digits
    writers: np.ndarray  # UNIPEN writer ids (str)
    collections: np.ndarray  # UNIPEN collection codes (str)
    files: tuple[str, ...]
    folder: Path

    def __len__(self) -> int:
        return len(self.labels)


def handwriting_dir() -> Path:
    """Where the development set is: ``$HANDWRITING_DIR`` or ``../shared/data/handwriting``."""
    return Path(os.environ.get(ENV_DIR) or DEFAULT_DIR)


def load_handwriting(folder: Path | str | None = None) -> HandwritingSet:
    """Read the development set (``labels.csv`` and its PNGs). Raises ``HandwritingError`` with a code."""
    folder = Path(folder) if folder is not None else handwriting_dir()
    table = folder / "labels.csv"
    if not table.is_file():
        raise HandwritingError("absent", f"no development set at {folder} (labels.csv is missing)")
    try:
        with open(table, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or tuple(rows[0]) != COLUMNS:
            raise ValueError(f"labels.csv must have the columns {COLUMNS}")
        images = np.stack([_read_grey(folder / row["file"]) for row in rows])
        labels = np.array([int(row["label"]) for row in rows], dtype=np.int64)
        if labels.min() < 0 or labels.max() > 9:
            raise ValueError("labels must be digits 0-9")
    except (OSError, ValueError, KeyError) as exc:
        raise HandwritingError("bad_set", f"the development set at {folder} cannot be read: {exc}") from exc
    return HandwritingSet(
        images,
        labels,
        np.array([row["writer"] for row in rows]),
        np.array([row["collection"] for row in rows]),
        tuple(row["file"] for row in rows),
        folder,
    )


def _read_grey(path: Path) -> np.ndarray:
    """One 280×280 image as uint8 greyscale."""
    grey = imaging.luminance(imaging.decode_rgba(path.read_bytes()))
    if grey.shape != (SIDE, SIDE):
        raise ValueError(f"{path.name} is {grey.shape}, not {SIDE}×{SIDE}")
    return grey


def as_canvas(grey: np.ndarray) -> np.ndarray:
    """A greyscale image as the opaque RGBA array the canvas returns."""
    grey = np.asarray(grey, dtype=np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


# ------------------------------------------------------------------------ harder variants, in memory


def redraw_thin(grey: np.ndarray, width: float, pen: float | None = None) -> np.ndarray:
    """The drawing redrawn with a ``width``-px pen instead of ``pen`` px (default: measured), ink dark.

    The strokes' outline moves inwards by half the difference (a distance transform), so the
    pen's path is kept and only its width changes; the edge stays anti-aliased.
    """
    ink = (255.0 - np.asarray(grey, dtype=np.float32)) / 255.0
    inside = ink > 0.5
    if pen is None:
        pen = canvas.stroke_width(ink)
    depth = imaging.distance_transform_edt(inside)
    coverage = np.clip(depth - (pen - width) / 2 + 0.5, 0.0, 1.0)
    return np.round(255.0 * (1.0 - coverage)).astype(np.uint8)


def photo_like(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The drawing as a phone photo of paper: grey-tinted ink on off-white paper, uneven shading
    across the sheet, paper grain, a little blur, and a few specks of dirt. Opaque RGBA."""
    ink = (255.0 - np.asarray(grey, dtype=np.float32)) / 255.0
    h, w = ink.shape
    rows, cols = np.mgrid[0:h, 0:w] / max(h, w)
    # light falling off across the sheet: a random tilted plane and a soft shadow blob
    angle = rng.uniform(0, 2 * np.pi)
    light = 0.85 + 0.12 * (np.cos(angle) * (cols - 0.5) + np.sin(angle) * (rows - 0.5)) * 2
    cy, cx = rng.uniform(0, 1, 2)
    light -= rng.uniform(0.1, 0.25) * np.exp(-((rows - cy) ** 2 + (cols - cx) ** 2) / 0.08)
    paper = light + imaging.gaussian_filter(rng.normal(0, 0.04, (h, w)), 1.0)
    ink_tone = rng.uniform(0.1, 0.35)  # pencil or biro, never the screen's pure black
    blurred = imaging.gaussian_filter(ink, rng.uniform(0.5, 1.5))
    value = paper * (1 - blurred) + ink_tone * blurred
    for _ in range(int(rng.integers(1, 4))):  # dirt: small dark dots anywhere on the sheet
        y, x, r = rng.integers(0, h), rng.integers(0, w), rng.uniform(1.5, 3.5)
        value[(rows * max(h, w) - y) ** 2 + (cols * max(h, w) - x) ** 2 < r * r] = ink_tone
    tint = np.array([1.0, 0.97, 0.9])  # warm paper under indoor light
    rgb = np.clip(value[..., None] * tint * 255, 0, 255)
    return np.dstack([rgb, np.full((h, w), 255.0)]).round().astype(np.uint8)


VARIANTS = ("plain", "thin", "photo")
THIN_PEN = (5.0, 8.0)  # the thin variant's pen widths, px on the 280 px canvas (drawn at random)

# ------------------------------------------------------------------------ lesson 7's settings

NO_AUGMENT = "robust_plain"  # the robust network trained without distortions
COMPARED = (*[name for name in PRESETS if name != "robust"], NO_AUGMENT, "robust")  # the networks lesson 7 compares
NEUTRAL = {kind: float(d.neutral) for kind, d in augment.DISTORTIONS.items()}
SETTINGS: dict[str, Setting] = {
    "digit": Setting(7, 0, 9),
    **{kind: Setting(float(d.neutral), d.low, d.high) for kind, d in augment.DISTORTIONS.items()},
    "model": Setting("course", options=COMPARED),
    "variant": Setting("plain", options=VARIANTS),
}


def first_test_digit(data, digit: int) -> np.ndarray:
    """The first MNIST test image (``lessons.mnist.MnistData``) of ``digit``, as floats in [0, 1]: lesson 7's example."""
    index = int(np.flatnonzero(np.asarray(data.test_labels) == digit)[0])
    return np.asarray(data.test_images[index], dtype=np.float32) / 255.0


def config_of(name: str, data) -> TrainConfig:
    """The training recipe of compared network ``name``: a preset, or the robust one without distortions.

    ``handwriting.recipes`` claims of these: the two robust networks differ only in ``augment``.
    """
    from dataclasses import replace

    if name == NO_AUGMENT:
        return replace(preset_for("robust", data), augment=0.0)
    return preset_for(name, data)


def variant_images(data: HandwritingSet, variant: str, seed: int = 0) -> list[np.ndarray]:
    """Every digit of the set as an RGBA canvas: ``plain``, ``thin`` (a random 5-8 px pen) or ``photo``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    rng = np.random.default_rng(seed)
    if variant == "plain":
        return [as_canvas(g) for g in data.images]
    if variant == "thin":
        return [as_canvas(redraw_thin(g, rng.uniform(*THIN_PEN), PEN)) for g in data.images]
    return [photo_like(g, rng) for g in data.images]


def prepare(canvases: list[np.ndarray]) -> np.ndarray:
    """The canvases through the draw page's preprocessing: (n, 28, 28) float32; blank ones stay all zero."""
    prepared = [canvas.preprocess_canvas(c) for c in canvases]
    return np.stack([np.zeros((28, 28), np.float32) if p is None else p for p in prepared])


@dataclass(frozen=True)
class HandwritingReport:
    """How a model read a set of digits: overall, per collection and per digit, every prediction, and the misread digits.

    ``misread`` chooses what lesson 7 shows under ``handwriting.misread_title``, which claims: the most
    confident mistakes come first. Each ``handwriting.misread_caption`` claims the digit was read as
    ``predictions[i]`` with probability ``confidence[i]`` but is ``labels[i]``, another digit. An empty
    ``misread`` chooses ``handwriting.no_misread``, which claims every digit was read right.
    """

    accuracy: float
    by_collection: pd.DataFrame  # collection, digits, accuracy
    by_digit: pd.DataFrame  # digit (0-9), digits, accuracy: each true digit's share read right (NaN where absent)
    predictions: np.ndarray
    confidence: np.ndarray  # the probability of each prediction
    misread: np.ndarray  # indices into the set, most confident mistakes first


def score(proba: np.ndarray, labels: np.ndarray, collections: np.ndarray | None = None) -> HandwritingReport:
    """Score probabilities (n, 10) against ``labels``: accuracy, per collection, and the misread digits."""
    labels = np.asarray(labels)
    predictions = proba.argmax(axis=1)
    confidence = proba.max(axis=1)
    right = predictions == labels
    groups = np.full(len(labels), "") if collections is None else np.asarray(collections)
    frame = pd.DataFrame({"collection": groups, "right": right})
    by_collection = (
        frame.groupby("collection", sort=True)["right"].agg(digits="size", accuracy="mean").reset_index()
    )
    by_digit = pd.DataFrame({"digit": np.arange(10), "digits": np.bincount(labels, minlength=10)[:10]})
    by_digit["accuracy"] = [right[labels == d].mean() if count else np.nan for d, count in enumerate(by_digit["digits"])]
    wrong = np.flatnonzero(~right)
    misread = wrong[np.argsort(-confidence[wrong], kind="stable")]
    accuracy = float(right.mean()) if len(labels) else float("nan")
    return HandwritingReport(accuracy, by_collection, by_digit, predictions, confidence, misread)


def read_handwriting(model, prepared: np.ndarray, data: HandwritingSet) -> HandwritingReport:
    """Read the prepared digits with ``model`` (anything ``lessons.mlp.predict_proba`` takes) and score them."""
    from lessons import mlp

    return score(mlp.predict_proba(model, prepared), data.labels, data.collections)


def read_digits(model, images: np.ndarray, labels: np.ndarray) -> HandwritingReport:
    """Read 28×28 digits (the ones a student kept on the draw page) with ``model`` and score them."""
    from lessons import mlp

    return score(mlp.predict_proba(model, images), labels)


def kept_arrays(kept: list[tuple[np.ndarray, int, str]] | None) -> tuple[np.ndarray, np.ndarray]:
    """The digits a student kept, ``[(28×28 image, label, digest), ...]``, as (n, 28, 28) float32 and their labels."""
    if not kept:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    return (np.stack([np.asarray(image, np.float32) for image, _, _ in kept]),
            np.array([label for _, label, _ in kept], np.int64))


KEPT_MAX = 200  # digits a student keeps on the draw page for lesson 7; the oldest go first


def digest(image: np.ndarray) -> str:
    """A digit's fingerprint: the same picture kept twice is one digit."""
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def keep(kept: list[tuple[np.ndarray, int, str]], image: np.ndarray, label: int) -> bool:
    """Add a digit and the label the student picked to their kept digits (at most ``KEPT_MAX``, the
    oldest dropped first); False, and nothing added, when that picture is kept already."""
    fingerprint = digest(image)
    if any(entry[2] == fingerprint for entry in kept):
        return False
    kept.append((np.asarray(image, dtype=np.float32), int(label), fingerprint))
    del kept[:-KEPT_MAX]
    return True
