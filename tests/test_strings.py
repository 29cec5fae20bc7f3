"""The string table (app/locales/*.toml), checked table-wide: each test lists every offender at once."""

import ast
import re
import string
from pathlib import Path

import pytest

import export
from app import registry
from app.i18n import (
    LANGUAGES,
    STRINGS,
    LocaleError,
    load_strings,
)
from classroom import classboard
from lessons import augment, canvas, handwriting, mlp, mnist, regression
from lessons import classification as lc
from lessons import descent as gd
from lessons import network as nw

ROOT = Path(__file__).resolve().parent.parent
CODE = [*ROOT.glob("pages/*.py"), *ROOT.glob("app/**/*.py"), ROOT / "streamlit_app.py"]
CJK = re.compile(r"[\u4e00-\u9fff]")
KEY = re.compile(r"[a-z_]+(\.[a-z0-9_]+)+")

# The keys the code builds with f-strings: each template (its f-string with the fields as {})
# and every value its field takes. A new f-string key must be declared here.
BUILT_KEYS = {
    "page.{}.title": [s.name for s in registry.PAGES],
    "page.{}.blurb": [s.name for s in registry.LESSONS],
    "descent.solver.{}": gd.SOLVERS,
    "descent.v.{}": [gd.CONVERGED, gd.STUCK, gd.OSCILLATING, gd.APPROACHING, gd.STALLED, gd.WANDERING, gd.DIVERGED],
    "descent.col.{}": ["step", "x", "grad", "lr_grad", "velocity", "square_avg", "m_hat", "v_hat", "delta", "new_x",
                       "hand", "autograd", "difference"],
    "regression.data_{}": ["example", "upload"],
    "regression.err.{}": list(regression.ERROR_MESSAGES),
    "classboard.err.{}": list(classboard.ERROR_MESSAGES),
    "export.err.{}": list(export.ERROR_MESSAGES),
    "export.run.{}": export.PAGES,
    "mnist.problem.{}": list(mnist.PROBLEMS),
    "classification.loss_{}": lc.LOSSES,
    "classification.axis_{}": ["loss", "accuracy"],
    "classification.data_{}": lc.DATASETS,
    "classification.model_{}": ["logistic", "softmax"],
    "classification.{}": [*lc.FIT_NOTES, *lc.COMPARE_NOTES],
    "mnist.net.{}": nw.VANISHING_NOTES,
    "mnist.data.split_{}": ["train", "test"],
    "mnist.net.act_{}": nw.ACTIVATIONS,
    "mnist.net.between_{}": ["none", *nw.ACTIVATIONS],
    "mnist.train.loss_{}": mlp.LOSSES,
    "mnist.train.opt_{}": mlp.OPTIMIZERS,
    "mnist.train.schedule_{}": ["none" if s is None else s for s in mlp.SCHEDULES],
    "draw.err.{}": canvas.IMAGE_ERRORS,
    "draw.model.{}": canvas.READERS,
    "draw.model_problem.{}": canvas.READER_PROBLEMS,
    "draw.source.{}": canvas.SOURCES,
    "draw.step_{}": canvas.Steps._fields,
    "handwriting.err.{}": handwriting.SET_PROBLEMS,
    "handwriting.kind.{}": augment.KINDS,
    "handwriting.model.{}": handwriting.COMPARED,
    "handwriting.unit.{}": sorted({d.unit for d in augment.DISTORTIONS.values()}),
    "handwriting.variant.{}": handwriting.VARIANTS,
}
BUILT = {template.format(value) for template, values in BUILT_KEYS.items() for value in values}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def trees():
    for path in CODE:
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def template(node: ast.JoinedStr) -> str:
    """An f-string as a template: its literal parts, each field as {}."""
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def key_templates() -> set[str]:
    """The template of every f-string in the code that starts like a key of the table."""
    namespaces = {key.split(".")[0] for key in STRINGS}
    return {
        template(node) for _, tree in trees() for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr) and KEY.match(template(node).split("{")[0] + "x")
        and template(node).split(".")[0] in namespaces
    }


def literal_keys() -> set[str]:
    """Every plain string constant in the code that is shaped like a key, minus session-state keys
    (module constants in CAPITALS and private ``__`` widget keys)."""
    found: set[str] = set()
    for _, tree in trees():
        skip = {id(node.value) for node in tree.body if isinstance(node, ast.Assign)
                and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)}
        skip |= {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        found |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and id(node) not in skip
                  and isinstance(node.value, str) and KEY.fullmatch(node.value) and "__" not in node.value}
    return found


