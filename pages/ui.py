"""Shared UI pieces for the pages: the page registry, language, URL state, presets, charts.

Only pages and ``streamlit_app.py`` import this. The maths lives in ``lessons/``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from pages.strings import DEFAULT_LANGUAGE, LANGUAGES, STRINGS

LANG_KEY = "lang"


def _ensure_app_navigation() -> None:
    """Make a page that Streamlit ran bare go through ``streamlit_app.py``'s navigation instead.

    A folder named ``pages/`` puts a fresh server into Streamlit's legacy pages-directory mode
    until the first ``st.navigation`` call: its first requests would run a page file on its own,
    with a file-list sidebar. Such a run still lists the main script among its pages. Switch the
    mode off for good and rerun; the rerun finds the page by its URL name, which is why each
    page's URL is its file's name. Called by the functions every page starts with.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    PagesManager.uses_pages_directory = False
    ctx = get_script_run_ctx()
    if ctx is not None and any(
        str(info.get("script_path", "")).endswith("streamlit_app.py") for info in ctx.pages_manager.get_pages().values()
    ):
        st.rerun()


# ---------------------------------------------------------------- page registry


@dataclass(frozen=True)
class PageSpec:
    """One page of the app: ``pages/<name>.py``, at URL ``/<name>``, in a section of the course."""

    name: str  # also the strings key stem: page.<name>.title / page.<name>.blurb
    icon: str
    section: str  # strings key of the navigation section

    @property
    def path(self) -> str:
        return f"pages/{self.name}.py"

    @property
    def url_path(self) -> str:
        # The file's own name: on a fresh server's very first request Streamlit resolves the URL
        # by file name (see _ensure_app_navigation), so any other URL would be "not found".
        return self.name


HOME = PageSpec("home", "🏠", "app.section.home")
LESSONS: tuple[PageSpec, ...] = (
    PageSpec("quickstart", "⚡", "app.section.quick"),
    PageSpec("descent", "⛰️", "app.section.course"),
    PageSpec("noise", "🎲", "app.section.course"),
    PageSpec("regression", "📈", "app.section.course"),
    PageSpec("classification", "🧭", "app.section.course"),
    PageSpec("mnist_data", "🔢", "app.section.course"),
    PageSpec("mnist_network", "🧠", "app.section.course"),
    PageSpec("mnist_train", "🏋️", "app.section.course"),
    PageSpec("draw", "✍️", "app.section.course"),
)
PAGES: tuple[PageSpec, ...] = (HOME, *LESSONS)


# --------------------------------------------------------------------- language


def lang() -> str:
    """The current language code: the session's choice, else the URL's, else the default."""
    chosen = st.session_state.get(LANG_KEY)
    if chosen in LANGUAGES:
        return chosen
    from_url = st.query_params.get(LANG_KEY)
    return from_url if from_url in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **fields: Any) -> str:
    """The string ``key`` in the current language, formatted with ``fields``.

    A key missing from the table shows as ``⟨key⟩`` rather than crashing the page;
    ``tests/test_strings.py`` makes sure no page ever ships one.
    """
    entry = STRINGS.get(key)
    if entry is None:
        return f"⟨{key}⟩"
    text = entry.get(lang()) or entry[DEFAULT_LANGUAGE]
    return text.format(**fields) if fields else text


def language_switch() -> None:
    """The sidebar's language selector. Its value is kept in the session and the URL."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = lang()
    st.sidebar.radio(
        t("app.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=LANG_KEY,
        horizontal=True,
    )


# ------------------------------------------------------------------- URL state


@dataclass(frozen=True)
class Setting:
    """A shareable page setting: its default, and the range or options a URL value must obey."""

    default: Any
    lo: float | None = None
    hi: float | None = None
    options: Sequence[Any] | None = None

    def decode(self, raw: str) -> Any:
        """Parse a URL value; anything unparsable or out of range falls back or is clamped."""
        kind = type(self.default)
        try:
            if kind is bool:
                value: Any = raw in ("1", "true", "True")
            elif kind in (list, tuple):
                items = [item for item in raw.split(",") if item]
                if self.options is not None:
                    items = [item for item in items if item in self.options]
                value = kind(items)
            elif kind is int:
                value = int(float(raw))
            elif kind is float:
                value = float(raw)
                if not math.isfinite(value):
                    return self.default
            else:
                value = raw
        except (TypeError, ValueError):
            return self.default
        if self.options is not None and kind not in (list, tuple) and value not in self.options:
            return self.default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.lo is not None:
                value = max(value, kind(self.lo))
            if self.hi is not None:
                value = min(value, kind(self.hi))
        return value

    @staticmethod
    def encode(value: Any) -> str:
        """The URL form of a value: short, and read back to the same value by ``decode``."""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (list, tuple)):
            return ",".join(str(item) for item in value)
        if isinstance(value, float):
            return f"{value:.10g}"
        return str(value)


def widget_key(page: str, name: str) -> str:
    """The session-state key of a page's setting (also its widget's key)."""
    return f"{page}.{name}"


def seed_from_url(page: str, settings: Mapping[str, Setting]) -> None:
    """Fill the page's widget state from the URL the first time the page runs in a session.

    Call it first, before drawing the widgets, and draw each widget with
    ``key=widget_key(page, name)`` and no ``value=``.
    """
    _ensure_app_navigation()
    params = st.query_params
    for name, setting in settings.items():
        key = widget_key(page, name)
        if key not in st.session_state:
            raw = params.get(name)
            st.session_state[key] = setting.default if raw is None else setting.decode(raw)


def value(page: str, name: str) -> Any:
    """The current value of a page's setting."""
    return st.session_state[widget_key(page, name)]


