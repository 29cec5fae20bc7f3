"""The few image operations the lessons need: blobs, filters and resizing in numpy; PNG and JPEG decoding by torchvision.

Each one gives what scipy.ndimage or Pillow gave before (``tests/test_imaging.py`` checks them against
both): the same edge modes, the same window positions, Pillow's own resampling weights and rounding.
So the lessons depend only on numpy, pandas, torch and torchvision; torch is imported only to decode.
"""

from __future__ import annotations

import math
import struct
import warnings

import numpy as np

# scipy.ndimage's edge modes as numpy.pad's: scipy's "reflect" repeats the edge pixel, numpy's does not.
PAD_MODES = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap", "constant": "constant"}

# ------------------------------------------------------------------------ connected components


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected components of a 2-D boolean image (8-neighbours): int32 labels 1..n in raster order of their first pixel, and n."""
    mask = np.asarray(mask, dtype=bool)
    height, width = mask.shape
    labels = np.zeros((height, width), dtype=np.int32)
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    rows, starts = np.nonzero(change == 1)  # runs of ink along each row, in raster order
    _, stops = np.nonzero(change == -1)  # each run's end, exclusive
    if rows.size == 0:
        return labels, 0
    # Runs on neighbouring rows touch (8-neighbours) when their column ranges, widened by one, overlap.
    # Keys place every run on one number line, row by row, so one searchsorted finds them all.
    span = width + 2
    start_key, stop_key = rows * span + starts, rows * span + stops
    above = (rows - 1) * span
    first = np.searchsorted(stop_key, above + starts, side="left")
    last = np.searchsorted(start_key, above + stops, side="right")
    counts = np.maximum(last - first, 0)
    run = np.repeat(np.arange(rows.size), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    other = np.repeat(first, counts) + offset
    root = _union(rows.size, run, other)
    roots = np.unique(root)  # each root is its component's first run, so sorted roots are in raster order
    run_label = (np.searchsorted(roots, root) + 1).astype(np.int64)
    flat = np.zeros(height * width + 1, dtype=np.int64)
    np.add.at(flat, rows * width + starts, run_label)
    np.add.at(flat, rows * width + stops, -run_label)
    labels[:] = np.cumsum(flat[:-1]).reshape(height, width)
    return labels, int(roots.size)


def _union(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The root (smallest member) of each of ``n`` nodes joined by the edges ``a``–``b``: hooking plus pointer jumping."""
    parent = np.arange(n)
    while True:
        pa, pb = parent[a], parent[b]
        apart = pa != pb
        if not apart.any():
            return parent
        pa, pb = pa[apart], pb[apart]
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))  # a root hooks under a smaller root
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def find_objects(labels: np.ndarray) -> list[tuple[slice, slice]]:
    """Each label's bounding box (rows, columns) as slices, for labels 1..max (scipy.ndimage.find_objects; no gaps)."""
    labels = np.asarray(labels)
    count = int(labels.max(initial=0))
    where = np.flatnonzero(labels)
    which = labels.ravel()[where] - 1
    rows, cols = np.divmod(where, labels.shape[1])
    top, left = np.full(count, labels.shape[0]), np.full(count, labels.shape[1])
    bottom, right = np.full(count, -1), np.full(count, -1)
    np.minimum.at(top, which, rows)
    np.maximum.at(bottom, which, rows)
    np.minimum.at(left, which, cols)
    np.maximum.at(right, which, cols)
    return [(slice(int(t), int(b) + 1), slice(int(lo), int(r) + 1)) for t, b, lo, r in zip(top, bottom, left, right)]