def test_every_key_has_text_in_every_language():
    missing = sorted(f"{key} [{code}]" for key, entry in STRINGS.items() for code in LANGUAGES if not entry.get(code, "").strip())
    assert not missing, f"keys without text: {missing}"


def test_both_languages_take_the_same_placeholders():
    # A missing text is named by test_every_key_has_text_in_every_language; here it is only a mismatch.
    mismatched = sorted(f"{key}: zh {sorted(fields(entry.get('zh', '')))} en {sorted(fields(entry.get('en', '')))}"
                        for key, entry in STRINGS.items() if fields(entry.get("zh", "")) != fields(entry.get("en", "")))
    assert not mismatched, f"zh and en disagree on their {{fields}}: {mismatched}"


def test_every_key_the_code_asks_for_exists():
    namespaces = {key.split(".")[0] for key in STRINGS}
    used = {key for key in literal_keys() if key.split(".")[0] in namespaces}
    missing = sorted(key for key in used | BUILT if key not in STRINGS)
    undeclared = sorted(key_templates() - set(BUILT_KEYS))
    assert not missing, f"keys the code uses but app/locales lacks: {missing}"
    assert not undeclared, f"f-string keys not declared in BUILT_KEYS: {undeclared}"


def test_no_key_is_unused():
    unused = sorted(set(STRINGS) - literal_keys() - BUILT)
    assert not unused, f"keys no code uses (delete them, or declare how they are built in BUILT_KEYS): {unused}"


def test_no_chinese_text_inline_in_the_code():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in CODE
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CJK.search(line) and not line.lstrip().startswith("#") and "LANGUAGES = " not in line
    ]
    assert not offenders, f"visible text belongs in app/locales/: {offenders}"


def test_the_course_vocabulary_is_used():
    """The course says 數據, 網絡, 噪聲, 概率 (not 資料, 網路 for a network, 雜訊, 機率); 資料夾 (a
    folder), 資料庫 (a database) and 網際網路 (the internet) are other words. The whole vocabulary is
    app/locales/glossary.toml, checked by tests/test_glossary.py."""
    words = {"資料": "數據", "雜訊": "噪聲", "機率": "概率", "網路": "網絡"}
    others = ("資料夾", "資料庫", "網際網路")

    def zh(entry: dict) -> str:
        text = entry.get("zh", "")
        for word in others:
            text = text.replace(word, " ")
        return text

    offenders = sorted(f"{key}: {old} → {new}" for key, entry in STRINGS.items() for old, new in words.items()
                       if old in zh(entry))
    assert not offenders, offenders


def test_all_locale_files_are_merged_and_a_key_defined_twice_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('[x.title]\nzh = "甲"\nen = "A"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text("[x.body]\nzh = '''\n多行\n'''\nen = '''\nmany lines\n'''\n", encoding="utf-8")
    assert load_strings(tmp_path) == {"x.title": {"zh": "甲", "en": "A"}, "x.body": {"zh": "多行\n", "en": "many lines\n"}}
    (tmp_path / "c.toml").write_text('[x.title]\nzh = "乙"\nen = "B"\n', encoding="utf-8")
    with pytest.raises(LocaleError, match="x.title"):
        load_strings(tmp_path)


def test_a_table_that_is_not_language_texts_is_refused(tmp_path):
    (tmp_path / "a.toml").write_text('[x.title]\nzh = "甲"\nen = "A"\nfr = "A"\n', encoding="utf-8")
    with pytest.raises(LocaleError, match="x.title"):
        load_strings(tmp_path)


@pytest.mark.parametrize("check", [test_every_key_has_text_in_every_language, test_both_languages_take_the_same_placeholders,
                                   test_the_course_vocabulary_is_used])
def test_a_key_without_one_language_is_named_not_a_crash(check, monkeypatch):
    """A key with no zh text fails the checks that need both languages by name, and crashes none."""
    monkeypatch.setitem(STRINGS, "x.only_english", {"en": "English only {n}"})
    named = check is not test_the_course_vocabulary_is_used  # an absent text uses no wrong word
    try:
        check()
    except AssertionError as failure:
        assert named and "x.only_english" in str(failure), failure
    else:
        assert not named, "a key without zh text passed"
