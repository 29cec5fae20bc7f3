"""Batch distortions (lessons/augment.py), each checked against an independent reference:
torch.rot90 / torch.roll for exact rotations and shifts, scipy.ndimage for dilation, erosion and
Gaussian blur, geometry (centroids, bounding boxes) for slant and scale."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from app.i18n import STRINGS
from lessons import augment
from lessons.augment import AugmentError, augment_batch, distort


def digits(n: int = 6, seed: int = 0) -> torch.Tensor:
    """Random digit-like images: a few thick random strokes in the middle of a 28×28 field."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.float32)
    for image in images:
        for _ in range(3):
            r0, c0, r1, c1 = rng.integers(6, 22, 4)
            for t in np.linspace(0, 1, 40):
                r, c = int(r0 + t * (r1 - r0)), int(c0 + t * (c1 - c0))
                image[r : r + 2, c : c + 2] = 1.0
    return torch.from_numpy(images)


def square(size: int = 4) -> torch.Tensor:
    image = torch.zeros(1, 28, 28)
    lo = 14 - size // 2
    image[0, lo : lo + size, lo : lo + size] = 1.0
    return image


@pytest.mark.parametrize("kind", augment.KINDS)
@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 1, 28, 28)])
def test_every_kind_keeps_the_shape_and_range(kind, shape):
    x = digits(5).reshape(shape)
    spec = augment.DISTORTIONS[kind]
    for amount in (spec.low, spec.high):
        out = distort(x, kind, amount, seed=1)
        assert out.shape == x.shape and out.dtype == torch.float32
        assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert spec.low <= spec.neutral <= spec.high


@pytest.mark.parametrize("kind", augment.KINDS)
def test_the_neutral_amount_changes_nothing(kind):
    x = digits(4)
    out = distort(x, kind, augment.DISTORTIONS[kind].neutral)
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_rotation_by_a_right_angle_is_rot90_clockwise():
    x = digits(3)
    torch.testing.assert_close(distort(x, "rotation", 90.0), torch.rot90(x, k=-1, dims=(1, 2)), atol=1e-5, rtol=0)


def test_whole_pixel_shift_moves_right_and_down():
    x = digits(3)
    expected = torch.zeros_like(x)
    expected[:, 3:, 3:] = x[:, :-3, :-3]
    torch.testing.assert_close(distort(x, "shift", 3.0), expected, atol=1e-5, rtol=0)


def test_scale_two_doubles_the_side_of_a_centred_square():
    out = distort(square(6), "scale", 2.0)[0]
    rows = torch.nonzero(out.amax(dim=1) > 0.5).flatten()
    cols = torch.nonzero(out.amax(dim=0) > 0.5).flatten()
    assert len(rows) == 12 and len(cols) == 12
    assert float(out.sum()) == pytest.approx(4 * float(square(6).sum()), rel=0.1)


def test_slant_moves_the_top_right_and_the_bottom_left():
    line = torch.zeros(1, 28, 28)
    line[0, 4:24, 13:15] = 1.0  # an upright stroke 20 px tall
    out = distort(line, "slant", 0.3)[0].numpy()
    top = ndimage.center_of_mass(out[4:8])[1]
    bottom = ndimage.center_of_mass(out[20:24])[1]
    assert top - bottom == pytest.approx(0.3 * 16, abs=1.0)  # 16 rows apart


def test_thickness_is_a_3x3_maximum_or_minimum_filter():
    x = digits(3)
    as_np = x.numpy()
    dilated = np.stack([ndimage.maximum_filter(i, size=3, mode="constant") for i in as_np])
    eroded = np.stack([ndimage.minimum_filter(i, size=3, mode="constant") for i in as_np])
    np.testing.assert_allclose(distort(x, "thickness", 1.0).numpy(), dilated, atol=1e-6)
    np.testing.assert_allclose(distort(x, "thickness", -1.0).numpy(), eroded, atol=1e-6)
    np.testing.assert_allclose(distort(x, "thickness", 0.5).numpy(), (as_np + dilated) / 2, atol=1e-6)
    twice = np.stack([ndimage.maximum_filter(i, size=5, mode="constant") for i in as_np])
    np.testing.assert_allclose(distort(x, "thickness", 2.0).numpy(), twice, atol=1e-6)


