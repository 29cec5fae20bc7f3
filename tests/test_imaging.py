"""lessons.imaging against the libraries it replaces: scipy.ndimage, Pillow and scikit-learn.

Exact (bit for bit) for connected components, their boxes and sums, minimum / maximum / uniform /
Gaussian filters, openings, the distance transform, nearest-neighbour resizing, box and bilinear
resizing along one axis, PNG and JPEG decoding, the fallback digits and their split. Two documented
tolerances: a box or bilinear resize along both axes differs from Pillow 13 by at most one float32
rounding (its two passes are arranged differently inside, and we could not reproduce the order bit for
bit), and an 8-bit RGBA shrink (a photo to its working size) by at most two grey levels; what the lessons make of either is checked in tests/test_canvas.py.
"""

import io
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps
from scipy import ndimage

from lessons import imaging, mnist

EXAMPLES = settings(max_examples=60, deadline=None)
RESIZE_TOLERANCE = 2.5e-7  # relative: one float32 rounding, for box and bilinear resizes along both axes
SHRINK_LEVELS = 2  # grey levels: Pillow's 8-bit passes round (and, from 4×, pre-average blocks) a little differently


@st.composite
def images(draw, max_side=40, dtype=np.float32):
    """A random image: shape 1..max_side per side, values in [0, scale)."""
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1.0, 255.0, 1e4]))
    return (np.random.default_rng(seed).random((h, w)) * scale).astype(dtype)


@st.composite
def masks(draw, max_side=40):
    image = draw(images(max_side))
    density = draw(st.floats(0.05, 0.95))
    return image / max(float(image.max()), 1e-9) < density


# ------------------------------------------------------------------------ connected components


@EXAMPLES
@given(masks())
def test_label_boxes_and_sums_equal_scipy(mask):
    expected, count = ndimage.label(mask, structure=np.ones((3, 3)))
    labels, n = imaging.label(mask)
    assert n == count and labels.dtype == expected.dtype
    np.testing.assert_array_equal(labels, expected)
    assert imaging.find_objects(labels) == ndimage.find_objects(expected)
    values = np.random.default_rng(n).random(mask.shape).astype(np.float32)
    index = np.arange(1, n + 1)
    np.testing.assert_array_equal(imaging.sum_labels(values, labels, index),
                                  np.asarray(ndimage.sum_labels(values, expected, index)))


def test_label_is_fast_enough_for_a_work_size_photo():
    """A 1024×1024 photo's worst case, half its pixels ink at random, in well under a second (measured ~0.2 s idle)."""
    mask = np.random.default_rng(0).random((1024, 1024)) < 0.5
    start = time.perf_counter()
    _, count = imaging.label(mask)
    assert time.perf_counter() - start < 3.0  # generous: the machine is shared
    assert count == ndimage.label(mask, structure=np.ones((3, 3)))[1]


# ------------------------------------------------------------------------ filters


@EXAMPLES
@given(images(), st.integers(1, 15), st.integers(1, 15), st.sampled_from(["reflect", "constant", "nearest", "mirror", "wrap"]))
def test_minimum_maximum_and_grey_opening_equal_scipy(image, kh, kw, mode):
    np.testing.assert_array_equal(imaging.maximum_filter(image, (kh, kw), mode=mode),
                                  ndimage.maximum_filter(image, size=(kh, kw), mode=mode))
    np.testing.assert_array_equal(imaging.minimum_filter(image, (kh, kw), mode=mode),
                                  ndimage.minimum_filter(image, size=(kh, kw), mode=mode))
    if mode == "reflect":
        np.testing.assert_array_equal(imaging.grey_opening(image, (kh, kw)), ndimage.grey_opening(image, size=(kh, kw)))


@EXAMPLES
@given(masks(), st.integers(1, 30), st.integers(1, 30))
def test_binary_opening_equals_scipy(mask, kh, kw):
    expected = ndimage.binary_opening(mask, structure=np.ones((kh, kw), dtype=bool))
    np.testing.assert_array_equal(imaging.binary_opening(mask, (kh, kw)), expected)


@EXAMPLES
@given(images(dtype=np.float32) | images(dtype=np.float64), st.integers(1, 20))
def test_uniform_filters_equal_scipy(image, size):
    np.testing.assert_array_equal(imaging.uniform_filter(image, size), ndimage.uniform_filter(image, size=size))
    np.testing.assert_array_equal(imaging.uniform_filter1d(image[0], size), ndimage.uniform_filter1d(image[0], size=size))
    assert imaging.uniform_filter(image, size).dtype == image.dtype


