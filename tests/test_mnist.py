"""The MNIST loader: IDX files gzipped or not, clear errors naming bad files, the offline fallback."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, mnist_dir

from lessons import mnist


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file's bytes written independently of the loader: 0, 0, 0x08, ndim, big-endian dims, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def small_set(seed: int = 0, n_train: int = 30, n_test: int = 10) -> dict[str, np.ndarray]:
    """Random uint8 images and digit labels, shaped like MNIST but tiny."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_set(folder: Path, arrays: dict[str, np.ndarray], gz: bool) -> dict[str, Path]:
    """The four IDX files of ``arrays`` in ``folder`` (gzipped when ``gz``); their paths by field."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for field, name in mnist.FILES.items():
        data = idx_bytes(arrays[field])
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(data) if gz else data)
        paths[field] = path
    return paths


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time, to prove the loader never writes."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("gz", [False, True])
def test_reads_synthetic_idx_files(tmp_path, gz):
    arrays = small_set()
    write_set(tmp_path, arrays, gz)
    data = mnist.load_mnist(tmp_path)
    assert data.problem is None and not data.is_fallback
    assert data.source == f"mnist:{tmp_path.resolve()}"
    for field in mnist.FILES:
        np.testing.assert_array_equal(getattr(data, field), arrays[field])
    assert data.train_images.dtype == np.uint8 and data.train_images.shape == (30, 28, 28)
    assert data.test_labels.shape == (10,)
    assert not any(getattr(data, field).flags.writeable for field in mnist.FILES)  # shared, so read-only


def test_read_idx_matches_numpy_reference(tmp_path):
    array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(array))
    np.testing.assert_array_equal(mnist.read_idx(path), array)


def corrupt(kind: str, path: Path) -> None:
    """Damage one IDX file in the way ``kind`` names."""
    data = path.read_bytes()
    raw = gzip.decompress(data) if path.suffix == ".gz" else data
    if kind == "truncated":
        raw = raw[: len(raw) - 100]
    elif kind == "wrong_magic":
        raw = b"\x00\x00\x08\x07" + raw[4:]
    elif kind == "not_ubyte":
        raw = b"\x00\x00\x0d" + raw[3:]
    elif kind == "too_long":
        raw = raw + b"\x00"
    if kind == "bad_gzip":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


DAMAGE = [(k, gz) for k in ("truncated", "wrong_magic", "not_ubyte", "too_long") for gz in (False, True)]


@pytest.mark.parametrize(("kind", "gz"), [*DAMAGE, ("bad_gzip", True)])
def test_bad_file_names_the_file_then_falls_back_untouched(tmp_path, kind, gz):
    paths = write_set(tmp_path, small_set(), gz)
    bad = paths["train_images"]
    corrupt(kind, bad)
    before = snapshot(tmp_path)
    with pytest.raises(mnist.MnistFileError, match=bad.name):
        mnist.read_idx(bad)
    data = mnist.load_mnist(tmp_path)
    assert data.is_fallback and data.source == "sklearn-digits"
    assert bad.name in data.problem
    assert snapshot(tmp_path) == before


def test_labels_file_for_images_is_a_wrong_magic_number(tmp_path):
    arrays = small_set()
    paths = write_set(tmp_path, arrays, gz=False)
    paths["test_images"].write_bytes(idx_bytes(arrays["test_labels"]))  # a labels file under an images name
    data = mnist.load_mnist(tmp_path)
    assert data.is_fallback and "t10k-images-idx3-ubyte" in data.problem and "magic" in data.problem


def test_mismatched_counts_and_non_digit_labels_are_errors(tmp_path):
    arrays = small_set()
    arrays["test_labels"] = arrays["test_labels"][:5]
    write_set(tmp_path, arrays, gz=False)
    assert "t10k-labels-idx1-ubyte" in mnist.load_mnist(tmp_path).problem
    arrays = small_set()
    arrays["train_labels"][0] = 12
    write_set(tmp_path, arrays, gz=False)
    assert "train-labels-idx1-ubyte" in mnist.load_mnist(tmp_path).problem


def test_missing_one_file_names_it(tmp_path):
    paths = write_set(tmp_path, small_set(), gz=True)
    paths["test_labels"].unlink()
    data = mnist.load_mnist(tmp_path)
    assert data.is_fallback and "t10k-labels-idx1-ubyte" in data.problem and "not found" in data.problem


def test_empty_or_absent_folder_falls_back_and_says_where_it_looked(tmp_path):
    data = mnist.load_mnist(tmp_path / "nowhere")
    assert data.is_fallback and str(tmp_path / "nowhere") in data.problem


def test_mnist_dir_is_looked_at_first(tmp_path, monkeypatch):
    write_set(tmp_path, small_set(), gz=True)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert mnist.candidate_folders()[0] == tmp_path
    assert mnist.candidate_folders()[-1] == ROOT / "data" / "MNIST" / "raw"
    assert mnist.load_mnist().source == f"mnist:{tmp_path.resolve()}"


def test_fallback_is_sklearn_digits_scaled_like_mnist():
    from sklearn.datasets import load_digits

    data = mnist.fallback_digits(problem="test")
    digits = load_digits()
    assert len(data.train_images) + len(data.test_images) == 1797
    assert data.train_images.shape[1:] == (28, 28) and data.train_images.dtype == np.uint8
    assert data.train_images.max() == 255 and data.train_images.min() == 0
    # the 4-pixel border is blank, as in MNIST's 20×20-in-28×28 framing
    assert not data.train_images[:, :4].any() and not data.train_images[:, -4:].any()
    # ink high: the upscaled image's brightest region is where the 8×8 original has ink
    small = digits.images[0] / 16.0
    big = mnist.upscale_digits(digits.images[:1])[0, 4:24, 4:24].astype(float) / 255
    coarse = big.reshape(4, 5, 4, 5).mean(axis=(1, 3))
    ref = small.reshape(4, 2, 4, 2).mean(axis=(1, 3))
    assert np.corrcoef(coarse.ravel(), ref.ravel())[0, 1] > 0.9
    # deterministic, stratified split: same every call, every digit in both halves
    again = mnist.fallback_digits()
    np.testing.assert_array_equal(data.test_labels, again.test_labels)
    assert set(np.unique(data.test_labels)) == set(range(10))


def test_small_figures(tmp_path):
    arrays = small_set()
    write_set(tmp_path, arrays, gz=False)
    data = mnist.load_mnist(tmp_path)
    np.testing.assert_array_equal(mnist.class_counts(data), np.bincount(arrays["train_labels"], minlength=10))
    d = int(arrays["train_labels"][0])
    np.testing.assert_allclose(mnist.mean_image(data, d), arrays["train_images"][arrays["train_labels"] == d].mean(0))
    samples = mnist.samples_per_digit(data, per_digit=2)
    for digit, imgs in samples.items():
        np.testing.assert_array_equal(imgs, arrays["train_images"][arrays["train_labels"] == digit][:2])


def test_fetch_offline_is_quick_and_harmless(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "PROBE_HOST", ("127.0.0.1", 9))  # discard port: refused at once, as offline
    assert mnist.network_reachable(("127.0.0.1", 9), 1.0) is False
    assert mnist.fetch_mnist(tmp_path) is False
    assert list(tmp_path.iterdir()) == []


def test_fetch_moves_downloaded_files_into_place_without_overwriting(tmp_path, monkeypatch):
    """The online path with the download faked: new files land in root/raw, an existing one is kept."""
    served = tmp_path / "served"
    write_set(served, small_set(seed=1), gz=True)
    mine = small_set(seed=2)
    root = tmp_path / "MNIST"
    kept = write_set(root / "raw", mine, gz=True)["train_labels"]
    for field in ("train_images", "test_images", "test_labels"):
        (root / "raw" / (mnist.FILES[field] + ".gz")).unlink()
    before = kept.read_bytes()
    fake_download = f"import shutil, sys\nshutil.copytree({str(served)!r}, sys.argv[1] + '/MNIST/raw')\n"
    monkeypatch.setattr(mnist, "DOWNLOAD_CODE", fake_download)
    monkeypatch.setattr(mnist, "network_reachable", lambda: True)
    assert mnist.fetch_mnist(root) is True
    assert kept.read_bytes() == before  # never overwritten
    assert sorted(p.name for p in root.iterdir()) == ["raw"]  # the temporary folder is gone
    data = mnist.load_mnist(root / "raw")
    np.testing.assert_array_equal(data.train_labels, mine["train_labels"])
    np.testing.assert_array_equal(data.test_images, small_set(seed=1)["test_images"])


def test_fetch_with_valid_files_needs_no_network(tmp_path):
    write_set(tmp_path / "raw", small_set(), gz=True)
    before = snapshot(tmp_path / "raw")
    assert mnist.fetch_mnist(tmp_path) is True
    assert snapshot(tmp_path / "raw") == before


def test_command_line_fetch_exits_zero_offline(tmp_path):
    """`make run`'s `python -m lessons.mnist --fetch`, offline (probe refused) and with no MNIST: exit 0, say so."""
    code = (
        "import sys\n"
        "from lessons import mnist\n"
        "mnist.PROBE_HOST = ('127.0.0.1', 9)\n"
        "mnist.DEFAULT_ROOT = mnist.Path(sys.argv[1])\n"
        "sys.exit(mnist.main(['--fetch']))\n"
    )
    env = {**os.environ, "MNIST_DIR": str(tmp_path / "none")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "MNIST")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "not downloaded" in done.stdout and "digits" in done.stdout
    assert not (tmp_path / "MNIST").exists()


@pytest.mark.mnist
def test_real_mnist_shapes_and_counts():
    folder = mnist_dir()
    data = mnist.load_mnist(folder)
    assert data.problem is None, data.problem
    assert data.train_images.shape == (60000, 28, 28) and data.test_images.shape == (10000, 28, 28)
    assert data.train_images.dtype == np.uint8 and data.test_images.dtype == np.uint8
    assert data.train_labels.shape == (60000,) and data.test_labels.shape == (10000,)
    counts = mnist.class_counts(data) + mnist.class_counts(data, "test")
    assert counts.sum() == 70000 and counts.min() > 6000 and counts.max() < 8000  # "about 7000 per digit"
    assert data.train_labels[:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's well-known first digits
