"""Fine-tuning: a network trained on MNIST learns a class's own handwriting from a few hundred of its drawings.

The course's last line says real handwriting is harder than MNIST. Augmentation (``lessons.augment``)
makes MNIST look more varied; fine-tuning goes further: it carries on training a copy of the trained
network on the class's own labelled drawings, gently, so it learns their style without forgetting
MNIST. Gently means a small learning rate, a few dozen short passes, every drawing distorted afresh each
pass, and every batch mostly MNIST ("rehearsal") whose scores are held close to the ones the network gave
before (distillation), so the old skill is kept while the new one is learnt.

Whether it helps is measured honestly, on drawings the fine-tune did not see: the class is split into
folds by student (``folds_by_student``), each fold is read by a network fine-tuned on the others
(``out_of_fold``), so no student's own digits are ever both trained on and tested. Fewer than
``MIN_PER_DIGIT`` drawings of some digit is refused (``FinetuneError("too_few")``): so little would
teach the network more noise than handwriting.

Works on any ``lessons.mlp`` network (it reads only ``parameters()``, ``forward`` and ``loss``).
numpy and torch only; no files, no locks.
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from lessons import augment, mlp

MIN_PER_DIGIT = 5  # fewer drawings of a digit than this: refused, not fine-tuned
FOLDS = 5  # out-of-fold splits: each fifth of the class read by a network that never saw it
EPOCHS = 30  # passes over the class's drawings (a class of 250 is 8 batches a pass)
BATCH = 32  # class drawings per batch ...
REHEARSE = 3  # ... and this many times as many MNIST training digits beside them
LR = 1e-3  # Adam's step: a fifth of the best recipe's peak, so the network is nudged, not retrained
DISTILL = 1.0  # weight of keeping the MNIST digits' scores as they were (learning without forgetting)
AUGMENT = 1.0  # every class drawing distorted afresh each pass (lessons.augment's full strength)
MAX_STEPS = 400  # one fine-tune takes at most this many batches, however large the class


class FinetuneError(ValueError):
    """Why a class's drawings cannot be fine-tuned on: ``code`` keys the message, ``fields`` fill it."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code, self.fields = code, fields


def per_digit(labels: Any) -> np.ndarray:
    """How many drawings of each digit 0..9 (10 ints)."""
    return np.bincount(np.asarray(labels, dtype=np.int64).reshape(-1), minlength=10)[:10]


def check_enough(labels: Any, least: int = MIN_PER_DIGIT) -> None:
    """Raise ``FinetuneError("too_few")`` unless every digit has at least ``least`` drawings.

    Claim of "finetune.err.too_few": some digit has fewer than ``least`` drawings; ``digits`` lists
    every such digit and ``fewest`` is the smallest count among them."""
    counts = per_digit(labels)
    short = [d for d in range(10) if counts[d] < least]
    if short:
        raise FinetuneError("too_few", f"digits {short} have fewer than {least} drawings",
                            digits=", ".join(map(str, short)), fewest=int(counts[short].min()), least=least)


def by_student(writers: Any, k: int = FOLDS) -> bool:
    """True when there are at least ``k`` students, so each fold can hold whole students out.

    True chooses "finetune.how_measured_students", which claims: ``folds_by_student`` puts all of each
    student's drawings in one fold. False chooses "finetune.how_measured_drawings", which claims: fewer
    than ``k`` students, the drawings dealt into folds digit by digit."""
    return len(set(np.asarray(writers, dtype=object).tolist())) >= k


def folds_by_student(writers: Any, k: int = FOLDS, labels: Any = None, seed: int = 0) -> np.ndarray:
    """Each drawing's fold 0..k-1: whole students per fold (balanced by size) where there are at least ``k``
    students, else drawings dealt round-robin within each digit (stratified by ``labels``)."""
    names = np.asarray(writers, dtype=object)
    n = len(names)
    rng = np.random.default_rng(seed)
    folds = np.zeros(n, dtype=np.int64)
    if by_student(names, k):
        students, counts = np.unique(names.astype(str), return_counts=True)
        order = rng.permutation(len(students))  # ties broken at random, sizes first
        order = order[np.argsort(-counts[order], kind="stable")]
        sizes = np.zeros(k, dtype=np.int64)
        fold_of = {}
        for s in order:
            f = int(np.argmin(sizes))
            fold_of[students[s]] = f
            sizes[f] += counts[s]
        return np.array([fold_of[str(w)] for w in names], dtype=np.int64)
    strata = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    start = 0
    for digit in np.unique(strata):
        idx = rng.permutation(np.flatnonzero(strata == digit))
        folds[idx] = (start + np.arange(len(idx))) % k
        start += len(idx)  # the next digit carries on where this one stopped, so folds stay even
    return folds


def verdict(before: float, after: float) -> str:
    """"better" or "not_better": how the fine-tuned networks read the class's unseen drawings.

    "better" chooses "finetune.verdict_better", which claims: out of fold, more of the class's drawings
    were read right after fine-tuning than before. "not_better" chooses "finetune.verdict_not_better",
    which claims: no more were read right after than before."""
    return "better" if after > before else "not_better"