def test_per_image_thickness_in_one_batch():
    x = digits(2)
    out = augment.change_thickness(x.unsqueeze(1), torch.tensor([1.0, -1.0]))
    torch.testing.assert_close(out[0], distort(x[:1], "thickness", 1.0), atol=1e-6, rtol=0)
    torch.testing.assert_close(out[1], distort(x[1:], "thickness", -1.0), atol=1e-6, rtol=0)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.7])
def test_blur_matches_scipys_gaussian(sigma):
    x = digits(2)
    expected = np.stack(
        [ndimage.gaussian_filter(i, sigma, mode="constant", truncate=np.ceil(3 * sigma) / sigma) for i in x.numpy()]
    )
    np.testing.assert_allclose(distort(x, "blur", sigma).numpy(), expected, atol=1e-5)


def test_elastic_wobble_is_seeded_smooth_and_keeps_the_ink():
    x = digits(4)
    a, b = distort(x, "elastic", 2.0, seed=3), distort(x, "elastic", 2.0, seed=3)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, distort(x, "elastic", 2.0, seed=4))
    assert float(a.sum()) == pytest.approx(float(x.sum()), rel=0.15)
    field = augment.elastic_field(2, 2.0, torch.Generator().manual_seed(0))
    steps = (field[:, 1:] - field[:, :-1]).abs().amax()
    assert float(steps) < 0.2 * float(field.abs().amax())  # neighbours move almost alike: smooth


def test_augment_batch_is_reproducible_and_varied():
    x = digits(64)
    a = augment_batch(x, torch.Generator().manual_seed(0))
    b = augment_batch(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, augment_batch(x, torch.Generator().manual_seed(1)))
    assert a.shape == x.shape and torch.isfinite(a).all()
    assert torch.allclose(a.amax(dim=(1, 2)), torch.ones(64))  # strongest ink back to 1, as the canvas gives
    changed = (a - x).abs().mean(dim=(1, 2))
    assert (changed > 0.01).float().mean() > 0.9  # nearly every digit is distorted
    torch.testing.assert_close(augment_batch(x, torch.Generator(), strength=0.0), x)


def test_stronger_augmentation_moves_digits_further():
    x = digits(128)
    mild = (augment_batch(x, torch.Generator().manual_seed(0), 0.3) - x).abs().mean()
    strong = (augment_batch(x, torch.Generator().manual_seed(0), 1.0) - x).abs().mean()
    assert strong > 1.5 * mild


def test_empty_batch():
    assert augment_batch(torch.zeros(0, 28, 28), torch.Generator()).shape == (0, 28, 28)


@pytest.mark.parametrize(
    "call,code",
    [
        (lambda: distort(digits(1), "twirl", 1.0), "kind"),
        (lambda: distort(digits(1), "rotation", float("nan")), "amount"),
        (lambda: distort(digits(1), "scale", 0.0), "amount"),
        (lambda: distort(torch.zeros(28, 28), "blur", 1.0), "shape"),
        (lambda: augment_batch(torch.zeros(2, 3, 28, 28), torch.Generator()), "shape"),
    ],
    ids=["kind", "nan", "zero-scale", "2d", "rgb"],
)
def test_bad_input_gives_a_coded_error(call, code):
    with pytest.raises(AugmentError) as caught:
        call()
    assert caught.value.code == code


# ------------------------------------------------- the claims lesson 7's sliders and texts make



def slider(kind: str):
    spec = augment.DISTORTIONS[kind]
    return st.floats(spec.low, spec.high)


def bar(rows=(4, 24), cols=(13, 15)) -> torch.Tensor:
    image = torch.zeros(1, 28, 28)
    image[0, rows[0]:rows[1], cols[0]:cols[1]] = 1.0
    return image


