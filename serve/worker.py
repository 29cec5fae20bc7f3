"""One Streamlit worker with its heavy imports frozen out of the garbage collector's sight.

    python -m serve.worker <streamlit run arguments, e.g. streamlit_app.py --server.port 8502>

Streamlit's ``runner.postScriptGC`` (kept on: it keeps memory flat) runs a full ``gc.collect()``
after every script run. Over the heap that torch, pandas and altair fill at import, that took
170-190 ms of every rerun. ``gc.freeze()`` after those imports moves their objects to a permanent
generation the collector skips, so the same collection takes about 10 ms (figures in
the README's benchmarks). Import-time objects are never garbage, so nothing is kept that would have been
freed. ``streamlit_app.py`` freezes too (``app.heap.freeze_once``), so a plain ``streamlit run`` gets
the same at its first run; after a freeze here, that one is skipped.
"""

from __future__ import annotations

import gc
import importlib
import os
import pkgutil
import sys
import threading

import altair  # noqa: F401 - imported for its heap, frozen below
import numpy  # noqa: F401
import pandas  # noqa: F401
import torch
from streamlit.web import cli

import lessons
from app import heap


def touch_lazy_imports() -> None:
    """Run what imports more of torch on first use, so that it is frozen too.

    Making the first optimizer imports torch._dynamo, sympy and triton (870 modules, 134,000
    objects); a later post-run collection walked them all: 60-80 ms of every rerun, on every page,
    once any student had trained a network.
    """
    from lessons import mlp

    model = mlp.MLP((8,), "relu", None, conv=(2,))
    for name in mlp.OPTIMIZERS:
        optimizer = mlp.make_optimizer(name, model.parameters(), 0.01, 0.9)
        mlp.objective(model(torch.zeros(2, 784)), torch.zeros(2, dtype=torch.long), "cross_entropy").backward()
        optimizer.step()
    mlp.model_from_bytes(mlp.model_to_bytes(model))


def freeze_imports() -> int:
    """Import every lesson module (and so their libraries), run torch's lazy imports, collect once,
    then freeze; the frozen count."""
    for module in pkgutil.iter_modules(lessons.__path__):
        try:
            importlib.import_module(f"lessons.{module.name}")
        except Exception as exc:  # noqa: BLE001 - freezing is an optimisation; the app reports its own import errors
            print(f"serve.worker: lessons.{module.name} not preloaded ({exc})", file=sys.stderr)
    try:
        touch_lazy_imports()
    except Exception as exc:  # noqa: BLE001 - as above
        print(f"serve.worker: torch's lazy imports not preloaded ({exc})", file=sys.stderr)
    heap.freeze_once()
    return gc.get_freeze_count()


def warm_draw_model() -> threading.Thread:
    """Train (or load from the shared disk store) the draw page's default network in the background,
    so the first student on the draw page is not the one who waits for it (``WARM_MODELS=1``)."""

    def warm() -> None:
        from lessons import mlp, mnist

        try:
            data = mnist.load_mnist()
            mlp.train_cached(mlp.preset_for(mlp.DRAW_DEFAULT, data), data)
        except Exception as exc:  # noqa: BLE001 - warming is a courtesy; the page trains on demand
            print(f"serve.worker: the draw model was not warmed ({exc})", file=sys.stderr)

    thread = threading.Thread(target=warm, name="warm-draw-model", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    freeze_imports()
    if os.environ.get("WARM_MODELS") == "1":
        warm_draw_model()
    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    sys.exit(cli.main())
