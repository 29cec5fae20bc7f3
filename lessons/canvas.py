"""Turn a drawing from the canvas into the kind of image the network was trained on.

MNIST digits were made in a particular way (LeCun et al.): the black-and-white NIST scan
was cropped to the digit, scaled so its longer side is 20 pixels (keeping the aspect
ratio, anti-aliased into grey levels), and pasted into a 28×28 field so that its centre
of mass sits at the centre. A network trained on MNIST only ever saw digits prepared that
way, so a drawing must be prepared the same way before the network can read it.

Pure numpy + Pillow: no torch, no streamlit. The network's reading of the prepared image
comes from ``lessons.mlp.predict_proba``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image

SIZE = 28  # the MNIST field
BOX = 20  # the longer side of the digit inside the field
CENTRE = 14.0  # where MNIST's centres of mass sit (measured on the test set: 13.99, 14.01)
MIN_CONTRAST = 0.15  # strongest difference from the background (0..1) that counts as a stroke
MIN_INK_PIXELS = 12.0  # less ink than this many full pixels is a speck, not a digit
MIN_INK_FRACTION = 2e-4  # ... or than this share of a big canvas
CROP_LEVEL = 0.1  # faint fringes below this share of full ink do not widen the crop
UNSURE_BELOW = 0.6  # a top probability under this is reported as "not sure"


def as_premultiplied(rgba: np.ndarray) -> np.ndarray:
    """The image as float32 premultiplied colour (r·a, g·a, b·a, a), each in [0, 1].

    Premultiplied colour is linear in how much of a pixel a stroke covers:
    pixel = coverage·ink + (1 − coverage)·background, whatever the colours and whether
    the background is opaque or transparent. That makes "difference from the
    background" proportional to coverage. Integer images are read as 0..255, float
    images as 0..1. Raises ``ValueError`` for anything that is not an (H, W, 4) image.
    """
    array = np.asarray(rgba)
    if array.ndim != 3 or array.shape[2] != 4:
        raise ValueError(f"expected an RGBA image of shape (height, width, 4), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"the image is empty (shape {array.shape})")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"expected numeric pixel values, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.integer):
        pixels = array.astype(np.float32) / 255.0
    else:
        pixels = array.astype(np.float32)
        if not np.isfinite(pixels).all():
            raise ValueError("the image holds NaN or infinite values")
    pixels = np.clip(pixels, 0.0, 1.0)
    pixels[..., :3] *= pixels[..., 3:]
    return pixels


def background_colour(premultiplied: np.ndarray) -> np.ndarray:
    """The background: the most common (premultiplied) colour on the image's border.

    The border is the part of the canvas a student is least likely to draw on; taking
    the most common colour rather than the average means a stroke that does touch the
    edge (anti-aliased into many different shades) does not move the estimate.
    """
    border = np.concatenate(
        [premultiplied[0], premultiplied[-1], premultiplied[:, 0], premultiplied[:, -1]]
    )
    levels = np.ascontiguousarray(np.round(border * 255).astype(np.uint8))
    # One 32-bit number per RGBA colour: counting numbers is much faster than counting rows.
    colours, counts = np.unique(levels.view(np.uint32).ravel(), return_counts=True)
    most_common = np.array([colours[counts.argmax()]], dtype=np.uint32).view(np.uint8)
    return most_common.astype(np.float32) / 255.0


def ink_map(rgba: np.ndarray) -> np.ndarray | None:
    """How much ink each pixel holds, in [0, 1]: its difference from the background.

    The difference is the largest change of any premultiplied channel, so it sees dark
    ink on light paper, light ink on dark, and any colour on a transparent canvas
    (there the alpha channel carries the stroke). It is scaled so the strongest stroke
    is 1. ``None`` when nothing differs from the background enough to be a stroke.
    """
    pixels = as_premultiplied(rgba)
    background = background_colour(pixels)
    difference = np.abs(pixels[..., 0] - background[0])
    for channel in range(1, 4):  # channel by channel: a max over a 4-long last axis is slow
        np.maximum(difference, np.abs(pixels[..., channel] - background[channel]), out=difference)
    contrast = float(difference.max())
    if contrast < MIN_CONTRAST:
        return None
    return difference / contrast


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """The smallest rectangle holding every pixel with more than a faint trace of ink."""
    rows = np.flatnonzero((ink > CROP_LEVEL).any(axis=1))
    cols = np.flatnonzero((ink > CROP_LEVEL).any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def fit_longer_side(digit: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale the digit so its longer side is ``box`` pixels, keeping its aspect ratio.

    Shrinking averages each output pixel's area of the drawing (a box filter), so a
    pixel's grey level is how much of it the strokes cover: anti-aliased like MNIST's,
    and a thin stroke becomes faint grey instead of vanishing between samples. A drawing
    smaller than the box is enlarged bilinearly, which stays smooth where a box filter
    would copy blocky pixels. A tall "1" stays thin: the shorter side never drops below 1 px.
    """
    height, width = digit.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    resized = Image.fromarray(digit.astype(np.float32)).resize(size, resample)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """The ink-weighted mean (row, column) of an image with some ink."""
    rows, cols = np.indices(image.shape)
    mass = image.sum()
    return float((rows * image).sum() / mass), float((cols * image).sum() / mass)


