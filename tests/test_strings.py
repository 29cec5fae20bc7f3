"""The string table: both languages for every key, and no page uses a key the table lacks."""

import re
import string
from pathlib import Path

import pytest

from pages.strings import DEFAULT_LANGUAGE, LANGUAGES, STRINGS

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
APP_FILES = [*PAGES_DIR.glob("*.py"), PAGES_DIR.parent / "streamlit_app.py"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_default_language_is_traditional_chinese():
    assert DEFAULT_LANGUAGE == "zh"
    assert LANGUAGES["zh"] == "繁體中文"


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_key_exists_in_every_language(key):
    entry = STRINGS[key]
    missing = [code for code in LANGUAGES if not entry.get(code, "").strip()]
    assert not missing, f"{key} has no text in {missing}"
    assert set(entry) <= set(LANGUAGES), f"{key} has an unknown language"


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_both_languages_take_the_same_fields(key):
    entry = STRINGS[key]
    assert fields(entry["zh"]) == fields(entry["en"]), key


def test_every_key_a_page_asks_for_is_in_the_table():
    used = set()
    for path in APP_FILES:
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if key not in STRINGS)
    assert not missing, f"keys used by pages but missing from pages/strings.py: {missing}"


def test_no_chinese_text_inline_in_pages():
    offenders = [
        f"{path.name}:{n}"
        for path in APP_FILES
        if path.name != "strings.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CJK.search(line) and not line.lstrip().startswith("#")
    ]
    assert not offenders, f"visible text belongs in pages/strings.py: {offenders}"
