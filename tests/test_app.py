"""Every page renders in both languages with schema-valid charts, and keeps its URL in step with its
settings; the language switch and the URL carry over; a caught error is logged on the server and
shown to students only in their words."""

import functools
import json
import logging

import pytest
import streamlit as st
from conftest import APP, assert_valid_vega_lite, open_page, vega_lite_specs
from streamlit.testing.v1 import AppTest

from app import state, ui
from app.i18n import STRINGS
from app.registry import PAGES

slow = pytest.mark.slow  # more whole-app runs in AppTest: left out of make test-fast


# ------------------------------------------------------------------ every page, in the fast lane


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_every_page_renders_with_schema_valid_charts(offline_mnist, spec, lang):
    at = open_page(spec.path, lang=lang, timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    title = STRINGS["app.title" if spec.name == "home" else f"page.{spec.name}.title"][lang]
    assert title in [el.value for el in at.title], f"{spec.path} did not show its {lang} title"
    for chart in vega_lite_specs(at):
        assert_valid_vega_lite(chart)  # raises, naming the path in the spec, on anything the schema refuses


@pytest.fixture
def fragment_runs_only(monkeypatch):
    """Every run of the page as a fragment's own rerun leaves the URL: the page's sync at the end is
    skipped, so a setting reaches the URL only if a fragment writes it (what ``ui.fragment`` does and a
    bare ``st.fragment`` forgets). Returns the settings read inside fragments: widget key -> (name, Setting)."""
    depth = [0]
    read = {}
    real_fragment, real_sync, real_key = st.fragment, state.Page.sync_to_url, state.Page.key

    def fragment(func=None, **options):
        def wrap(body):
            @functools.wraps(body)
            def counted(*args, **kwargs):
                depth[0] += 1
                try:
                    return body(*args, **kwargs)
                finally:
                    depth[0] -= 1

            return real_fragment(counted, **options)

        return wrap if func is None else wrap(func)

    def sync_to_url(page):
        if depth[0]:
            real_sync(page)

    def key(page, name):
        widget_key = real_key(page, name)
        if depth[0] and name in page.settings:
            read.setdefault(widget_key, (name, page.settings[name]))
        return widget_key

    monkeypatch.setattr(st, "fragment", fragment)
    monkeypatch.setattr(state.Page, "sync_to_url", sync_to_url)
    monkeypatch.setattr(state.Page, "key", key)
    return read


SETTING_WIDGETS = ("slider", "select_slider", "selectbox", "radio", "button_group", "multiselect", "toggle",
                   "checkbox", "number_input")


def find_widget(at, key):
    return next((w for kind in SETTING_WIDGETS for w in at.get(kind) if w.key == key), None)


def offered(widget, option) -> bool:
    """Whether ``widget`` shows ``option`` now (a page may offer only some of a setting's options)."""
    try:
        return str(widget.format_func(option)) in widget.options
    except (KeyError, ValueError, TypeError, AttributeError):
        return False


def another_value(widget, setting):
    """A value other than the widget's current one that the widget offers, or None if none can be told."""
    current = widget.value
    if isinstance(current, bool):
        return not current
    if setting.options is not None:
        if isinstance(current, (list, tuple)):
            return type(current)([*current[1:]]) if current else type(current)(setting.options[:1])
        return next((option for option in setting.options if option != current and offered(widget, option)), None)
    if widget.type in ("slider", "number_input") and isinstance(current, (int, float)):
        step = widget.proto.step or 1
        up = type(current)(current + step)
        top = widget.proto.max if widget.type == "slider" or widget.proto.has_max else None
        return up if top is None or up <= top else type(current)(current - step)
    return None


@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_a_setting_moved_inside_a_fragment_reaches_the_url(offline_mnist, fragment_runs_only, spec):
    """A shared link must carry what the student set, even when only a fragment reran."""
    at = open_page(spec.path, lang="en", timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    movable = [(key, name, setting, widget) for key, (name, setting) in fragment_runs_only.items()
               if (widget := find_widget(at, key)) is not None and another_value(widget, setting) is not None]
    if not movable:
        pytest.skip(f"{spec.path} reads no setting with a widget inside a fragment")
    key, name, setting, widget = movable[0]
    before = dict(at.query_params)
    value = another_value(widget, setting)
    widget.set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    after = dict(at.query_params)
    assert after != before and name in after, f"{spec.path}: moving {key} to {value!r} left the URL at {after}"


# ------------------------------------------------------------------ language and URL


@slow
def test_default_language_is_chinese_and_lands_in_the_url():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == STRINGS["app.title"]["zh"]
    assert at.query_params.get("lang") == "zh"


@slow
def test_switching_language_changes_the_visible_text():
    at = open_page("pages/home.py", lang="zh")
    before = [m.value for m in at.markdown]
    at.sidebar.radio(key=ui.LANG_KEY).set_value("en").run()
    assert at.title[0].value == STRINGS["app.title"]["en"]
    after = [m.value for m in at.markdown]
    assert STRINGS["home.intro"]["en"] in after and STRINGS["home.intro"]["zh"] in before
    assert at.query_params.get("lang") == "en"


# Pages with a radio, selectbox or multiselect whose options are labelled in the language.
LABELLED_PAGES = ["pages/classification.py", "pages/regression.py", "pages/descent.py", "pages/mnist_network.py"]


@slow
@pytest.mark.parametrize("path", LABELLED_PAGES)
def test_switching_language_re_sends_every_choice_labelled_in_the_new_language(path):
    """A radio, selectbox or multiselect tells the browser its value by the option's label: after a
    switch the browser held the old language's label, matching no option (a radio showed nothing
    selected, a selectbox the old label). Each must be re-sent, as a label of the new options."""
    at = open_page(path, lang="zh")
    at.sidebar.radio(key=ui.LANG_KEY).set_value("en").run()
    assert not at.exception
    stale = []
    for kind in ("radio", "selectbox"):
        for widget in at.main.get(kind):
            proto = widget.proto
            if not (proto.set_value and proto.raw_value in proto.options):
                stale.append(f"{kind} {proto.label!r}: {proto.raw_value!r} not re-sent among {list(proto.options)}")
    for widget in at.main.get("multiselect"):
        proto = widget.proto
        if not (proto.set_value and set(proto.raw_values) <= set(proto.options)):
            stale.append(f"multiselect {proto.label!r}: {list(proto.raw_values)} not re-sent among {list(proto.options)}")
    assert at.main.get("radio") or at.main.get("selectbox") or at.main.get("multiselect"), "no labelled choice on the page"
    assert not stale, stale


@slow
def test_language_survives_a_page_change():
    at = open_page("pages/home.py", lang="en")
    at.switch_page("pages/descent.py").run()
    assert STRINGS["page.descent.title"]["en"] in [el.value for el in at.title]


@slow
def test_a_bad_language_in_the_url_falls_back_to_the_default():
    at = open_page("pages/home.py", lang="xx")
    assert not at.exception
    assert at.title[0].value == STRINGS["app.title"]["zh"]


@slow
def test_large_type_is_kept_in_the_url_and_enlarges_the_charts():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"lang": "en", "large": "1"})  # a shared link, as the class opens it
    at.run().switch_page("pages/noise.py").run()
    assert not at.exception
    assert at.sidebar.toggle(key="large").value is True
    assert at.query_params.get("large") == "1", "a shared link keeps the projector's large type"
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert specs and all(spec["config"]["axis"]["labelFontSize"] >= 16 for spec in specs)
    at.sidebar.toggle(key="large").set_value(False).run()
    assert "large" not in at.query_params
    assert all("labelFontSize" not in json.loads(c.proto.spec).get("config", {}).get("axis", {})
               for c in at.get("vega_lite_chart"))


@slow
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


@slow
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
