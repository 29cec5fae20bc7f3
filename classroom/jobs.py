"""Work that runs beside a page: one student's training on a thread of its own (5c, with a Stop),
and training-time estimates measured on one background thread and remembered for the class.

Nothing here touches Streamlit: the page polls a ``TrainingJob`` and reads ``estimate_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from classroom import models

logger = logging.getLogger(__name__)


class TrainingJob:
    """One student's training on a thread of its own, so the page stays live while it runs: the
    share done, the loss so far, a Stop, and the result (``classroom.models.train_cached``: identical
    settings anywhere in the class still train once; a stopped run is never shared).

    The thread touches no Streamlit call: the page polls ``fraction``, ``history`` and ``done``.
    """

    def __init__(self, config: Any, data: Any, *, estimate: float | None = None) -> None:
        self.config = config
        self.estimate = estimate  # seconds expected before the start (estimate_seconds), if known
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
        try:
            self.result = models.train_cached(self.config, data, on_progress=self._progress, should_stop=self._stop.is_set)
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
    """``classroom.models.estimate_seconds`` for the settings on screen, or None while it is still being
    measured (waited for at most ``wait`` seconds). Measured on one background thread (it times a few
    batches in a training slot, so on a busy server it waits), remembered for the class (at most
    ``ESTIMATES_KEPT`` settings)."""
    key = (config, int(data_size))
    with _estimates_lock:
        future = _estimates.get(key)
        if future is None:
            future = _estimates[key] = _estimator.submit(models.estimate_seconds, config, data_size)
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
