"""The vocabulary's rules, shared by tests/test_glossary.py (the string table) and tests/test_zh_scan.py
(the rendered pages): the glossary ``app/locales/glossary.toml``, what a student reads as prose, and
which English words a zh text may use.

A zh text may use an English word only where it is not prose: code (identifiers with ``_`` or ``.``,
camelCase, a word with a digit, a ``--flag``, a ``call(``, anything in `backticks`, and in the
export program's comments the names its code uses), a maths variable (x, W1, XW1), or one of the
glossary's ``[english_in_zh]`` words: the course notes' own technical words (each one checked to be
in the notes), a few the notes spell another way, library names and file formats.
"""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "app" / "locales" / "glossary.toml"
NOTES = ROOT.parent / "shared" / "seed" / "000_1bae66b48c03afbd.txt"

# A word as a student reads it: hyphenated words whole (one-hot, scikit-learn, UTF-8), and
# identifiers and file names whole (step_gradient, data.csv), so a part of one is not a word.
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*")
FIELD = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.]*(?:![rsa])?(?::[^{}]*)?\}")
VARIABLE = re.compile(r"[A-Za-z](?:[_0-9].*)?|(?:[A-Za-z]\d*)?(?:[A-Z]\d+)+")  # x, W1, x_k, XW1, H2W3
CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def glossary() -> dict:
    with GLOSSARY.open("rb") as file:
        return tomllib.load(file)


def prose(text: str) -> str:
    """What a student reads as words: no {fields}, code spans, link targets, HTML tags, LaTeX
    commands (keeping ``\\text{...}``'s words), Streamlit ``:icon:`` names or ``--flags``."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # markdown link targets
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\\(?:begin|end)\s*\{[^}]*\}", " ", text)
    text = re.sub(r"\\(?:text|mathrm|textrm|operatorname|mbox)\s*\{([^}]*)\}", r" \1 ", text)
    text = re.sub(r"\\[A-Za-z]+", " ", text)
    text = FIELD.sub(" ", text)  # after LaTeX, whose \\text{step} is not a {field}
    text = re.sub(r":(?:material/)?[a-z_]+:", " ", text)  # :material/refresh: and :red[...] colour names
    text = re.sub(r":[a-z]+\[", "[", text)
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)  # command-line flags: --data, -m
    text = re.sub(r"[A-Za-z_][\w.]*\([^()]*\)", " ", text)  # a call: run(), torch.load(weights_only=True)
    return text


def is_code(word: str) -> bool:
    """An identifier, a file name or a maths variable: not an English word."""
    return bool(
        VARIABLE.fullmatch(word)
        or re.search(r"[_.]", word)
        or re.search(r"\d", word)
        or re.search(r"[a-z][A-Z]", word)  # camelCase: totalError
        or word in ("True", "False", "None")
    )


def allowed_english() -> set[str]:
    """The glossary's English words a zh text may use, lower-cased."""
    groups = glossary()["english_in_zh"]
    return {w.lower() for name, words in groups.items() if name != "quoted_keys" for w in words}


def notes_words() -> set[str]:
    """Every Latin-script word of the course notes, lower-cased (split as a student reads them)."""
    return {w.lower() for w in re.findall(r"[A-Za-z]+", NOTES.read_text(encoding="utf-8"))}


@cache
def export_code_names() -> frozenset[str]:
    """The names the take-home programs' code uses (export/templates/*.py: identifiers, and
    one-word string values such as "moons"): a comment in those programs may name them."""
    names: set[str] = set()
    for path in sorted((ROOT / "export" / "templates").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME:
                names.add(tok.string)
            elif tok.type == tokenize.STRING and re.fullmatch(r"[rbf]?(['\"])[a-z_][a-z0-9_]*\1", tok.string):
                names.add(tok.string.strip("rbf'\""))
    return frozenset(names)


def export_comments() -> dict[str, dict[str, str]]:
    """The take-home programs' words (export/comments.toml), keyed ``export-comments:<key>``: a
    student reads them in the downloaded program, so they follow the glossary too."""
    path = ROOT / "export" / "comments.toml"
    if not path.exists():
        return {}
    found: dict[str, dict[str, str]] = {}

    def walk(table: dict, prefix: str) -> None:
        for name, value in table.items():
            if isinstance(value, dict) and set(value) & {"zh", "en"}:
                found[f"export-comments:{prefix}{name}"] = value
            elif isinstance(value, dict):
                walk(value, f"{prefix}{name}.")

    with path.open("rb") as file:
        walk(tomllib.load(file), "")
    return found


def english_in_zh(text: str, *, code_names: frozenset[str] = frozenset()) -> list[str]:
    """The English prose words of a zh text, outside the allow-list (in order, each once)."""
    allowed = allowed_english()
    found: list[str] = []
    for word in WORD.findall(prose(text)):
        if is_code(word) or word.lower() in allowed or word in code_names or word in found:
            continue
        found.append(word)
    return found


def forbidden_variants(text: str, lang: str) -> list[str]:
    """The glossary's forbidden variants that ``text`` (in ``lang``) uses, as "variant → term"."""
    body = prose(text)
    hits: list[str] = []
    for term in glossary()["term"]:
        kept = body
        for word in term.get(f"allow_{lang}", []):
            kept = kept.replace(word, " ")
        for variant in term.get(f"forbid_{lang}", []):
            found = (variant in kept) if lang == "zh" and CJK.search(variant) else bool(
                re.search(rf"(?<![\w.-]){re.escape(variant)}(?![\w-])", kept,
                          flags=0 if lang == "zh" else re.IGNORECASE))
            if found:
                hits.append(f"{variant} → {term[lang]}")
        for pattern in term.get(f"forbid_{lang}_regex", []):
            if re.search(pattern, kept):
                hits.append(f"/{pattern}/ → {term[lang]}")
        course = term.get("course")
        if lang == "zh" and course and course in kept and "講義" not in kept:
            hits.append(f"{course} without 講義 → {term['zh']}（講義：{course}）")
    return hits


def sentences(text: str) -> list[str]:
    """A zh text's sentences: split after 。！？ and at line breaks (a list item is its own sentence)."""
    return [s.strip() for s in re.split(r"(?<=[。！？])|\n", text) if s.strip()]


def reading_length(sentence: str) -> int:
    """How long a sentence reads: a Chinese character or punctuation mark counts 1, and so does a whole
    word, identifier, call, number, {field}, `code` span or $maths$ (a student reads each as one unit)."""
    text = re.sub(r"`[^`]*`|\$[^$]*\$|\{[^{}]*\}", "C", sentence)
    text = re.sub(r"[A-Za-z_][\w.]*(?:\([^()]*\))?", "W", text)
    text = re.sub(r"\d[\d,.]*", "D", text)
    return len(re.sub(r"[\s*#>-]", "", text))
