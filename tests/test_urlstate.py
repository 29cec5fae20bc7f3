"""Shareable settings: encode/decode round-trips, hostile URL values are tamed, and AppTest restores them."""

import math

import pytest
from streamlit.testing.v1 import AppTest

from lessons.settings import Setting


@pytest.mark.parametrize(
    "setting, value",
    [
        (Setting(0.1, 1e-5, 10.0), 0.0123456789),
        (Setting(50, 1, 500), 321),
        (Setting(True), False),
        (Setting("sgd", options=("sgd", "adam")), "adam"),
        (Setting(("sgd",), options=("sgd", "adam", "rmsprop")), ("adam", "rmsprop")),
    ],
)
def test_round_trip(setting, value):
    assert setting.decode(Setting.encode(value)) == value


@pytest.mark.parametrize(
    "setting, raw, expected",
    [
        (Setting(0.1, 1e-5, 10.0), "abc", 0.1),
        (Setting(0.1, 1e-5, 10.0), "nan", 0.1),
        (Setting(0.1, 1e-5, 10.0), "inf", 0.1),
        (Setting(0.1, 1e-5, 10.0), "1e300", 10.0),
        (Setting(50, 1, 500), "-7", 1),
        (Setting(50, 1, 500), "12.9", 12),
        (Setting("sgd", options=("sgd", "adam")), "rm -rf", "sgd"),
        (Setting(("sgd",), options=("sgd", "adam")), "adam,evil", ("adam",)),
    ],
)
def test_hostile_values_fall_back_or_clamp(setting, raw, expected):
    got = setting.decode(raw)
    assert got == expected and (not isinstance(got, float) or math.isfinite(got))


def _script():
    import streamlit as st

    from app import ui

    settings = {
        "lr": ui.Setting(0.1, 1e-4, 1.0),
        "steps": ui.Setting(20, 1, 200),
        "solver": ui.Setting("sgd", options=("sgd", "adam")),
    }
    with ui.page("demo", settings, header=False) as p:
        st.slider("lr", 1e-4, 1.0, key=p.key("lr"))
        st.slider("steps", 1, 200, key=p.key("steps"))
        st.selectbox("solver", ("sgd", "adam"), key=p.key("solver"))
        st.write(f"steps={p['steps']}")
        if p["steps"] == 13:
            raise RuntimeError("a page that fails half-way")


def test_settings_are_restored_from_the_url():
    at = AppTest.from_function(_script)
    at.query_params.update({"lr": "0.25", "steps": "77", "solver": "adam", "lang": "en"})
    at.run()
    assert at.slider[0].value == pytest.approx(0.25)
    assert at.slider[1].value == 77
    assert at.selectbox[0].value == "adam"


def test_moving_a_widget_writes_the_url_and_a_new_session_reads_it_back():
    at = AppTest.from_function(_script).run()
    assert set(at.query_params) == {"lang"}, "defaults are not written to the URL"
    at.slider[1].set_value(42).run()
    at.selectbox[0].set_value("adam").run()
    shared = dict(at.query_params)
    assert shared["steps"] == "42" and shared["solver"] == "adam"

    student = AppTest.from_function(_script)
    student.query_params.update(shared)
    student.run()
    assert student.slider[1].value == 42 and student.selectbox[0].value == "adam"


def test_the_url_is_synced_even_when_the_page_fails_half_way():
    at = AppTest.from_function(_script).run()
    at.slider[1].set_value(13).run()
    assert at.exception, "the page's own error is not swallowed by ui.page"
    assert at.query_params.get("steps") == "13"


def test_a_page_reads_its_settings_through_the_protocol():
    at = AppTest.from_function(_script)
    at.query_params.update({"steps": "5000"})
    at.run()
    assert "steps=200" in [m.value for m in at.markdown], "a URL value past the range is clamped before the page reads it"
