"""The course's MNIST data (分類問題引入): 60k training and 10k test images, 28×28, digits 0–9.

``load_mnist`` reads the four standard IDX files, gzipped or not, from the first of these folders
that holds them:

1. ``root`` when given, else ``$MNIST_DIR`` when set;
2. ``data/MNIST/raw`` in this checkout, the layout ``torchvision.datasets.MNIST`` writes.

Bad files (missing piece, truncated, corrupted gzip, wrong magic number, odd shape) never crash
the app: ``load_mnist`` falls back to the 1,797 real handwritten 8×8 digits scikit-learn ships,
scaled to 28×28, and says why in ``MnistData.problem``. Files are only ever read here; the only
writer is ``fetch_mnist``, which downloads into a temporary folder and moves files into place
only where no file of that name exists yet.

Command line: ``python -m lessons.mnist --fetch`` downloads MNIST when it is missing and a
network is reachable, and otherwise returns quickly (``make run`` calls it; it always exits 0).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lessons import imaging

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = REPO / "data" / "MNIST"  # torchvision's root; the files land in root/raw
FALLBACK_SOURCE = "sklearn-digits"

# The four IDX files, by the field of MnistData they fill.
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_UBYTE = 0x08  # the IDX type code for unsigned bytes, the only one MNIST uses
MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # 2051: 3-d ubyte; 2049: 1-d ubyte
SIDE = 28
PROBE_HOST = ("ossci-datasets.s3.amazonaws.com", 443)  # torchvision's first MNIST mirror
PROBE_SECONDS = 3.0
DOWNLOAD_SOCKET_SECONDS = 20  # a stalled mirror fails instead of hanging
DOWNLOAD_SECONDS = 600  # the whole download (about 11 MB) must finish within this
# torchvision's download, in a child process so its socket timeout and any hang stay out of the app.
DOWNLOAD_CODE = (
    "import socket, sys\n"
    "socket.setdefaulttimeout(float(sys.argv[2]))\n"
    "from torchvision.datasets import MNIST\n"
    "MNIST(sys.argv[1], train=True, download=True)\n"
)
_FETCH_LOCK = threading.Lock()  # a class clicking "download" at once gets one download


# Why real MNIST could not be used, as stable codes a page words in the student's language
# (the messages name files and folders, for the server's log and the command line only).
PROBLEMS = ("not_found", "missing_file", "unreadable", "bad_gzip", "not_idx", "wrong_size", "wrong_kind",
            "not_28x28", "bad_label", "count_mismatch")


class MnistFileError(ValueError):
    """A missing or malformed MNIST file; the message names the file, ``code`` (in ``PROBLEMS``) says what is wrong."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class MnistData(NamedTuple):
    """The four MNIST arrays and where they came from.

    ``source`` is ``"mnist:<absolute folder>"`` for real MNIST and ``"sklearn-digits"`` for the
    offline fallback; ``is_fallback`` tells which. ``problem`` names the missing or bad file
    when the fallback was used, and is None when real MNIST loaded fine. The arrays are
    read-only: one loaded data set is shared by every session of the app.
    """

    train_images: np.ndarray  # uint8 (N, 28, 28), ink high: 0 is blank paper, 255 full ink
    train_labels: np.ndarray  # int64 (N,), digits 0..9
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    problem: str | None = None
    problem_code: str | None = None  # ``problem`` as one of ``PROBLEMS``, for the pages

    @property
    def is_fallback(self) -> bool:
        """True when these are scikit-learn's small digits rather than MNIST."""
        return self.source == FALLBACK_SOURCE


# ------------------------------------------------------------------------ IDX files


def _read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzipped (recognised by its magic bytes)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MnistFileError(f"{path}: cannot be read ({exc.strerror or exc})", "unreadable") from exc
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise MnistFileError(f"{path}: corrupted or truncated gzip data ({exc})", "bad_gzip") from exc


def read_idx(path: str | Path) -> np.ndarray:
    """The unsigned-byte array stored in one IDX file (gzipped or not), checked against its header.

    IDX layout: two zero bytes, a type code (0x08 = ubyte), the number of dimensions, each
    dimension as a big-endian int32, then the data. Anything that does not match raises
    ``MnistFileError`` naming the file.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise MnistFileError(f"{path}: too short to be an IDX file ({len(raw)} bytes)", "not_idx")
    magic = int.from_bytes(raw[:4], "big")
    ndim = raw[3]
    if raw[0] != 0 or raw[1] != 0 or raw[2] != IDX_UBYTE or not 1 <= ndim <= 3:
        raise MnistFileError(f"{path}: wrong magic number 0x{magic:08x} (expected 0x00000801 or 0x00000803)", "not_idx")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistFileError(f"{path}: truncated header", "not_idx")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = math.prod(dims)  # exact: a corrupted header may claim absurd sizes
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "longer than its header says"
        raise MnistFileError(f"{path}: {what}: {got} data bytes for shape {dims} ({expected} expected)", "wrong_size")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def find_file(folder: Path, name: str) -> Path | None:
    """The IDX file ``name`` in ``folder``, uncompressed preferred over ``.gz``; None if absent."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_kind(path: Path, kind: str) -> np.ndarray:
    """``read_idx`` plus the checks MNIST needs: the right magic number and 28×28 images / 0–9 labels."""
    array = read_idx(path)
    magic = MAGIC[kind]
    if array.ndim != magic & 0xFF:
        found = 0x800 + array.ndim
        raise MnistFileError(f"{path}: wrong magic number 0x{found:08x} for {kind} (expected 0x{magic:08x})", "wrong_kind")
    if kind == "images" and array.shape[1:] != (SIDE, SIDE):
        raise MnistFileError(f"{path}: images are {array.shape[1:]}, not 28×28", "not_28x28")
    if kind == "labels" and array.size and array.max() > 9:
        raise MnistFileError(f"{path}: label {int(array.max())} is not a digit 0–9", "bad_label")
    return array


