"""Shared test helpers: paths to ../shared, and an AppTest of the whole multipage app."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from streamlit.testing.v1 import AppTest

from app import streamlit_compat

# Each test session trains into its own on-disk model store (lessons.modelstore), so no test
# finds a model that an earlier run, or the developer's server, left in data/models/.
os.environ["MODEL_CACHE_DIR"] = tempfile.mkdtemp(prefix="test-model-cache-")

# CI runs the same examples every time, so a green main stays green; locally hypothesis explores.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

streamlit_compat.start_every_run_in_app_navigation()  # the fresh-server first request: tests/e2e

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
APP = str(ROOT / "streamlit_app.py")


def open_page(path: str, *, lang: str = "zh", query: dict | None = None, timeout: float = 60) -> AppTest:
    """Run the app, switch to ``path`` (e.g. ``pages/descent.py``) and run it; return the AppTest."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params["lang"] = lang
    at.run()
    if path != "pages/home.py":
        for key, val in (query or {}).items():
            at.query_params[key] = val
        at.switch_page(path).run()
    return at


def shared_file(*parts: str) -> Path:
    """A file under ../shared, or skip the test (with the reason) where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the course's shared data is not beside this checkout")
    return path


def mnist_dir() -> Path:
    """The real MNIST folder from $MNIST_DIR, or skip the test with the reason."""
    raw = os.environ.get("MNIST_DIR")
    if not raw or not Path(raw, "train-images-idx3-ubyte.gz").exists() and not Path(raw, "train-images-idx3-ubyte").exists():
        pytest.skip(f"real MNIST not found (MNIST_DIR={raw!r}); set MNIST_DIR=../shared/data/mnist")
    return Path(raw)


def tiny_data(source: str, n: int = 64, seed: int = 0):
    """Random MNIST-shaped data (a ``lessons.mnist.MnistData``), small enough that training is instant."""
    import numpy as np

    from lessons import mnist

    rng = np.random.default_rng(seed)
    return mnist.MnistData(
        rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n).astype(np.int64),
        rng.integers(0, 256, (16, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 16).astype(np.int64),
        source=source,
    )
