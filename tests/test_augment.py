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