@settings(max_examples=40, deadline=None)
@given(slider("slant"))
def test_slant_shifts_the_top_right_by_its_amount_per_row_up(amount):
    """``handwriting.unit.shear``: the shift to the right per row up, over the slider's range."""
    out = distort(bar(), "slant", amount)[0].numpy()
    top, bottom = ndimage.center_of_mass(out[6:9])[1], ndimage.center_of_mass(out[19:22])[1]
    assert top - bottom == pytest.approx(amount * 13, abs=0.6)


@settings(max_examples=40, deadline=None)
@given(slider("rotation"))
def test_rotation_turns_clockwise_by_its_degrees(amount):
    """``handwriting.unit.degrees``: positive turns clockwise (the top of an upright bar goes right)."""
    out = distort(bar(rows=(4, 24), cols=(13, 15)), "rotation", amount)[0].numpy()
    rows, cols = np.nonzero(out > 0.3)
    weights = out[rows, cols]
    # the bar's direction from its second moments: angle from the vertical, clockwise positive
    r, c = rows - np.average(rows, weights=weights), cols - np.average(cols, weights=weights)
    angle = 0.5 * np.degrees(np.arctan2(-2 * np.average(r * c, weights=weights),
                                         np.average(r * r - c * c, weights=weights)))
    assert angle == pytest.approx(amount, abs=3.0)


@settings(max_examples=40, deadline=None)
@given(slider("scale"))
def test_scale_multiplies_the_size_by_its_factor(amount):
    """``handwriting.unit.factor``: the digit's size times the factor."""
    out = distort(bar(rows=(6, 22), cols=(12, 16)), "scale", amount)[0].numpy()
    rows = np.flatnonzero(out.max(axis=1) > 0.5)
    assert len(rows) == pytest.approx(16 * amount, abs=1.5)


@settings(max_examples=40, deadline=None)
@given(slider("shift"))
def test_shift_moves_right_and_down_by_its_pixels(amount):
    """``handwriting.unit.pixels`` for shift: right and down by the amount."""
    image = square(4)
    out = distort(image, "shift", amount)[0].numpy()
    before, after = ndimage.center_of_mass(image[0].numpy()), ndimage.center_of_mass(out)
    assert after[0] - before[0] == pytest.approx(amount, abs=0.1)
    assert after[1] - before[1] == pytest.approx(amount, abs=0.1)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([a for a in np.arange(-1.0, 2.01, 1.0)]))
def test_thickness_adds_its_pixels_to_each_side_of_a_stroke(amount):
    """``handwriting.unit.pixels`` for thickness: pixels added to (below 0, taken from) each side."""
    out = distort(bar(rows=(4, 24), cols=(12, 16)), "thickness", float(amount))[0].numpy()
    row = out[14]
    assert np.count_nonzero(row > 0.5) == 4 + 2 * amount


def test_the_training_ranges_the_texts_quote_are_the_ones_training_uses():
    """``handwriting.try_wobble``, ``handwriting.try_thin`` and ``handwriting.samples`` quote the training's
    limits and the share of a batch it distorts."""
    from lessons import mlp

    assert mlp.AUGMENTED_SHARE == 0.5
    for lang, half in (("zh", "一半"), ("en", "half of every batch")):
        assert half in STRINGS["handwriting.try_wobble"][lang] and half in STRINGS["handwriting.samples"][lang]
        wobble = STRINGS["handwriting.try_wobble"][lang]
        assert f"{augment.MAX_ROTATION:g}°" in wobble and f"{augment.MAX_ELASTIC:g}" in wobble
        thin = STRINGS["handwriting.try_thin"][lang]
        assert f"{-augment.THICKNESS_RANGE[0]:g}" in thin and f"{augment.THICKNESS_RANGE[1]:g}" in thin


# ------------------------------------------------- the styles MNIST lacks, contrast and grain


def one(rows=(4, 24), col=14) -> torch.Tensor:
    """An upright 1: a bar two pixels wide."""
    return bar(rows=rows, cols=(col - 1, col + 1))


