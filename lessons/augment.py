"""Distort whole batches of digits the way real handwriting varies: slant, rotation, size, position,
stroke thickness, blur and wobble (the course's last line: bring the model ever closer to real variation).

Every function takes a float tensor of images in [0, 1], ink high, shaped (n, 28, 28) or
(n, 1, 28, 28), and returns a new tensor of the same shape; nothing is changed in place. The
geometric distortions (slant, rotation, scale, shift, elastic) are one sampling grid, applied with
one ``grid_sample``; thickness is max-pooling (dilate) or min-pooling (erode), blur a Gaussian. So a
batch of 512 digits costs a few milliseconds and training needs no per-image Python loop.

``distort(images, kind, amount)`` shows one distortion at a chosen amount (the page's sliders);
``augment_batch(images, generator, strength)`` draws a random mix of all of them for training.
``augment_training_batch(images, labels, generator, strength)`` is what the robust network trains on:
that mix, after the styles MNIST lacks are drawn on some 1s and 7s (``add_styles``), then a random
contrast and, on some digits, a photo's paper grain or leftover shadow.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F


class Distortion(NamedTuple):
    """One kind of distortion: its unit and the slider range the page offers (``neutral`` = no change).

    Lesson 7 names each slider by its unit (``handwriting.unit.*``), which claims, over its whole range:
    slant, the shift to the right per row up; rotation, degrees clockwise; scale, the factor the
    digit's size is multiplied by; shift, pixels right and down; thickness, pixels added to (or, below
    0, taken from) each side of a stroke; blur, the Gaussian's standard deviation in pixels; elastic,
    the wobble's typical displacement in pixels.
    """

    unit: str
    low: float
    high: float
    neutral: float


DISTORTIONS: dict[str, Distortion] = {
    "slant": Distortion("shear", -0.6, 0.6, 0.0),  # horizontal shift per unit of height: italics
    "rotation": Distortion("degrees", -40.0, 40.0, 0.0),
    "scale": Distortion("factor", 0.6, 1.4, 1.0),
    "shift": Distortion("pixels", -6.0, 6.0, 0.0),  # to the right and down by the same amount
    "thickness": Distortion("pixels", -1.0, 2.0, 0.0),  # pixels added (or removed) on each side of a stroke
    "blur": Distortion("pixels", 0.0, 2.0, 0.0),  # the Gaussian's standard deviation
    "elastic": Distortion("pixels", 0.0, 4.0, 0.0),  # typical displacement of the wobble
}
KINDS = tuple(DISTORTIONS)

SIDE = 28
ELASTIC_KNOTS = 4  # the wobble is random noise on a 4×4 grid, smoothly interpolated: a few bends per digit

# Random ranges of ``augment_batch`` at strength 1: what real handwriting does to MNIST-like digits.
MAX_ROTATION = 15.0  # degrees either way
MAX_SLANT = 0.3
MAX_LOG_SCALE = 0.15  # size within exp(±0.15) ≈ 0.86–1.16
MAX_ASPECT = 0.12  # narrower or wider by up to exp(±0.12)
MAX_SHIFT = 2.0  # pixels either way
MAX_ELASTIC = 1.5  # pixels
THICKNESS_RANGE = (-0.5, 1.0)  # thin strokes erode away quickly, so more thickening than thinning
MAX_BLUR = 1.0
BLUR_SHARE = 0.3  # the share of a batch that is blurred
# ``handwriting.try_wobble`` and ``handwriting.samples`` quote these ranges; tests/test_augment.py holds
# the texts to them.


class AugmentError(ValueError):
    """Bad input to a distortion; ``code`` names the problem for the page's message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _as_batch(images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """The images as (n, 1, H, W) float32, and the shape to give back."""
    x = torch.as_tensor(images)
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[1] != 1):
        raise AugmentError("shape", f"expected images shaped (n, H, W) or (n, 1, H, W), got {tuple(x.shape)}")
    return x.reshape(x.shape[0], 1, x.shape[-2], x.shape[-1]).float(), tuple(x.shape)


