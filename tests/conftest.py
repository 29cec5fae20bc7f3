"""Shared test helpers: paths to ../shared, an AppTest of the whole multipage app, the pages on the
offline digits with their Vega-Lite specs checked, and the hypothesis profiles (ci, deep)."""

from __future__ import annotations

import os

# Before numpy loads OpenBLAS: one BLAS thread per test process. OpenBLAS's threads spin while they
# wait, and with a process per core (xdist) on a shared machine they took 4-5 times the CPU of the
# matrix products themselves; the products and so what the tests check are the same.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import functools
import json
import tempfile
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Self

import pytest
from hypothesis import settings
from streamlit.testing.v1 import AppTest

from app import streamlit_compat
from tests.pg import postgres_url  # noqa: F401 - the session fixture, for db_url

# Each test session trains into its own on-disk model store (classroom.modelstore), so no test
# finds a model that an earlier run, or the developer's server, left in data/models/.
os.environ["MODEL_CACHE_DIR"] = tempfile.mkdtemp(prefix="test-model-cache-")
os.environ["BROWSER_WORK_DIR"] = tempfile.mkdtemp(prefix="test-browser-work-")
# Before torch loads OpenMP: its idle threads sleep instead of spinning. The small networks here wait
# at a barrier after every op, and on a shared or parallel (xdist) run the spinning took several times
# the CPU of the work itself; the number of threads, and so what the tests check, is unchanged.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# CI runs the same examples every time, so a green main stays green; locally hypothesis explores.
# HYPOTHESIS_PROFILE=deep (make test-deep) hunts for a property that holds only by luck: every
# property test runs DEEP_FACTOR times its own number of examples, from a fresh random seed.
# No profile has a deadline: a slow example on a busy machine is not a counterexample.
DEEP_FACTOR = int(os.environ.get("HYPOTHESIS_DEEP_FACTOR", "20"))
settings.register_profile("local", deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("deep", derandomize=False, deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else None)
settings.load_profile(PROFILE or "local")


def pytest_collection_modifyitems(config, items):
    """In the deep profile, multiply each property test's own ``max_examples`` (most tests set theirs)."""
    if PROFILE != "deep":
        return
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if getattr(test, "is_hypothesis_test", False) and own is not None:
            test._hypothesis_internal_use_settings = settings(
                own, max_examples=own.max_examples * DEEP_FACTOR, derandomize=False, deadline=None)


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


# ------------------------------------------------------------------ pages as a class sees them


def vega_lite_specs(at: AppTest) -> list[dict]:
    """Every Vega-Lite spec on the page: altair charts and the specs built in ``app/charts``."""
    return [json.loads(chart.proto.spec) for chart in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")]


@functools.cache
def _vega_lite_schema() -> dict:
    from altair.vegalite.v6.schema.core import load_schema

    return load_schema()


def assert_valid_vega_lite(spec: dict) -> None:
    """Raise on a spec the Vega-Lite schema refuses (the pages send their specs unchecked: altair's
    check costs most of a rerun, so it is done here instead)."""
    from altair.utils.schemapi import validate_jsonschema

    validate_jsonschema(spec, _vega_lite_schema())


RENDER_EPOCHS = 1  # the class models a render test reads are trained this long, on RENDER_IMAGES digits
RENDER_IMAGES = 512


class OneThread:
    """Training slots (see ``lessons.mlp.train``) of one thread: on a machine shared with other busy
    processes, a small network trains many times faster on one thread than on several."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def fair_share(self) -> int:
        return 1


_RENDER_MODELS: dict = {}  # trained once per test session, then lent to every module that renders pages


@pytest.fixture(scope="module")
def offline_mnist(tmp_path_factory):
    """No MNIST anywhere: the app falls back to scikit-learn's small digits. The class models a page
    trains on its first visit (each preset of ``lessons.mlp.PRESETS`` and the quick start's recipe)
    are already in the class's model cache, trained for one epoch on a few hundred digits: a render
    test checks that the page draws, not what a full training learns."""
    from app import ui
    from classroom import models
    from lessons import mlp, mnist

    empty = tmp_path_factory.mktemp("no-mnist")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNIST_DIR", str(empty))
        mp.setattr(mnist, "DEFAULT_ROOT", empty / "no-mnist-here")
        ui.mnist_data.clear()
        data = mnist.load_mnist()
        assert data.is_fallback
        if not _RENDER_MODELS:
            few = data._replace(train_images=data.train_images[:RENDER_IMAGES], train_labels=data.train_labels[:RENDER_IMAGES])
            configs = {mlp.preset_for(name, data) for name in mlp.PRESETS} | {mlp.recipe_for(data)}
            _RENDER_MODELS.update({(config, data.source): mlp.train_config(
                replace(config, epochs=RENDER_EPOCHS, augment=0.0), few, slots=OneThread()) for config in configs})
        mp.setattr(models, "_cache", OrderedDict(_RENDER_MODELS))  # the class's own cache comes back afterwards
        yield data
        ui.mnist_data.clear()


# ------------------------------------------------------------------ the class board on both databases


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh class-board database: a SQLite file, then the session's throw-away PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'class.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_board(db_url):
    """``make_board(teacher_code, **options)``: a ``ClassBoard`` on ``db_url``, closed after the test."""
    from classroom.classboard import ClassBoard

    made = []

    def make(teacher_code: str, **options):
        made.append(ClassBoard(db_url, teacher_code=teacher_code, **options))
        return made[-1]

    yield make
    for board in made:
        board.close()