def segment_reference(h: int, w: int, start, end, width: float) -> np.ndarray:
    """Coverage of an anti-aliased stroke, from the distance to 4,001 points sampled along it (no projection)."""
    t = np.linspace(0, 1, 4001)[:, None]
    points = np.asarray(start, float) + t * (np.asarray(end, float) - np.asarray(start, float))
    rows, cols = np.mgrid[0:h, 0:w]
    pixels = np.stack([cols.ravel(), rows.ravel()], axis=1).astype(float)
    nearest = np.sqrt(((pixels[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    return np.clip(width / 2 + 0.5 - nearest, 0, 1).reshape(h, w)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 27), min_size=4, max_size=4), st.floats(1.0, 3.0))
def test_a_drawn_stroke_covers_what_its_distance_says(ends, width):
    start, end = ends[:2], ends[2:]
    out = augment.draw_strokes(torch.zeros(1, 1, 28, 28), torch.tensor([start]), torch.tensor([end]), width)
    np.testing.assert_allclose(out[0, 0].numpy(), segment_reference(28, 28, start, end, width), atol=0.01)


def test_a_stroke_only_adds_ink():
    x = digits(4).reshape(4, 1, 28, 28)
    out = augment.draw_strokes(x, torch.full((4, 2), 3.0), torch.full((4, 2), 20.0), 2.0)
    assert (out >= x).all() and out.max() <= 1 and out[:, 0, 11, 11].min() == 1.0


@pytest.mark.parametrize("style", [augment.flag_ones, augment.base_bars, augment.cross_sevens])
@pytest.mark.parametrize("shape", [(6, 28, 28), (6, 1, 28, 28)])
def test_every_style_keeps_the_shape_the_range_and_the_ink(style, shape):
    x = digits(6).reshape(shape)
    out = style(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert (out >= x - 1e-6).all()  # strokes are added, never taken away
    assert (out - x).sum() > 0
    torch.testing.assert_close(out, style(x, torch.Generator().manual_seed(0)))
    assert style(torch.zeros(0, 28, 28), torch.Generator()).shape == (0, 28, 28)
    torch.testing.assert_close(style(torch.zeros(2, 28, 28), torch.Generator()), torch.zeros(2, 28, 28))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8), st.integers(10, 18))
def test_a_flag_leaves_the_top_down_to_the_left_and_stays_a_one(seed, top, col):
    """``flag_ones``: the flag starts at the 1's top and goes down to the left, never above or right of
    it, shorter than half the 1: not a 7's bar, which runs right from the top."""
    x = one(rows=(top, 24), col=col)
    added = (augment.flag_ones(x, torch.Generator().manual_seed(seed)) - x)[0].numpy()
    rows, cols = np.nonzero(added > 0.3)
    assert len(rows) > 0
    height = 24 - 1 - top
    assert rows.min() >= top - 2 and cols.max() <= col + 2  # not above the top, not to its right
    assert col - cols.min() <= 0.5 * height + 2 and rows.max() - top <= 0.5 * height + 2


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_a_base_bar_lies_across_the_bottom_of_the_stroke(seed):
    x = one(rows=(4, 24))
    added = (augment.base_bars(x, torch.Generator().manual_seed(seed)) - x)[0].numpy()
    rows, cols = np.nonzero(added > 0.3)
    assert rows.min() >= 23 - 5 and rows.max() <= 23 + 5  # at the bottom row, give or take its lean and width
    assert cols.min() < 13 and cols.max() > 14  # across the stroke, out on both sides


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_a_sevens_crossbar_crosses_the_stem_below_its_top(seed):
    seven = torch.zeros(1, 28, 28)
    seven[0, 4:6, 7:21] = 1.0  # the top bar
    seven[0, 6:24, 17:19] = 1.0  # the stem
    added = (augment.cross_sevens(seven, torch.Generator().manual_seed(seed)) - seven)[0].numpy()
    rows, cols = np.nonzero(added > 0.3)
    assert rows.min() >= 4 + 0.4 * 19 - 3 and rows.max() <= 4 + 0.6 * 19 + 3
    assert cols.min() < 17 and cols.max() > 18


