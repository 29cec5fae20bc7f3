"""Turn a drawing from the canvas (or a photo) into the kind of image the network was trained on.

MNIST digits were made in a particular way (LeCun et al.): the black-and-white NIST scan was
size-normalised to fit a 20×20 box (keeping the aspect ratio, anti-aliased into grey levels) and
pasted into a 28×28 field so that its centre of mass sits at the centre. Nothing else: MNIST was
never deslanted and its strokes were never thickened. A network trained on MNIST only ever saw
digits prepared that way, so a drawing gets the same crop, scale and centring.

Real input is messier than NIST's clean scans, so this module adds three steps of its own: ink is
whatever differs from the background; paper and its shading are divided out, the ink thresholded
(Otsu), the strongest stroke made full ink and specks far from the digit dropped; and strokes
thinner than MNIST's (relative to the 20-pixel box) are thickened. ``preprocessing_steps`` returns
every stage. ``read_image_file`` turns an uploaded or camera photo into the same kind of array.

The draw page's settings (``SETTINGS``), which network may read (``reader_problem``) and what a
reading says (``read_probabilities``) live here too. A text a result chooses names its claim in a
docstring line beside the code that chooses it; ``tests/test_canvas.py`` checks each claim.

Pure numpy, with the image operations in ``lessons.imaging`` (torchvision decodes an upload): no
streamlit. The network's reading of the prepared image comes from ``lessons.mlp.predict_proba``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lessons import imaging
from lessons.recipes import DRAW_DEFAULT, PRESETS
from lessons.settings import Setting

SIZE = 28  # the MNIST field
BOX = 20  # the longer side of the digit inside the field
CENTRE = 14.0  # where MNIST's centres of mass sit (measured on the test set: 13.99, 14.01)
MIN_CONTRAST = 0.15  # strongest difference from the background (0..1) that counts as a stroke
MIN_INK_PIXELS = 12.0  # less ink than this many full pixels is a speck, not a digit
MIN_INK_FRACTION = 2e-4  # ... or than this share of a big canvas
CROP_LEVEL = 0.1  # faint fringes below this share of full ink do not widen the crop
UNSURE_BELOW = 0.6  # a top probability under this is reported as "not sure"

# ------------------------------------------------------------------------ the draw page's settings

OWN = "own"  # the student's own network from lesson 5c
CLASS = "class"  # the class's own network: the default fine-tuned on its drawings (lessons.finetune)
READERS = (*PRESETS, OWN, CLASS)  # the networks a student can choose to read a drawing
FALLBACK_READER = "course"  # reads when the chosen network cannot
SOURCES = ("draw", "photo", "camera")
CANVAS_PX = 280  # the canvas's side: 10 canvas pixels per MNIST pixel
SETTINGS: dict[str, Setting] = {
    "stroke": Setting(24, 4, 50),  # the pen's width in canvas pixels
    "model": Setting(DRAW_DEFAULT, options=READERS),
    "source": Setting("draw", options=SOURCES),
}
GUESSING = 0.1  # a network that picks one of ten digits at random
USELESS_AT_MOST = 2 * GUESSING  # test accuracy at or below this: hardly better than guessing
READER_PROBLEMS = ("none", "diverged", "chance")  # why a chosen network cannot read (problem_of)

# Paper: its shading is estimated by a grey opening (which wipes out anything thinner than the
# window: the strokes) on a coarse copy of the ink, with the window a fifth of the picture, wider
# than the canvas's widest pen. A drawing on a flat background (most pixels exactly the
# background, as every canvas gives) has no paper, and is left alone: there a blob of merged
# thick strokes could be wider than the window and would be taken for paper.
PAPER_GRID = 64  # the coarse copy's longer side
PAPER_WINDOW = 13  # pixels of the coarse copy
FLAT_LEVEL = 1 / 255  # less difference than one grey level: exactly the background
FLAT_SHARE = 0.5
PAPER_PERCENTILE = 2  # the border's best-lit paper, past the odd bright speck of grain
DARKEST_PAPER = 0.25  # paper this close to the darkest ink is no longer divided out further
SOFT_LOW = 0.5  # below this share of the Otsu threshold a pixel is paper; above it, ink rises linearly
FULL_INK_PERCENTILE = 90  # this percentile of the stroke pixels becomes full ink
# Specks: a component is part of the digit if it is big (this share of the biggest) or close to the big ones.
KEEP_SHARE = 0.15
NEAR_SHARE = 0.2  # gap allowed, as a share of the digit's longer side
# MNIST's strokes are this wide relative to the digit's longer side: the median of ``stroke_width``
# over 2,000 training digits enlarged 10× (measured once: quartiles 0.10-0.14), 2.4 px of the 20-px box.
MNIST_STROKE = 0.12
INK_LEVEL = 0.5  # what counts as inside a stroke when measuring its width


class ImageError(ValueError):
    """An upload that cannot be read as a digit picture; ``code`` names the problem for the page's message:
    ``too_large`` (bytes or pixels), ``not_an_image``, ``bomb`` (a decompression bomb), ``empty``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# One limit for a photo, in MB of 2**20 bytes as Streamlit counts them: the uploader's, the server's
