"""MNIST pieces the quick start and lessons 5a-6 share: the data, the class-wide models, pictures,
live training, and a training that runs beside the page (with a Stop) for lesson 5c.

Contract with the draw page (and any page that reads "your own model from 5c"):
``st.session_state[SESSION_MODEL]`` holds only a model whose test-set outputs are all finite
numbers (a finished run, or a stopped one); a run that blew up is never put there. What became of
this student's last 5c training is in ``st.session_state[SESSION_MODEL_STATUS]``, a plain dict:
``{"diverged": bool, "stopped": bool, "accuracy": float | None, "config": TrainConfig}``
(``accuracy`` None when diverged). After a diverged run the status says so and SESSION_MODEL is
gone, so the draw page can say why it reads with another model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import streamlit as st

from app.charts import show_chart
from app.i18n import t

logger = logging.getLogger(__name__)

SESSION_MODEL = "mnist.session_model"  # the usable model this student trained on the training page
SESSION_MODEL_STATUS = "mnist.session_model_status"  # what became of that student's last training (see above)


@st.cache_resource(show_spinner=False)
def mnist_data() -> Any:
    """The MNIST arrays (or the offline fallback), loaded once per server and shared by all sessions."""
    from lessons import mnist

    return mnist.load_mnist()


def trained_model(config: Any, on_progress: Any = None, *, should_stop: Any = None) -> Any:
    """The model trained with ``config`` on ``mnist_data()``: trained once per server, shared by all.

    Concurrent identical requests wait for the one training (see ``lessons.mlp.train_cached``);
    a run ended by ``should_stop`` is this caller's alone and never shared.
    """
    from lessons import mlp

    return mlp.train_cached(config, mnist_data(), on_progress=on_progress, should_stop=should_stop)


def trained_with_bar(config: Any, caption: str, **labels: Any) -> Any:
    """``trained_model(config)`` under a progress bar captioned by string ``caption`` (given
    ``labels`` and the ``percent`` done); the bar goes when the model is ready (at once if a
    classmate or the disk store already has it)."""
    bar = st.progress(0.0, text=t(caption, **labels, percent=0))

    def on_progress(fraction: float, _history: Any) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        bar.progress(fraction, text=t(caption, **labels, percent=round(100 * fraction)))

    trained = trained_model(config, on_progress=on_progress)
    bar.empty()
    return trained


MNIST_LIVE_POINTS = 300  # points in the live loss chart: plenty for its shape, light for the browser


def data_banner(data: Any, *, offer_download: bool = True, compact: bool = False) -> None:
    """Say plainly where the images come from; on the fallback, why (a translated reason, never a
    server path) and how to get MNIST, with a download button. ``compact``: one line for real MNIST,
    the fallback's details folded into an expander."""
    from lessons import mnist

    counts = {"n_train": f"{len(data.train_images):,}", "n_test": f"{len(data.test_images):,}"}
    if not data.is_fallback:
        (st.caption if compact else st.success)(("✅ " if compact else "") + t("mnist.source_real", **counts))
        return
    st.warning(t("mnist.source_fallback", **counts))
    with st.expander(t("mnist.fallback_more"), icon="ℹ️") if compact else st.container():
        code = getattr(data, "problem_code", None)
        if code:
            st.caption(t("mnist.source_problem", problem=t(f"mnist.problem.{code}")))
        if offer_download:
            st.markdown(t("mnist.how_to_get"))
            if st.button(t("mnist.download"), key="mnist.__download", icon="⬇️"):
                with st.spinner(t("mnist.downloading")):
                    fetched = mnist.fetch_mnist()
                if fetched:
                    mnist_data.clear()  # the next run loads the real files
                    st.rerun()
                st.error(t("mnist.download_failed"))


def show_digits(images: Any, captions: list[str], width: int = 84) -> None:
    """A row of digit images, each with its caption, flowing onto new lines as needed.

    Each image is scaled up ×3 with crisp pixels here, so the browser does not blur 28×28 into mush.
    """
    from lessons import network as nw

    if len(images) == 0:
        return
    st.image([nw.upscale(img, 3) for img in images], caption=captions, width=width, output_format="PNG")


def seconds_text(seconds: float) -> str:
    """A duration as a student reads it, in the page's language ("8.2 s", "3 min 20 s" in English; never "s" on a zh page)."""
    if seconds < 60:
        return t("mnist.duration_s", s=f"{max(seconds, 0.1):.1f}" if seconds < 10 else f"{seconds:.0f}")  # never "0.0"
    minutes, rest = divmod(round(seconds), 60)
    return t("mnist.duration_min", m=minutes, s=rest)


