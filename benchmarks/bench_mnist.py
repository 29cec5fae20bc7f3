"""MNIST speed and accuracy (issue 6), all measured in the same run on the real data from $MNIST_DIR.

1. One epoch of the course recipe through ``lessons.mlp.train`` against a plain PyTorch loop over
   the same in-memory tensors doing the same maths: at most 1.25× (best of several alternating runs).
2. The course recipe, 3 epochs: test accuracy at least 0.87 (the course reports about 0.886).
3. ``BEST_PRESET``: test accuracy at least 0.98, trained in at most 10× one course epoch.

Times are wall-clock and, beside them, process CPU time: training runs on one torch thread
(``lessons.mlp`` thread policy), so CPU time is the work done, unaffected by the other jobs
that share this machine. Verdicts use CPU time (wall time is printed beside it) and, for the
course epoch, the best of the alternating runs.
4. For scale, the course's own ``DataLoader`` + ``ToTensor``/``Normalize`` pipeline, timed over a
   few batches from a temporary decompressed copy of the files (outside the repository) and
   extrapolated to an epoch.
"""

from __future__ import annotations

import gzip
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from classroom.slots import MAX_CONCURRENT_TRAININGS
from lessons import mlp, mnist

COURSE = mlp.COURSE_RECIPE  # lesson 5c's defaults (lessons.recipes.SETTINGS): the recipe both loops run
ROUNDS = 3  # alternating timed epochs of each kind
DATALOADER_BATCHES = 12


def plain_epoch(x: torch.Tensor, y: torch.Tensor, seed: int) -> torch.nn.Module:
    """The reference: one course-recipe epoch written as the plainest PyTorch loop over in-memory tensors."""
    model = mlp.MLP()
    opt = torch.optim.SGD(model.parameters(), lr=COURSE.lr, momentum=COURSE.momentum)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    for start in range(0, len(x), COURSE.batch_size):
        idx = order[start : start + COURSE.batch_size]
        loss = F.mse_loss(model(x[idx]), F.one_hot(y[idx], 10).float())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def timed(fn, *args, **kwargs) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds taken by fn(*args, **kwargs), and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def dataloader_epoch_seconds(folder: Path) -> float | None:
    """The course's DataLoader pipeline: seconds per epoch, extrapolated from ``DATALOADER_BATCHES`` batches."""
    from torchvision import datasets, transforms

    with tempfile.TemporaryDirectory(prefix="bench-mnist-") as tmp:
        raw = Path(tmp, "MNIST", "raw")
        raw.mkdir(parents=True)
        for name in mnist.FILES.values():
            src = mnist.find_file(folder, name)
            if src is None:
                return None
            opener = gzip.open if src.suffix == ".gz" else open
            with opener(src, "rb") as fin, open(raw / name, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((mlp.MEAN,), (mlp.STD,))])
        dataset = datasets.MNIST(tmp, train=True, download=False, transform=transform)
        loader = torch.utils.data.DataLoader(dataset, batch_size=COURSE.batch_size, shuffle=True)
        model = mlp.MLP()
        opt = torch.optim.SGD(model.parameters(), lr=COURSE.lr, momentum=COURSE.momentum)
        start = time.perf_counter()
        for i, (x, y) in enumerate(loader):
            loss = F.mse_loss(model(x.view(x.size(0), 784)), F.one_hot(y, 10).float())
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i + 1 == DATALOADER_BATCHES:
                break
        per_batch = (time.perf_counter() - start) / DATALOADER_BATCHES
        return per_batch * len(loader)


def verdict(ok: bool) -> str:
    """'ok' or 'FAIL' for a report line."""
    return "ok" if ok else "FAIL"


def main() -> list[str]:
    """Run the four measurements and return the report lines."""
    data = mnist.load_mnist()
    if data.is_fallback:
        return [f"skipped: real MNIST not available ({data.problem}); set MNIST_DIR=../shared/data/mnist"]
    mlp.set_torch_threads()
    x, y, _, _ = mlp._tensors(data)
    lines = [
        (f"data: {data.source}; torch threads per training: {torch.get_num_threads()}, "
         f"concurrent trainings: {MAX_CONCURRENT_TRAININGS}"),
    ]

    # 1. speed against the plain loop (a warm-up epoch of each first)
    plain_epoch(x, y, 0)
    mlp.train(mlp.MLP(), data, epochs=1)
    ours, plain, ours_cpu, plain_cpu = [], [], [], []
    for round_ in range(ROUNDS):
        wall, cpu, reference = timed(plain_epoch, x, y, round_)
        plain.append(wall)
        plain_cpu.append(cpu)
        model = mlp.MLP()
        wall, cpu, _ = timed(mlp.train, model, data, epochs=1, seed=round_)
        ours.append(wall)
        ours_cpu.append(cpu)
    same = all(torch.equal(p, q) for p, q in zip(model.parameters(), reference.parameters()))
    course_epoch, course_epoch_cpu = min(ours), min(ours_cpu)
    ratio, ratio_cpu = course_epoch / min(plain), course_epoch_cpu / min(plain_cpu)
    lines.append(
        f"course epoch: train {course_epoch:.2f} s (median {statistics.median(ours):.2f}, CPU {course_epoch_cpu:.2f}) "
        f"vs plain loop {min(plain):.2f} s (median {statistics.median(plain):.2f}, CPU {min(plain_cpu):.2f}): "
        f"ratio {ratio:.2f}, CPU {ratio_cpu:.2f} (<= 1.25: {verdict(ratio_cpu <= 1.25)}); "
        f"identical weights: {same}"
    )

    # 2. the course recipe, 3 epochs
    wall, cpu, course = timed(mlp.train_config, mlp.COURSE_RECIPE, data)
    lines.append(
        f"course recipe 3 epochs: test accuracy {course.accuracy:.4f} (>= 0.87: {verdict(course.accuracy >= 0.87)}), "
        f"{wall:.2f} s (CPU {cpu:.2f})"
    )

    # 3. the best preset
    wall, cpu, best = timed(mlp.train_config, mlp.BEST_PRESET, data)
    times, times_cpu = wall / course_epoch, cpu / course_epoch_cpu
    lines.append(f"best preset: {mlp.BEST_PRESET}")
    lines.append(
        f"best preset: test accuracy {best.accuracy:.4f} (>= 0.98: {verdict(best.accuracy >= 0.98)}), "
        f"{wall:.2f} s = {times:.1f}x one course epoch; CPU {cpu:.2f} s = {times_cpu:.1f}x "
        f"(<= 10: {verdict(times_cpu <= 10)})"
    )

    # 4. the course's DataLoader pipeline, for scale
    folder = Path(data.source.removeprefix("mnist:"))
    loader_epoch = dataloader_epoch_seconds(folder)
    if loader_epoch is not None:
        lines.append(
            f"course DataLoader + ToTensor pipeline: about {loader_epoch:.1f} s per epoch "
            f"(extrapolated from {DATALOADER_BATCHES} batches) = {loader_epoch / course_epoch:.0f}x in-memory batches"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(main()))