def read_mnist_folder(folder: str | Path) -> MnistData:
    """The four MNIST files of one folder, checked for consistency; ``MnistFileError`` names the bad file."""
    folder = Path(folder).resolve()
    arrays = {}
    for field, name in FILES.items():
        path = find_file(folder, name)
        if path is None:
            raise MnistFileError(f"{folder / name}(.gz): file not found", "missing_file")
        arrays[field] = _read_kind(path, "images" if field.endswith("images") else "labels")
    for split in ("train", "test"):
        n_img, n_lab = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_img != n_lab or n_img == 0:
            labels = find_file(folder, FILES[f"{split}_labels"])
            raise MnistFileError(f"{labels}: {n_lab} labels for {n_img} images", "count_mismatch")
    for field in ("train_labels", "test_labels"):
        arrays[field] = arrays[field].astype(np.int64)
        arrays[field].flags.writeable = False
    return MnistData(**arrays, source=f"mnist:{folder}", problem=None)


# ------------------------------------------------------------------------ loading


def candidate_folders(root: str | Path | None = None) -> list[Path]:
    """Where ``load_mnist`` looks, in order: ``root`` (if given) or ``$MNIST_DIR``, then ``data/MNIST/raw``."""
    first = root if root is not None else os.environ.get("MNIST_DIR")
    folders = [Path(first)] if first else []
    return folders + [DEFAULT_ROOT / "raw"]


def _has_any(folder: Path) -> bool:
    """True when ``folder`` holds at least one of the four MNIST files (so a failure is worth reporting)."""
    return any(find_file(folder, name) is not None for name in FILES.values())


def load_mnist(root: str | Path | None = None) -> MnistData:
    """MNIST from the first folder that has its files, or scikit-learn's digits with ``problem`` set.

    A folder with none of the files is skipped; a folder with some of them must hold all four,
    valid, otherwise the fallback is used and ``problem`` names the missing or bad file.
    Never raises for bad files.
    """
    folders = candidate_folders(root)
    for folder in folders:
        if folder.is_dir() and _has_any(folder):
            try:
                return read_mnist_folder(folder)
            except MnistFileError as exc:
                return fallback_digits(problem=str(exc), problem_code=exc.code)
    looked = ", ".join(str(f) for f in folders)
    return fallback_digits(problem=f"MNIST files not found (looked in: {looked})", problem_code="not_found")


def upscale_digits(images: np.ndarray) -> np.ndarray:
    """scikit-learn's 8×8 digits (values 0–16) as 28×28 uint8 in [0, 255], drawn like MNIST.

    MNIST centres each digit in a 20×20 box inside the 28×28 frame, so the 8×8 image is resized
    bilinearly to 20×20 and padded with 4 blank pixels on each side. Ink stays high.
    """
    inner = SIDE - 8
    out = np.zeros((len(images), SIDE, SIDE), dtype=np.uint8)
    for i, img in enumerate(images):
        small = (np.asarray(img, dtype=np.float32) * (255.0 / 16.0)).astype(np.float32)
        big = imaging.resize(small, (inner, inner), "bilinear")
        out[i, 4 : 4 + inner, 4 : 4 + inner] = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    return out


def read_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits as ``load_digits`` reads them: (n, 8, 8) float64 images (0–16) and int64 labels.

    The data file ships inside the scikit-learn package, which is installed (a requirement) but
    not imported here: ``find_spec`` only locates its folder.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-learn, which ships the fallback digits, is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, "rt") as file:
        table = np.loadtxt(file, delimiter=",")
    return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)