def _per_image(value: float | torch.Tensor, n: int) -> torch.Tensor:
    """A scalar or (n,) amount as an (n,) float tensor."""
    return torch.as_tensor(value, dtype=torch.float32).reshape(-1).expand(n)


def affine_matrices(
    n: int,
    *,
    rotation: float | torch.Tensor = 0.0,
    slant: float | torch.Tensor = 0.0,
    scale: float | torch.Tensor = 1.0,
    aspect: float | torch.Tensor = 1.0,
    shift_x: float | torch.Tensor = 0.0,
    shift_y: float | torch.Tensor = 0.0,
    side: int = SIDE,
) -> torch.Tensor:
    """The (n, 2, 3) matrices ``affine_grid`` takes for moving each digit as described.

    The digit is slanted (top to the right for positive ``slant``), rotated clockwise by ``rotation``
    degrees, scaled (``scale`` × ``aspect`` across, ``scale`` / ``aspect`` down) and shifted right and
    down by pixels. ``affine_grid`` asks where each output pixel comes from, so the matrix is the
    inverse of that movement.
    """
    angle = torch.deg2rad(_per_image(rotation, n))
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx = _per_image(scale, n) * _per_image(aspect, n)
    sy = _per_image(scale, n) / _per_image(aspect, n)
    shear = _per_image(slant, n)
    # forward movement M = rotation · scale · shear, in affine_grid's coordinates (x right, y down)
    forward = torch.zeros(n, 2, 2)
    forward[:, 0, 0] = cos * sx
    forward[:, 0, 1] = -cos * sx * shear - sin * sy
    forward[:, 1, 0] = sin * sx
    forward[:, 1, 1] = -sin * sx * shear + cos * sy
    # the 2×2 inverse written out: much cheaper than a batched linalg.inv for tiny matrices
    det = (forward[:, 0, 0] * forward[:, 1, 1] - forward[:, 0, 1] * forward[:, 1, 0]).reshape(n, 1, 1)
    inverse = torch.stack(
        [torch.stack([forward[:, 1, 1], -forward[:, 0, 1]], 1), torch.stack([-forward[:, 1, 0], forward[:, 0, 0]], 1)], 1
    ) / det
    shift = torch.stack([_per_image(shift_x, n), _per_image(shift_y, n)], dim=1) * (2.0 / side)
    translation = -(inverse @ shift.unsqueeze(2))
    return torch.cat([inverse, translation], dim=2)


def _knot_weights(side: int) -> torch.Tensor:
    """(side, knots): bicubic interpolation from the knot grid to pixels, as a matrix (two small matmuls
    interpolate a whole batch much faster than ``F.interpolate``)."""
    eye = torch.eye(ELASTIC_KNOTS).reshape(ELASTIC_KNOTS, 1, ELASTIC_KNOTS, 1)
    columns = F.interpolate(eye, size=(side, 1), mode="bicubic", align_corners=True)
    return columns.reshape(ELASTIC_KNOTS, side).T.contiguous()


def elastic_field(n: int, amount: float | torch.Tensor, generator: torch.Generator, side: int = SIDE) -> torch.Tensor:
    """A smooth random displacement field (n, side, side, 2), typically ``amount`` pixels, for ``grid_sample``."""
    knots = torch.randn(n * 2, ELASTIC_KNOTS, ELASTIC_KNOTS, generator=generator)
    weights = _knot_weights(side)
    # weights @ knots @ weights.T for every knot grid, as two plain matrix products (a batched
    # matmul of 4×4 matrices is slow): first along the columns, then along the rows
    cols = (knots.reshape(-1, ELASTIC_KNOTS) @ weights.T).reshape(n * 2, ELASTIC_KNOTS, side)
    field = (cols.transpose(1, 2).reshape(-1, ELASTIC_KNOTS) @ weights.T).reshape(n, 2, side, side)
    return field.permute(0, 3, 2, 1) * (_per_image(amount, n) * (2.0 / side)).reshape(n, 1, 1, 1)


