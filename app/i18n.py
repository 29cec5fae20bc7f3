"""Language: the string table in ``app/locales/*.toml``, the current language, ``t()`` and the switch.

Each locale file holds one table per key with its ``zh`` and ``en`` text (``[descent.title]``).
Every ``*.toml`` in the folder is merged, so a topic can add its own file; a key defined twice
is an error, not a silent override. ``glossary.toml`` is the vocabulary, not strings: it is skipped.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import streamlit as st

LANGUAGES = {"zh": "繁體中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
LANG_KEY = "lang"
HTML_LANG = {"zh": "zh-Hant", "en": "en"}  # <html lang>: a screen reader picks its voice by it
LOCALES = Path(__file__).resolve().parent / "locales"
# The vocabulary the strings must use (checked by tests/test_glossary.py), not strings to show.
GLOSSARY = "glossary.toml"


class LocaleError(ValueError):
    """A locale file that breaks the table's rules (a key twice, or a table that is not zh/en text)."""


def _entries(table: dict[str, Any], prefix: str, origin: str):
    """The (key, {language: text}) pairs of one parsed locale file."""
    for name, value in table.items():
        key = f"{prefix}{name}"
        if not isinstance(value, dict):
            raise LocaleError(f"{origin}: {key} is not a table of languages")
        if set(value) & set(LANGUAGES):
            # A key is a leaf: only language texts, so no key is both a text and a group of keys.
            if not set(value) <= set(LANGUAGES) or not all(isinstance(v, str) for v in value.values()):
                raise LocaleError(f"{origin}: [{key}] may hold only {sorted(LANGUAGES)} texts")
            yield key, value
        else:
            yield from _entries(value, f"{key}.", origin)


def _read(folder: Path):
    """(key, {language: text}, file name) for every key of every ``*.toml`` in ``folder``."""
    for path in sorted(folder.glob("*.toml")):
        if path.name == GLOSSARY:
            continue
        with path.open("rb") as file:
            table = tomllib.load(file)
        for key, entry in _entries(table, "", path.name):
            yield key, entry, path.name


def load_strings(folder: Path = LOCALES) -> dict[str, dict[str, str]]:
    """Every key of every ``*.toml`` in ``folder``, as ``{key: {"zh": ..., "en": ...}}``."""
    strings: dict[str, dict[str, str]] = {}
    origins: dict[str, str] = {}
    for key, entry, origin in _read(folder):
        if key in strings:
            raise LocaleError(f"{key} is defined in both {origins[key]} and {origin}")
        strings[key], origins[key] = entry, origin
    return strings


def key_files(folder: Path = LOCALES) -> dict[str, str]:
    """Which file of ``folder`` defines each key (for the string table's tests)."""
    return {key: origin for key, _, origin in _read(folder)}


STRINGS = load_strings()

# The session-state keys of the widgets that hold a page setting (filled by ``app.state``).
# A radio, selectbox or multiselect sends the browser its value as the *label* of the chosen
# option; after a language switch the browser still holds the old language's label, which
# is not among the new options, so a radio shows nothing selected and a selectbox or
# multiselect shows the stale label. Writing each value back to session state when the
# language changes makes Streamlit send the value again, labelled in the new language.
SETTING_KEYS: set[str] = set()


def _relabel_settings() -> None:
    """The language switch's callback: re-send every setting's value in the new language."""
    for key in SETTING_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def preferred_language(accept_language: str | None) -> str | None:
    """The first of our languages in a browser's ``Accept-Language`` header, by its ``q`` order;
    None when it names neither (then the course's own language is the default)."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        try:
            weight = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and weight > 0:
            ranked.append((-weight, position, code))
    return min(ranked)[2] if ranked else None


def _browser_language() -> str | None:
    try:
        return preferred_language(st.context.headers.get("Accept-Language"))
    except Exception:  # noqa: BLE001 - no browser behind this run (a bare script or a test harness)
        return None


def lang() -> str:
    """The current language code: the session's choice, else the URL's, else the browser's, else the default."""
    chosen = st.session_state.get(LANG_KEY)
    if chosen in LANGUAGES:
        return chosen
    from_url = st.query_params.get(LANG_KEY)
    if from_url in LANGUAGES:
        return from_url
    return _browser_language() or DEFAULT_LANGUAGE


def mark_page_language() -> None:
    """Set ``<html lang>`` to the page's language, so a screen reader reads Chinese with a Chinese voice."""
    st.sidebar.html(f"<script>document.documentElement.lang = {HTML_LANG[lang()]!r};</script>",
                    unsafe_allow_javascript=True)


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


def choose_placeholder() -> str:
    """A multiselect's placeholder in the student's language (Streamlit's own says "Choose options")."""
    return t("app.choose")


def language_switch() -> None:
    """The sidebar's language selector. Its value is kept in the session and the URL."""
    # Seeded through ``index``, never st.session_state: on a page switch Streamlit remounts the
    # sidebar's widgets at their ``index``, so a session-set "en" fell back to zh on a sidebar click.
    st.sidebar.radio(
        t("app.language"),
        options=list(LANGUAGES),
        index=list(LANGUAGES).index(lang()),
        format_func=LANGUAGES.__getitem__,
        key=LANG_KEY,
        horizontal=True,
        on_change=_relabel_settings,
    )