def test_styles_change_only_the_ones_and_sevens_and_keep_the_labels():
    x = digits(40)
    labels = torch.arange(40) % 10
    kept = labels.clone()
    out = augment.add_styles(x, labels, torch.Generator().manual_seed(3))
    assert torch.equal(labels, kept)
    other = (labels != 1) & (labels != 7)
    torch.testing.assert_close(out[other], x[other], atol=0, rtol=0)
    assert (out >= x - 1e-6).all() and out.max() <= 1
    assert not torch.allclose(out[labels == 1], x[labels == 1])
    with pytest.raises(AugmentError) as caught:
        augment.add_styles(x, labels[:5], torch.Generator())
    assert caught.value.code == "shape"


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_contrast_is_the_inks_power(gamma):
    x = digits(3) * torch.linspace(0.2, 1.0, 28)  # grey levels along each row
    np.testing.assert_allclose(augment.vary_contrast(x, gamma).numpy(), np.power(x.numpy(), gamma), rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.5))
def test_grain_is_faint_and_never_removes_ink(seed, amount):
    x = digits(4)
    out = augment.add_grain(x, torch.Generator().manual_seed(seed), amount)
    assert out.shape == x.shape and (out >= x).all() and out.max() <= 1
    assert ((out - x)[x == 0] <= amount + 1e-6).all()


def test_the_training_batch_is_reproducible_in_range_and_none_at_strength_zero():
    x = digits(64)
    labels = torch.arange(64) % 10
    a = augment.augment_training_batch(x, labels, torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, augment.augment_training_batch(x, labels, torch.Generator().manual_seed(0)))
    assert a.shape == x.shape and torch.isfinite(a).all() and a.min() >= 0 and a.max() <= 1
    torch.testing.assert_close(augment.augment_training_batch(x, labels, torch.Generator(), 0.0), x)
    assert augment.augment_training_batch(torch.zeros(0, 28, 28), torch.zeros(0), torch.Generator()).shape == (0, 28, 28)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.6))
def test_a_shadow_is_one_soft_grey_blob_that_never_removes_ink(seed, amount):
    x = digits(4)
    out = augment.add_shadow(x, torch.Generator().manual_seed(seed), amount)
    assert out.shape == x.shape and (out >= x).all() and out.max() <= 1
    added = (out - x)[x == 0]
    assert (added <= amount + 1e-6).all()
    shade = augment.add_shadow(torch.zeros(4, 28, 28), torch.Generator().manual_seed(seed), amount)
    if amount > 0.05:  # a Gaussian: its peak is the amount (the centre lies inside), falling off smoothly
        assert shade.amax(dim=(1, 2)).min() >= 0.6 * amount
        assert (shade[:, 1:] - shade[:, :-1]).abs().max() <= amount * 0.25


def test_training_draws_the_styles_on_the_batchs_ones_and_sevens():
    """``handwriting.recipes`` ("in training some 1 and 7 digits get strokes MNIST rarely has"): with its labels,
    the training's distorted half is ``augment_training_batch`` of it, and the other half stays as it was."""
    from lessons import mlp

    pixels = digits(40)
    labels = torch.arange(40) % 10
    x = mlp.normalise(pixels.numpy())
    out = mlp._augmented(x, torch.Generator().manual_seed(5), 1.0, labels)
    k = round(40 * mlp.AUGMENTED_SHARE)
    expected = augment.augment_training_batch(pixels[:k], labels[:k], torch.Generator().manual_seed(5), 1.0)
    torch.testing.assert_close(out[:k], mlp.normalise(expected.numpy()), atol=1e-5, rtol=0)
    torch.testing.assert_close(out[k:], x[k:])
    assert augment.STYLE_SHARE[1] > 0 and augment.STYLE_SHARE[7] > 0
