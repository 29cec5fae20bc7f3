"""What a student made that a reload must not lose, kept for their browser (``app.identity.remember``):
the digits they labelled for lesson 7, 5c's runs to compare, and 5c's last run with their own network
(by its key in the model store, so the draw page still reads with it after a reload).

Each piece is written as plain JSON (numbers, strings, an image block as base64) and checked as it
is read back: a piece that does not fit is dropped, never a broken page. Imported once by
``streamlit_app.py``, so every session's first run can put the pieces back whatever page it opens.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import math
import zlib
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import identity
from app import mnist_session as session
from app.runlog import Run, RunLog
from classroom import browser_store

KEPT_KEY = "handwriting.kept"  # pages/draw.py writes it, pages/handwriting.py reads it: [(28×28 float32, label, digest)]
KEPT_MOST = 200  # as pages/draw.py keeps
SIDE = 28
RUNS_MOST = 50


def _plain(value: Any) -> Any:
    """A JSON-able copy of ``value`` (numpy numbers as Python's, tuples as lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# ------------------------------------------------------------------------- kept digits


def dump_kept() -> Any:
    kept = st.session_state.get(KEPT_KEY)
    if not kept:
        return None
    images = np.stack([np.asarray(image, dtype="<f4").reshape(SIDE, SIDE) for image, _, _ in kept])
    return {"images": base64.b64encode(zlib.compress(images.tobytes(), 6)).decode("ascii"),
            "labels": [int(label) for _, label, _ in kept], "digests": [str(d) for _, _, d in kept]}


def load_kept(value: Any) -> None:
    """The kept digits back, each checked: a 28×28 image in [0, 1] whose digest is its own, a label 0-9."""
    labels, digests = list(value["labels"])[:KEPT_MOST], list(value["digests"])[:KEPT_MOST]
    raw = zlib.decompress(base64.b64decode(value["images"]), bufsize=KEPT_MOST * SIDE * SIDE * 4 + 1)
    images = np.frombuffer(raw, dtype="<f4").reshape(-1, SIDE, SIDE).astype(np.float32)
    kept = []
    for image, label, digest in zip(images, labels, digests, strict=False):
        image = np.ascontiguousarray(image)
        if (isinstance(label, int) and 0 <= label <= 9 and np.all(np.isfinite(image))
                and hashlib.sha256(image.tobytes()).hexdigest() == digest):
            kept.append((image, label, digest))
    if kept:
        st.session_state[KEPT_KEY] = kept


def kept_fingerprint() -> Any:
    kept = st.session_state.get(KEPT_KEY)
    return (len(kept), kept[0][2], kept[-1][2]) if kept else None


# ------------------------------------------------------------------------------- 5c's runs


def dump_runs() -> Any:
    log = st.session_state.get(session.RUNS_KEY)
    if log is None:
        return None
    return {"limit": log.limit, "count": log._count, "runs": [
        {"number": r.number, "settings": _plain(r.settings), "results": _plain(r.results), "seconds": float(r.seconds),
         "step": _plain(r.curve["step"].tolist()), "value": [float(v) for v in r.curve["value"]]}
        for r in log.runs]}


def load_runs(value: Any) -> None:
    log = RunLog(limit=max(1, min(int(value["limit"]), RUNS_MOST)))
    for r in list(value["runs"])[-log.limit:]:
        if not isinstance(r["settings"], dict) or not isinstance(r["results"], dict):
            continue
        curve = pd.DataFrame({"step": list(r["step"]), "value": np.asarray(r["value"], dtype=np.float64)})
        log.runs.append(Run(int(r["number"]), dict(r["settings"]), dict(r["results"]), float(r["seconds"]), curve))
    log._count = max([int(value["count"]), *[r.number for r in log.runs]])
    st.session_state[session.RUNS_KEY] = log


def runs_fingerprint() -> Any:
    log = st.session_state.get(session.RUNS_KEY)
    return None if log is None else (log._count, tuple(r.number for r in log.runs))


# ----------------------------------------------------------------- 5c's last run and network


def own_model_key() -> str:
    """Where this browser's own stopped run is saved (the class's store keeps finished runs only)."""
    return f"{browser_store.file_stem(identity.browser_id())}-model"


def dump_last() -> Any:
    """5c's last run: its settings and where its network is (a finished run: its key in the class's
    model store; a stopped one: saved for this browser beside its work)."""
    last = st.session_state.get(session.LAST_KEY)
    if last is None:
        return None
    from app.training import mnist_data
    from classroom import models, modelstore

    trained = last["trained"]
    if trained.stopped:
        if not models.save_model(own_model_key(), trained, browser_store.store_dir()):
            return None
        key, own = own_model_key(), True
    else:
        data = mnist_data()
        if trained.source != data.source:
            return None
        key, own = modelstore.model_key(trained.config, data), False
    return {"model": key, "own": own, "config": _plain(dataclasses.asdict(trained.config)), "stopped": trained.stopped,
            "diverged": bool(last["diverged"]), "wall": last.get("wall")}


def load_last(value: Any) -> None:
    from classroom import models
    from lessons import mlp

    names = {f.name for f in dataclasses.fields(mlp.TrainConfig)}
    fields = {name: v for name, v in dict(value["config"]).items() if name in names}
    config = mlp.TrainConfig(**fields)
    key = str(value["model"])
    if not all(c.isalnum() or c == "-" for c in key):
        return
    trained = models.stored_model(key, config, browser_store.store_dir() if value["own"] else None)
    if trained is None:
        return
    if value["stopped"]:
        trained.history.attrs["stopped"] = True
    wall = value.get("wall")
    session.keep_last(trained, bool(value["diverged"]),
                      float(wall) if isinstance(wall, (int, float)) and math.isfinite(wall) else None)


def last_fingerprint() -> Any:
    last = st.session_state.get(session.LAST_KEY)
    return None if last is None else (id(last["trained"]), bool(last["diverged"]))


identity.remember("kept_digits", dump_kept, load_kept, kept_fingerprint)
identity.remember("5c_runs", dump_runs, load_runs, runs_fingerprint)
identity.remember("5c_last", dump_last, load_last, last_fingerprint)
