"""Trained models shared on disk: every worker process (and every host that mounts the folder)
trains one configuration once, and a restarted server finds its models already trained.

A model is stored under a key made of its training settings and the identity of its data
(source, shapes and a digest of the arrays' bytes, computed once per loaded data set). Writes
go to a temporary file in the same folder and are renamed into place (``os.replace`` is atomic),
so a reader sees a whole file or none. A per-key ``fcntl`` lock makes concurrent processes wait
for the one training instead of repeating it. Files are read back with
``torch.load(weights_only=True)``: plain tensors and containers, never arbitrary objects.

The folder is ``MODEL_CACHE_DIR`` when set, else ``data/models/`` in the checkout (git-ignored).
Disk trouble (a read-only folder, a full disk, a damaged file) never fails a training: the
store reports a miss or skips the write, and the model lives in memory as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = 1  # bump when the stored payload changes shape: old files then simply miss
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "models"
SUFFIX = ".pt"

log = logging.getLogger(__name__)

_identity_cache: dict[str, tuple[np.ndarray, str]] = {}
_identity_lock = threading.Lock()


def cache_dir() -> Path:
    """The store's folder: ``$MODEL_CACHE_DIR`` or ``data/models/``."""
    raw = os.environ.get("MODEL_CACHE_DIR")
    return Path(raw).expanduser() if raw else DEFAULT_DIR


def data_identity(data: Any) -> str:
    """A digest of ``data``'s source, array shapes and bytes (an ``MnistData``-like tuple).

    Computed once per loaded data set (about 0.1 s for MNIST) and kept while the same
    training-image array is in use, so a reload with the same source is digested again.
    """
    with _identity_lock:
        hit = _identity_cache.get(data.source)
        if hit is not None and hit[0] is data.train_images:
            return hit[1]
    h = hashlib.blake2b(digest_size=16)
    h.update(data.source.encode())
    for arr in (data.train_images, data.train_labels, data.test_images, data.test_labels):
        arr = np.ascontiguousarray(arr)
        h.update(f"|{arr.dtype.str}{arr.shape}|".encode())
        h.update(memoryview(arr).cast("B"))
    digest = h.hexdigest()
    with _identity_lock:
        _identity_cache[data.source] = (data.train_images, digest)
    return digest


def model_key(config: Any, data: Any) -> str:
    """The store key of a training: its settings (a dataclass) and its data's identity."""
    settings = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    raw = json.dumps([FORMAT, type(config).__name__, settings, data_identity(data)])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class ModelStore:
    """Payloads (dicts of tensors, numbers, strings and lists) on disk under string keys."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()

    def path(self, key: str) -> Path:
        """Where ``key``'s payload lives."""
        return self.root / f"{key}{SUFFIX}"

    def load(self, key: str) -> dict | None:
        """``key``'s payload, or None when absent or unreadable (a damaged file is a miss, then overwritten)."""
        try:
            blob = self.path(key).read_bytes()
        except OSError:
            return None
        try:
            payload = torch.load(io.BytesIO(blob), weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a miss
            log.warning("model cache: %s is unreadable (%s); it will be retrained", self.path(key), exc)
            return None
        return payload if isinstance(payload, dict) and payload.get("format") == FORMAT else None

    def save(self, key: str, payload: dict) -> bool:
        """Write ``payload`` atomically (temporary file, then rename); False when the disk refuses."""
        tmp = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.root)
            with os.fdopen(fd, "wb") as f:
                torch.save({**payload, "format": FORMAT}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(key))
            return True
        except OSError as exc:
            log.warning("model cache: cannot write %s (%s); the model stays in memory only", self.path(key), exc)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return False

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[bool]:
        """Hold ``key``'s exclusive lock across processes; yields False (no lock) when the folder is unusable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / f".{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            log.warning("model cache: no lock in %s (%s)", self.root, exc)
            yield False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield True
        finally:
            os.close(fd)  # closing releases the flock


def shared_array(name: str, make: Any, root: Path | str | None = None) -> np.ndarray:
    """A float32 array that every worker process maps from one file instead of holding its own copy.

    ``make()`` builds the array the first time; it is written atomically as ``<name>.f32``
    (a small header of shape, then the raw values) and memory-mapped copy-on-write, so the page
    cache holds it once however many workers read it (the normalised MNIST is 220 MB a copy).
    Where the folder cannot be written, the array built in memory is returned.
    """
    folder = Path(root) if root is not None else cache_dir()
    path = folder / f"{name}.f32"
    for attempt in range(2):
        try:
            with open(path, "rb") as f:
                ndim = int(np.frombuffer(f.read(8), dtype="<i8")[0])
                shape = tuple(int(v) for v in np.frombuffer(f.read(8 * ndim), dtype="<i8"))
            return np.memmap(path, dtype="<f4", mode="c", offset=8 * (1 + ndim), shape=shape)
        except (OSError, ValueError, IndexError):
            if attempt:
                break
        array = np.ascontiguousarray(make(), dtype="<f4")
        tmp = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(np.asarray([array.ndim, *array.shape], dtype="<i8").tobytes())
                f.write(memoryview(array).cast("B"))
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("model cache: cannot write %s (%s); the array stays in this process only", path, exc)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return array
    return array