def sum_labels(values: np.ndarray, labels: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The sum of ``values`` over each label in ``index``, float64 (scipy.ndimage.sum_labels)."""
    labels = np.asarray(labels).ravel()
    sums = np.bincount(labels, weights=np.asarray(values).ravel(), minlength=int(labels.max(initial=0)) + 1)
    return sums[np.asarray(index)]


# ------------------------------------------------------------------------ minimum, maximum and box filters


def _pad(image: np.ndarray, widths: list[tuple[int, int]], mode: str, cval: float = 0.0) -> np.ndarray:
    """``image`` padded as scipy.ndimage extends it past the edge in ``mode``."""
    if mode == "constant":
        return np.pad(image, widths, mode="constant", constant_values=cval)
    return np.pad(image, widths, mode=PAD_MODES[mode])


def _running(a: np.ndarray, size: int, axis: int, largest: bool) -> np.ndarray:
    """The maximum (or minimum) of every ``size`` consecutive values along ``axis`` (van Herk / Gil–Werman: O(n))."""
    a = np.moveaxis(a, axis, -1)
    length = a.shape[-1]
    blocks = -(-length // size)
    if np.issubdtype(a.dtype, np.floating):
        fill = -np.inf if largest else np.inf
    else:
        fill = np.iinfo(a.dtype).min if largest else np.iinfo(a.dtype).max
    full = np.full((*a.shape[:-1], blocks * size), fill, dtype=a.dtype)
    full[..., :length] = a
    op = np.maximum if largest else np.minimum
    grouped = full.reshape(*a.shape[:-1], blocks, size)
    ahead = op.accumulate(grouped, axis=-1).reshape(full.shape)  # from each block's start
    behind = op.accumulate(grouped[..., ::-1], axis=-1)[..., ::-1].reshape(full.shape)  # to each block's end
    out = op(behind[..., : length - size + 1], ahead[..., size - 1 : length])
    return np.moveaxis(out, -1, axis)


def _extreme_filter(image: np.ndarray, size: tuple[int, int], largest: bool, mode: str, cval: float,
                    mirrored: bool = False) -> np.ndarray:
    """A rectangular maximum or minimum filter; ``mirrored`` flips the window (a dilation after an erosion)."""
    out = np.asarray(image)
    for axis, n in enumerate(size):
        if n <= 1:
            continue
        before = n - 1 - n // 2 if mirrored else n // 2
        widths = [(0, 0)] * out.ndim
        widths[axis] = (before, n - 1 - before)
        out = _running(_pad(out, widths, mode, cval), n, axis, largest)
    return out


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, (int, np.integer)) else (int(size[0]), int(size[1]))


def maximum_filter(image: np.ndarray, size: int | tuple[int, int], mode: str = "reflect", cval: float = 0.0) -> np.ndarray:
    """The largest value in the ``size`` window around each pixel (scipy.ndimage.maximum_filter)."""
    return _extreme_filter(image, _pair(size), True, mode, cval)


def minimum_filter(image: np.ndarray, size: int | tuple[int, int], mode: str = "reflect", cval: float = 0.0) -> np.ndarray:
    """The smallest value in the ``size`` window around each pixel (scipy.ndimage.minimum_filter)."""
    return _extreme_filter(image, _pair(size), False, mode, cval)


def grey_opening(image: np.ndarray, size: int | tuple[int, int], mode: str = "reflect") -> np.ndarray:
    """A grey opening with a flat rectangle: minimum filter, then the mirrored maximum (scipy.ndimage.grey_opening)."""
    eroded = _extreme_filter(image, _pair(size), False, mode, 0.0)
    return _extreme_filter(eroded, _pair(size), True, mode, 0.0, mirrored=True)


def binary_opening(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The union of every ``shape`` rectangle that fits inside ``mask`` (scipy.ndimage.binary_opening, border False)."""
    as_bytes = np.asarray(mask, dtype=bool).view(np.uint8)
    eroded = _extreme_filter(as_bytes, shape, False, "constant", 0)
    return _extreme_filter(eroded, shape, True, "constant", 0, mirrored=True).astype(bool)


def uniform_filter1d(values: np.ndarray, size: int, axis: int = -1, mode: str = "reflect") -> np.ndarray:
    """The mean of the ``size`` values around each one along ``axis``, in the input's dtype (scipy.ndimage.uniform_filter1d)."""
    values = np.asarray(values)
    axis = axis % values.ndim
    before = size // 2
    widths = [(0, 0)] * values.ndim
    widths[axis] = (before, size - 1 - before)
    line = np.moveaxis(_pad(values.astype(np.float64), widths, mode), axis, -1)
    length = values.shape[axis]
    # A running sum as scipy keeps it: the first window's sum, then entering − leaving added on; each divided by size.
    steps = np.empty(line.shape[:-1] + (length,), dtype=np.float64)
    first = np.zeros(line.shape[:-1])
    for k in range(size):  # summed in order, as scipy does
        first += line[..., k]
    steps[..., 0] = first
    steps[..., 1:] = line[..., size : size + length - 1] - line[..., : length - 1]
    out = np.cumsum(steps, axis=-1) / size
    return np.moveaxis(out, -1, axis).astype(values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64)


def uniform_filter(image: np.ndarray, size: int, mode: str = "reflect") -> np.ndarray:
    """The mean over a ``size``×``size`` window around each pixel, in the input's dtype (scipy.ndimage.uniform_filter)."""
    out = np.asarray(image)
    for axis in range(out.ndim):
        if size > 1:  # scipy skips an axis the window does not span
            out = uniform_filter1d(out, size, axis=axis, mode=mode)
    return out


def gaussian_filter(image: np.ndarray, sigma: float, truncate: float = 4.0, mode: str = "reflect") -> np.ndarray:
    """A Gaussian blur of standard deviation ``sigma`` px, cut at ``truncate`` sigmas (scipy.ndimage.gaussian_filter)."""
    image = np.asarray(image)
    dtype = image.dtype if np.issubdtype(image.dtype, np.floating) else np.float64
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 / (float(sigma) * float(sigma)) * x**2)
    weights /= weights.sum()
    out = image
    for axis in range(image.ndim):
        widths = [(0, 0)] * image.ndim
        widths[axis] = (radius, radius)
        line = np.moveaxis(_pad(out.astype(np.float64), widths, mode), axis, -1)
        length = out.shape[axis]
        total = line[..., radius : radius + length] * weights[radius]
        for k in range(radius, 0, -1):  # the symmetric pairs, outermost first
            total += (line[..., radius - k : radius - k + length] + line[..., radius + k : radius + k + length]) * weights[radius - k]
        out = np.moveaxis(total, -1, axis).astype(dtype)
    return out


