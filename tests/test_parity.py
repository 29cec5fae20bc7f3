"""zh and en say the same thing: for every key, both languages state the same numbers, name the same
methods (He, Xavier, Otsu, Adam, ...) and take the same {placeholders}. Each test lists every offender.

Numbers are compared as values (1,000 = 1000, 0.5 = .5 = 0.50, 1e-3 = 0.001, 6 萬 = 60k); a number one language
writes as a word ("ten", 十) counts as written. Digits inside a name (W1, idx3, t10k) are not numbers."""

from __future__ import annotations

import re
import string
from decimal import Decimal, InvalidOperation

from vocabulary import export_comments

from app.i18n import STRINGS

NUMBER = re.compile(r"(?<![A-Za-z_\d.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+−]?\d+)?(?![A-Za-z_\d])"
                    r"|(?<![A-Za-z_\d.])\.\d+(?![A-Za-z_\d])")
FIELD = re.compile(r"\{[^{}]*\}")
EN_WORDS = {"zero": 0, "one": 1, "once": 1, "single": 1, "first": 1, "two": 2, "twice": 2, "both": 2, "second": 2,
            "pair": 2, "double": 2, "three": 3, "third": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "hundred": 100, "thousand": 1000,
            "half": 0.5, "halves": 2}
ZH_DIGITS = {"零": 0, "一": 1, "兩": 2, "二": 2, "雙": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10, "百": 100, "千": 1000, "萬": 10000, "半": 0.5}
# Each named method or source: how zh and how en write it (regular expressions).
NAMES = {
    "He": (r"\bHe\b", r"\bHe\b"),
    "Xavier": (r"Xavier", r"Xavier"),
    "Kaiming": (r"Kaiming", r"Kaiming"),
    "Glorot": (r"Glorot", r"Glorot"),
    "Otsu": (r"Otsu|大津", r"Otsu"),
    "Adam": (r"\bAdam\b", r"\bAdam\b"),
    "RMSprop": (r"(?i)rmsprop", r"(?i)rmsprop"),
    "SGD": (r"(?i)\bsgd\b", r"(?i)\bsgd\b"),
    "ReLU": (r"(?i)relu", r"(?i)relu"),
    "sigmoid": (r"(?i)sigmoid", r"(?i)sigmoid"),
    "softmax": (r"(?i)softmax", r"(?i)softmax"),
    "tanh": (r"(?i)tanh|雙曲正切", r"(?i)tanh|hyperbolic tangent"),
    "MSE": (r"MSE|均方誤差", r"(?i)MSE|mean squared error|mean square error"),
    "cross-entropy": (r"交叉熵", r"(?i)cross.entropy"),
    "MNIST": (r"MNIST", r"MNIST"),
    "PyTorch": (r"(?i)PyTorch|\btorch|autograd|自動求導", r"(?i)PyTorch|\btorch|autograd"),
    "Gaussian": (r"高斯", r"(?i)gauss"),
    "least squares": (r"最小平方", r"(?i)least.squares"),
    "momentum": (r"動量", r"(?i)momentum"),
    "UNIPEN": (r"UNIPEN", r"UNIPEN"),
    "scikit-learn": (r"scikit-learn", r"scikit-learn"),
    "Nesterov": (r"Nesterov", r"Nesterov"),
}


def numbers(text: str) -> set[Decimal]:
    """The numbers a text states, as values (no {fields}, no digits inside names)."""
    found: set[Decimal] = set()
    text = FIELD.sub(" ", text)
    text = re.sub(r"(\d+)\s*萬", lambda m: str(int(m[1]) * 10000), text)  # 6 萬 = 60,000
    text = re.sub(r"(?<![A-Za-z_\d.])(\d+)k\b", lambda m: str(int(m[1]) * 1000), text)  # 60k = 60,000
    for raw in NUMBER.findall(text):
        try:
            found.add(Decimal(raw.replace(",", "").replace("−", "-")).normalize())
        except InvalidOperation:
            continue
    return found


def spelled(text: str, lang: str) -> set[Decimal]:
    """The numbers a text writes as words: English number words, or Chinese numerals."""
    if lang == "en":
        return {Decimal(str(v)).normalize() for w, v in EN_WORDS.items() if re.search(rf"(?i)\b{w}\b", text)}
    return {Decimal(str(v)).normalize() for c, v in ZH_DIGITS.items() if c in text}


def number_mismatch(zh: str, en: str) -> tuple[set, set]:
    """(numbers zh states that en does not, numbers en states that zh does not)."""
    nz, ne = numbers(zh), numbers(en)
    only_zh = {n for n in nz - ne if n not in spelled(en, "en")}
    only_en = {n for n in ne - nz if n not in spelled(zh, "zh")}
    return only_zh, only_en


def names_mismatch(zh: str, en: str) -> list[str]:
    zh, en = FIELD.sub(" ", zh), FIELD.sub(" ", en)
    return [name for name, (z, e) in NAMES.items() if bool(re.search(z, zh)) != bool(re.search(e, en))]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def texts() -> dict[str, dict[str, str]]:
    return {**STRINGS, **export_comments()}


def test_the_number_check_normalises_formats_and_accepts_spelled_numbers():
    assert numbers("1,000 步、0.5、.5、0.50、1e-3、W1、idx3、{x:.3f}") == {Decimal(1000), Decimal("0.5"), Decimal("0.001")}
    assert number_mismatch("放大 10 倍到 0.001", "Ten times the learning rate, 0.001") == (set(), set())
    assert number_mismatch("三層", "3 layers") == (set(), set())
    assert number_mismatch("6 萬張", "60k images") == (set(), set())
    assert number_mismatch("訓練 5 輪", "3 epochs") == ({Decimal(5)}, {Decimal(3)})
    assert names_mismatch("He 初始化", "Xavier initialisation") == ["He", "Xavier"]


def test_zh_and_en_state_the_same_numbers():
    offenders = []
    for key, entry in texts().items():
        only_zh, only_en = number_mismatch(entry.get("zh", ""), entry.get("en", ""))
        if only_zh or only_en:
            offenders.append(f"{key}: zh only {sorted(map(str, only_zh))}, en only {sorted(map(str, only_en))}")
    assert not offenders, "zh and en state different numbers:\n" + "\n".join(sorted(offenders))


def test_zh_and_en_name_the_same_methods():
    offenders = sorted(f"{key}: {names}" for key, entry in texts().items()
                       for names in [names_mismatch(entry.get("zh", ""), entry.get("en", ""))] if names)
    assert not offenders, "a method named in one language only:\n" + "\n".join(offenders)


def test_zh_and_en_take_the_same_placeholders():
    offenders = sorted(f"{key}: zh {sorted(fields(e.get('zh', '')))} en {sorted(fields(e.get('en', '')))}"
                       for key, e in texts().items() if fields(e.get("zh", "")) != fields(e.get("en", "")))
    assert not offenders, "zh and en take different {fields}:\n" + "\n".join(offenders)
