"""Lesson 5a's claims about the data, checked on the offline digits the page falls back to."""

import numpy as np
import pytest
import torch

from lessons import mnist


@pytest.fixture(scope="module")
def digits():
    return mnist.fallback_digits()


@pytest.mark.parametrize("split", ["train", "test"])
def test_mean_note_nearest_mean_image_gets_many_right_but_not_all(digits, split):
    """``mean_note``: classifying each image by the closest mean image (of the training set) already gets
    many right, but not all."""
    means = torch.tensor(np.stack([mnist.mean_image(digits, d, split="train") for d in range(10)]).reshape(10, -1))
    images = digits.train_images if split == "train" else digits.test_images
    labels = digits.train_labels if split == "train" else digits.test_labels
    flat = torch.tensor(images.reshape(len(images), -1), dtype=torch.float64)
    guess = torch.cdist(flat, means).argmin(dim=1).numpy()
    right = float(np.mean(guess == labels))
    assert 0.5 < right < 1.0


def test_fallback_is_scikit_learns_digits(digits):
    """``counts_note_fallback``: the offline data are scikit-learn's digits, every one of them, not MNIST."""
    from sklearn.datasets import load_digits

    assert digits.is_fallback
    assert len(digits.train_images) + len(digits.test_images) == len(load_digits().target)
    assert mnist.class_counts(digits, "train").sum() + mnist.class_counts(digits, "test").sum() < 70_000
