"""A number of several digits cut into its digits (lessons/segment.py): numbers built from real
handwritten digits (MNIST's test set where it is here, else scikit-learn's 1,797 digits), placed
with gaps, on plain, ruled and shaded paper, touching, and with a stray speck."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lessons import canvas, mnist, segment

SCALE = 6  # canvas pixels per MNIST pixel (the draw page's canvas has 10)
MARGIN = 40


@pytest.fixture(scope="module")
def digits():
    """(images 28×28 uint8, labels): MNIST's test set, or scikit-learn's digits without it."""
    try:
        from conftest import mnist_dir

        data = mnist.read_mnist_folder(mnist_dir())
    except Exception:  # noqa: BLE001 - no MNIST here: the offline digits serve as well
        data = mnist.fallback_digits()
    return data.test_images, data.test_labels


def ink_columns(image: np.ndarray) -> np.ndarray:
    """A digit enlarged ``SCALE`` times, as ink in [0, 1], cropped to its inked columns."""
    big = np.asarray(Image.fromarray(image.astype(np.float32) / 255).resize((28 * SCALE, 28 * SCALE), Image.Resampling.BILINEAR))
    cols = np.flatnonzero((big > 0.1).any(axis=0))
    return big[:, cols[0]:cols[-1] + 1]


def write(images: list[np.ndarray], gap: int, *, rules: bool = False, shade: bool = False,
          offsets: list[int] | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Dark digits written side by side, ``gap`` MNIST pixels apart (negative: overlapping) on white,
    ruled or shaded paper, as an RGBA canvas; and each digit's column range on it."""
    crops = [ink_columns(image) for image in images]
    width = sum(c.shape[1] for c in crops) + gap * SCALE * (len(crops) - 1) + 2 * MARGIN
    height = 28 * SCALE + 2 * MARGIN
    sheet = np.zeros((height, width), np.float32)
    spans, x = [], MARGIN
    for crop, dy in zip(crops, offsets or [0] * len(crops), strict=True):
        y = MARGIN + dy
        region = sheet[y:y + crop.shape[0], x:x + crop.shape[1]]
        np.maximum(region, crop, out=region)
        spans.append((x, x + crop.shape[1]))
        x += crop.shape[1] + gap * SCALE
    paper = np.ones((height, width, 3), np.float32)
    if rules:
        for row in range(15, height, 36):
            paper[row:row + 2] = (0.6, 0.75, 1.0)
    if shade:
        paper *= np.linspace(1.0, 0.75, width)[None, :, None]
    rgb = paper * (1.0 - sheet[..., None])
    rgba = np.concatenate([rgb, np.ones((height, width, 1), np.float32)], axis=2)
    return (rgba * 255).round().astype(np.uint8), spans


def test_a_blank_sheet_has_no_digits():
    assert segment.segment_digits(np.full((120, 300, 4), 255, np.uint8)) == []


def test_separate_digits_come_out_left_to_right_each_prepared_as_one_digit_alone(digits):
    images, labels = digits
    picked = [int(np.flatnonzero(labels == d)[0]) for d in (2, 0, 2, 6)]
    sheet, spans = write([images[i] for i in picked], gap=3)
    found = segment.segment_digits(sheet)
    assert len(found) == 4
    for digit, (x0, x1), i in zip(found, spans, picked, strict=True):
        assert x0 - 1 <= digit.box[0] and digit.box[2] <= x1 + 1  # the box is that digit's
        alone, _ = write([images[i]], gap=0)
        expected = canvas.preprocess_canvas(alone)
        assert digit.image.shape == (28, 28)
        assert np.corrcoef(digit.image.ravel(), expected.ravel())[0, 1] > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("paper", ["plain", "ruled", "shaded"])
def test_numbers_of_two_to_six_digits_are_cut_into_as_many_digits(digits, paper):
    """Over 150 numbers drawn from the test set with gaps of 0-4 px and uneven baselines."""
    images, _ = digits
    rng = np.random.default_rng(7)
    right = 0
    for _ in range(150):
        n = int(rng.integers(2, 7))
        picked = rng.integers(0, len(images), n)
        sheet, _ = write([images[i] for i in picked], gap=int(rng.integers(0, 5)), rules=paper == "ruled",
                         shade=paper == "shaded", offsets=[int(v) for v in rng.integers(-8, 9, n)])
        right += len(segment.segment_digits(sheet)) == n
    assert right / 150 >= 0.95


