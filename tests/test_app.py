"""Every page renders in both languages; the language switch and the URL carry over; a caught error
is logged on the server and shown to students only in their words."""

import logging

import pytest
from conftest import APP, open_page
from streamlit.testing.v1 import AppTest

from app import ui
from app.i18n import STRINGS

# The draw page trains the class model on its first visit: that render is a slow test.
PAGE_PATHS = [pytest.param(s.path, marks=pytest.mark.slow) if s.name == "draw" else s.path for s in ui.PAGES]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", PAGE_PATHS)
def test_page_renders_without_exception(path, lang):
    at = open_page(path, lang=lang, timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    spec = next(s for s in ui.PAGES if s.path == path)
    title = STRINGS["app.title" if spec is ui.HOME else f"page.{spec.name}.title"][lang]
    assert title in [el.value for el in at.title], f"{path} did not show its {lang} title"


def test_default_language_is_chinese_and_lands_in_the_url():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == STRINGS["app.title"]["zh"]
    assert at.query_params.get("lang") == "zh"


def test_switching_language_changes_the_visible_text():
    at = open_page("pages/home.py", lang="zh")
    before = [m.value for m in at.markdown]
    at.sidebar.radio(key=ui.LANG_KEY).set_value("en").run()
    assert at.title[0].value == STRINGS["app.title"]["en"]
    after = [m.value for m in at.markdown]
    assert STRINGS["home.intro"]["en"] in after and STRINGS["home.intro"]["zh"] in before
    assert at.query_params.get("lang") == "en"


def test_language_survives_a_page_change():
    at = open_page("pages/home.py", lang="en")
    at.switch_page("pages/descent.py").run()
    assert STRINGS["page.descent.title"]["en"] in [el.value for el in at.title]


def test_a_bad_language_in_the_url_falls_back_to_the_default():
    at = open_page("pages/home.py", lang="xx")
    assert not at.exception
    assert at.title[0].value == STRINGS["app.title"]["zh"]


def test_home_links_to_every_lesson():
    at = open_page("pages/home.py")
    links = [el.proto.page for el in at.get("page_link")]
    for spec in ui.LESSONS:
        assert any(spec.url_path in link or spec.path in link for link in links), spec.path


def _failing_section():
    import streamlit as st

    from app import ui

    with ui.page("demo", header=False):
        with ui.caught():
            raise ValueError("secret detail /srv/app/path")
        st.write("the rest of the page still runs")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_caught_error_is_logged_and_shown_only_in_the_students_words(lang, caplog):
    at = AppTest.from_function(_failing_section)
    at.query_params["lang"] = lang
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [STRINGS["app.error_generic"][lang]]
    assert "the rest of the page still runs" in [m.value for m in at.markdown]
    logged = [r for r in caplog.records if r.name == "app.errors"]
    assert logged and logged[0].exc_info[0] is ValueError, "the server log keeps the exception and its traceback"
