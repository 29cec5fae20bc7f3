"""The class teaches the network: the unlocked teacher's "Learn our handwriting" on the class page, and
the class's fine-tuned network that the draw page and lesson 7 read.

The fine-tune (``lessons.finetune.learn_class``) runs on a thread of its own, in a training slot, so the
page stays live: a progress bar refreshed every second and a Stop. The result is kept in the shared
model store (``classroom.models.save_model``) under a key made of the room, a digest of the drawings
used and the default network's own key, and a small pointer (``pointer_key(room)``) names the room's
latest, so every worker process (and a restarted server) reads the same network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np
import streamlit as st

from app import classboard
from app.i18n import t
from app.state import widget_key
from classroom import classboard as cb

log = logging.getLogger(__name__)

PAGE = classboard.PAGE
FORMAT = "class-finetune-1"  # bump when the stored report changes shape: old pointers then miss
POLL_SECONDS = 1.0
JOBS_KEPT = 16  # rooms whose fine-tune (running or just finished) this process remembers
MODELS_KEPT = 8  # fine-tuned networks kept in memory per process


# ------------------------------------------------------------------------ keys and the store


def model_key(room: str, digest: str, base_key: str) -> str:
    """The store key of a room's fine-tuned network: the room, the drawings' digest and the default's own key."""
    raw = json.dumps([FORMAT, room, digest, base_key])
    return "class-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def pointer_key(room: str) -> str:
    """The store key of the small record naming the room's latest fine-tune (a room code is 6 letters and digits)."""
    return f"class-latest-{cb.normalise_room(room)}"


def base_config(data: Any) -> Any:
    """The draw page's default recipe for ``data``: the network a class fine-tunes."""
    from lessons import mlp

    return mlp.preset_for(mlp.DRAW_DEFAULT, data)


def base_key(data: Any) -> str:
    """The default network's own store key (its recipe and MNIST's identity)."""
    from classroom import modelstore

    return modelstore.model_key(base_config(data), data)


def class_collection(room: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The room's visible drawings (every label a student picked): images (n, 28, 28) uint8, labels, nicknames."""
    drawings = classboard.class_board().drawings(room)
    if drawings.empty:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), np.zeros(0, object)
    return (np.stack(list(drawings["image"])), drawings["label"].to_numpy(np.int64),
            drawings["nickname"].to_numpy(object))


def saved_report(room: str | None, root: Any = None) -> dict | None:
    """The room's latest fine-tune as the store keeps it (key, figures), or None when it has none."""
    from classroom import modelstore

    if room is None:
        return None
    try:
        payload = modelstore.ModelStore(root).load(pointer_key(room))
    except cb.BoardError:
        return None
    report = (payload or {}).get("report")
    return report if isinstance(report, dict) and report.get("format") == FORMAT else None


_models: OrderedDict[str, Any] = OrderedDict()
_models_lock = threading.Lock()


def class_model(room: str | None, root: Any = None, data: Any = None) -> Any:
    """The room's fine-tuned network (a ``TrainedModel``: ``accuracy`` is its MNIST test accuracy), or None
    (``data``: the MNIST it was tuned from, by default the server's)."""
    from app.training import mnist_data
    from classroom import models

    report = saved_report(room, root)
    if report is None:
        return None
    key = str(report["key"])
    with _models_lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key]
    trained = models.stored_model(key, base_config(mnist_data() if data is None else data), root)
    if trained is not None:
        with _models_lock:
            _models[key] = trained
            while len(_models) > MODELS_KEPT:
                _models.popitem(last=False)
    return trained