def distance_transform_edt(mask: np.ndarray) -> np.ndarray:
    """Each True pixel's exact Euclidean distance to the nearest False pixel, float64 (scipy.ndimage.distance_transform_edt)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return np.zeros(mask.shape)
    transposed = mask.shape[1] > mask.shape[0]  # the quadratic pass runs along the shorter side
    if transposed:
        mask = mask.T
    height, width = mask.shape
    # Pass 1, down each column: the distance to the nearest False pixel in the same column.
    index = np.arange(height)[:, None]
    far = height + width + 1
    last = np.maximum.accumulate(np.where(mask, -far, index), axis=0)
    nxt = np.minimum.accumulate(np.where(mask, 2 * far, index)[::-1], axis=0)[::-1]
    column = np.minimum(index - last, nxt - index).astype(np.float64)
    # Pass 2, along each row: the smallest (Δcolumn)² + column distance² over the row (exact, in integers).
    squared = column**2
    shift = (np.arange(width)[:, None] - np.arange(width)[None, :]) ** 2
    best = np.empty((height, width))
    chunk = max(1, 4_000_000 // (width * width))
    for top in range(0, height, chunk):
        rows = squared[top : top + chunk]
        best[top : top + chunk] = (rows[:, None, :] + shift[None]).min(axis=2)
    out = np.sqrt(best)
    return out.T if transposed else out


# ------------------------------------------------------------------------ resizing as Pillow resizes


def _pillow_weights(in_size: int, out_size: int, support: float, kernel, span: float | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's resampling weights: each output pixel's first input pixel, and its normalised weights (a row, 0-padded).

    ``span`` is the width of input the output covers (Pillow's box), when not all ``in_size`` pixels."""
    scale = (in_size if span is None else float(np.float32(span))) / out_size
    filterscale = max(scale, 1.0)
    reach = support * filterscale
    centre = (np.arange(out_size) + 0.5) * scale
    lo = np.maximum((centre - reach + 0.5).astype(np.int64), 0)  # C's (int): towards zero
    count = np.minimum((centre + reach + 0.5).astype(np.int64), in_size) - lo
    taps = np.arange(max(int(count.max()), 1))
    weights = kernel((lo[:, None] + taps - centre[:, None] + 0.5) * (1.0 / filterscale))
    weights[taps >= count[:, None]] = 0.0
    total = np.zeros(out_size)
    for k in taps:  # summed in order, as Pillow does, so the normalised weights match to the last bit
        total += weights[:, k]
    return lo, np.where(total[:, None] != 0.0, weights / np.where(total == 0.0, 1.0, total)[:, None], weights)