def test_ruled_paper_adds_no_digit_and_a_tall_one_is_not_taken_for_a_rule(digits):
    images, labels = digits
    ones = [int(i) for i in np.flatnonzero(labels == 1)[:3]]
    plain, _ = write([images[i] for i in ones], gap=4)
    ruled, _ = write([images[i] for i in ones], gap=4, rules=True)
    assert len(segment.segment_digits(plain)) == len(segment.segment_digits(ruled)) == 3


def test_touching_digits_are_cut_apart(digits):
    images, labels = digits
    wide = [int(np.flatnonzero(labels == d)[k]) for d, k in ((0, 0), (8, 1), (3, 0))]
    sheet, _ = write([images[i] for i in wide], gap=-1)
    found = segment.segment_digits(sheet)
    assert len(found) == 3
    starts = [d.box[0] for d in found]
    assert starts == sorted(starts)


def test_a_speck_above_a_digit_is_no_digit(digits):
    images, labels = digits
    picked = [int(np.flatnonzero(labels == d)[0]) for d in (1, 7)]
    sheet, (first, _) = write([images[i] for i in picked], gap=4)
    sheet[MARGIN - 25:MARGIN - 19, first[0]:first[0] + 6, :3] = 0  # a dot, as over an i
    assert len(segment.segment_digits(sheet)) == 2


@pytest.mark.slow  # about a third of a second an example
@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(0, 1796), min_size=1, max_size=4), st.integers(1, 4), st.booleans())
def test_every_digit_found_is_an_mnist_style_image_inside_the_sheet_in_reading_order(picked, gap, rules):
    data = mnist.fallback_digits()
    sheet, _ = write([data.test_images[i % len(data.test_images)] for i in picked], gap=gap, rules=rules)
    found = segment.segment_digits(sheet)
    assert [d.box[0] for d in found] == sorted(d.box[0] for d in found)
    for digit in found:
        x0, y0, x1, y1 = digit.box
        assert 0 <= x0 < x1 <= sheet.shape[1] and 0 <= y0 < y1 <= sheet.shape[0]
        assert digit.image.shape == (28, 28) and digit.image.dtype == np.float32
        assert 0.0 <= digit.image.min() and digit.image.max() <= 1.0


@pytest.fixture(scope="module")
def read():
    """The course's 784-256-64-10 network, a quick reader: Adam for one epoch on MNIST's first 20,000
    training digits (about 0.94 test accuracy, above the course recipe's 0.89, in a few times less
    time); on the offline digits, their own recipe. (n, 28, 28) -> (n, 10)."""
    from dataclasses import replace

    from lessons import mlp

    data = mnist.load_mnist()
    if data.is_fallback:
        config = mlp.recipe_for(data)
    else:
        config = replace(mlp.BEST_PRESET, epochs=1, batch_size=128, lr=0.002, schedule=None)
        data = data._replace(train_images=data.train_images[:20_000], train_labels=data.train_labels[:20_000])
    model = mlp.train_config(config, data).model
    return lambda images: mlp.predict_proba(model, images)


def stretched(image: np.ndarray, wide: float) -> np.ndarray:
    """A 28×28 digit drawn ``wide`` times as wide (a long-tailed 2, a broad 0), on a wider field."""
    width = round(28 * wide)
    return np.asarray(Image.fromarray(image).resize((width, 28), Image.Resampling.BILINEAR))


def parted(image: np.ndarray, rows: slice) -> np.ndarray:
    """A digit drawn in two pieces: its ink lifted over ``rows`` (a pen lifted at an 8's waist, a 1's middle)."""
    out = image.copy()
    out[rows] = 0
    return out


def pieces(sheet: np.ndarray) -> int:
    """The connected blobs of ink on an RGBA sheet, as ``segment`` sees them."""
    return segment._blobs(segment.remove_rules(canvas.remove_paper(canvas.ink_map(sheet))))[0].max()


@pytest.mark.parametrize("digit", [8, 1])
def test_a_digit_drawn_in_two_pieces_is_one_digit(digits, read, digit):
    """Over MNIST's first 20 of the digit, its ink lifted across its middle rows (an 8's waist, a 1's middle)."""
    images, labels = digits
    whole = right = 0
    for i in np.flatnonzero(labels == digit)[:20]:
        sheet, _ = write([images[7 if digit == 8 else 0], parted(images[i], slice(13, 15)), images[7]], gap=3)
        if pieces(sheet) < 4:
            continue  # the lifted rows left the ink joined elsewhere: not two pieces
        whole += 1
        right += len(segment.segment_digits(sheet)) == len(segment.segment_digits(sheet, read)) == 3
    assert whole >= 5 and right / whole >= 0.9


