"""What lesson 5c keeps in a student's session: the training in flight (``classroom.jobs.TrainingJob``),
the last finished or stopped run, this session's runs to compare, and the model handed to the draw page.

What is handed to the draw page (``SESSION_MODEL``, ``SESSION_MODEL_STATUS``) follows the contract in
``app/mnist_widgets.py``: a model that blew up is never handed on.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app.mnist_widgets import SESSION_MODEL, SESSION_MODEL_STATUS

JOB_KEY = "mnist_train.__job"  # this session's training in flight
LAST_KEY = "mnist_train.__last"  # this session's last finished or stopped run: {"trained", "diverged", "accuracy", "wall"}
RUNS_KEY = "mnist_train.__runs"  # this session's runs, to compare (app.runlog.RunLog)
FAILED_KEY = "mnist_train.__failed"  # the last training failed: say so once
RUN_POINTS = 300  # loss points kept per logged run (RunLog draws at most this many)
PROBS_CACHE = 16  # models whose test-set predictions are kept for the class


def running_job() -> Any:
    """This session's training while it runs, else None."""
    job = st.session_state.get(JOB_KEY)
    return job if job is not None and not job.done else None


# What finished trainings took against their timed estimate, on this server: a page polling a live chart
# and classmates training at once take CPU the few batches timed alone did not share. The estimate
# shown is scaled by the median of the last RATIOS_KEPT (within RATIO_RANGE: one odd run moves it little).
RATIOS_KEPT = 15
RATIO_RANGE = (0.5, 3.0)
_ratios: deque[float] = deque(maxlen=RATIOS_KEPT)
_ratios_lock = threading.Lock()
RAW_ESTIMATE_KEY = "mnist_train.__raw_estimate"  # the timed estimate of the training in flight, before scaling


def start(config: Any, data: Any) -> None:
    """Start training ``config`` on ``data`` beside the page (the estimate made now is its first time left)."""
    from classroom import jobs

    raw = jobs.estimate_seconds(config, len(data.train_images), wait=0)
    st.session_state[RAW_ESTIMATE_KEY] = raw
    st.session_state[JOB_KEY] = jobs.TrainingJob(config, data, estimate=None if raw is None else raw * scale())
    st.session_state.pop(FAILED_KEY, None)


def scale() -> float:
    """The factor this server's finished trainings say its timed estimates are short by (1 before any)."""
    with _ratios_lock:
        return float(np.median(_ratios)) if _ratios else 1.0


def learn_from(raw_estimate: float | None, wall: float | None, *, whole: bool) -> None:
    """Remember how long a training took (``wall``: its start to its model, evaluation included) against
    its timed estimate. Only a ``whole`` run counts: one trained here to its end, not a cached model,
    not stopped, not blown up (those end early, and say nothing of a training's time)."""
    if not whole or not raw_estimate or raw_estimate <= 0 or wall is None:
        return
    low, high = RATIO_RANGE
    with _ratios_lock:
        _ratios.append(min(max(wall / raw_estimate, low), high))


def estimate(config: Any, data: Any, **wait: float) -> float | None:
    """About how many seconds a full training of ``config`` on ``data`` takes here: the batches timed by
    ``classroom.jobs.estimate_seconds``, scaled by what this server's finished trainings took
    (``scale``); None while it is still being measured."""
    from classroom import jobs

    raw = jobs.estimate_seconds(config, len(data.train_images), **wait)
    return None if raw is None else raw * scale()


@st.cache_resource(show_spinner=False, max_entries=PROBS_CACHE)
def test_probabilities(key: str, _model: Any, _images: np.ndarray) -> np.ndarray:
    """The model's probabilities for every test image, computed once per (model, data) ``key`` for the class."""
    from lessons import mlp

    return mlp.predict_proba(_model, _images / 255.0)


def probabilities(trained: Any, data: Any) -> np.ndarray:
    """``test_probabilities`` of a trained model; a stopped run shares its settings with the finished one,
    so its length tells them apart."""
    key = f"{trained.config!r}|{trained.source}|{data.source}|{len(trained.history)}|{trained.stopped}"
    return test_probabilities(key, trained.model, data.test_images)


def kept_curve(history: pd.DataFrame, most: int = RUN_POINTS) -> pd.DataFrame:
    """A run's loss history cut to about ``most`` evenly spaced steps for the session's log (a 20-epoch
    run has 37,500), keeping the first step that is no number, so the comparison still marks a blow-up."""
    n = len(history)
    keep = np.linspace(0, n - 1, min(n, most)).round().astype(int)
    bad = np.flatnonzero(~np.isfinite(history["loss"].to_numpy(dtype=np.float64)))
    return history.iloc[np.unique(np.r_[keep, bad[:1]])]


