"""What the real-handwriting benchmarks share: MNIST and the development set loaded (or the reason
to skip), and the draw page's default network as the class server gets it.

``bench_handwriting`` and ``bench_numbers`` both read the development set
(``../shared/data/handwriting``, evaluation only) with the network behind ``mlp.DRAW_DEFAULT``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lessons import handwriting, mlp, mnist


@dataclass(frozen=True)
class Setup:
    """Real MNIST and the development set, both loaded."""

    data: mnist.MnistData
    dev: handwriting.HandwritingSet


def verdict(ok: bool) -> str:
    """'ok' or 'FAIL' for a report line."""
    return "ok" if ok else "FAIL"


def load() -> Setup | str:
    """MNIST ($MNIST_DIR) and the development set, or the line saying why the benchmark is skipped."""
    data = mnist.load_mnist()
    if data.is_fallback:
        return f"skipped: real MNIST not available ({data.problem}); set MNIST_DIR=../shared/data/mnist"
    try:
        dev = handwriting.load_handwriting()
    except handwriting.HandwritingError as exc:
        return f"skipped: {exc}"
    return Setup(data, dev)


def shared_model(name: str, data: mnist.MnistData) -> tuple[mlp.TrainedModel, float]:
    """Preset ``name`` as every worker gets it (``classroom.models.train_cached``: trained once, kept in
    the model store), and the seconds it took to be ready (short when it was kept already)."""
    from classroom import models

    start = time.perf_counter()
    trained = models.train_cached(mlp.preset_for(name, data), data)
    return trained, time.perf_counter() - start