@pytest.mark.parametrize("digit, wide", [(0, 1.7), (2, 1.7), (7, 1.6)])
def test_a_very_wide_digit_is_not_cut_in_two_by_the_network(digits, read, digit, wide):
    """A 0, a long-based 2 or a long-barred 7 drawn 1.6-1.7 times as wide, between two ordinary digits."""
    images, labels = digits
    right = 0
    picks = np.flatnonzero(labels == digit)[:10]
    for i in picks:
        sheet, _ = write([images[np.flatnonzero(labels == 4)[0]], stretched(images[i], wide),
                          images[np.flatnonzero(labels == 4)[1]]], gap=3)
        found = segment.segment_digits(sheet, read)
        right += len(found) == 3
    assert right / len(picks) >= 0.9


@pytest.mark.slow  # 240 numbers cut twice
@pytest.mark.parametrize("paper", ["plain", "ruled"])
def test_touching_digits_are_cut_apart_with_the_network_judging(digits, read, paper):
    """Three MNIST digits written with no gap (their ink touches where the shapes meet), on plain and
    ruled paper: with the network judging the cuts, the right count in ≥ 0.9 of 40 numbers, and the
    number read right at least as often as by the digits' widths alone."""
    images, labels = digits
    rng = np.random.default_rng(5)
    counted = by_width = by_network = 0
    trials = 40
    for _ in range(trials):
        picked = rng.integers(0, len(images), 3)
        sheet, _ = write([images[i] for i in picked], gap=0, rules=paper == "ruled")
        truth = "".join(str(int(labels[i])) for i in picked)
        alone, judged = segment.segment_digits(sheet), segment.segment_digits(sheet, read)
        counted += len(judged) == 3
        by_width += bool(alone) and segment.read_number(alone, read(np.stack([d.image for d in alone]))) == truth
        by_network += bool(judged) and segment.read_number(judged, read(np.stack([d.image for d in judged]))) == truth
    assert counted / trials >= 0.9 and by_network >= by_width


def test_the_network_only_chooses_among_cuts_of_the_same_ink(digits, read):
    """With or without a network the digits cover the same blobs: boxes stay inside the sheet, in
    reading order, each an MNIST-style image; no ink is invented or dropped by the choice."""
    images, _ = digits
    rng = np.random.default_rng(11)
    for _ in range(10):
        picked = rng.integers(0, len(images), int(rng.integers(2, 6)))
        sheet, _ = write([images[i] for i in picked], gap=int(rng.integers(-1, 3)), shade=True)
        plain, judged = segment.segment_digits(sheet), segment.segment_digits(sheet, read)
        assert [d.box[0] for d in judged] == sorted(d.box[0] for d in judged)
        for digit in judged:
            assert digit.image.shape == (28, 28) and 0 <= digit.box[0] < digit.box[2] <= sheet.shape[1]
        span = (min(d.box[0] for d in plain), max(d.box[2] for d in plain))
        assert (min(d.box[0] for d in judged), max(d.box[2] for d in judged)) == span


def test_the_number_is_the_digits_read_in_order():
    probabilities = np.eye(10)[[2, 0, 2, 6]]
    found = [segment.Digit(np.zeros((28, 28), np.float32), (i, 0, i + 1, 1)) for i in range(4)]
    assert segment.read_number(found, probabilities) == "2026"


def test_canvas_offers_the_same_cut_for_the_draw_page(digits):
    """``canvas.segment_digits`` (the page's entry) is ``segment.segment_digits``: same digits, same boxes."""
    images, labels = digits
    sheet, _ = write([images[int(np.flatnonzero(labels == d)[0])] for d in (4, 1, 9)], gap=2, shade=True)
    through_canvas, direct = canvas.segment_digits(sheet), segment.segment_digits(sheet)
    assert [d.box for d in through_canvas] == [d.box for d in direct] and len(direct) == 3
    for a, b in zip(through_canvas, direct, strict=True):
        np.testing.assert_array_equal(a.image, b.image)