def save_lesson(room: str, lesson: Any, base: Any, data: Any, root: Any = None) -> str:
    """Keep ``lesson``'s network under its key and point the room at it; the key."""
    import pandas as pd

    from classroom import models, modelstore
    from lessons import mlp

    key = model_key(room, lesson.digest, base_key(data))
    history = lesson.tuned.history.assign(epoch=1)[["step", "epoch", "loss"]]
    trained = mlp.TrainedModel(lesson.tuned.model, history, float(lesson.mnist_after), base.config, data.source,
                               float(lesson.seconds))
    models.save_model(key, trained, root)
    per_digit = lesson.per_digit if isinstance(lesson.per_digit, pd.DataFrame) else pd.DataFrame()
    report = {
        "format": FORMAT, "key": key, "room": room, "digest": lesson.digest,
        "before": float(lesson.folds.accuracy_before), "after": float(lesson.folds.accuracy_after),
        "mnist_before": float(lesson.mnist_before), "mnist_after": float(lesson.mnist_after),
        "drawings": int(lesson.drawings), "students": int(lesson.students), "k": int(lesson.k),
        "by_student": bool(lesson.by_student), "seconds": float(lesson.seconds), "finished": time.time(),
        "per_digit": {c: [float(v) for v in per_digit[c]] for c in ("digit", "drawings", "before", "after")}
        if len(per_digit) else {"digit": [], "drawings": [], "before": [], "after": []},
    }
    modelstore.ModelStore(root).save(pointer_key(room), {"report": report})
    with _models_lock:
        _models.pop(key, None)
    return key


# ------------------------------------------------------------------------ the job


class FinetuneJob:
    """One room's fine-tune on a thread of its own: the share done, a Stop, and the stored result or a refusal's code."""

    def __init__(self, room: str, images: np.ndarray, labels: np.ndarray, writers: np.ndarray) -> None:
        self.room, self.started = room, time.monotonic()
        self.fraction, self.stage = 0.0, "folds"
        self.error: Any = None  # a FinetuneError once refused; "failed" when something broke
        self.report: dict | None = None
        self.stopped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(images, labels, writers), daemon=True,
                                        name=f"class-finetune-{room}")
        self._thread.start()

    def _progress(self, fraction: float, stage: str) -> None:
        self.fraction, self.stage = fraction, stage

    def _run(self, images: np.ndarray, labels: np.ndarray, writers: np.ndarray) -> None:
        from app.training import mnist_data, trained_model
        from classroom.slots import SLOTS
        from lessons import finetune, mlp

        try:
            finetune.check_enough(labels)
            data = mnist_data()
            base = trained_model(base_config(data))
            with SLOTS:
                mlp.set_torch_threads(SLOTS.fair_share())
                lesson = finetune.learn_class(base.model, images, labels, writers, data, on_progress=self._progress,
                                              should_stop=self._stop.is_set)
            if lesson.stopped:
                self.stopped = True
                return
            save_lesson(self.room, lesson, base, data)
            self.report = saved_report(self.room)
        except finetune.FinetuneError as error:
            self.error = error
        except Exception:  # the page words it; the traceback goes to the server's log
            log.exception("a class fine-tune failed")
            self.error = "failed"

    def stop(self) -> None:
        """Ask the fine-tune to end after the batch it is on; nothing is kept."""
        self._stop.set()

    @property
    def done(self) -> bool:
        """True once the thread has ended (finished, refused, stopped or failed)."""
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the end (tests); True once it has ended."""
        self._thread.join(timeout)
        return self.done


_jobs: OrderedDict[str, FinetuneJob] = OrderedDict()
_jobs_lock = threading.Lock()


def start(room: str) -> FinetuneJob:
    """The room's running fine-tune, or a new one on its visible drawings (one per room in this process)."""
    images, labels, writers = class_collection(room)
    with _jobs_lock:
        job = _jobs.get(room)
        if job is None or job.done:
            job = _jobs[room] = FinetuneJob(room, images, labels, writers)
            _jobs.move_to_end(room)
            while len(_jobs) > JOBS_KEPT:
                oldest = next(iter(_jobs))
                if not _jobs[oldest].done:
                    break
                _jobs.pop(oldest)
        return job


def job_of(room: str) -> FinetuneJob | None:
    """The room's fine-tune in this process (running or finished), or None."""
    with _jobs_lock:
        return _jobs.get(room)


# ------------------------------------------------------------------------ the teacher's section


def refusal_text(error: Any) -> str:
    """Why the fine-tune did not run, in the page's language."""
    if getattr(error, "code", None) == "too_few":
        return t("finetune.err.too_few", **error.fields)
    if getattr(error, "code", None) == "diverged":
        return t("finetune.err.diverged", **error.fields)
    return t("finetune.err.failed")


