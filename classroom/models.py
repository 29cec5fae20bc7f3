"""The class's trained models: each configuration trained once, whoever asks and in whichever worker.

``train_cached`` is ``lessons.mlp.train_config`` in a training slot (``classroom.slots``), remembered
in this process (at most ``CACHE_SIZE`` models) and on disk for every process and restart
(``classroom.modelstore``). ``share_tensors`` puts a data set's normalised images in one file that
every worker maps.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch

from classroom import modelstore
from classroom.slots import SLOTS
from lessons import mlp

CACHE_SIZE = 64  # trained models kept per server; the oldest is dropped beyond this
_cache: OrderedDict[tuple, mlp.TrainedModel] = OrderedDict()
_key_locks: dict[tuple, threading.Lock] = {}
_cache_lock = threading.Lock()


def _shared(data: Any, part: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    return modelstore.shared_array(f"images-{modelstore.data_identity(data)}-{part}", make)


def share_tensors(data: Any) -> Any:
    """``data``, its normalised images mapped from the store's one file per data set (``lessons.mlp.share_tensors``)."""
    mlp.share_tensors(data, _shared)
    return data


def _to_payload(trained: mlp.TrainedModel) -> dict:
    """A trained model as plain tensors, numbers and strings, for ``classroom.modelstore``."""
    model = trained.model
    return {
        "state_dict": model.state_dict(),
        "hidden": list(model.hidden),
        "conv": list(model.conv),
        "activation": model.activation,
        "final_activation": model.final_activation,
        "loss": model.loss,
        "history": {c: torch.tensor(trained.history[c].to_numpy()) for c in trained.history.columns},
        "accuracy": float(trained.accuracy),
        "source": trained.source,
        "seconds": float(trained.seconds),
    }


def _from_payload(payload: dict, config: mlp.TrainConfig) -> mlp.TrainedModel | None:
    """The ``TrainedModel`` a stored payload describes, or None when it does not fit ``config``."""
    try:
        model = mlp.MLP(payload["hidden"], payload["activation"], payload["final_activation"], conv=payload.get("conv", ()))
        model.load_state_dict(payload["state_dict"])
        model.loss = str(payload["loss"])
        model.eval()
        history = pd.DataFrame({c: v.numpy() for c, v in payload["history"].items()})
        return mlp.TrainedModel(model, history, float(payload["accuracy"]), config, str(payload["source"]),
                                float(payload["seconds"]))
    except (KeyError, TypeError, ValueError, RuntimeError):
        return None  # a file from an older layout: retrain and overwrite it


def stored_model(key: str, config: mlp.TrainConfig, root: Any = None) -> mlp.TrainedModel | None:
    """The model saved under ``key`` (``modelstore.model_key`` for a finished training, or a key of
    ``save_model``'s) if it is there and fits ``config``; never trains."""
    payload = modelstore.ModelStore(root).load(key)
    return _from_payload(payload, config) if payload is not None else None


def save_model(key: str, trained: mlp.TrainedModel, root: Any = None) -> bool:
    """Save ``trained`` under ``key`` (a student's own stopped run, which the class's store never keeps)."""
    return modelstore.ModelStore(root).save(key, _to_payload(trained))


def _load_or_train(config: mlp.TrainConfig, data: Any, on_progress: mlp.ProgressFn | None,
                   should_stop: Callable[[], bool] | None = None) -> mlp.TrainedModel:
    """The model from the disk store, else trained under the store's lock (one training per host set) and saved."""
    store = modelstore.ModelStore()
    key = modelstore.model_key(config, data)
    payload = store.load(key)
    hit = _from_payload(payload, config) if payload is not None else None
    if hit is None:
        with store.lock(key):
            payload = store.load(key)  # another process may have trained it while this one waited
            hit = _from_payload(payload, config) if payload is not None else None
            if hit is None:
                share_tensors(data)
                hit = mlp.train_config(config, data, on_progress, should_stop=should_stop, slots=SLOTS)
                if not hit.stopped:  # a stopped run is this student's alone, never the class's model
                    store.save(key, _to_payload(hit))
                return hit
    if on_progress is not None:
        on_progress(1.0, hit.history)
    return hit


def train_cached(
    config: mlp.TrainConfig, data: Any, on_progress: mlp.ProgressFn | None = None, *,
    should_stop: Callable[[], bool] | None = None,
) -> mlp.TrainedModel:
    """``lessons.mlp.train_config`` once per (config, data); everyone else, in any worker process, gets the same model.

    In a process, a per-key lock makes concurrent identical requests wait for the one training
    (their ``on_progress`` is then called once, at the end) and they get the same object.
    Across processes and restarts, ``classroom.modelstore`` keeps the trained models on disk under
    a lock. Different keys train in parallel, limited only by the training slots.

    ``should_stop`` (see ``lessons.mlp.train``) ends this caller's own training early; the partial
    model comes back with ``stopped`` True and is kept neither here nor on disk, so the next request
    trains afresh.
    """
    key = (config, data.source)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        key_lock = _key_locks.setdefault(key, threading.Lock())
    if hit is None:
        with key_lock:
            with _cache_lock:
                hit = _cache.get(key)
            if hit is None:
                hit = _load_or_train(config, data, on_progress, should_stop)
                if hit.stopped:
                    return hit
                with _cache_lock:
                    _cache[key] = hit
                    while len(_cache) > CACHE_SIZE:
                        _cache.popitem(last=False)  # its key lock stays: someone may be waiting on it
                return hit
    if on_progress is not None:
        on_progress(1.0, hit.history)
    return hit


def estimate_seconds(config: mlp.TrainConfig, data_size: int) -> float:
    """``lessons.mlp.estimate_seconds`` timed in a training slot, on the threads a training would get
    now: on a busy machine two threads per op run several times slower than one, so timing outside
    the slots misleads. Like a training, it waits while every slot is taken."""
    return mlp.estimate_seconds(config, data_size, slots=SLOTS)