def _box_kernel(x: np.ndarray) -> np.ndarray:
    return ((x > -0.5) & (x <= 0.5)).astype(np.float64)


def _bilinear_kernel(x: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - np.abs(x), 0.0, None)


KERNELS = {"box": (0.5, _box_kernel), "bilinear": (1.0, _bilinear_kernel)}


def _resample_axis(image: np.ndarray, out_size: int, axis: int, method: str) -> np.ndarray:
    """One pass of Pillow's separable resampling of a float32 image: sums in float64 in Pillow's order, stored as float32."""
    support, kernel = KERNELS[method]
    moved = np.moveaxis(image, axis, -1).astype(np.float64)
    starts, table = _pillow_weights(moved.shape[-1], out_size, support, kernel)
    total = np.zeros(moved.shape[:-1] + (out_size,))
    for k in range(table.shape[1]):  # tap by tap, like Pillow's inner loop; a tap past the row's end has weight 0
        index = np.minimum(starts + k, moved.shape[-1] - 1)
        total += moved[..., index] * table[:, k]
    return np.moveaxis(total.astype(np.float32), -1, axis)


def _nearest_axis(image: np.ndarray, out_size: int, axis: int) -> np.ndarray:
    """Pillow's nearest neighbour along one axis: the input pixel under each output pixel's centre, stepped as Pillow steps."""
    step = image.shape[axis] / out_size
    positions = np.cumsum(np.concatenate([[step * 0.5], np.full(out_size - 1, step)]))
    return np.take(image, np.minimum(positions.astype(np.int64), image.shape[axis] - 1), axis=axis)