@EXAMPLES
@given(images(dtype=np.float32) | images(dtype=np.float64), st.floats(0.3, 3.0))
def test_gaussian_filter_equals_scipy(image, sigma):
    expected = ndimage.gaussian_filter(image, sigma)
    got = imaging.gaussian_filter(image, sigma)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@EXAMPLES
@given(masks(max_side=60))
def test_distance_transform_equals_scipy(mask):
    mask = mask.copy()
    mask[0, 0] = False  # scipy's answer without any background is not a distance
    np.testing.assert_array_equal(imaging.distance_transform_edt(mask), ndimage.distance_transform_edt(mask))


# ------------------------------------------------------------------------ resizing


PILLOW = {"box": Image.Resampling.BOX, "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}


def pillow_resize(image: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    return np.asarray(Image.fromarray(image.astype(np.float32)).resize(size, PILLOW[method]))


@EXAMPLES
@given(images(), st.integers(1, 60), st.integers(1, 60), st.sampled_from(sorted(PILLOW)))
def test_resize_equals_pillow(image, width, height, method):
    expected = pillow_resize(image, (width, height), method)
    got = imaging.resize(image, (width, height), method)
    assert got.dtype == np.float32 and got.shape == expected.shape
    if method == "nearest":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=RESIZE_TOLERANCE, atol=RESIZE_TOLERANCE * float(image.max()))


@EXAMPLES
@given(images(), st.integers(1, 60), st.booleans(), st.sampled_from(["box", "bilinear"]))
def test_resize_along_one_axis_equals_pillow_exactly(image, new, along_rows, method):
    size = (image.shape[1], new) if along_rows else (new, image.shape[0])
    np.testing.assert_array_equal(imaging.resize(image, size, method), pillow_resize(image, size, method))


@EXAMPLES
@given(st.integers(1, 5000), st.integers(1, 5000), st.integers(1, 2000))
def test_thumbnail_size_equals_pillows(width, height, side):
    image = Image.new("L", (width, height))
    image.thumbnail((side, side), Image.Resampling.BOX)
    assert imaging.thumbnail_size(width, height, side) == image.size


def encoded(array: np.ndarray, fmt: str, mode: str | None = None, **kwargs) -> bytes:
    image = Image.fromarray(array)
    buffer = io.BytesIO()
    (image.convert(mode) if mode else image).save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def pillow_rgba(blob: bytes) -> np.ndarray:
    return np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(blob))).convert("RGBA"))


@pytest.mark.parametrize("fmt,mode,alpha", [("PNG", "RGBA", True), ("PNG", "RGB", False), ("PNG", "L", False),
                                            ("PNG", "P", True), ("PNG", "P", False), ("PNG", "LA", True), ("PNG", "1", False),
                                            ("PNG", "I;16", False), ("JPEG", "RGB", False), ("JPEG", "L", False)])
def test_decoding_equals_pillow(fmt, mode, alpha):
    pixels = np.random.default_rng(1).integers(0, 256, (30, 40, 4), dtype=np.uint8)
    blob = encoded(pixels if alpha else pixels[..., :3], fmt, mode)
    np.testing.assert_array_equal(imaging.decode_rgba(blob), pillow_rgba(blob))
    assert imaging.header_size(blob) == (40, 30)
    assert imaging.image_format(blob) == fmt


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L"])
def test_luminance_equals_pillows_grey(mode):
    pixels = np.random.default_rng(2).integers(0, 256, (30, 40, 4), dtype=np.uint8)
    blob = encoded(pixels if mode == "RGBA" else pixels[..., :3], "PNG", mode)
    np.testing.assert_array_equal(imaging.luminance(imaging.decode_rgba(blob)),
                                  np.asarray(Image.open(io.BytesIO(blob)).convert("L")))


