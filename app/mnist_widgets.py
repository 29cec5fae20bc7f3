"""MNIST widgets the quick start and lessons 5a-7 share: where the data comes from, pictures, the
loss chart and live training. The data and the class-wide models are ``app/training.py``'s; 5c's
training beside the page (with a Stop) is ``classroom.jobs``.

Contract with the draw page (and any page that reads "your own model from 5c"):
``st.session_state[SESSION_MODEL]`` holds only a model whose test-set outputs are all finite
numbers (a finished run, or a stopped one); a run that blew up is never put there. What became of
this student's last 5c training is in ``st.session_state[SESSION_MODEL_STATUS]``, a plain dict:
``{"diverged": bool, "stopped": bool, "accuracy": float | None, "config": TrainConfig}``
(``accuracy`` None when diverged). After a diverged run the status says so and SESSION_MODEL is
gone, so the draw page can say why it reads with another model.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.a11y import digit_alt
from app.charts import show_chart
from app.i18n import t
from app.training import mnist_data, trained_model

SESSION_MODEL = "mnist.session_model"  # the usable model this student trained on the training page
SESSION_MODEL_STATUS = "mnist.session_model_status"  # what became of that student's last training (see above)


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


def show_digits(images: Any, captions: list[str], width: int = 84, *, labels: Any = None, read: Any = None) -> None:
    """A row of digit images, each with its caption, flowing onto new lines as needed.

    Each image is scaled up ×3 with crisp pixels here, so the browser does not blur 28×28 into mush.
    Each has a text alternative in the page's language (``a11y.digit_alt``): its ``labels`` (the digit
    written) and what a network ``read``, or its caption when no label is given.
    """
    from lessons import network as nw

    if len(images) == 0:
        return
    alts = [digit_alt(None if labels is None else int(labels[i]), None if read is None else int(read[i]), caption)
            for i, caption in enumerate(captions)]
    st.image([nw.upscale(img, 3) for img in images], caption=captions, width=width, output_format="PNG", alt=alts)


def seconds_text(seconds: float) -> str:
    """A duration as a student reads it, in the page's language ("8.2 s", "3 min 20 s" in English; never "s" on a zh page)."""
    if seconds < 60:
        return t("mnist.duration_s", s=f"{max(seconds, 0.1):.1f}" if seconds < 10 else f"{seconds:.0f}")  # never "0.0"
    minutes, rest = divmod(round(seconds), 60)
    return t("mnist.duration_min", m=minutes, s=rest)


EPOCH_COLOURS = ["#e8590c", "#7950f2"]  # the first epoch's colour, the last's: between them the others


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
        # Orange to violet, every shade at least 3:1 on both themes' backgrounds ("oranges" began in a pale
        # peach that vanished on the light one, epoch 1 with it).
        color=alt.Color("epoch:Q", title=epoch_t, scale=alt.Scale(range=EPOCH_COLOURS),
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
    """The loss chart, with a plain warning when the loss blew up (never NaN drawn as data; ``mlp.loss_notes``)."""
    from lessons import mlp

    notes = mlp.loss_notes(history)
    if "diverged" in notes:
        st.error(t("mnist.diverged"))
    if "no_loss" in notes or "no_steps" in notes:
        st.info(t("mnist.no_loss") if "no_loss" in notes else t("mnist.no_steps"))
        return
    show_chart(loss_chart(history, height=height), description=loss_text(history))


def loss_text(history: Any) -> str:
    """The loss chart's figures in words: the first and the last finite loss."""
    import numpy as np

    finite = history["loss"][np.isfinite(history["loss"])]
    if finite.empty:
        return t("access.loss_chart_empty")
    return t("access.loss_chart", first=f"{finite.iloc[0]:.4f}", last=f"{finite.iloc[-1]:.4f}")


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
                show_chart(loss_chart(history), description=loss_text(history))

    trained = trained_model(config, on_progress=on_progress)
    status.update(label=t("mnist.trained", seconds=f"{trained.seconds:.1f}"), state="complete", expanded=False)
    return trained


def model_downloads(trained: Any, diverged: bool, key: Any) -> None:
    """The trained network (not when it blew up) and its loss history, to download; ``key`` makes the widget keys."""
    from lessons import mlp

    d1, d2 = st.columns(2)
    d1.download_button(t("mnist.train.download_model"), data=lambda: mlp.model_to_bytes(trained.model),
                       file_name="mnist_mlp.pt", mime="application/octet-stream", key=key("__download_model"),
                       on_click="ignore", icon="💾", disabled=diverged)
    d2.download_button(t("mnist.train.download_history"), data=trained.history.to_csv(index=False),
                       file_name="mnist_loss_history.csv", mime="text/csv", key=key("__download_history"),
                       on_click="ignore", icon="📈")
    st.caption(t("mnist.train.download_note"))