def run_row(config: Any) -> dict:
    """A run's settings as the comparison table shows them: the network written out, then 5c's other settings."""
    from lessons import recipes

    settings = recipes.settings_from_config(config)
    return {"network": recipes.network_text(config.hidden),
            **{name: value for name, value in settings.items() if name != "layers" and name not in recipes.HIDDEN_NAMES}}


def finish(data: Any) -> None:
    """Once this session's training has ended: keep the run, log it, and hand the model on only if it is usable."""
    from app.runlog import RunLog
    from lessons import mlp

    job = st.session_state.get(JOB_KEY)
    if job is None or not job.done:
        return
    del st.session_state[JOB_KEY]
    if job.failed or job.result is None:
        st.session_state[FAILED_KEY] = True
        return
    trained = job.result
    status = mlp.outcome(trained.history, probabilities(trained, data), stopped=trained.stopped)
    diverged = status == "diverged"
    whole = not diverged and not trained.stopped and job.wall is not None and not mlp.came_from_cache(job.wall, trained.seconds)
    learn_from(st.session_state.pop(RAW_ESTIMATE_KEY, None), job.wall, whole=whole)
    accuracy = None if diverged else float(trained.accuracy)
    keep_last(trained, diverged, job.wall)
    log = st.session_state.setdefault(RUNS_KEY, RunLog())
    log.add(run_row(trained.config), results={"accuracy": np.nan if accuracy is None else accuracy, "status": status},
            seconds=trained.seconds, curve=kept_curve(trained.history))


def keep_last(trained: Any, diverged: bool, wall: float | None) -> None:
    """Keep ``trained`` as this session's last run, and hand it to the draw page only if it is usable
    (also when a reload puts a saved run back: ``app.kept_work``)."""
    accuracy = None if diverged else float(trained.accuracy)
    st.session_state[LAST_KEY] = {"trained": trained, "diverged": diverged, "accuracy": accuracy, "wall": wall}
    st.session_state[SESSION_MODEL_STATUS] = {
        "diverged": diverged, "stopped": trained.stopped, "accuracy": accuracy, "config": trained.config,
    }
    if diverged:
        st.session_state.pop(SESSION_MODEL, None)
    else:
        st.session_state[SESSION_MODEL] = trained


def time_left(job: Any, fraction: float) -> float | None:
    """Seconds the running ``job`` still needs (``mlp.remaining_seconds``), None while unknown: a job that
    has not started (waiting for a slot or a classmate) has run out its estimate, not its work."""
    from lessons import mlp

    left = mlp.remaining_seconds(job.elapsed, fraction, job.estimate)
    return None if left is not None and fraction == 0 and left < 1 else left


def result_notes(trained: Any, diverged: bool, n_train: int) -> list[tuple[str, dict]]:
    """The warnings over a run's results, as (string key, fields): why a run that blew up shows nothing
    (and at which step the training stopped itself), or how far a stopped run got (``mlp.outcome``)."""
    from lessons import mlp

    steps = mlp.steps_of(trained.config, n_train)
    if diverged:
        at = mlp.diverged_at(trained.history)
        notes = [("mnist.train.broken_model", {})]
        if at is not None:
            value = trained.history["loss"].iloc[-1]
            notes.append(("mnist.train.diverged_at", {"step": f"{at:,}", "steps": f"{steps:,}",
                                                      "value": "NaN" if np.isnan(value) else "∞"}))
        return notes
    if trained.stopped:
        return [("mnist.train.stopped_note", {"done": f"{len(trained.history):,}", "steps": f"{steps:,}"})]
    return []


def from_cache(last: dict) -> bool:
    """The last run's model came from the class's cache rather than this training (``mlp.came_from_cache``)."""
    from lessons import mlp

    return last.get("wall") is not None and mlp.came_from_cache(last["wall"], last["trained"].seconds)


def take_failure() -> bool:
    """True once after a training failed."""
    return bool(st.session_state.pop(FAILED_KEY, False))


def epochs_done(history) -> tuple[int, float] | None:
    """The last whole epoch a running training has finished and its last loss, or None before the first."""
    if history is None or history.empty or "epoch" not in history:
        return None
    finished = history[history["epoch"] < history["epoch"].max()]
    if finished.empty:
        return None
    return int(finished["epoch"].iloc[-1]), float(finished["loss"].iloc[-1])