def resize(image: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """A 2-D float image resized to ``size`` = (width, height) as Pillow's mode-"F" ``resize`` does: ``box``, ``bilinear`` or ``nearest``."""
    image = np.asarray(image, dtype=np.float32)
    width, height = size
    if (height, width) == image.shape:
        return image.copy()
    if method == "nearest":
        return _nearest_axis(_nearest_axis(image, width, 1), height, 0)
    out = image
    if width != image.shape[1]:
        out = _resample_axis(out, width, 1, method)
    if height != image.shape[0]:
        out = _resample_axis(out, height, 0, method)
    return out


# ------------------------------------------------------------------------ reading PNG and JPEG files

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8\xff"
OTHER_FORMATS = {b"GIF8": "GIF", b"BM": "BMP", b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"RIFF": "WEBP"}
SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers; C4, C8, CC are other segments


def image_format(blob: bytes) -> str | None:
    """``"PNG"``, ``"JPEG"``, another format's name (GIF, BMP, TIFF, WEBP) from the file's first bytes, or None."""
    if blob.startswith(PNG_SIGNATURE):
        return "PNG"
    if blob.startswith(JPEG_START):
        return "JPEG"
    return next((name for magic, name in OTHER_FORMATS.items() if blob.startswith(magic)), None)


def header_size(blob: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's or JPEG's header, without decoding a pixel; ``ValueError`` when there is none."""
    try:
        return _header_size(blob)
    except struct.error as exc:  # the file ends inside a header
        raise ValueError(f"the header is cut short: {exc}") from exc


def _header_size(blob: bytes) -> tuple[int, int]:
    """``header_size``'s work; a short read raises ``struct.error``."""
    if blob.startswith(PNG_SIGNATURE):
        if len(blob) < 24 or blob[12:16] != b"IHDR":
            raise ValueError("the PNG has no IHDR header")
        return struct.unpack(">II", blob[16:24])
    at = 2
    while at + 4 <= len(blob):
        if blob[at] != 0xFF:
            raise ValueError("broken JPEG marker")
        marker = blob[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", blob[at + 2 : at + 4])[0]
        if marker in SOF_MARKERS:
            if at + 9 > len(blob):
                break
            height, width = struct.unpack(">HH", blob[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise ValueError("the JPEG has no frame header")


def decode_rgba(blob: bytes) -> np.ndarray:
    """A PNG or JPEG as a uint8 (H, W, 4) array, turned upright by its EXIF orientation, as Pillow's ``convert("RGBA")`` gives it."""
    with warnings.catch_warnings():  # torchvision 0.29 names TorchCodec its decoders' successor, on every call
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return _decode_rgba(blob)
        except (RuntimeError, IndexError) as exc:  # torchvision's decoders raise RuntimeError for a broken file
            raise ValueError(f"not a readable PNG or JPEG: {exc}") from exc


def luminance(rgba: np.ndarray) -> np.ndarray:
    """An RGB(A) uint8 picture as uint8 grey, as Pillow's ``convert("L")`` weighs it (ITU-R 601-2, alpha ignored)."""
    rgb = np.asarray(rgba)[..., :3].astype(np.uint32)
    return ((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16).astype(np.uint8)


def _decode_rgba(blob: bytes) -> np.ndarray:
    """``decode_rgba`` without its warning filter."""
    import torch
    from torchvision.io import ImageReadMode, decode_image

    data = torch.frombuffer(bytearray(blob), dtype=torch.uint8)
    png = blob.startswith(PNG_SIGNATURE)
    depth, colour = (blob[24], blob[25]) if png else (8, 2)
    transparent = png and b"tRNS" in blob[: blob.find(b"IDAT")]
    if colour in (2, 3) and not transparent:  # opaque colour (all JPEGs): asking torchvision for alpha garbles palettes
        rgb = decode_image(data, mode=ImageReadMode.RGB, apply_exif_orientation=True)
        if rgb.dtype != torch.uint8:  # 16-bit colour: Pillow keeps the high byte
            rgb = (rgb.to(torch.int32) >> 8).to(torch.uint8)
        rgb = rgb.permute(1, 2, 0).numpy()
        return np.dstack([rgb, np.full(rgb.shape[:2], 255, dtype=np.uint8)])
    if colour == 0:  # grey: decoded as grey, since low bit depths are not stretched to 0..255 on the way to RGBA
        grey = decode_image(data, mode=ImageReadMode.GRAY, apply_exif_orientation=True)[0].numpy()
        if depth == 16:  # Pillow reads 16-bit grey as integers and clips them to 255
            grey = np.minimum(grey.astype(np.int64), 255)
        grey = grey.astype(np.uint8)
        return np.dstack([grey, grey, grey, np.full(grey.shape, 255, dtype=np.uint8)])
    image = decode_image(data, mode=ImageReadMode.RGB_ALPHA, apply_exif_orientation=True)
    if image.dtype != torch.uint8:  # 16-bit colour: Pillow keeps the high byte
        image = (image.to(torch.int32) >> 8).to(torch.uint8)
    return image.permute(1, 2, 0).contiguous().numpy()


def thumbnail_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The size Pillow's ``thumbnail((side, side))`` gives a ``width``×``height`` picture: aspect kept, longer side ``side``."""
    if side >= width and side >= height:
        return width, height
    aspect = width / height

    def nearest(number: float, key) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if 1 >= aspect:  # side / side >= aspect: the height is the limit
        return nearest(side * aspect, key=lambda n: abs(aspect - n / side)), side
    return side, nearest(side / aspect, key=lambda n: 0 if n == 0 else abs(aspect - side / n))


def png_resampling(blob: bytes) -> str:
    """How Pillow resizes a PNG of this kind: ``"nearest"`` (palette, 1-bit), ``"premultiplied"`` (with alpha) or ``"straight"``."""
    if not blob.startswith(PNG_SIGNATURE):
        return "straight"
    depth, colour = blob[24], blob[25]
    if colour == 3 or (colour == 0 and depth == 1):  # Pillow's modes "P" and "1" are only ever resized nearest
        return "nearest"
    return "premultiplied" if colour in (4, 6) else "straight"


PRECISION_BITS = 22  # Pillow's fixed-point weights for 8-bit images


def _resample_axis_8bit(image: np.ndarray, out_size: int, axis: int, span: float | None = None) -> np.ndarray:
    """One pass of Pillow's box filter on 8-bit channels: integer weights, rounded, clipped, stored as uint8."""
    moved = np.moveaxis(image, axis, 1)
    starts, weights = _pillow_weights(moved.shape[1], out_size, *KERNELS["box"], span=span)
    taps = weights.shape[1]
    table = np.floor(0.5 + weights * (1 << PRECISION_BITS)).astype(np.int32)  # weights are never negative here
    table = table.reshape(out_size, taps, *[1] * (moved.ndim - 2))  # broadcast over the channels
    # 255 × 2**22 plus rounding stays below 2**31: int32 is enough, and a 12-megapixel photo fits in memory.
    total = np.full((moved.shape[0], out_size) + moved.shape[2:], 1 << (PRECISION_BITS - 1), dtype=np.int32)
    for k in range(taps):  # a tap past the row's end has weight 0
        total += moved[:, np.minimum(starts + k, moved.shape[1] - 1)].astype(np.int32) * table[:, k]
    out = np.clip(total >> PRECISION_BITS, 0, 255).astype(np.uint8)
    return np.moveaxis(out, 1, axis)


def _reduce_axis(image: np.ndarray, factor: int, axis: int) -> np.ndarray:
    """Blocks of ``factor`` pixels along ``axis`` averaged and rounded (a last, shorter block over its own pixels)."""
    moved = np.moveaxis(image, axis, 0)
    starts = np.arange(0, moved.shape[0], factor)
    sums = np.add.reduceat(moved, starts, axis=0, dtype=np.uint32)
    sizes = np.diff(np.append(starts, moved.shape[0])).reshape(-1, *[1] * (moved.ndim - 1))
    return np.moveaxis(((sums + sizes // 2) // sizes).astype(np.uint8), 0, axis)


def shrink_rgba(rgba: np.ndarray, size: tuple[int, int], how: str = "straight") -> np.ndarray:
    """A uint8 RGBA picture shrunk to ``size`` = (width, height) as Pillow's box ``resize`` shrinks it; ``how`` from ``png_resampling``."""
    width, height = size
    if rgba.shape[:2] == (height, width):
        return rgba
    if how == "nearest":
        return _nearest_axis(_nearest_axis(rgba, width, 1), height, 0)
    pixels = rgba
    if how == "premultiplied":  # Pillow's RGBA -> RGBa: colour × alpha / 255, rounded its way
        alpha = rgba[..., 3:].astype(np.uint32)
        tmp = rgba[..., :3].astype(np.uint32) * alpha + 128
        pixels = np.concatenate([((tmp >> 8) + tmp) >> 8, alpha], axis=2).astype(np.uint8)
    # Like Pillow's thumbnail (reducing_gap=2): a shrink of 4× or more first averages whole blocks.
    spans = []
    for axis, new in ((1, width), (0, height)):
        old = rgba.shape[axis]
        factor = max(int(old / new / 2.0), 1)
        if factor > 1:
            pixels = _reduce_axis(pixels, factor, axis)
        spans.append(old / factor if factor > 1 else None)
    if width != pixels.shape[1] or spans[0] is not None:
        pixels = _resample_axis_8bit(pixels, width, 1, spans[0])
    if height != pixels.shape[0] or spans[1] is not None:
        pixels = _resample_axis_8bit(pixels, height, 0, spans[1])
    if how == "premultiplied":  # and back: colour × 255 / alpha, except where alpha is 0 or 255
        alpha = pixels[..., 3:].astype(np.uint32)
        colour = pixels[..., :3].astype(np.uint32)
        divided = np.minimum(255 * colour // np.maximum(alpha, 1), 255)
        colour = np.where((alpha == 0) | (alpha == 255), colour, divided)
        pixels = np.concatenate([colour, alpha], axis=2).astype(np.uint8)
    return pixels