def sync_to_url(page: str, settings: Mapping[str, Setting]) -> None:
    """Write the page's settings that differ from their defaults, and the language, to the URL."""
    wanted = {LANG_KEY: lang()}
    for name, setting in settings.items():
        current = st.session_state.get(widget_key(page, name), setting.default)
        if current != setting.default:
            wanted[name] = Setting.encode(current)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def keep_language_in_url() -> None:
    """Start a page without settings of its own: put the language into the URL."""
    _ensure_app_navigation()
    sync_to_url("", {})


def apply_values(page: str, values: Mapping[str, Any]) -> None:
    """Set several settings at once. Use it as a button's ``on_click`` (before widgets draw)."""
    for name, val in values.items():
        st.session_state[widget_key(page, name)] = val


def reset_button(page: str, settings: Mapping[str, Setting], *, where: Any = None) -> None:
    """A button that puts every setting of the page back to its default."""
    defaults = {name: s.default for name, s in settings.items()}
    (where or st).button(
        t("app.reset"), key=f"{page}.__reset", on_click=apply_values, args=(page, defaults)
    )


@dataclass(frozen=True)
class Preset:
    """A "try it" prompt: what to try (strings key) and the settings that set it up."""

    text_key: str
    values: Mapping[str, Any]


def try_it(page: str, presets: Sequence[Preset]) -> None:
    """Show the page's "try it" prompts, each with a button that loads its settings."""
    with st.expander(f"{t('app.try_it')} ({len(presets)})", icon="💡", expanded=False):
        for i, preset in enumerate(presets):
            text_col, button_col = st.columns([4, 1], vertical_alignment="center")
            text_col.markdown(t(preset.text_key))
            button_col.button(
                t("app.load"),
                key=f"{page}.__preset{i}",
                on_click=apply_values,
                args=(page, dict(preset.values)),
            )


# --------------------------------------------------------------- page scaffolding


def page_header(name: str) -> None:
    """The page's title and a one-line summary of what it teaches."""
    st.title(t(f"page.{name}.title"))
    st.caption(t(f"page.{name}.blurb"))


def share_caption(where: Any = None) -> None:
    """Tell the teacher that the URL carries the settings."""
    (where or st.sidebar).caption("🔗 " + t("app.share"))


@contextmanager
def caught() -> Iterator[None]:
    """Turn any unexpected error inside the block into a plain message instead of a traceback."""
    from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

    try:
        yield
    except ScriptControlException:  # st.rerun / st.stop are control flow, not errors
        raise
    except Exception as exc:  # noqa: BLE001 - the whole point is to catch everything
        st.error(t("app.error_generic", detail=f"{type(exc).__name__}: {exc}"))


# ----------------------------------------------------------------------- charts


def show_chart(chart: Any) -> None:
    """Draw an altair chart at the container's width."""
    st.altair_chart(chart, width="stretch")


def loss_contour_chart(
    points: Any, path: Any, best: tuple[float, float] | None, box: Any, *, slope: str = "w",
    loss: str = "loss", now: tuple[float, float] | None = None, height: int = 360,
) -> Any:
    """The regression loss over (b, slope) as banded colours, the descent path on it, the
    closed-form minimum as a diamond and, if given, the replayed step ``now`` as a dot.

    ``path`` has columns iteration, b, m, error (``lessons.regression.path_frame``); ``slope``
    and ``loss`` name the axes as the page's lesson does (w and loss, or the course's m and error).
    """
    import altair as alt
    import pandas as pd

    from lessons import regression

    surface = regression.loss_surface_frame(points, box, steps=48)
    heat = alt.Chart(surface).mark_rect().encode(
        x=alt.X("b0:Q", title="b", scale=alt.Scale(domain=list(box[0]), nice=False)), x2="b1:Q",
        y=alt.Y("w0:Q", title=slope, scale=alt.Scale(domain=list(box[1]), nice=False)), y2="w1:Q",
        color=alt.Color("log10_excess:Q", title=f"log₁₀({loss} − min)",
                        scale=alt.Scale(type="quantize", scheme=alt.SchemeParams("viridis", count=10), nice=True),
                        legend=alt.Legend(orient="right")),
        tooltip=[alt.Tooltip("b:Q", format=".5g"), alt.Tooltip("w:Q", title=slope, format=".5g"),
                 alt.Tooltip("loss:Q", title=loss, format=".5g")],
    )
    track = alt.Chart(path).mark_line(color="white", strokeWidth=2, clip=True).encode(
        x="b:Q", y="m:Q", order="iteration:Q")
    steps = alt.Chart(path).mark_circle(color="white", size=16, clip=True).encode(
        x="b:Q", y="m:Q",
        tooltip=["iteration:Q", alt.Tooltip("b:Q", format=".6g"), alt.Tooltip("m:Q", title=slope, format=".6g"),
                 alt.Tooltip("error:Q", title=loss, format=".6g")],
    )
    layers = [heat, track, steps]
    if now is not None:
        layers.append(alt.Chart(pd.DataFrame({"b": [now[0]], "m": [now[1]]})).mark_point(
            shape="circle", size=160, color="#d9480f", filled=True, stroke="white", clip=True).encode(x="b:Q", y="m:Q"))
    if best is not None:
        star = pd.DataFrame({"b": [best[0]], "m": [best[1]], "what": [t("regression.line_ls")]})
        layers.append(alt.Chart(star).mark_point(shape="diamond", size=220, filled=True, color="#f03e3e",
                                                 stroke="white", strokeWidth=1.5).encode(
            x="b:Q", y="m:Q",
            tooltip=["what:N", alt.Tooltip("b:Q", format=".6g"), alt.Tooltip("m:Q", title=slope, format=".6g")]))
    return alt.layer(*layers).properties(height=height)



# ------------------------------------------------------------ MNIST, shared by pages

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