def place_by_centre_of_mass(digit: np.ndarray, size: int = SIZE, centre: float = CENTRE) -> np.ndarray:
    """Paste the digit into a ``size``×``size`` field so its centre of mass lands on ``centre``.

    Whole-pixel shifts, as MNIST did (no extra blur). When the centre of mass is far
    off the digit's middle (a "7" is top-heavy), the shift is limited so the whole digit
    stays inside the field: a cut-off stroke would mislead the network more than a
    centre one pixel off.
    """
    height, width = digit.shape
    row, col = centre_of_mass(digit)
    top = int(np.clip(round(centre - row), 0, size - height))
    left = int(np.clip(round(centre - col), 0, size - width))
    field = np.zeros((size, size), dtype=np.float32)
    field[top : top + height, left : left + width] = digit
    return field


def is_near_empty(ink: np.ndarray) -> bool:
    """Too little ink to be a digit: a stray click or speck, where the network would only guess."""
    threshold = max(MIN_INK_PIXELS, MIN_INK_FRACTION * ink.size)
    return float(ink.sum()) < threshold


class Steps(NamedTuple):
    """Each stage of the preparation, so a page can show how a drawing becomes 28×28."""

    ink: np.ndarray  # the whole canvas as ink amounts in [0, 1]
    cropped: np.ndarray  # the smallest box around the ink
    scaled: np.ndarray  # longer side 20 px, anti-aliased
    placed: np.ndarray  # 28×28, centre of mass at (14, 14): what the network sees


def preprocessing_steps(rgba: np.ndarray) -> Steps | None:
    """The stages of ``preprocess_canvas``; ``None`` for an empty or near-empty canvas."""
    ink = ink_map(rgba)
    if ink is None or is_near_empty(ink):
        return None
    cropped = crop_to_ink(ink)
    scaled = fit_longer_side(cropped)
    return Steps(ink, cropped, scaled, place_by_centre_of_mass(scaled))


def preprocess_canvas(rgba: np.ndarray) -> np.ndarray | None:
    """A canvas image (H, W, 4) as an MNIST-style float32 28×28 image in [0, 1], ink high.

    Ink = difference from the background, weighted by alpha; cropped to the ink, the
    longer side scaled to 20 px with anti-aliasing, placed in 28×28 by its centre of mass.
    ``None`` for an empty or near-empty canvas. Raises ``ValueError`` for a non-RGBA array.
    """
    steps = preprocessing_steps(rgba)
    return None if steps is None else steps.placed


def fit_for_display(image: np.ndarray, size: int) -> np.ndarray:
    """An image fitted into a dark ``size``×``size`` square for showing on the page.

    Enlarging copies whole pixels (nearest neighbour), so a 28×28 image shows the crisp
    squares the network sees rather than a blur; shrinking averages (box filter). The
    aspect ratio is kept and the image centred, so a tall crop does not stretch the page.
    """
    height, width = image.shape
    scale = size / max(height, width)
    new_size = (max(1, min(size, round(width * scale))), max(1, min(size, round(height * scale))))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    fitted = np.asarray(Image.fromarray(image.astype(np.float32)).resize(new_size, resample))
    frame = np.zeros((size, size), dtype=np.float32)
    top, left = (size - fitted.shape[0]) // 2, (size - fitted.shape[1]) // 2
    frame[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    return frame


class Reading(NamedTuple):
    """What the network read: its best guess and the runner-up, with their probabilities."""

    digit: int
    probability: float
    runner_up: int
    runner_up_probability: float
    unsure: bool  # the best guess is below UNSURE_BELOW: say so instead of pretending


def read_probabilities(probabilities: np.ndarray, unsure_below: float = UNSURE_BELOW) -> Reading:
    """The top two digits of one row of 10 class probabilities, and whether the top one is unsure."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if p.shape != (10,):
        raise ValueError(f"expected 10 finite probabilities, got {p.size} values")
    if not np.isfinite(p).all():
        raise ValueError("expected 10 finite probabilities, got NaN or infinite values")
    first, second = np.argsort(-p, kind="stable")[:2]
    return Reading(int(first), float(p[first]), int(second), float(p[second]), bool(p[first] < unsure_below))


def probability_table(probabilities: np.ndarray) -> pd.DataFrame:
    """One row per digit 0–9: its probability and whether it is the network's answer (for the bar chart)."""
    reading = read_probabilities(probabilities)
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    return pd.DataFrame({"digit": np.arange(10), "probability": p, "chosen": np.arange(10) == reading.digit})