def drawings_digest(images: Any, labels: Any) -> str:
    """A digest of the drawings (28×28 each) and their labels, in order: the same drawings give the same text."""
    h = hashlib.blake2b(digest_size=16)
    pixels = np.ascontiguousarray(np.asarray(images, dtype=np.uint8) if np.asarray(images).dtype == np.uint8
                                  else np.round(np.clip(np.asarray(images, dtype=np.float32), 0, 1) * 255).astype(np.uint8))
    h.update(f"{pixels.shape}".encode())
    h.update(pixels.tobytes())
    h.update(np.ascontiguousarray(np.asarray(labels, dtype=np.int64)).tobytes())
    return h.hexdigest()


def as_floats(images: Any) -> np.ndarray:
    """Drawings as float32 (n, 28, 28) in [0, 1], ink high (uint8 0..255 is divided by 255)."""
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32).reshape(-1, 28, 28) / 255.0
    return np.clip(arr.astype(np.float32), 0.0, 1.0).reshape(-1, 28, 28)


def accuracy(model: mlp.MLP, images: Any, labels: Any) -> float:
    """The share of ``images`` whose most probable digit is its label."""
    labels = np.asarray(labels, dtype=np.int64)
    if not len(labels):
        return float("nan")
    return float((mlp.predict_proba(model, as_floats(images)).argmax(axis=1) == labels).mean())


@dataclass
class FineTuned:
    """A fine-tuned copy of a network, with its loss per batch and whether Stop ended it early."""

    model: mlp.MLP
    history: pd.DataFrame
    stopped: bool
    seconds: float


