"""MNIST pieces the quick start and lessons 5a-6 share: the data, the class-wide models, pictures, live training."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.charts import show_chart
from app.i18n import t

SESSION_MODEL = "mnist.session_model"  # the model this student trained on the training page


@st.cache_resource(show_spinner=False)
def mnist_data() -> Any:
    """The MNIST arrays (or the offline fallback), loaded once per server and shared by all sessions."""
    from lessons import mnist

    return mnist.load_mnist()


def trained_model(config: Any, on_progress: Any = None) -> Any:
    """The model trained with ``config`` on ``mnist_data()``: trained once per server, shared by all.

    Concurrent identical requests wait for the one training (see ``lessons.mlp.train_cached``).
    """
    from lessons import mlp

    return mlp.train_cached(config, mnist_data(), on_progress=on_progress)


MNIST_LIVE_POINTS = 300  # points in the live loss chart: plenty for its shape, light for the browser


def data_banner(data: Any, *, offer_download: bool = True) -> None:
    """Say plainly where the images come from; on the fallback, how to get MNIST and a download button."""
    from lessons import mnist

    if not data.is_fallback:
        st.success(
            t(
                "mnist.source_real",
                folder=data.source.removeprefix("mnist:"),
                n_train=f"{len(data.train_images):,}",
                n_test=f"{len(data.test_images):,}",
            )
        )
        return
    st.warning(
        t(
            "mnist.source_fallback",
            n_train=f"{len(data.train_images):,}",
            n_test=f"{len(data.test_images):,}",
        )
    )
    if data.problem:
        st.caption(t("mnist.source_problem", problem=data.problem))
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


def loss_chart(history: Any) -> Any:
    """The training loss per step (thinned for the browser), coloured by epoch, with tooltips."""
    import altair as alt

    from lessons import network as nw

    thin = nw.thin_history(history, MNIST_LIVE_POINTS)
    base = alt.Chart(thin).encode(
        x=alt.X("step:Q", title=t("mnist.axis_step")),
        y=alt.Y("loss:Q", title=t("mnist.axis_loss"), scale=alt.Scale(zero=False)),
    )
    # one unbroken line, with the points coloured by epoch so the epochs still show
    line = base.mark_line(color="#adb5bd", strokeWidth=1.5)
    points = base.mark_circle(size=22, opacity=0.9).encode(
        color=alt.Color("epoch:Q", title=t("mnist.axis_epoch"), scale=alt.Scale(scheme="oranges"), legend=alt.Legend(tickMinStep=1, format="d")),
        tooltip=[
            alt.Tooltip("step:Q", title=t("mnist.axis_step")),
            alt.Tooltip("epoch:Q", title=t("mnist.axis_epoch")),
            alt.Tooltip("loss:Q", title=t("mnist.axis_loss"), format=".4f"),
        ],
    )
    return (line + points).properties(height=260)


def show_loss(history: Any) -> None:
    """The loss chart, or a plain warning when the loss blew up (never NaN drawn as data)."""
    import numpy as np

    from lessons import network as nw

    losses = history["loss"].to_numpy(dtype=np.float64)
    if len(losses) and not np.isfinite(losses).all():
        st.error(t("mnist.diverged"))
    if nw.thin_history(history).empty:
        st.info(t("mnist.no_loss"))
        return
    show_chart(loss_chart(history))


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