def resample(x: torch.Tensor, theta: torch.Tensor, field: torch.Tensor | None = None) -> torch.Tensor:
    """Apply the matrices ``theta`` (and a displacement ``field``) to (n, 1, H, W) images in one sampling."""
    # affine_grid's sampling points, written out (its batched matmul of (784×3)·(3×2) per image is slow)
    h, w = x.shape[-2:]
    xs = ((2 * torch.arange(w, dtype=torch.float32) + 1) / w - 1).reshape(1, 1, w)
    ys = ((2 * torch.arange(h, dtype=torch.float32) + 1) / h - 1).reshape(1, h, 1)
    t = theta.reshape(-1, 6, 1, 1)
    grid = torch.stack([t[:, 0] * xs + t[:, 1] * ys + t[:, 2], t[:, 3] * xs + t[:, 4] * ys + t[:, 5]], dim=3)
    if field is not None:
        grid = grid + field
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _neighbourhood(x: torch.Tensor, pick) -> torch.Tensor:
    """The 3×3 max (``torch.maximum``) or min of every pixel's neighbourhood, zero outside, in two 1-D passes
    (shifted slices: much faster on a CPU than a stride-1 ``max_pool2d``)."""
    padded = F.pad(x, (1, 1, 0, 0))
    rows = pick(pick(padded[..., :-2], padded[..., 1:-1]), padded[..., 2:])
    padded = F.pad(rows, (0, 0, 1, 1))
    return pick(pick(padded[..., :-2, :], padded[..., 1:-1, :]), padded[..., 2:, :])


def change_thickness(x: torch.Tensor, pixels: float | torch.Tensor) -> torch.Tensor:
    """Thicken strokes by ``pixels`` on each side (3×3 max = dilate), or thin them when negative (3×3 min = erode).

    Fractions blend with the next whole step, so thickness changes smoothly; each image may have its own amount.
    """
    n = x.shape[0]
    amount = _per_image(pixels, n).reshape(n, 1, 1, 1)
    out = x
    steps = math.ceil(float(amount.abs().max())) if n else 0
    for step in range(steps):
        part = (amount.abs() - step).clamp(0.0, 1.0)
        grow, shrink = bool((amount > step).any()), bool((amount < -step).any())
        if grow and shrink:
            target = torch.where(amount > 0, _neighbourhood(out, torch.maximum), _neighbourhood(out, torch.minimum))
        else:
            target = _neighbourhood(out, torch.maximum if grow else torch.minimum)
        out = out + part * (target - out)
    return out