def _approximate_mode(class_counts: np.ndarray, draws: int, rng: np.random.RandomState) -> np.ndarray:
    """How many of ``draws`` each class gets in proportion to its count; ties in the remainder broken by ``rng``."""
    continuous = class_counts / class_counts.sum() * draws
    floored = np.floor(continuous)
    need = int(draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need -= add_now
            if need == 0:
                break
    return floored.astype(int)


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices keeping each class's share, shuffled with ``seed``: the very split scikit-learn's
    ``train_test_split(..., test_size=test_fraction, random_state=seed, stratify=labels)`` makes."""
    n = len(labels)
    n_test = math.ceil(test_fraction * n)
    n_train = math.floor((1.0 - test_fraction) * n)
    _, inverse, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    class_indices = np.split(np.argsort(inverse, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i, count in enumerate(class_counts):
        shuffled = class_indices[i].take(rng.permutation(count), mode="clip")
        train.extend(shuffled[: n_i[i]])
        test.extend(shuffled[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def fallback_digits(problem: str | None = None, test_fraction: float = 0.2, *, problem_code: str | None = None) -> MnistData:
    """scikit-learn's 1,797 handwritten digits, upscaled to 28×28, split train/test (stratified, fixed seed)."""
    images, labels = read_digits()
    images = upscale_digits(images)
    train, test = stratified_split(labels, test_fraction, seed=0)
    arrays = (images[train], images[test], labels[train], labels[test])
    for array in arrays:
        array.flags.writeable = False  # shared by every session, like the real files' arrays
    x_train, x_test, y_train, y_test = arrays
    return MnistData(x_train, y_train, x_test, y_test, source=FALLBACK_SOURCE, problem=problem, problem_code=problem_code)


# ------------------------------------------------------------------------ small figures for the data page


def class_counts(data: MnistData, split: str = "train") -> np.ndarray:
    """How many images of each digit 0–9 the split holds (the notes say about 7,000 per digit in all)."""
    labels = data.train_labels if split == "train" else data.test_labels
    return np.bincount(labels, minlength=10)


def mean_image(data: MnistData, digit: int | None = None, split: str = "train") -> np.ndarray:
    """The pixel-wise mean (float, 0–255) of the split's images, of one digit if given."""
    images = data.train_images if split == "train" else data.test_images
    labels = data.train_labels if split == "train" else data.test_labels
    chosen = images if digit is None else images[labels == digit]
    return chosen.mean(axis=0, dtype=np.float64)


def samples_per_digit(data: MnistData, per_digit: int = 8, split: str = "train") -> dict[int, np.ndarray]:
    """The first ``per_digit`` images of each digit, in file order: {digit: uint8 (k, 28, 28)}."""
    images = data.train_images if split == "train" else data.test_images
    labels = data.train_labels if split == "train" else data.test_labels
    return {d: images[np.flatnonzero(labels == d)[:per_digit]] for d in range(10)}


# ------------------------------------------------------------------------ download


def network_reachable(host: tuple[str, int] = PROBE_HOST, seconds: float = PROBE_SECONDS) -> bool:
    """True when a TCP connection to ``host`` opens within ``seconds``.

    The probe runs in a daemon thread because name resolution ignores socket timeouts and can
    stall for long offline; we stop waiting after ``seconds`` either way.
    """
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection(host, timeout=seconds):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(seconds)
    return bool(result and result[0])


def fetch_mnist(root: str | Path | None = None) -> bool:
    """Download MNIST into ``root/raw`` (default ``data/MNIST/raw``) with torchvision when needed and online.

    Returns True when valid files are there afterwards.
    Files present and valid: True at once, no network. Offline: False after a short probe.
    Online: torchvision downloads into a fresh temporary folder beside the target, then each
    file is moved into ``root/raw`` only where no file of that name exists (nothing is overwritten).
    One fetch runs at a time; those who waited then find the files and return True at once.
    """
    with _FETCH_LOCK:
        return _fetch(Path(root) if root is not None else DEFAULT_ROOT)


def _fetch(root: Path) -> bool:
    """``fetch_mnist``'s work, under its lock."""
    raw = root / "raw"
    try:
        read_mnist_folder(raw)
        return True
    except MnistFileError:
        pass
    if not network_reachable():
        return False
    raw.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    try:
        subprocess.run(
            [sys.executable, "-c", DOWNLOAD_CODE, str(tmp), str(DOWNLOAD_SOCKET_SECONDS)],
            capture_output=True, timeout=DOWNLOAD_SECONDS, check=True,
        )
        for path in (tmp / "MNIST" / "raw").iterdir():
            target = raw / path.name
            if not target.exists():
                os.replace(path, target)
    except (OSError, subprocess.SubprocessError):  # no network after all, a mirror failed, a timeout
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # our own temporary folder only
    try:
        read_mnist_folder(raw)
        return True
    except MnistFileError:
        return False


def main(argv: list[str] | None = None) -> int:
    """``--fetch``: make sure MNIST is available (download if possible); always exits 0."""
    parser = argparse.ArgumentParser(prog="python -m lessons.mnist", description=__doc__.splitlines()[0])
    parser.add_argument("--fetch", action="store_true", help="download MNIST into data/MNIST/raw if missing")
    args = parser.parse_args(argv)
    data = load_mnist()
    if not data.is_fallback:
        print(f"MNIST found: {data.source.removeprefix('mnist:')}")
        return 0
    if args.fetch:
        if fetch_mnist():
            print(f"MNIST downloaded into {DEFAULT_ROOT / 'raw'}")
        else:
            print(f"MNIST not downloaded (offline?); the app uses scikit-learn's digits. ({data.problem})")
    else:
        print(f"MNIST not available: {data.problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
