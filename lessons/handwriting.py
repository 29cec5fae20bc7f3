"""Real handwriting for evaluation: the development set of digits drawn on tablets (not MNIST), and
harder variants of it made in memory (thin pens, photos of paper).

The set lives outside the repository, in ``../shared/data/handwriting/`` (``labels.csv``:
file,label,writer,collection; 280×280 greyscale PNGs, black strokes on white, drawn with a 24 px
pen). It is for measuring how well a model reads real writing, never for training or tuning. The
variants are made here, in memory, and never written anywhere.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage

from lessons import canvas

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "handwriting"
ENV_DIR = "HANDWRITING_DIR"  # overrides the default folder
PEN = 24.0  # the pen width the set was drawn with (its README)
SIDE = 280
COLUMNS = ("file", "label", "writer", "collection")


class HandwritingError(ValueError):
    """The development set cannot be read; ``code``: ``absent`` (no folder or labels) or ``bad_set``."""

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
    with Image.open(path) as image:
        grey = np.asarray(image.convert("L"))
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
    depth = ndimage.distance_transform_edt(inside)
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
    paper = light + ndimage.gaussian_filter(rng.normal(0, 0.04, (h, w)), 1.0)
    ink_tone = rng.uniform(0.1, 0.35)  # pencil or biro, never the screen's pure black
    blurred = ndimage.gaussian_filter(ink, rng.uniform(0.5, 1.5))
    value = paper * (1 - blurred) + ink_tone * blurred
    for _ in range(int(rng.integers(1, 4))):  # dirt: small dark dots anywhere on the sheet
        y, x, r = rng.integers(0, h), rng.integers(0, w), rng.uniform(1.5, 3.5)
        value[(rows * max(h, w) - y) ** 2 + (cols * max(h, w) - x) ** 2 < r * r] = ink_tone
    tint = np.array([1.0, 0.97, 0.9])  # warm paper under indoor light
    rgb = np.clip(value[..., None] * tint * 255, 0, 255)
    return np.dstack([rgb, np.full((h, w), 255.0)]).round().astype(np.uint8)


VARIANTS = ("plain", "thin", "photo")


def variant_images(data: HandwritingSet, variant: str, seed: int = 0) -> list[np.ndarray]:
    """Every digit of the set as an RGBA canvas: ``plain``, ``thin`` (a random 5-8 px pen) or ``photo``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    rng = np.random.default_rng(seed)
    if variant == "plain":
        return [as_canvas(g) for g in data.images]
    if variant == "thin":
        return [as_canvas(redraw_thin(g, rng.uniform(5, 8), PEN)) for g in data.images]
    return [photo_like(g, rng) for g in data.images]


def prepare(canvases: list[np.ndarray]) -> np.ndarray:
    """The canvases through the draw page's preprocessing: (n, 28, 28) float32; blank ones stay all zero."""
    prepared = [canvas.preprocess_canvas(c) for c in canvases]
    return np.stack([np.zeros((28, 28), np.float32) if p is None else p for p in prepared])


@dataclass(frozen=True)
class HandwritingReport:
    """How a model read the set: overall and per collection, every prediction, and the misread digits."""

    accuracy: float
    by_collection: pd.DataFrame  # collection, digits, accuracy
    predictions: np.ndarray
    confidence: np.ndarray  # the probability of each prediction
    misread: np.ndarray  # indices into the set, most confident mistakes first


def read_handwriting(model, prepared: np.ndarray, data: HandwritingSet) -> HandwritingReport:
    """Read the prepared digits with ``model`` (anything ``lessons.mlp.predict_proba`` takes) and score them."""
    from lessons import mlp  # torch only when a model is read

    proba = mlp.predict_proba(model, prepared)
    predictions = proba.argmax(axis=1)
    confidence = proba.max(axis=1)
    right = predictions == data.labels
    frame = pd.DataFrame({"collection": data.collections, "right": right})
    by_collection = (
        frame.groupby("collection", sort=True)["right"].agg(digits="size", accuracy="mean").reset_index()
    )
    wrong = np.flatnonzero(~right)
    misread = wrong[np.argsort(-confidence[wrong], kind="stable")]
    return HandwritingReport(float(right.mean()), by_collection, predictions, confidence, misread)
