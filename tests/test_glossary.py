"""One vocabulary (app/locales/glossary.toml), checked over the whole string table: no string uses a
variant the glossary forbids, a course-notes word appears only as a gloss beside 講義, and a zh string
uses no English prose word beyond the course's own technical words. Each test lists every offender."""

from __future__ import annotations

import pytest
from vocabulary import (
    NOTES,
    allowed_english,
    english_in_zh,
    export_code_names,
    export_comments,
    forbidden_variants,
    glossary,
    notes_words,
    reading_length,
    sentences,
)

from app.i18n import LANGUAGES, STRINGS, key_files, load_strings


def test_every_glossary_term_names_the_concept_in_both_languages():
    terms = glossary()["term"]
    bad = [t.get("concept") for t in terms if not (t.get("concept") and t.get("zh") and t.get("en"))]
    assert not bad, f"glossary terms without a concept, zh or en: {bad}"
    concepts = [t["concept"] for t in terms]
    assert len(concepts) == len(set(concepts)), "a concept is in the glossary twice"
    for term in terms:  # a term's own word is never among its forbidden variants
        for lang in LANGUAGES:
            assert term[lang] not in term.get(f"forbid_{lang}", []), term["concept"]


def test_the_glossary_is_not_part_of_the_string_table():
    assert "glossary.toml" not in set(key_files().values())
    assert not any(key.startswith(("term.", "english_in_zh.")) for key in load_strings())


def test_the_allow_list_holds_no_prose_word():
    # Words the notes use only in their code or as an English heading are prose in a zh sentence.
    allowed = allowed_english()
    assert not allowed & {"error", "epoch", "one-hot", "nutshell", "app", "logistic", "step", "iteration", "line",
                          "regression", "classification", "gradient", "descent", "data", "points", "model"}


def test_the_course_words_allowed_in_zh_are_the_course_notes_own():
    if not NOTES.exists():
        pytest.skip(f"{NOTES} is absent: the course's shared data is not beside this checkout")
    notes = notes_words()
    course = glossary()["english_in_zh"]["course"]
    assert not [w for w in course if w.lower() not in notes], "a 'course' word the notes do not use"
    for term in glossary()["term"]:  # a course term is the notes' word
        if "course" in term and term["course"] not in NOTES.read_text(encoding="utf-8"):
            raise AssertionError(f"{term['concept']}: {term['course']} is not in the course notes")


def test_the_scan_finds_english_prose_but_not_code_maths_or_course_words():
    text = ("學習率 lr 與 loss，每個 epoch；`F.mse_loss(pred, Y)` 和 {error_at} 和 data.csv、"
            "XW1、W1、x_k、totalError、--data、one-hot 標籤、重新啟動 app")
    assert english_in_zh(text) == ["epoch", "one-hot", "app"]


def test_the_variant_check_finds_a_forbidden_word_and_an_unglossed_course_word():
    assert forbidden_variants("最小二乘法的解", "zh") == ["最小二乘 → 最小平方法"]
    assert forbidden_variants("把資料夾打開", "zh") == []
    assert forbidden_variants("兩個月亮和 異或 固定", "zh")
    assert not forbidden_variants("兩個月亮和異或固定；XOR 是 `xor`", "zh")
    assert forbidden_variants("學習速度", "zh") and not forbidden_variants("學習率（講義：學習速度）", "zh")
    assert forbidden_variants("the Optimizer", "en") and not forbidden_variants("`torch.optim` optimizer_x", "en")


def texts() -> dict[str, dict[str, str]]:
    """Every text a student reads: the string table, and the take-home programs' comments."""
    return {**STRINGS, **export_comments()}


def test_no_string_uses_a_forbidden_variant():
    offenders = sorted(f"{key} [{lang}]: {hit}" for key, entry in texts().items() for lang in LANGUAGES
                       for hit in forbidden_variants(entry.get(lang, ""), lang))
    assert not offenders, "glossary variants (use the glossary's term):\n" + "\n".join(offenders)


def test_no_zh_string_uses_english_prose_words():
    quoted = set(glossary()["english_in_zh"]["quoted_keys"])
    names = export_code_names()
    offenders = sorted(
        f"{key}: {words}" for key, entry in texts().items() if key not in quoted
        for words in [english_in_zh(entry.get("zh", ""), code_names=names if key.startswith("export-comments:") else frozenset())]
        if words
    )
    assert not offenders, "English prose in zh (say it in Chinese, or put code in `backticks`):\n" + "\n".join(offenders)


# About 60 characters is as long as a sentence for a 15-20-year-old should get; longer, a list will do.
LONGEST_SENTENCE = 60


def test_the_reading_length_counts_a_word_or_a_formula_as_one():
    assert reading_length("學習率 lr 與 `F.mse_loss(pred, Y)` 和 {x:.3f}") == 3 + 1 + 1 + 1 + 1 + 1
    assert sentences("一。二！\n- 三") == ["一。", "二！", "- 三"]


def test_no_zh_sentence_is_too_long():
    quoted = set(glossary()["english_in_zh"]["quoted_keys"])
    offenders = sorted(f"{key} ({reading_length(s)}): {s}" for key, entry in texts().items() if key not in quoted
                       for s in sentences(entry.get("zh", "")) if reading_length(s) > LONGEST_SENTENCE)
    assert not offenders, f"zh sentences over {LONGEST_SENTENCE} (split them, or make a list):\n" + "\n".join(offenders)