# (.streamlit/config.toml server.maxUploadSize) and this module's. Phone photos are 3-12 MB.
IMAGE_ERRORS = ("too_large", "not_an_image", "bomb", "empty")  # ImageError's codes
MAX_FILE_MB = 15
MAX_FILE_BYTES = MAX_FILE_MB * 2**20
MAX_PIXELS = 50_000_000  # more than any phone camera: more than this is a bomb, not a photo
WORK_SIDE = 1024  # photos are shrunk to this longer side: plenty for one digit, and fast
FORMATS = ("PNG", "JPEG", "MPO")  # MPO: what some phones call their JPEGs
BOMB_PIXELS = 89_478_485  # Pillow's decompression-bomb limit (its MAX_IMAGE_PIXELS), kept whatever max_pixels says


def read_image_file(blob: bytes, max_bytes: int = MAX_FILE_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An uploaded PNG or JPEG (or a camera snapshot) as a uint8 RGBA array, upright, longer side ≤ ``WORK_SIDE``.

    The size is checked before decoding (bytes, then the pixel count in the header), so a
    decompression bomb is refused without being unpacked; more than ``BOMB_PIXELS`` is refused
    whatever ``max_pixels`` says. EXIF rotation is applied, as a phone means it. Shrinking is
    Pillow's thumbnail with a box filter. Raises ``ImageError`` with a code.
    """
    if not blob:
        raise ImageError("empty", "the file is empty")
    if len(blob) > max_bytes:
        raise ImageError("too_large", f"the file has {len(blob):,} bytes, more than {max_bytes:,}")
    kind = imaging.image_format(blob)
    if kind is None:
        raise ImageError("not_an_image", "not a readable picture: not a PNG or JPEG file")
    if kind not in FORMATS:
        raise ImageError("not_an_image", f"expected a PNG or JPEG picture, got {kind}")
    try:
        width, height = imaging.header_size(blob)
    except ValueError as exc:
        raise ImageError("not_an_image", f"not a readable picture: {exc}") from exc
    if width * height > BOMB_PIXELS:
        raise ImageError("bomb", f"refused as a decompression bomb: {width}×{height} pixels")
    if width * height > max_pixels:
        raise ImageError("bomb", f"the picture claims {width}×{height} pixels, more than {max_pixels:,}")
    if width == 0 or height == 0:
        raise ImageError("empty", "the picture has no pixels")
    try:
        rgba = imaging.decode_rgba(blob)
    except ValueError as exc:
        raise ImageError("not_an_image", f"not a readable picture: {exc}") from exc
    if rgba.shape[0] * rgba.shape[1] > max_pixels:  # the header lied
        raise ImageError("bomb", f"the picture holds {rgba.shape[1]}×{rgba.shape[0]} pixels, more than {max_pixels:,}")
    size = imaging.thumbnail_size(rgba.shape[1], rgba.shape[0], WORK_SIDE)
    return imaging.shrink_rgba(rgba, size, imaging.png_resampling(blob))


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
    """The background: the median (premultiplied) colour of the image's border, channel by channel.

    The border is the part of the canvas a student is least likely to draw on, so most of it is
    background: a stroke touching the edge (anti-aliased into many shades) or a speck of dirt on
    it covers a minority and does not move the median. The most common colour would not do for a
    photo: grainy paper has no colour that repeats, so a uniform speck of ink on the edge wins.
    """
    border = np.concatenate(
        [premultiplied[0], premultiplied[-1], premultiplied[:, 0], premultiplied[:, -1]]
    )
    return np.median(border, axis=0).astype(np.float32)


def ink_map(rgba: np.ndarray) -> np.ndarray | None:
    """How much ink each pixel holds, in [0, 1]: its difference from the background.

    The difference is the largest change of any premultiplied channel, so it sees dark
    ink on light paper, light ink on dark, and any colour on a transparent canvas
    (there the alpha channel carries the stroke). Only changes in the ink's direction count
    (darker, or lighter, whichever goes furthest from the background), measured from the border's
    paper furthest the other way (its ``PAPER_PERCENTILE``): on a photo, shading only takes light
    away, so the best-lit paper is the paper's own colour and the rest is shading, which
    ``paper_level`` removes. It is scaled so the strongest stroke is 1. ``None`` when nothing
    differs from the background enough to be a stroke.
    """
    pixels = as_premultiplied(rgba)
    background = background_colour(pixels)
    lighter = pixels[..., 0] - background[0]
    darker = background[0] - pixels[..., 0]
    # An opaque image's alpha never changes: counted, it would put every shade lighter than the
    # background at 0 instead of below it.
    opaque = bool(pixels[..., 3].min() == pixels[..., 3].max())
    for channel in range(1, 3 if opaque else 4):  # channel by channel: a max over a 4-long last axis is slow
        np.maximum(lighter, pixels[..., channel] - background[channel], out=lighter)
        np.maximum(darker, background[channel] - pixels[..., channel], out=darker)
    difference = lighter if lighter.max() > darker.max() else darker
    border = np.concatenate([difference[0], difference[-1], difference[:, 0], difference[:, -1]])
    difference -= min(float(np.percentile(border, PAPER_PERCENTILE)), 0.0)
    np.maximum(difference, 0.0, out=difference)
    contrast = float(difference.max())
    if contrast < MIN_CONTRAST:
        return None
    return difference / contrast


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold: the level that best splits ``values`` into two classes (largest between-class variance)."""
    top = float(values.max())
    if top <= 0:
        return 0.0
    counts, edges = np.histogram(values, bins=bins, range=(0.0, top))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts).astype(np.float64)
    mass = np.cumsum(counts * centres)
    total, total_mass = weight[-1], mass[-1]
    other = total - weight
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mass * weight - total * mass) ** 2 / (weight * other)
    between[~np.isfinite(between)] = -1.0
    return float(edges[int(between.argmax()) + 1])


