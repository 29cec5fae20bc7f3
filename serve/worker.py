"""One Streamlit worker with its heavy imports frozen out of the garbage collector's sight.

    python -m serve.worker <streamlit run arguments, e.g. streamlit_app.py --server.port 8502>

Streamlit's ``runner.postScriptGC`` (kept on: it keeps memory flat) runs a full ``gc.collect()``
after every script run. Over the heap that torch, pandas and altair fill at import, that took
170-190 ms of every rerun. ``gc.freeze()`` after those imports moves their objects to a permanent
generation the collector skips, so the same collection takes about 10 ms (figures in
the README's benchmarks). Import-time objects are never garbage, so nothing is kept that would have been
freed. ``streamlit_app.py`` freezes too (``app.heap.freeze_once``), so a plain ``streamlit run`` gets
the same at its first run; after a freeze here, that one is skipped.

Frozen, one collection is cheap for one student, but it still walks everything the worker's sessions
hold: with a class on the worker, collecting after every run took 75 % of its busy time (py-spy) and
serialised the students (the GIL is held throughout). ``prepare`` therefore also bounds those
collections to a tenth of the worker's time (``app.streamlit_compat.budget_post_run_collection``) and
lets at most ``SCRIPT_SLOTS`` (default 2; 0: no limit) script runs go at once, the others in order of
arrival (``app.streamlit_compat.take_turns``).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import pkgutil
import sys
import threading

import altair  # noqa: F401 - imported for its heap, frozen below
import numpy  # noqa: F401
import pandas  # noqa: F401
import torch
from streamlit.web import cli

import classroom
import lessons
from app import heap
from app.streamlit_compat import budget_post_run_collection, take_turns

# Imported after a freeze, a module's objects stay in the collector's sight: every post-run collection
# walks them. These are what Streamlit's web server (started after the freeze) and the pages' first
# runs import; preloaded, the objects a collection walks after a class's first visits fell from
# 25,000 to 15,000 and its time from 10 to 5 ms a run (figures: README, "Serving a class").
LATER_IMPORTS = (
    "streamlit.web.bootstrap", "streamlit.web.server.starlette.starlette_app",
    "streamlit.web.server.starlette.starlette_agent_routes", "streamlit.web.server.app_discovery",
    "streamlit.runtime.agent.mcp", "streamlit.dataframe.lazy_df_adapters", "streamlit.emojis",
    "streamlit.watcher.polling_path_watcher",
    "uvicorn.main", "uvicorn.protocols.http.auto", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl", "uvicorn.lifespan.on", "uvicorn.loops.asyncio",
    "anyio._backends._asyncio", "anyio._core._fileio", "starlette.applications", "starlette.routing",
    "starlette.staticfiles", "starlette.websockets", "starlette.middleware.sessions", "starlette.middleware.errors",
    "starlette.middleware.exceptions", "starlette.middleware.body_limit", "itsdangerous", "requests",
    "narwhals.stable.v1", "narwhals._pandas_like.dataframe", "narwhals._interchange.dataframe",
    "pyarrow.pandas_compat", "sqlite3", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql",
    "PIL.PngImagePlugin", "PIL.JpegImagePlugin",
    # lessons.imaging decodes photos with it (the handwriting and draw pages): imported there after
    # the freeze, its 15,000 objects tripled the cost of every later collection (5 to 15 ms)
    "torchvision.io",
)  # fmt: skip


def preload_later_imports() -> None:
    """Import the app's UI package and what the server and the pages would import later (a name
    another Streamlit release lacks is skipped)."""
    import app

    # Its st.cache_data decorators warn that no runtime exists yet; their caches are made at the
    # first call, under the server's runtime, so the warning does not apply.
    cache_log = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = cache_log.level
    cache_log.setLevel(logging.ERROR)
    try:
        for module in pkgutil.iter_modules(app.__path__):
            importlib.import_module(f"app.{module.name}")
    finally:
        cache_log.setLevel(level)
    for name in LATER_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def touch_lazy_imports() -> None:
    """Run what imports more of torch on first use, so that it is frozen too.

    Making the first optimizer imports torch._dynamo, sympy and triton (870 modules, 134,000
    objects); a later post-run collection walked them all: 60-80 ms of every rerun, on every page,
    once any student had trained a network. triton is left out: it compiles GPU kernels for
    ``torch.compile``, which a CPU classroom server never runs, and its native library alone kept
    about 95 MB resident; ``freeze_imports`` marks it absent first, and torch treats it as not installed.
    """
    from lessons import mlp

    model = mlp.MLP((8,), "relu", None, conv=(2,))
    for name in mlp.OPTIMIZERS:
        optimizer = mlp.make_optimizer(name, model.parameters(), 0.01, 0.9)
        mlp.objective(model(torch.zeros(2, 784)), torch.zeros(2, dtype=torch.long), "cross_entropy").backward()
        optimizer.step()
    mlp.model_from_bytes(mlp.model_to_bytes(model))


def freeze_imports() -> int:
    """Import every lesson and classroom module (and so their libraries), the UI and the web server's
    modules, run torch's lazy imports, collect once, then freeze; the frozen count."""
    sys.modules.setdefault("triton", None)  # before anything imports torch._dynamo: why in touch_lazy_imports
    for package in (lessons, classroom):
        for module in pkgutil.iter_modules(package.__path__):
            name = f"{package.__name__}.{module.name}"
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - freezing is an optimisation; the app reports its own import errors
                print(f"serve.worker: {name} not preloaded ({exc})", file=sys.stderr)
    try:
        preload_later_imports()
    except Exception as exc:  # noqa: BLE001 - as below
        print(f"serve.worker: the server's modules not preloaded ({exc})", file=sys.stderr)
    try:
        touch_lazy_imports()
    except Exception as exc:  # noqa: BLE001 - as above
        print(f"serve.worker: torch's lazy imports not preloaded ({exc})", file=sys.stderr)
    heap.freeze_once()
    return gc.get_freeze_count()


def prepare() -> int:
    """What every worker runs before serving: ``freeze_imports``, the post-run collection's budget and
    the script runs' turns; the frozen count."""
    frozen = freeze_imports()
    budget_post_run_collection()
    slots = int(os.environ.get("SCRIPT_SLOTS", "2"))
    if slots > 0:
        take_turns(slots)
    return frozen


def warm_draw_model() -> threading.Thread:
    """Train (or load from the shared disk store) the draw page's default network in the background,
    so the first student on the draw page is not the one who waits for it (``WARM_MODELS=1``)."""

    def warm() -> None:
        from classroom import models
        from lessons import mlp, mnist

        try:
            data = mnist.load_mnist()
            models.train_cached(mlp.preset_for(mlp.DRAW_DEFAULT, data), data)
        except Exception as exc:  # noqa: BLE001 - warming is a courtesy; the page trains on demand
            print(f"serve.worker: the draw model was not warmed ({exc})", file=sys.stderr)

    thread = threading.Thread(target=warm, name="warm-draw-model", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    prepare()
    if os.environ.get("WARM_MODELS") == "1":
        warm_draw_model()
    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    sys.exit(cli.main())