def blur(x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """A Gaussian blur with standard deviation ``sigma`` pixels (per image; 0 leaves an image unchanged)."""
    n = x.shape[0]
    s = _per_image(sigma, n).clamp(min=1e-3)
    radius = max(1, math.ceil(3 * float(s.max())))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernels = torch.exp(-0.5 * (offsets / s[:, None]) ** 2)
    kernels = kernels / kernels.sum(dim=1, keepdim=True)
    # one kernel per image: the batch goes in as channels of a grouped convolution
    h, w = x.shape[-2:]
    flat = x.reshape(1, n, h, w)
    flat = F.conv2d(flat, kernels.reshape(n, 1, -1, 1), padding=(radius, 0), groups=n)
    flat = F.conv2d(flat, kernels.reshape(n, 1, 1, -1), padding=(0, radius), groups=n)
    return flat.reshape(n, 1, h, w)


def distort(images: torch.Tensor, kind: str, amount: float, seed: int = 0) -> torch.Tensor:
    """The images with one distortion ``kind`` (see ``DISTORTIONS``) at ``amount``, the same for every image.

    ``seed`` draws the elastic wobble; the other kinds are not random.
    """
    if kind not in DISTORTIONS:
        raise AugmentError("kind", f"kind must be one of {KINDS}, not {kind!r}")
    if not math.isfinite(amount):
        raise AugmentError("amount", f"the amount must be a finite number, not {amount!r}")
    x, shape = _as_batch(images)
    n, side = x.shape[0], x.shape[-1]
    if kind == "thickness":
        out = change_thickness(x, amount)
    elif kind == "blur":
        out = blur(x, amount) if amount > 0 else x.clone()
    elif kind == "elastic":
        field = elastic_field(n, amount, torch.Generator().manual_seed(int(seed)), side)
        out = resample(x, affine_matrices(n, side=side), field)
    else:
        if kind == "scale" and amount <= 0:
            raise AugmentError("amount", f"a scale must be positive, not {amount!r}")
        movement = {
            "slant": {"slant": amount},
            "rotation": {"rotation": amount},
            "scale": {"scale": amount},
            "shift": {"shift_x": amount, "shift_y": amount},
        }[kind]
        out = resample(x, affine_matrices(n, side=side, **movement))
    return out.clamp(0.0, 1.0).reshape(shape)


def augment_batch(images: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """A random mix of every distortion for each image, drawn from ``generator``; ``strength`` scales the ranges.

    Geometry in one sampling grid, then thickness, then blur on a share of the batch. Each image is
    rescaled so its strongest ink is 1 again, as the canvas preprocessing makes it.
    """
    x, shape = _as_batch(images)
    n, side = x.shape[0], x.shape[-1]
    if n == 0 or strength <= 0:
        return x.reshape(shape).clone()

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    s = float(strength)
    theta = affine_matrices(
        n,
        rotation=uniform(-MAX_ROTATION, MAX_ROTATION) * s,
        slant=uniform(-MAX_SLANT, MAX_SLANT) * s,
        scale=torch.exp(uniform(-MAX_LOG_SCALE, MAX_LOG_SCALE) * s),
        aspect=torch.exp(uniform(-MAX_ASPECT, MAX_ASPECT) * s),
        shift_x=uniform(-MAX_SHIFT, MAX_SHIFT) * s,
        shift_y=uniform(-MAX_SHIFT, MAX_SHIFT) * s,
        side=side,
    )
    field = elastic_field(n, uniform(0.0, MAX_ELASTIC) * s, generator, side)
    out = resample(x, theta, field)
    out = change_thickness(out, uniform(*THICKNESS_RANGE) * s)
    sigma = uniform(0.0, MAX_BLUR) * s * (torch.rand(n, generator=generator) < BLUR_SHARE)
    out = blur(out, sigma)
    peak = out.amax(dim=(1, 2, 3), keepdim=True)
    out = torch.where(peak > 0.05, out / peak.clamp(min=0.05), out)
    return out.clamp(0.0, 1.0).reshape(shape)


# ------------------------------------------------------------------------ lesson 7's pictures


def distorted(image: np.ndarray, amounts: dict[str, float]) -> np.ndarray:
    """One 28×28 digit (floats in [0, 1]) with each distortion at its amount, one after the other."""
    out = torch.as_tensor(np.asarray(image, dtype=np.float32)).reshape(1, SIDE, SIDE)
    for kind, amount in amounts.items():
        if amount != DISTORTIONS[kind].neutral:
            out = distort(out, kind, float(amount))
    return out[0].numpy()


def sweep(image: np.ndarray, kind: str, steps: int) -> np.ndarray:
    """The digit under one distortion at ``steps`` amounts from its slider's lowest to its highest: (steps, 28, 28)."""
    spec = DISTORTIONS[kind]
    batch = torch.as_tensor(np.asarray(image, dtype=np.float32)).reshape(1, SIDE, SIDE)
    return np.stack([distort(batch, kind, float(a))[0].numpy() for a in np.linspace(spec.low, spec.high, steps)])


def training_samples(image: np.ndarray, n: int, seed: int, strength: float = 1.0) -> np.ndarray:
    """``n`` random mixes of every distortion of one digit, as training draws them: (n, 28, 28)."""
    batch = torch.as_tensor(np.asarray(image, dtype=np.float32)).reshape(1, SIDE, SIDE).expand(n, SIDE, SIDE)
    return augment_batch(batch, torch.Generator().manual_seed(int(seed)), strength).numpy()


# ------------------------------------------------------------------------ styles MNIST lacks
# MNIST's writers were mostly American: its 1s are bare strokes and its 7s uncrossed, while many
# writers flag a 1, give it a base bar or cross a 7. These draw such strokes onto MNIST digits of
# the right label (labels never change), before the random distortions move the whole digit.

STYLE_SHARE = {1: 0.6, 7: 0.35}  # the share of a batch's 1s and 7s given a style stroke
BASE_SHARE = 0.4  # of the flagged 1s, the share that also gets a base bar
STROKE_WIDTH = (1.6, 2.8)  # pixels: MNIST's strokes, on its 20 px box


def draw_strokes(x: torch.Tensor, start: torch.Tensor, end: torch.Tensor, width: float | torch.Tensor) -> torch.Tensor:
    """(n, 1, H, W) images with one straight anti-aliased stroke each, from ``start`` to ``end`` ((n, 2) as x, y in pixels)."""
    n, _, h, w = x.shape
    cols = torch.arange(w, dtype=torch.float32).reshape(1, 1, w)
    rows = torch.arange(h, dtype=torch.float32).reshape(1, h, 1)
    ax, ay = start[:, 0].reshape(n, 1, 1), start[:, 1].reshape(n, 1, 1)
    dx, dy = (end[:, 0] - start[:, 0]).reshape(n, 1, 1), (end[:, 1] - start[:, 1]).reshape(n, 1, 1)
    # the nearest point of the segment to every pixel centre, then the distance to it
    t = (((cols - ax) * dx + (rows - ay) * dy) / (dx * dx + dy * dy).clamp(min=1e-6)).clamp(0.0, 1.0)
    distance = torch.hypot(cols - ax - t * dx, rows - ay - t * dy)
    cover = (_per_image(width, n).reshape(n, 1, 1) / 2 + 0.5 - distance).clamp(0.0, 1.0)
    return torch.maximum(x, cover.unsqueeze(1))


def ink_landmarks(x: torch.Tensor, level: float = 0.5) -> dict[str, torch.Tensor]:
    """Per image (n, 1, H, W): the ink's top and bottom rows, the ink's mean column on each of those
    rows and on the middle row, and whether the image has ink at all (every value (n,), float)."""
    n, _, h, w = x.shape
    img = x[:, 0]
    has_row = img.amax(dim=2) > level
    rows = torch.arange(h, dtype=torch.float32)
    top = torch.where(has_row, rows, torch.tensor(float(h))).amin(dim=1)
    bottom = torch.where(has_row, rows, torch.tensor(-1.0)).amax(dim=1)
    cols = torch.arange(w, dtype=torch.float32)

    def column_at(row: torch.Tensor) -> torch.Tensor:
        line = img[torch.arange(n), row.clamp(0, h - 1).long()]
        mass = line.sum(dim=1)
        return torch.where(mass > 0, (line * cols).sum(dim=1) / mass.clamp(min=1e-6), torch.tensor(w / 2))

    middle = ((top + bottom) / 2).round()
    return {"top": top, "bottom": bottom, "top_col": column_at(top), "bottom_col": column_at(bottom),
            "middle": middle, "middle_col": column_at(middle), "has_ink": (bottom >= top).float()}


def _stroke_inked(x: torch.Tensor, shape: torch.Size, mark: dict, start: torch.Tensor, end: torch.Tensor,
                  generator: torch.Generator) -> torch.Tensor:
    """One stroke per image from ``start`` to ``end`` at a random pen width, where the image has ink; back in ``shape``."""
    n = x.shape[0]
    width = STROKE_WIDTH[0] + (STROKE_WIDTH[1] - STROKE_WIDTH[0]) * torch.rand(n, generator=generator)
    out = draw_strokes(x, start, end, width)
    return torch.where(mark["has_ink"].reshape(n, 1, 1, 1) > 0, out, x).reshape(shape)


def flag_ones(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """1s with a flag: a short stroke from the top down to the left, 20-45 % of the digit's height long."""
    x, shape = _as_batch(x)
    n = x.shape[0]
    if n == 0:
        return x.reshape(shape).clone()
    mark = ink_landmarks(x)
    height = (mark["bottom"] - mark["top"]).clamp(min=1.0)
    length = height * (0.2 + 0.25 * torch.rand(n, generator=generator))
    angle = torch.deg2rad(15.0 + 50.0 * torch.rand(n, generator=generator))  # below the horizontal
    start = torch.stack([mark["top_col"], mark["top"] + 0.5 * torch.rand(n, generator=generator)], dim=1)
    end = start + torch.stack([-length * torch.cos(angle), length * torch.sin(angle)], dim=1)
    return _stroke_inked(x, shape, mark, start, end, generator)


def base_bars(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Digits (1s) with a serif: a short horizontal bar across the bottom of the stroke, 30-60 % of the height wide."""
    x, shape = _as_batch(x)
    n = x.shape[0]
    if n == 0:
        return x.reshape(shape).clone()
    mark = ink_landmarks(x)
    height = (mark["bottom"] - mark["top"]).clamp(min=1.0)
    half = height * (0.15 + 0.15 * torch.rand(n, generator=generator))
    lean = (torch.rand(n, generator=generator) - 0.5) * 0.6 * half  # a hand rarely draws it level
    off = (torch.rand(n, generator=generator) - 0.5) * half  # nor centred
    y = mark["bottom"] - 0.5
    start = torch.stack([mark["bottom_col"] - half + off, y - lean], dim=1)
    end = torch.stack([mark["bottom_col"] + half + off, y + lean], dim=1)
    return _stroke_inked(x, shape, mark, start, end, generator)


def cross_sevens(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """7s crossed: a short bar across the stem a little below the middle, 25-45 % of the height wide."""
    x, shape = _as_batch(x)
    n = x.shape[0]
    if n == 0:
        return x.reshape(shape).clone()
    img = x[:, 0]
    mark = ink_landmarks(x)
    height = (mark["bottom"] - mark["top"]).clamp(min=1.0)
    row = (mark["top"] + height * (0.45 + 0.15 * torch.rand(n, generator=generator))).round()
    # the stem's column on that row: its ink's mean column (a 7 has one stroke there)
    line = img[torch.arange(n), row.clamp(0, x.shape[-2] - 1).long()]
    cols = torch.arange(x.shape[-1], dtype=torch.float32)
    mass = line.sum(dim=1)
    col = torch.where(mass > 0, (line * cols).sum(dim=1) / mass.clamp(min=1e-6), mark["middle_col"])
    half = height * (0.12 + 0.1 * torch.rand(n, generator=generator))
    lean = (torch.rand(n, generator=generator) - 0.5) * 0.4 * half
    start = torch.stack([col - half, row + lean], dim=1)
    end = torch.stack([col + half, row - lean], dim=1)
    width = STROKE_WIDTH[0] + (STROKE_WIDTH[1] - STROKE_WIDTH[0]) * torch.rand(n, generator=generator)
    out = draw_strokes(x, start, end, width)
    return torch.where((mark["has_ink"] * (mass > 0).float()).reshape(n, 1, 1, 1) > 0, out, x).reshape(shape)


def vary_contrast(x: torch.Tensor, gamma: float | torch.Tensor) -> torch.Tensor:
    """Ink raised to the power ``gamma`` per image: above 1 thins and greys the strokes' edges, below 1 fills them out; 0 and 1 stay."""
    x, shape = _as_batch(x)
    g = _per_image(gamma, x.shape[0]).reshape(-1, 1, 1, 1)
    return x.clamp(0.0, 1.0).pow(g).reshape(shape)


def add_grain(x: torch.Tensor, generator: torch.Generator, amount: float | torch.Tensor) -> torch.Tensor:
    """Faint smooth paper grain a photo leaves after the paper is removed: blurred noise, at most ``amount``, kept where it is positive."""
    x, shape = _as_batch(x)
    n = x.shape[0]
    if n == 0:
        return x.reshape(shape).clone()
    noise = blur(torch.randn(x.shape, generator=generator), 1.0)
    noise = noise / noise.abs().amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)
    grain = noise.clamp(min=0.0) * _per_image(amount, n).reshape(n, 1, 1, 1)
    return torch.maximum(x, grain).clamp(0.0, 1.0).reshape(shape)


def add_styles(x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The batch with ``STYLE_SHARE`` of its 1s flagged (some also given a base bar) and of its 7s crossed; labels stay true."""
    x, shape = _as_batch(x)
    labels = torch.as_tensor(labels).reshape(-1)
    if len(labels) != x.shape[0]:
        raise AugmentError("shape", f"{len(labels)} labels for {x.shape[0]} images")
    out = x.clone()
    pick = torch.rand(len(labels), generator=generator)
    ones = torch.nonzero((labels == 1) & (pick < STYLE_SHARE[1])).flatten()
    if len(ones):
        out[ones] = flag_ones(out[ones], generator)
        based = ones[torch.rand(len(ones), generator=generator) < BASE_SHARE]
        if len(based):
            out[based] = base_bars(out[based], generator)
    sevens = torch.nonzero((labels == 7) & (pick < STYLE_SHARE[7])).flatten()
    if len(sevens):
        out[sevens] = cross_sevens(out[sevens], generator)
    return out.reshape(shape)


def add_shadow(x: torch.Tensor, generator: torch.Generator, amount: float | torch.Tensor) -> torch.Tensor:
    """A soft grey blob a photo's shading can leave behind the digit (3-7 px wide, anywhere near it), at most ``amount``."""
    x, shape = _as_batch(x)
    n, _, h, w = x.shape
    if n == 0:
        return x.reshape(shape).clone()
    cy = h / 2 + (torch.rand(n, generator=generator) - 0.5) * h * 0.6
    cx = w / 2 + (torch.rand(n, generator=generator) - 0.5) * w * 0.6
    sy, sx = 3 + 4 * torch.rand(n, generator=generator), 3 + 4 * torch.rand(n, generator=generator)
    rows = torch.arange(h, dtype=torch.float32).reshape(1, h, 1)
    cols = torch.arange(w, dtype=torch.float32).reshape(1, 1, w)
    blob = torch.exp(-0.5 * (((rows - cy.reshape(n, 1, 1)) / sy.reshape(n, 1, 1)) ** 2
                             + ((cols - cx.reshape(n, 1, 1)) / sx.reshape(n, 1, 1)) ** 2))
    shade = blob.unsqueeze(1) * _per_image(amount, n).reshape(n, 1, 1, 1)
    return torch.maximum(x, shade).clamp(0.0, 1.0).reshape(shape)


GAMMA_RANGE = 0.7  # log of the contrast's power either way
GRAIN_SHARE, MAX_GRAIN = 0.3, 0.25  # the share of a batch given paper grain, and its strongest
SHADOW_SHARE, MAX_SHADOW = 0.15, 0.5  # the share given a leftover shadow, and its darkest


def augment_training_batch(images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator,
                           strength: float = 1.0) -> torch.Tensor:
    """What the draw page's network trains on: the styles MNIST lacks (``add_styles``), ``augment_batch``'s
    distortions, then a random contrast and, on shares of the batch, a photo's faint paper grain and leftover shadow;
    labels stay true."""
    x, shape = _as_batch(images)
    n = x.shape[0]
    if n == 0 or strength <= 0:
        return x.reshape(shape).clone()
    s = float(strength)
    out = augment_batch(add_styles(x, labels, generator), generator, s)
    gamma = torch.exp((2 * torch.rand(n, generator=generator) - 1) * GAMMA_RANGE * s)
    out = vary_contrast(out, gamma)
    grain = MAX_GRAIN * s * torch.rand(n, generator=generator) * (torch.rand(n, generator=generator) < GRAIN_SHARE)
    out = add_grain(out, generator, grain)
    shadow = MAX_SHADOW * s * torch.rand(n, generator=generator) * (torch.rand(n, generator=generator) < SHADOW_SHARE)
    return add_shadow(out, generator, shadow).reshape(shape)
