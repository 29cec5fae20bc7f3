"""Training uses the cores it has: a lone training against a plain PyTorch loop, and two at once.

1. One course epoch (784-256-64-10, SGD lr 0.01 momentum 0.9, batches of 512, MSE) through
   ``mlp.train`` against the plain loop with PyTorch's default threads, alternating, best of
   ``ROUNDS``, measured in the same run. Goal: ratio <= 1.25.
2. Two course epochs at once (two threads in one server process; then two worker processes, as
   under ``make class``), each in a training slot as the app trains them (``classroom.slots``),
   against the same two one after the other. Goal: at once <= one after the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import torch

from benchmarks.live import ROOT
from classroom import models
from classroom.slots import SLOTS
from lessons import mlp, mnist

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DEFAULT_THREADS = torch.get_num_threads()  # before any policy: PyTorch's own default


def plain_epoch(x: torch.Tensor, y: torch.Tensor, seed: int) -> float:
    """The course's loop, written plainly, on PyTorch's default threads; its wall time."""
    torch.set_num_threads(DEFAULT_THREADS)
    torch.manual_seed(seed)
    model = mlp.MLP(seed=seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=gen)
    for i in range(0, len(x), 512):
        idx = order[i : i + 512]
        loss = mlp.objective(model(x[idx]), y[idx], "mse")
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def ours_epoch(data: mnist.MnistData, seed: int) -> float:
    start = time.perf_counter()
    mlp.train(mlp.MLP(seed=seed), data, epochs=1, seed=seed, slots=SLOTS)
    return time.perf_counter() - start


def two_threads(data: mnist.MnistData) -> float:
    threads = [threading.Thread(target=ours_epoch, args=(data, s)) for s in (1, 2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


WORKER = """
import json, sys, time
from pathlib import Path
from classroom import models
from classroom.slots import SLOTS
from lessons import mlp, mnist
data = models.share_tensors(mnist.load_mnist())
go = Path(sys.argv[1])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
start = time.time(); mlp.train(mlp.MLP(seed=int(sys.argv[2])), data, epochs=1, seed=int(sys.argv[2]), slots=SLOTS)
print(json.dumps([start, time.time()]), flush=True)
"""


def two_processes(tmp: str, together: bool) -> float:
    """Two worker processes each train one epoch, at once or one after the other; the wall time of both."""
    spans = []
    batches = [(1, 2)] if together else [(1,), (2,)]
    for batch in batches:
        go = os.path.join(tmp, f"go-{time.monotonic_ns()}")
        procs = [
            subprocess.Popen([sys.executable, "-c", WORKER, go, str(s)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
            for s in batch
        ]  # fmt: skip
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        open(go, "w").close()
        spans += [json.loads(p.communicate(timeout=600)[0]) for p in procs]
    if together:
        return max(e for _, e in spans) - min(s for s, _ in spans)
    return sum(e - s for s, e in spans)


def main() -> list[str]:
    data = mnist.load_mnist()
    if data.is_fallback:
        return [f"skipped: real MNIST not available ({data.problem}); set MNIST_DIR=../shared/data/mnist"]
    x, y, _, _ = mlp._tensors(models.share_tensors(data))
    plain_epoch(x, y, 0)
    ours_epoch(data, 0)  # warm-ups
    plain, ours = [], []
    for r in range(ROUNDS):
        plain.append(plain_epoch(x, y, r))
        ours.append(ours_epoch(data, r))
    ratio = min(ours) / min(plain)
    lines = [
        f"{mlp.CORES} cores; PyTorch's default threads {DEFAULT_THREADS}; a lone training's threads {mlp.TORCH_THREADS}",
        f"one course epoch: train {min(ours):.2f} s vs plain loop {min(plain):.2f} s: ratio {ratio:.2f} "
        f"(<= 1.25: {'ok' if ratio <= 1.25 else 'FAIL'})",
    ]
    seq = min(ours_epoch(data, 1) + ours_epoch(data, 2) for _ in range(ROUNDS))
    par = min(two_threads(data) for _ in range(ROUNDS))
    lines.append(
        f"two epochs in one process: at once {par:.2f} s vs one after the other {seq:.2f} s "
        f"({'ok' if par <= seq * 1.05 else 'FAIL'}, 5 % noise allowed)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        seq_p = min(two_processes(tmp, together=False) for _ in range(2))
        par_p = min(two_processes(tmp, together=True) for _ in range(2))
    lines.append(
        f"two epochs in two worker processes: at once {par_p:.2f} s vs one after the other {seq_p:.2f} s "
        f"({'ok' if par_p <= seq_p * 1.05 else 'FAIL'}, 5 % noise allowed)"
    )
    return lines
