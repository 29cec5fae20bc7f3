"""Which language a first visit gets: the link's, else the browser's, else the course's (繁體中文)."""

from hypothesis import given
from hypothesis import strategies as st

from app.i18n import LANGUAGES, preferred_language


def test_an_english_browser_gets_english_and_a_chinese_one_chinese():
    assert preferred_language("en-US,en;q=0.9") == "en"
    assert preferred_language("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7") == "zh"
    assert preferred_language("en-GB;q=0.5,zh-Hant;q=0.8") == "zh"  # by weight, not by position


def test_a_browser_naming_neither_language_gets_no_preference():
    assert preferred_language("fr-FR,de;q=0.5") is None
    assert preferred_language("") is None
    assert preferred_language(None) is None
    assert preferred_language("en;q=0") is None  # q=0 means "not this one"


@given(st.text(max_size=60))
def test_any_header_gives_one_of_our_languages_or_none(header):
    assert preferred_language(header) in (*LANGUAGES, None)
