"""The class's MNIST and its trained models, once per server: what the quick start, lessons 5a-7 and
the class page read (``ui.mnist_data``, ``ui.trained_model``).

Streamlit's resource cache holds the data; ``classroom.models`` trains each configuration once
for every session and worker. torch is imported on first use, not when a page imports ``ui``.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


@st.cache_resource(show_spinner=False)
def mnist_data() -> Any:
    """The MNIST arrays (or the offline fallback), loaded once per server and shared by all sessions."""
    from lessons import mnist

    return mnist.load_mnist()


def trained_model(config: Any, on_progress: Any = None, *, should_stop: Any = None) -> Any:
    """The model trained with ``config`` on ``mnist_data()``: trained once per server, shared by all.

    Concurrent identical requests wait for the one training (see ``classroom.models.train_cached``);
    a run ended by ``should_stop`` is this caller's alone and never shared.
    """
    from classroom import models

    return models.train_cached(config, mnist_data(), on_progress=on_progress, should_stop=should_stop)