def show_report(report: dict) -> None:
    """Before and after on drawings each network never saw, and MNIST's test set before and after."""
    import pandas as pd

    from app.charts.finetune import before_after_chart
    from app.vega import show as show_vega
    from lessons import finetune

    before, after = report["before"], report["after"]
    a, b, c = st.columns(3)
    a.metric(t("finetune.before_metric"), f"{before:.1%}")
    b.metric(t("finetune.after_metric"), f"{after:.1%}", f"{100 * (after - before):+.1f} pp")
    c.metric(t("finetune.mnist_metric"), f"{report['mnist_after']:.2%}",
             f"{100 * (report['mnist_after'] - report['mnist_before']):+.2f} pp")
    spec, data = before_after_chart(pd.DataFrame(report["per_digit"]), before, after)
    show_vega(spec, data, description=t("finetune.chart_description", before=f"{before:.1%}", after=f"{after:.1%}"))
    st.caption(t("finetune.how_measured_students" if report["by_student"] else "finetune.how_measured_drawings",
                 k=report["k"], drawings=report["drawings"], students=report["students"]))
    better = finetune.verdict(before, after) == "better"
    st.caption(t("finetune.verdict_better" if better else "finetune.verdict_not_better"))


@st.fragment(run_every=POLL_SECONDS)
def _running(room: str) -> None:
    """The running fine-tune's bar and Stop, refreshed every second; the whole page reruns once it ends."""
    job = job_of(room)
    if job is None or job.done:
        st.rerun()
        return
    stage = t("finetune.stage_folds") if job.stage == "folds" else t("finetune.stage_all")
    st.progress(min(max(job.fraction, 0.0), 1.0), text=t("finetune.progress", stage=stage, percent=round(100 * job.fraction)))
    if st.button(t("finetune.stop"), key=widget_key(PAGE, "__finetune_stop"), icon="⏹️"):
        job.stop()


def learn_section(room: str) -> None:
    """"Learn our handwriting": fine-tune the default on the room's visible drawings, with its progress, Stop and result."""
    st.markdown("##### " + t("finetune.title"))
    st.caption(t("finetune.intro", least=_least()))
    job = job_of(room)
    if job is not None and not job.done:
        _running(room)
        return
    if st.button(t("finetune.start"), key=widget_key(PAGE, "__finetune"), icon="🧑‍🏫"):
        try:
            job = start(room)
        except cb.BoardError as error:
            st.error(classboard.error_text(error))
            return
        if not job.wait(0.5):  # a refusal ends at once: say it now rather than after a refresh
            _running(room)
            return
    if job is not None and job.error is not None:
        st.warning(refusal_text(job.error))
    elif job is not None and job.stopped:
        st.info(t("finetune.stopped"))
    report = saved_report(room)
    if report is not None:
        show_report(report)


def _least() -> int:
    """The fewest drawings of each digit a fine-tune takes (``lessons.finetune.MIN_PER_DIGIT``)."""
    from lessons import finetune

    return finetune.MIN_PER_DIGIT


# ------------------------------------------------------------------------ lesson 7


def class_scores(models: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The class's visible drawings as one more test set for lesson 7 (set name -> network -> accuracy), in a class."""
    from lessons import finetune

    room = classboard.current_room()
    if room is None:
        return {}
    try:
        drawings = classboard.drawings(room)
    except cb.BoardError:
        return {}
    if drawings.empty:
        return {}
    images, labels = np.stack(list(drawings["image"])), drawings["label"].to_numpy(np.int64)
    return {t("finetune.set_class", count=len(labels)):
            {name: finetune.accuracy(trained.model, images, labels) for name, trained in models.items()}}


def lesson_story() -> None:
    """Lesson 7's next step: fine-tuning on your own data, with this student's class's before and after as the example."""
    st.divider()
    st.subheader(t("finetune.story_title"))
    st.markdown(t("finetune.story"))
    room = classboard.current_room()
    report = saved_report(room)
    if room is None:
        st.caption(t("finetune.story_no_class"))
    elif report is None:
        st.caption(t("finetune.story_none"))
    else:
        st.markdown(t("finetune.story_example", drawings=report["drawings"], students=report["students"],
                      before=f"{report['before']:.1%}", after=f"{report['after']:.1%}",
                      mnist_before=f"{report['mnist_before']:.2%}", mnist_after=f"{report['mnist_after']:.2%}"))
        show_report(report)