@pytest.mark.parametrize("blob", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff" + b"\x00" * 40, b"GIF89a" + b"\x00" * 40])
def test_a_broken_file_is_a_value_error(blob):
    with pytest.raises(ValueError):
        imaging.decode_rgba(blob)


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied_as_pillow_applies_it(orientation, fmt):
    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels = np.random.default_rng(orientation).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    blob = encoded(pixels, fmt, exif=exif)
    np.testing.assert_array_equal(imaging.decode_rgba(blob), pillow_rgba(blob))


@settings(max_examples=25, deadline=None)
@given(st.integers(8, 300), st.integers(8, 300), st.integers(4, 120), st.sampled_from(["RGB", "RGBA", "L", "P", "LA"]),
       st.integers(0, 2**32 - 1))
def test_shrinking_a_picture_is_close_to_pillows_thumbnail(height, width, side, mode, seed):
    """Same size always; each channel within ``SHRINK_LEVELS``, or, with transparency, the colour times alpha within one more."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width]
    smooth = np.dstack([(127 + 120 * np.sin(rows / rng.uniform(3, 30) + c) * np.cos(cols / rng.uniform(3, 30)))
                        for c in range(4)]).astype(np.uint8)
    blob = encoded(smooth, "PNG", mode)
    image = Image.open(io.BytesIO(blob))
    image.thumbnail((side, side), Image.Resampling.BOX)
    expected = np.asarray(image.convert("RGBA")).astype(int)
    got = imaging.shrink_rgba(imaging.decode_rgba(blob), imaging.thumbnail_size(width, height, side),
                              imaging.png_resampling(blob)).astype(int)
    assert got.shape == expected.shape
    difference = np.abs(got - expected)
    if mode in ("RGBA", "LA"):  # colour under a faint alpha is divided back up, rounding and all
        assert difference[..., 3].max() <= SHRINK_LEVELS
        assert (difference[..., :3] * expected[..., 3:] / 255).max() <= SHRINK_LEVELS + 1
    else:
        assert difference.max() <= SHRINK_LEVELS


# ------------------------------------------------------------------------ the fallback digits


def test_fallback_digits_are_scikit_learns():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = mnist.read_digits()
    np.testing.assert_array_equal(images, digits.images)
    np.testing.assert_array_equal(labels, digits.target)


def test_upscaled_digits_equal_pillows_bilinear():
    images, _ = mnist.read_digits()
    expected = np.zeros((len(images), 28, 28), dtype=np.uint8)
    for i, img in enumerate(images):
        big = pillow_resize((img.astype(np.float32) * (255.0 / 16.0)).astype(np.float32), (20, 20), "bilinear")
        expected[i, 4:24, 4:24] = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(mnist.upscale_digits(images), expected)


@EXAMPLES
@given(st.lists(st.integers(0, 5), min_size=30, max_size=300), st.floats(0.1, 0.5), st.integers(0, 2**31 - 1))
def test_stratified_split_equals_train_test_split(labels, fraction, seed):
    from sklearn.model_selection import train_test_split

    labels = np.array(labels)
    counts = np.bincount(labels)
    classes = np.count_nonzero(counts)
    n_test = int(np.ceil(fraction * len(labels)))
    if counts[counts > 0].min() < 2 or n_test < classes or len(labels) - n_test < classes:
        return  # scikit-learn refuses these; the lessons never split them
    index = np.arange(len(labels))
    expected_train, expected_test = train_test_split(index, test_size=fraction, random_state=seed, stratify=labels)
    train, test = mnist.stratified_split(labels, fraction, seed)
    np.testing.assert_array_equal(train, expected_train)
    np.testing.assert_array_equal(test, expected_test)


def test_fallback_split_is_the_one_scikit_learn_made():
    from sklearn.model_selection import train_test_split

    images, labels = mnist.read_digits()
    upscaled = mnist.upscale_digits(images)
    expected = train_test_split(upscaled, labels, test_size=0.2, random_state=0, stratify=labels)
    data = mnist.fallback_digits()
    for got, want in zip((data.train_images, data.test_images, data.train_labels, data.test_labels), expected):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------ reading an upload


@pytest.mark.parametrize("pixels", [2000, 1_000_000])
def test_pillows_bomb_limit_is_kept_as_a_coded_error(monkeypatch, pixels):
    """Pillow refused more than its MAX_IMAGE_PIXELS as a bomb whatever ``max_pixels`` said; canvas.BOMB_PIXELS keeps that."""
    from lessons import canvas

    assert canvas.BOMB_PIXELS == Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(canvas, "BOMB_PIXELS", 1000)
    side = int(pixels**0.5)
    with pytest.raises(canvas.ImageError) as caught:
        canvas.read_image_file(encoded(np.full((side, side, 3), 255, dtype=np.uint8), "PNG"))
    assert caught.value.code == "bomb"
