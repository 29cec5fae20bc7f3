"""Shareable page settings and the page protocol: ``with ui.page(PAGE, SETTINGS) as p:``.

A page's settings live in session state under ``<page>.<name>`` (also their widgets' keys),
are seeded from the URL the first time a page runs in a session, and are written back to the
URL (only those that differ from their defaults, plus the language) when the page finishes. A few
parameters every page keeps (``keep_param``: the class and the nickname) also live in a cookie, so a
reload that lost them from the URL finds them again (``app.identity``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app import identity
from app.display import LARGE_KEY, large_type
from app.i18n import LANG_KEY, SETTING_KEYS, lang, t
from app.streamlit_compat import leave_legacy_pages_mode
from lessons.settings import Setting

_KEPT: dict[str, tuple[str, Callable[[str], str | None]]] = {}  # URL parameter -> (session key, its check)
_PERSONAL: set[str] = set()  # kept parameters whose cookie wins over a link's (a nickname)


def _as_given(value: str) -> str | None:
    return value


def keep_param(name: str, session_key: str, clean: Callable[[str], str | None] = _as_given, *,
               personal: bool = False) -> None:
    """Keep URL parameter ``name`` on every page and in a cookie (``app.identity``): its value is the
    session's ``session_key``, else the URL's (after a reload: the cookie's) once ``clean`` accepts it
    (``clean`` returns the value as kept, or None). ``personal``: the browser's own cookie wins over a
    link's value (a link a classmate shared carries their nickname). Registered once, at import."""
    _KEPT[name] = (session_key, clean)
    if personal:
        _PERSONAL.add(name)


def kept_value(name: str) -> str | None:
    """Kept parameter ``name``'s value in this session: the session's, else the URL's if its check accepts it."""
    session_key, clean = _KEPT[name]
    value = st.session_state.get(session_key)
    if value:
        return str(value)
    raw = st.query_params.get(name)
    return clean(raw) if raw else None


def kept_params() -> dict[str, str]:
    """The URL parameters every page keeps, whatever page it is: the language, large type and each
    ``keep_param``. Page links (the sidebar's too) carry them, so a click never drops them."""
    identity.start_session({name: name in _PERSONAL for name in _KEPT})  # a reload: the class and nickname back
    kept = {LANG_KEY: lang()}
    if large_type():
        kept[LARGE_KEY] = "1"
    for name in _KEPT:
        value = kept_value(name)
        if value:
            kept[name] = value
    return kept


def _end_run(*, full: bool) -> None:
    identity.end_run({name: kept_value(name) for name in _KEPT}, full=full)


@dataclass(frozen=True)
class Preset:
    """A "try it" prompt: what to try (strings key) and the settings that set it up."""

    text_key: str
    values: Mapping[str, Any]


def widget_key(page: str, name: str) -> str:
    """The session-state key of a page's setting or widget (``p.key(name)`` inside a page)."""
    return f"{page}.{name}"


class Page:
    """One run of one page: its settings' widget keys and values, and the shared page pieces."""

    def __init__(self, name: str, settings: Mapping[str, Setting]) -> None:
        self.name = name
        self.settings = dict(settings)
        SETTING_KEYS.update(widget_key(name, setting) for setting in self.settings)

    def key(self, name: str) -> str:
        """The widget key of setting ``name``, or of one of the page's own widgets (``"__train"``).

        A key without ``__`` holds a value (a setting, or a page's own choice) and is re-sent in the
        new language when the language changes; ``__`` keys are buttons and uploaders, which refuse that.
        """
        key = widget_key(self.name, name)
        if not name.startswith("__"):
            SETTING_KEYS.add(key)
        return key

    def __getitem__(self, name: str) -> Any:
        return st.session_state[self.key(name)]

    def __setitem__(self, name: str, value: Any) -> None:
        # Only before the setting's widget is drawn in this run (Streamlit forbids it after).
        st.session_state[self.key(name)] = value

    def apply(self, values: Mapping[str, Any]) -> None:
        """Set several settings at once. Use it as a button's ``on_click`` (it runs before widgets draw)."""
        for name, value in values.items():
            self[name] = value

    def seed_from_url(self) -> None:
        """Fill each setting from the URL (or its default) the first time the page runs in a session."""
        params = st.query_params
        for name, setting in self.settings.items():
            if self.key(name) not in st.session_state:
                raw = params.get(name)
                self[name] = setting.default if raw is None else setting.decode(raw)

    def sync_to_url(self) -> None:
        """Write the settings that differ from their defaults, the language and large type to the URL."""
        wanted = kept_params()
        for name, setting in self.settings.items():
            current = st.session_state.get(self.key(name), setting.default)
            if current != setting.default:
                wanted[name] = Setting.encode(current)
        if st.query_params.to_dict() != wanted:
            st.query_params.from_dict(wanted)

    def header(self) -> None:
        """The page's title and a one-line summary of what it teaches."""
        st.title(t(f"page.{self.name}.title"))
        st.caption(t(f"page.{self.name}.blurb"))

    def reset_button(self, where: Any = None) -> None:
        """A button that puts every setting of the page back to its default."""
        defaults = {name: s.default for name, s in self.settings.items()}
        (where or st).button(t("app.reset"), key=self.key("__reset"), on_click=self.apply, args=(defaults,))

    def try_it(self, presets: Sequence[Preset]) -> None:
        """The "try it" prompts: the first in plain view with its Load button, the others folded below."""
        if not presets:
            return
        first = presets[0]
        text_col, button_col = st.columns([5, 1], vertical_alignment="center")
        text_col.markdown("💡 " + t(first.text_key))
        button_col.button(t("app.load"), key=self.key("__try"), on_click=self.apply, args=(dict(first.values),))
        if len(presets) == 1:
            return
        with st.expander(f"{t('app.try_it')} ({len(presets) - 1})", icon="💡", expanded=False):
            for i, preset in enumerate(presets[1:], start=1):
                text_col, button_col = st.columns([4, 1], vertical_alignment="center")
                text_col.markdown(t(preset.text_key))
                button_col.button(t("app.load"), key=self.key(f"__preset{i}"), on_click=self.apply,
                                  args=(dict(preset.values),))


def fragment(func: Callable[..., Any] | None = None, *, run_every: float | None = None,
             key: str | None = None) -> Any:
    """``st.fragment`` for a page's part whose first argument is its ``Page``: after each run, the
    page's settings go to the URL (a fragment's rerun skips the page's own sync, and a shared link
    would go stale). Use as ``@ui.fragment`` or ``ui.fragment(part, run_every=...)(p, ...)``."""

    def wrap(part: Callable[..., Any]) -> Any:
        @functools.wraps(part)
        def synced(p: Page, *args: Any, **kwargs: Any) -> Any:
            try:
                return part(p, *args, **kwargs)
            finally:
                p.sync_to_url()
                _end_run(full=False)

        options = {"run_every": run_every}
        if key is not None:
            options["key"] = key
        return st.fragment(synced, **options)

    return wrap if func is None else wrap(func)


@contextmanager
def page(name: str, settings: Mapping[str, Setting] | None = None, *, header: bool = True) -> Iterator[Page]:
    """Run one page: seed its settings from the URL, draw its header, and sync the URL at the end (and
    keep the browser's cookies and saved work: ``app.identity``)."""
    leave_legacy_pages_mode()
    identity.start_session({name: name in _PERSONAL for name in _KEPT})
    current = Page(name, settings or {})
    current.seed_from_url()
    try:
        if header:
            current.header()
        yield current
    finally:
        current.sync_to_url()
        _end_run(full=True)


def share_caption(where: Any = None) -> None:
    """Tell the teacher that the URL carries the settings."""
    (where or st.sidebar).caption("🔗 " + t("app.share"))