def paper_level(ink: np.ndarray) -> np.ndarray:
    """The paper's own share of the ink map, pixel by pixel: shading and grey paper, without the strokes.

    A grey opening (minimum, then maximum, over a window wider than any stroke) of a coarse copy
    keeps only what is broad: the paper. Zero for a flat background (see ``FLAT_SHARE``).
    """
    height, width = ink.shape
    if np.count_nonzero(ink < FLAT_LEVEL) >= FLAT_SHARE * ink.size:
        return np.zeros_like(ink)
    scale = PAPER_GRID / max(height, width)
    if scale >= 1:
        coarse = ink
    else:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        coarse = imaging.resize(ink, size, "box")
    # Point-symmetric padding continues a gradient past the edge, so the opening does not flatten
    # the darkest corner of a shaded sheet.
    pad = PAPER_WINDOW
    padded = np.pad(coarse, pad, mode="reflect", reflect_type="odd")
    opened = imaging.grey_opening(padded, (PAPER_WINDOW, PAPER_WINDOW))
    smooth = imaging.uniform_filter(opened, PAPER_WINDOW // 2)[pad:-pad, pad:-pad]
    if smooth.shape != ink.shape:
        smooth = imaging.resize(smooth, (width, height), "bilinear")
    return smooth


def remove_paper(ink: np.ndarray) -> np.ndarray:
    """The ink with paper and shading divided out, thresholded (Otsu) and rescaled: the strongest stroke is 1.

    Below half the Otsu threshold a pixel is paper (0); above, ink rises linearly to 1 at the
    ``FULL_INK_PERCENTILE`` of the stroke pixels, so a faint pencil or a thin pen gives full ink
    like a marker, and paper texture is gone.
    """
    # Divided, not only subtracted: on darker paper the same pen shows less contrast (light is
    # multiplied by the paper and the ink), so the ink is measured against its own patch of paper,
    # relative to the darkest ink (1). The floor keeps near-black paper from amplifying grain.
    paper = paper_level(ink)
    cleaned = np.clip((ink - paper) / np.maximum(1.0 - paper, DARKEST_PAPER), 0.0, None)
    if cleaned.max() < MIN_CONTRAST:
        return np.zeros_like(ink)
    threshold = otsu_threshold(cleaned)
    strokes = cleaned[cleaned > threshold]
    full = float(np.percentile(strokes, FULL_INK_PERCENTILE)) if strokes.size else float(cleaned.max())
    low = SOFT_LOW * threshold
    return np.clip((cleaned - low) / max(full - low, 1e-6), 0.0, 1.0).astype(np.float32)


def drop_specks(ink: np.ndarray) -> np.ndarray:
    """The ink without small blobs far from the digit (a stray dot would widen the crop and squash the digit).

    Connected blobs of ink (8-neighbours, above ``CROP_LEVEL``) that are big (``KEEP_SHARE`` of the
    biggest) make up the digit; a smaller blob stays only within ``NEAR_SHARE`` of the digit's size
    from it (a detached stroke, the dot of a broken line).
    """
    labels, count = imaging.label(ink > CROP_LEVEL)
    if count <= 1:
        return ink
    index = np.arange(1, count + 1)
    mass = imaging.sum_labels(ink, labels, index)
    boxes = imaging.find_objects(labels)
    big = mass >= KEEP_SHARE * mass.max()
    top = min(boxes[i][0].start for i in np.flatnonzero(big))
    bottom = max(boxes[i][0].stop for i in np.flatnonzero(big))
    left = min(boxes[i][1].start for i in np.flatnonzero(big))
    right = max(boxes[i][1].stop for i in np.flatnonzero(big))
    near = NEAR_SHARE * max(bottom - top, right - left)
    dropped = []
    for i in np.flatnonzero(~big):
        rows, cols = boxes[i]
        gap = max(top - rows.stop, rows.start - bottom, left - cols.stop, cols.start - right, 0)
        if gap > near:
            dropped.append(i + 1)
    if not dropped:
        return ink
    return np.where(np.isin(labels, dropped), 0.0, ink).astype(np.float32)


def stroke_width(ink: np.ndarray) -> float:
    """The typical stroke width in pixels: twice the ink's area over its outline's length.

    A stroke of width w and length L has area w·L and an outline of about 2·L, whatever its
    shape; the outline is counted as ink/paper changes along rows and columns (× π/4, the
    average over directions). 0 for an image without ink.
    """
    inside = np.pad(ink > INK_LEVEL, 1)
    changes = np.count_nonzero(inside[1:] != inside[:-1]) + np.count_nonzero(inside[:, 1:] != inside[:, :-1])
    if changes == 0:
        return 0.0
    return float(2.0 * np.count_nonzero(inside) / (changes * np.pi / 4))


def thicken(digit: np.ndarray, box: int = BOX) -> np.ndarray:
    """The cropped digit with strokes widened (a maximum filter) to MNIST's width relative to the box.

    Once the digit's longer side is shrunk to ``box`` pixels, a stroke must be ``MNIST_STROKE`` of
    it wide; a thinner one is widened first, so it does not shrink to a faint grey line. Strokes
    at least that wide are left alone. The margin the widening needs is added around the crop.
    """
    target = MNIST_STROKE * max(digit.shape)
    missing = target - stroke_width(digit)
    radius = round(missing / 2)
    if radius < 1:
        return digit
    padded = np.pad(digit, radius)
    return imaging.maximum_filter(padded, 2 * radius + 1, mode="constant")


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
    resized = imaging.resize(digit, size, "box" if scale < 1 else "bilinear")
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

    ink: np.ndarray  # the whole canvas as ink amounts in [0, 1]: difference from the background
    cleaned: np.ndarray  # paper and specks removed, strongest stroke full ink
    cropped: np.ndarray  # the smallest box around the ink
    thickened: np.ndarray  # thin strokes widened to MNIST's width for the box
    scaled: np.ndarray  # longer side 20 px, anti-aliased
    placed: np.ndarray  # 28×28, centre of mass at (14, 14): what the network sees

    def stages(self) -> list[tuple[str, np.ndarray]]:
        """(name, image) for every stage in order; the names are the fields (a page's string keys)."""
        return list(zip(self._fields, self))


def preprocessing_steps(rgba: np.ndarray) -> Steps | None:
    """The stages of ``preprocess_canvas``; ``None`` for an empty or near-empty canvas.

    None chooses ``draw.photo_blank`` for a photo, which claims: no stroke stands out from the paper
    (no pixel differs from the background by ``MIN_CONTRAST``), or once paper and specks are removed
    less ink is left than ``is_near_empty`` allows for a digit.

    ``draw.how`` claims, over the page's pen widths: where and how big a digit is drawn no longer
    matters (its longer side becomes 20 px, its centre of mass lands on (14, 14)); a pen thinner
    than MNIST's is thickened to about MNIST's width; a thicker pen is never thinned.
    """
    ink = ink_map(rgba)
    if ink is None:
        return None
    cleaned = drop_specks(remove_paper(ink))
    if is_near_empty(cleaned):
        return None
    cropped = crop_to_ink(cleaned)
    thickened = thicken(cropped)
    scaled = fit_longer_side(thickened)
    return Steps(ink, cleaned, cropped, thickened, scaled, place_by_centre_of_mass(scaled))


def preprocess_canvas(rgba: np.ndarray) -> np.ndarray | None:
    """A canvas image or photo (H, W, 4) as an MNIST-style float32 28×28 image in [0, 1], ink high.

    Ink = difference from the background, weighted by alpha; paper and specks removed, the
    strongest stroke full ink; cropped to the ink; thin strokes widened; the longer side scaled
    to 20 px with anti-aliasing, placed in 28×28 by its centre of mass. ``None`` for an empty or
    near-empty canvas. Raises ``ValueError`` for a non-RGBA array.
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
    fitted = imaging.resize(image, new_size, "nearest" if scale >= 1 else "box")
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
    """The top two digits of one row of 10 class probabilities, and whether the top one is unsure.

    ``draw.reads`` claims: ``digit`` has the largest probability, shown as ``probability``.
    ``unsure`` chooses ``draw.unsure``, which claims: the top probability is below ``unsure_below``
    (60 %), ``digit`` is the most likely and ``runner_up`` the next most likely digit.
    """
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


# ------------------------------------------------------------------------ which network reads


def reader_problem(accuracy: float | None, losses: np.ndarray | list[float]) -> str | None:
    """Why a trained network must not read a drawing, or None when it may.

    ``"diverged"`` chooses ``draw.model_problem.diverged``, which claims: its test accuracy or one of
    its training losses is not a finite number (infinite or NaN).
    ``"chance"`` chooses ``draw.model_problem.chance``, which claims: its test accuracy, shown, is at
    most ``USELESS_AT_MOST`` (twice guessing's 10 %), so most of its answers are wrong.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if accuracy is None or not np.isfinite(accuracy) or not np.isfinite(losses).all():
        return "diverged"
    if accuracy <= USELESS_AT_MOST:
        return "chance"
    return None


def probabilities_broken(probabilities: np.ndarray) -> bool:
    """True chooses ``draw.model_problem.nan``, which claims: some of the network's probabilities for
    this image are not finite numbers (NaN or infinite), so another network reads it."""
    return not bool(np.isfinite(np.asarray(probabilities, dtype=np.float64)).all())


def problem_of(trained: object | None, last_run_diverged: bool = False) -> str | None:
    """Why a trained network (a ``TrainedModel``, or None) cannot read, or None when it can.

    ``"none"`` chooses ``draw.model_problem.none``, which claims: the student has no trained 5c
    network to read with, and their last 5c run, if any, did not diverge. ``"diverged"`` and
    ``"chance"`` as ``reader_problem`` says, of its test accuracy and loss history.
    """
    if trained is None:
        return "diverged" if last_run_diverged else "none"
    history = getattr(trained, "history", None)
    losses = history["loss"] if isinstance(history, pd.DataFrame) and "loss" in history else []
    return reader_problem(getattr(trained, "accuracy", None), losses)


def segment_digits(image: np.ndarray, read: Any = None) -> list:
    """The digits of a number written on ``image``, left to right (``lessons.segment.segment_digits``:
    each a ``Digit`` with its 28×28 ``.image`` and its ``.box`` in the input's pixels). ``read``, the
    network that will read them ((n, 28, 28) images to (n, 10) probabilities), weighs doubtful cuts."""
    # segment imports this module: no import at the top
    from lessons.segment import segment_digits as cut

    return cut(image, read)