def loss_chart(history: Any, *, height: int = 260) -> Any:
    """The training loss per step (``lessons.network.loss_view``: thinned, whole-number steps, a
    blow-up cut at the chart's edge and marked), coloured by epoch, with translated tooltips."""
    import altair as alt

    from lessons import network as nw

    view, (first, last) = nw.loss_view(history, MNIST_LIVE_POINTS)
    step_t, loss_t, epoch_t = t("mnist.axis_step"), t("mnist.axis_loss"), t("mnist.axis_epoch")
    base = alt.Chart(view.frame).encode(
        x=alt.X("step:Q", title=step_t, scale=alt.Scale(domain=[first, last], nice=False),
                axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("loss:Q", title=loss_t, scale=alt.Scale(domain=list(view.domain), nice=False),
                axis=alt.Axis(format=".3~g")),
    )
    # one unbroken line, with the points coloured by epoch so the epochs still show
    line = base.mark_line(color="#adb5bd", strokeWidth=1.5, clip=True)
    points = base.mark_circle(size=22, opacity=0.9, clip=True).encode(
        color=alt.Color("epoch:Q", title=epoch_t, scale=alt.Scale(scheme="oranges"),
                        legend=alt.Legend(tickMinStep=1, format="d", orient="bottom")),
        tooltip=[
            alt.Tooltip("step:Q", title=step_t, format="d"),
            alt.Tooltip("epoch:Q", title=epoch_t, format="d"),
            alt.Tooltip("loss:Q", title=loss_t, format=".4~g"),
        ],
    )
    layers = [line, points]
    if len(view.marks):
        marks = view.marks.assign(what=[
            t("mnist.blew_up_at", step=int(m.blew_up_at)) if m.blew_up_at >= 0 else t("mnist.off_chart")
            for m in view.marks.itertuples()
        ])
        layers.append(alt.Chart(marks).mark_point(shape="cross", size=160, color="#c92a2a", strokeWidth=3).encode(
            x="step:Q", y="shown:Q",
            tooltip=[alt.Tooltip("what:N", title=loss_t), alt.Tooltip("step:Q", title=step_t, format="d")],
        ))
    return alt.layer(*layers).properties(height=height)


def show_loss(history: Any, *, height: int = 260) -> None:
    """The loss chart, or a plain warning when the loss blew up (never NaN drawn as data)."""
    import numpy as np

    from lessons import network as nw

    losses = history["loss"].to_numpy(dtype=np.float64)
    if len(losses) and not np.isfinite(losses).all():
        st.error(t("mnist.diverged"))
    if nw.thin_history(history).empty:
        st.info(t("mnist.no_loss"))
        return
    show_chart(loss_chart(history, height=height))


def train_live(config: Any) -> Any:
    """Train (or fetch from the class cache) the model ``config`` describes, showing progress live.

    The progress bar and the loss chart are updated from ``lessons.mlp``'s progress callback,
    which it calls at most a few times a second. When a classmate is already training the same
    settings, this waits for their run and shows it when it is done.
    """
    status = st.status(t("mnist.training"), expanded=True)
    with status:
        st.caption(t("mnist.training_shared"))
        bar = st.progress(0.0, text=t("mnist.progress", percent=0))
        chart = st.empty()

    from lessons import network as nw

    def on_progress(fraction: float, history: Any) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=t("mnist.progress", percent=round(100 * fraction)))
        if not nw.thin_history(history).empty:
            with chart:
                show_chart(loss_chart(history))

    trained = trained_model(config, on_progress=on_progress)
    status.update(label=t("mnist.trained", seconds=f"{trained.seconds:.1f}"), state="complete", expanded=False)
    return trained


# ------------------------------------------------------------------ a training beside the page (5c)


class TrainingJob:
    """One student's training on a thread of its own, so the page stays live while it runs: the
    share done, the loss so far, a Stop, and the result (``lessons.mlp.train_cached``: identical
    settings anywhere in the class still train once; a stopped run is never shared).

    The thread touches no Streamlit call: the page polls ``fraction``, ``history`` and ``done``.
    """

    def __init__(self, config: Any, data: Any, *, estimate: float | None = None) -> None:
        self.config = config
        self.estimate = estimate  # seconds expected before the start (lessons.mlp.estimate_seconds), if known
        self.started = time.monotonic()
        self.fraction = 0.0
        self.history: Any = None
        self.result: Any = None
        self.failed = False
        self.wall: float | None = None  # seconds from the start to the result, once done (a cached model: a moment)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(data,), name="mnist-5c-training", daemon=True)
        self._thread.start()

    def _run(self, data: Any) -> None:
        from lessons import mlp

        try:
            self.result = mlp.train_cached(self.config, data, on_progress=self._progress, should_stop=self._stop.is_set)
        except Exception:  # the page words it; the traceback goes to the server's log
            logger.exception("a 5c training failed")
            self.failed = True
        self.wall = time.monotonic() - self.started

    def _progress(self, fraction: float, history: Any) -> None:
        self.fraction, self.history = fraction, history

    def stop(self) -> None:
        """Ask the training to end after the batch it is on (it keeps what it has learnt)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the training to end (tests); True once it has."""
        self._thread.join(timeout)
        return self.done


ESTIMATE_WAIT = 1.5  # seconds a rerun waits for a new estimate (a few timed batches) before saying "estimating"
ESTIMATES_KEPT = 256
_estimator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mnist-estimate")
_estimates: OrderedDict[tuple, Future] = OrderedDict()
_estimates_lock = threading.Lock()


def estimate_seconds(config: Any, data_size: int, *, wait: float = ESTIMATE_WAIT) -> float | None:
    """``lessons.mlp.estimate_seconds`` for the settings on screen, or None while it is still being
    measured (waited for at most ``wait`` seconds). Measured on one background thread (it times a few batches in a training slot, so on a
    busy server it waits), remembered for the class (at most ``ESTIMATES_KEPT`` settings)."""
    from lessons import mlp

    key = (config, int(data_size))
    with _estimates_lock:
        future = _estimates.get(key)
        if future is None:
            future = _estimates[key] = _estimator.submit(mlp.estimate_seconds, config, data_size)
            while len(_estimates) > ESTIMATES_KEPT:
                _estimates.popitem(last=False)
        else:
            _estimates.move_to_end(key)
    try:
        return float(future.result(timeout=wait))
    except FutureTimeout:
        return None
    except Exception:  # an estimate is a nicety: the page trains without one
        logger.exception("estimating a training's time failed")
        return None