def fine_tune(
    model: mlp.MLP, images: Any, labels: Any, *, rehearsal: Any = None, epochs: int = EPOCHS, lr: float = LR,
    batch_size: int = BATCH, rehearse: int = REHEARSE, strength: float = AUGMENT, distill: float = DISTILL, seed: int = 0,
    on_progress: Callable[[float], None] | None = None, should_stop: Callable[[], bool] | None = None,
) -> FineTuned:
    """A copy of ``model`` trained on ``images`` / ``labels`` (augmented) with Adam at ``lr``, each batch beside
    ``rehearse`` times as many MNIST training digits from ``rehearsal`` (an ``MnistData``; None: none), whose
    scores are also pulled towards ``model``'s own by ``distill`` times their mean squared difference."""
    tuned = copy.deepcopy(model)
    model.eval()
    pictures = torch.from_numpy(as_floats(images))
    targets = torch.tensor(np.asarray(labels, dtype=np.int64))  # a copy: the board's arrays may be read-only
    n = len(targets)
    if n == 0 or len(pictures) != n:
        raise ValueError(f"fine_tune needs one label per drawing and at least one drawing, not {len(pictures)} and {n}")
    gen = torch.Generator().manual_seed(int(seed))
    rng = np.random.default_rng(seed)
    steps_per_epoch = max(1, -(-n // batch_size))
    total = max(1, min(epochs * steps_per_epoch, MAX_STEPS))
    opt = torch.optim.Adam(tuned.parameters(), lr=lr)
    losses: list[float] = []
    stopped = False
    start = time.perf_counter()
    tuned.train()
    while len(losses) < total and not stopped:
        order = torch.randperm(n, generator=gen)
        for first in range(0, n, batch_size):
            if len(losses) >= total:
                break
            if should_stop is not None and should_stop():
                stopped = True
                break
            idx = order[first:first + batch_size]
            x = augment.augment_batch(pictures[idx], gen, strength) if strength > 0 else pictures[idx]
            x, y = mlp.normalise(x.numpy()), targets[idx]
            if rehearsal is not None and rehearse > 0:
                pick = rng.integers(0, len(rehearsal.train_labels), size=rehearse * len(idx))
                x = torch.cat([x, mlp.normalise(rehearsal.train_images[pick].astype(np.float32) / 255.0)])
                y = torch.cat([y, torch.as_tensor(rehearsal.train_labels[pick].astype(np.int64))])
            scores = tuned(x)
            loss = mlp.objective(scores, y, tuned.loss)
            if distill > 0 and len(x) > len(idx):  # the MNIST digits keep the scores the network gave them before
                with torch.no_grad():
                    kept = model(x[len(idx):])
                loss = loss + distill * torch.nn.functional.mse_loss(scores[len(idx):], kept)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
            if not math.isfinite(losses[-1]):
                raise FinetuneError("diverged", f"the loss was {losses[-1]} at step {len(losses)}", step=len(losses))
            if on_progress is not None:
                on_progress(len(losses) / total)
    tuned.eval()
    history = pd.DataFrame({"step": np.arange(1, len(losses) + 1), "loss": losses})
    return FineTuned(tuned, history, stopped, time.perf_counter() - start)


@dataclass
class OutOfFold:
    """Every drawing read before (the network as it was) and after (fine-tuned on the other folds only)."""

    labels: np.ndarray
    before: np.ndarray  # each drawing's digit as the untouched network reads it
    after: np.ndarray  # ... as the network fine-tuned without its fold reads it
    stopped: bool = False

    @property
    def accuracy_before(self) -> float:
        """The untouched network's accuracy on the class's drawings."""
        return float((self.before == self.labels).mean())

    @property
    def accuracy_after(self) -> float:
        """The fine-tuned networks' accuracy, each drawing read by one that never saw it."""
        return float((self.after == self.labels).mean())

    def per_digit(self) -> pd.DataFrame:
        """Accuracy before and after for each digit: digit, drawings, before, after."""
        rows = [{"digit": d, "drawings": int((self.labels == d).sum()),
                 "before": float((self.before[self.labels == d] == d).mean()),
                 "after": float((self.after[self.labels == d] == d).mean())} for d in range(10) if (self.labels == d).any()]
        return pd.DataFrame(rows, columns=["digit", "drawings", "before", "after"])


def _read(model: mlp.MLP, images: np.ndarray) -> np.ndarray:
    """Each image's most probable digit."""
    return mlp.predict_proba(model, images).argmax(axis=1) if len(images) else np.zeros(0, dtype=np.int64)


def out_of_fold(model: mlp.MLP, images: Any, labels: Any, folds: Any, *,
                on_progress: Callable[[float], None] | None = None, should_stop: Callable[[], bool] | None = None,
                **tune: Any) -> OutOfFold:
    """Each fold read by a copy of ``model`` fine-tuned on the other folds (``tune``: ``fine_tune``'s options),
    and by ``model`` itself; ``stopped`` once ``should_stop`` ended it (the folds left keep the untouched reading)."""
    pictures, labels, folds = as_floats(images), np.asarray(labels, dtype=np.int64), np.asarray(folds, dtype=np.int64)
    before = _read(model, pictures)
    after = before.copy()
    ids = list(np.unique(folds))
    seed = int(tune.pop("seed", 0))
    for i, f in enumerate(ids):
        held = folds == f
        if not (~held).any():
            continue
        part = (lambda x, i=i: on_progress((i + x) / len(ids))) if on_progress is not None else None
        tuned = fine_tune(model, pictures[~held], labels[~held], on_progress=part, should_stop=should_stop,
                          seed=seed + i, **tune)
        if tuned.stopped:
            return OutOfFold(labels, before, after, stopped=True)
        after[held] = _read(tuned.model, pictures[held])
    return OutOfFold(labels, before, after)


@dataclass
class ClassLesson:
    """What fine-tuning on a class's drawings gave: the network, its out-of-fold figures, MNIST before and after."""

    tuned: FineTuned | None
    folds: OutOfFold
    by_student: bool
    k: int
    mnist_before: float
    mnist_after: float
    drawings: int
    students: int
    digest: str
    seconds: float
    stopped: bool = False
    per_digit: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def mnist_drop(self) -> float:
        """How far MNIST test accuracy fell (negative: it rose)."""
        return self.mnist_before - self.mnist_after


def learn_class(model: mlp.MLP, images: Any, labels: Any, writers: Any, data: Any, *, k: int = FOLDS, seed: int = 0,
                on_progress: Callable[[float, str], None] | None = None, should_stop: Callable[[], bool] | None = None,
                **tune: Any) -> ClassLesson:
    """The whole lesson: refuse too few drawings, measure out of fold (by student where there are ``k``), then
    fine-tune on every drawing and read MNIST's test set (``data``: an ``MnistData``, also the rehearsal)."""
    start = time.perf_counter()
    labels = np.asarray(labels, dtype=np.int64)
    check_enough(labels)
    pictures = as_floats(images)
    folds = folds_by_student(writers, k, labels, seed)
    parts = k + 1  # k fold fine-tunes, then the one on everything

    def report(stage: str, offset: int) -> Callable[[float], None] | None:
        return None if on_progress is None else (lambda x: on_progress((offset + x) / parts, stage))

    folds_done = None if on_progress is None else (lambda x: on_progress(x * k / parts, "folds"))
    oof = out_of_fold(model, pictures, labels, folds, rehearsal=data, seed=seed, on_progress=folds_done,
                      should_stop=should_stop, **tune)
    mnist_before = mlp.evaluate(model, data)
    common = {"digest": drawings_digest(pictures, labels), "drawings": len(labels), "k": k, "by_student": by_student(writers, k),
                  "students": len(set(np.asarray(writers, dtype=object).tolist())), "per_digit": oof.per_digit()}
    if oof.stopped:
        return ClassLesson(None, oof, mnist_before=mnist_before, mnist_after=float("nan"),
                           seconds=time.perf_counter() - start, stopped=True, **common)
    tuned = fine_tune(model, pictures, labels, rehearsal=data, seed=seed + k, on_progress=report("all", k),
                      should_stop=should_stop, **tune)
    if tuned.stopped:
        return ClassLesson(None, oof, mnist_before=mnist_before, mnist_after=float("nan"),
                           seconds=time.perf_counter() - start, stopped=True, **common)
    return ClassLesson(tuned, oof, mnist_before=mnist_before, mnist_after=mlp.evaluate(tuned.model, data),
                       seconds=time.perf_counter() - start, **common)
