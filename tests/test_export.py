"""Take it home: the programs export/ writes are run for real, in a fresh Python process in a
temporary folder, and their figures compared with what lessons/ computes for the same settings
(which is what the pages show). The templates themselves are checked as the programs they are."""

from __future__ import annotations

import ast
import gzip
import io
import json
import math
import os
import py_compile
import random
import re
import string
import subprocess
import sys
import tokenize
from dataclasses import replace
from pathlib import Path

import hypothesis
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from vocabulary import english_in_zh, export_code_names, forbidden_variants

import export
from app import take_home
from app.i18n import STRINGS
from lessons import classification as lc
from lessons import descent as gd
from lessons import recipes
from lessons import regression as rg
from lessons.mnist import FILES as MNIST_FILES

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ALLOWED_IMPORTS = {"numpy", "torch", "torchvision", "pandas"} | set(sys.stdlib_module_names)
TEMPLATES = sorted(export.TEMPLATES.glob("*.py"))
TIMEOUT = 600
# One process runs several programs in turn (each as __main__, with its own argv and working
# folder), so the suite pays for importing torch once per batch rather than once per program.
BATCH_RUNNER = """
import contextlib, io, json, os, runpy, sys
jobs, results = json.load(sys.stdin), []
for job in jobs:
    os.chdir(job["cwd"])
    sys.argv = [job["path"], *job["args"]]
    out, code = io.StringIO(), 0
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(job["path"], run_name="__main__")
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
            print(stop.code, file=sys.stderr)
    results.append({"stdout": out.getvalue(), "code": code})
sys.__stdout__.write(json.dumps(results))
"""


# ------------------------------------------------------------------------------ helpers


def page_settings(page: str) -> dict:
    """The settings table the page hands ``ui.page(PAGE, …)``, read without running the page: its
    imports and top-level definitions are executed, then that argument; the page's body never is."""
    path = ROOT / "pages" / f"{page}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kept = [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.ClassDef))]
    table = next(item.context_expr.args[1] for node in tree.body if isinstance(node, ast.With) for item in node.items
                 if isinstance(item.context_expr, ast.Call) and ast.unparse(item.context_expr.func) == "ui.page")
    namespace: dict = {"__name__": f"probe_{page}", "__file__": str(path)}
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102 - our own page
    return eval(compile(ast.Expression(table), str(path), "eval"), namespace)


def write(tmp: Path, name: str, code: str) -> Path:
    path = tmp / name
    path.write_text(code, encoding="utf-8")
    return path


def last_json(stdout: str) -> dict:
    """The program's last line, which must be one JSON object."""
    lines = stdout.strip().splitlines()
    assert lines, "the program printed nothing"
    return json.loads(lines[-1])


def run_program(path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """One program as a student runs it: ``python <file> …`` in its folder."""
    done = subprocess.run([sys.executable, path.name, *args], cwd=path.parent, capture_output=True, text=True,
                          timeout=TIMEOUT, env={**os.environ, **(env or {})}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def run_batch(jobs: list[tuple[Path, list[str]]], env: dict | None = None) -> list[str]:
    """Several programs in one fresh process, each as __main__ in its own folder; their outputs."""
    payload = json.dumps([{"path": str(p), "args": a, "cwd": str(p.parent)} for p, a in jobs])
    done = subprocess.run([sys.executable, "-c", BATCH_RUNNER], input=payload, capture_output=True, text=True,
                          timeout=TIMEOUT, env={**os.environ, **(env or {})}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    for result in results:
        assert result["code"] == 0, done.stderr[-3000:]
    return [r["stdout"] for r in results]


def draw(page: str, seed: int, **fixed) -> dict:
    """A random setting of ``page``, drawn from its own settings table's ranges and options."""
    rng = random.Random(seed)
    out = {}
    for name, setting in export.SETTINGS[page].items():
        if setting.options is not None:
            if isinstance(setting.default, list):
                out[name] = rng.sample(list(setting.options), rng.randint(1, len(setting.options)))
            else:
                out[name] = rng.choice(list(setting.options))
        elif isinstance(setting.default, bool):
            out[name] = rng.random() < 0.5
        elif isinstance(setting.default, int):
            out[name] = rng.randint(int(setting.lo), int(setting.hi))
        else:
            out[name] = round(rng.uniform(setting.lo, setting.hi), 2)
    out.update(fixed)
    return out


def ruff(*paths: Path, isolated: bool) -> subprocess.CompletedProcess:
    """ruff check on ``paths``: with the repository's configuration, or ``isolated`` with ruff's own
    default rules whatever configuration lies around (as a student's ruff would see a download)."""
    flags = ["--isolated"] if isolated else []
    done = subprocess.run([sys.executable, "-m", "ruff", "check", *flags, "--no-cache", *map(str, paths)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert "No module named ruff" not in done.stderr, "ruff is pinned in requirements-dev.txt: install it"
    return done


def texts_of(source: str) -> list[str]:
    """Every comment and every string's text of a program (an f-string's with its {fields} as written)."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found.append(token.string[1:].strip())
        elif token.type == tokenize.STRING:
            body = token.string.lstrip("rRbBfFuU")
            quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
            found.append(ast.literal_eval(quote + body[len(quote):-len(quote)] + quote))
    return found


# ------------------------------------------------------------------- settings and API


@pytest.mark.parametrize("page", export.PAGES)
def test_the_settings_are_the_pages_own(page):
    """The export reads each page's settings table: the same names, defaults, ranges and options."""
    def plain(setting):
        options = None if setting.options is None else tuple(setting.options)
        return setting.default, setting.lo, setting.hi, options

    ours, pages = export.SETTINGS[page], page_settings(page)
    assert set(ours) == set(pages), "the export's settings are the page's URL names"
    assert {name: plain(s) for name, s in ours.items()} == {name: plain(s) for name, s in pages.items()}


def test_the_tables_are_the_lessons_own_and_5c_defaults_are_the_course_recipe():
    assert export.SETTINGS["descent"] is gd.SETTINGS
    assert export.SETTINGS["classification"] is lc.SETTINGS
    assert export.SETTINGS["noise"] is rg.NOISE_SETTINGS
    assert export.SETTINGS["regression"] is rg.SETTINGS
    assert export.SETTINGS["mnist_train"] is recipes.SETTINGS
    assert recipes.config_from_settings(export.defaults("mnist_train")) == recipes.COURSE_RECIPE
    assert set(export.SETTINGS["regression"]["data"].options) <= set(export.DATA_FILES)


def test_importing_the_export_does_not_load_torch():
    code = "import sys, export; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_lessons_holds_no_export_code():
    assert not (ROOT / "lessons" / "export.py").exists()
    lessons = " ".join(path.read_text(encoding="utf-8") for path in (ROOT / "lessons").glob("*.py"))
    assert "course_code" not in lessons and "export.toml" not in lessons and "import export" not in lessons


@pytest.mark.parametrize("page", export.PAGES)
def test_filename_and_run_hint(page):
    assert export.course_code_filename(page) == f"{page}.py"
    for lang in export.LANGS:
        hint = take_home.run_hint(page, lang)
        assert f"python {page}.py" in hint and "\n" not in hint
    assert take_home.run_hint(page, "zh") != take_home.run_hint(page, "en")


def test_an_upload_is_read_by_name_never_embedded(tmp_path):
    assert export.run_command("regression", "my points.csv") == 'python regression.py --data "my points.csv"'
    assert export.data_file({"data": "upload"}, "../../secret/x.csv") == "x.csv", "a bare file name only"
    assert export.data_file({"data": "upload"}) == "data.csv", "the course's data.csv without a name"
    assert export.data_file({"data": "example"}) == "example.csv"
    assert export.data_file({}) == "example.csv"
    code = export.course_code("regression", {"data": "upload"}, lang="en", data_name="../my 'points'.csv")
    assert """DATA_FILE = "my 'points'.csv\"""" in code
    assert ast.parse(code)


@pytest.mark.parametrize("page, settings, code", [
    ("nowhere", {}, "unknown_page"),
    ("descent", {"speed": 3}, "unknown_setting"),
    ("descent", {"solvers": ["sgd", "newton"]}, "bad_value"),
    ("descent", {"lr": "fast"}, "bad_value"),
    ("descent", {"eps": 0.0}, "bad_value"),
    ("descent", {"steps": True}, "bad_value"),
    ("descent", {"momentum": 1.0}, "bad_value"),
    ("descent", {"lr": 0.07}, "bad_value"),  # not one of the page's learning rates
    ("noise", {"n": 2.5}, "bad_value"),
    ("noise", {"n": 1}, "bad_value"),
    ("regression", {"data": "web"}, "bad_value"),
    ("regression", {"lr": float("nan")}, "bad_value"),
    ("classification", {"loss": "hinge"}, "bad_value"),
    ("classification", {"classes": 9}, "bad_value"),
    ("mnist_train", {"activation": "gelu"}, "bad_value"),
    ("mnist_train", {"layers": 0}, "bad_value"),
    ("mnist_train", {"h1": 100}, "bad_value"),
])
def test_settings_it_cannot_express_are_refused_clearly(page, settings, code):
    with pytest.raises(export.ExportError) as caught:
        export.course_code(page, settings)
    assert isinstance(caught.value, ValueError) and caught.value.code == code
    for lang in export.LANGS:  # the page can word it in both languages
        assert STRINGS[f"export.err.{code}"][lang].format(**caught.value.fields)


def test_the_step_table_follows_a_shown_solver_as_on_the_page():
    assert export.settings_for("descent", {"solvers": ["adam", "momentum"], "focus": "sgd"})["focus"] == "adam"
    assert export.settings_for("descent", {"solvers": ["adam", "sgd"], "focus": "sgd"})["focus"] == "sgd"


# ------------------------------------------------------------- the templates and their words


def test_every_template_as_it_stands_passes_py_compile_and_ruff(tmp_path):
    assert [path.stem for path in TEMPLATES] == sorted(export.PAGES)
    for path in TEMPLATES:  # the bytecode goes to tmp_path, not beside the template
        py_compile.compile(str(path), cfile=str(tmp_path / f"{path.stem}.pyc"), doraise=True)
    for isolated in (False, True):
        done = ruff(*TEMPLATES, isolated=isolated)
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr


@pytest.mark.parametrize("page", export.PAGES)
def test_each_template_is_the_english_program_for_the_pages_defaults(page):
    template = (export.TEMPLATES / f"{page}.py").read_text(encoding="utf-8")
    assert export.course_code(page, {}, lang="en") == template
    assert export.course_code(page, export.defaults(page), lang="en") == template


# The comments and messages the programs keep as the course wrote them (its printout, its comments).
COURSE_WORDS = {
    "Starting gradient descent at b = {0}, m = {1}, error = {2}",
    "After {0} iterations b = {1}, m = {2}, error = {3}",
    "initial y-intercept guess",
    "initial slope guess",
}
FIELDS = re.compile(r"\{[^{}]*\}")
PROSE_WORD = re.compile(r"\(?[A-Za-z]{2,}[.,:;!?)]*")  # a word of a sentence, not a file name or a number


@pytest.mark.parametrize("page", export.PAGES)
def test_every_comment_and_message_is_in_the_pages_language(page):
    """The zh program says in Chinese every comment, docstring and message of the template (each
    entry of the comments table is used), and keeps no English prose but the course's own words."""
    program = export.course_code(page, {}, lang="zh")
    for name, entry in export.comments()[page].items():
        if entry["zh"] != entry["en"]:
            assert entry["zh"] in texts_of(program), f"{page}.{name}: not in the template, or not translated"
    left = [text for text in texts_of(program) if not text.startswith("ruff:") and text not in COURSE_WORDS
            and len([w for w in FIELDS.sub("", text).split() if PROSE_WORD.fullmatch(w)]) >= 3
            and not re.search("[\u4e00-\u9fff]", text)]
    assert not left, f"English left in the zh program (add it to export/comments.toml): {left}"


def test_the_comments_table_is_complete_and_in_the_course_words():
    table = export.comments()
    assert set(table) == set(export.PAGES)
    names = export_code_names()
    for page, entries in table.items():
        for name, entry in entries.items():
            key = f"{page}.{name}"
            assert set(entry) == {"zh", "en"} and all(entry.values()), key
            fields = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in ("zh", "en")]
            assert fields[0] == fields[1], key
            assert not forbidden_variants(entry["zh"], "zh") and not forbidden_variants(entry["en"], "en"), key
            assert not english_in_zh(entry["zh"], code_names=names), key
            if "least squares" in entry["en"].lower():  # the page's word: 最小平方法
                assert "最小平方法" in entry["zh"], key


def test_the_course_functions_are_the_courses_word_for_word():
    """The noise and regression programs hold the course's three functions exactly as
    benchmarks/course_code.py (the course's notes) writes them."""
    course = ast.parse((ROOT / "benchmarks" / "course_code.py").read_text(encoding="utf-8"))
    source = (ROOT / "benchmarks" / "course_code.py").read_text(encoding="utf-8")
    want = {node.name.removeprefix("course_"): ast.get_source_segment(source, node).replace("course_", "")
            for node in course.body if isinstance(node, ast.FunctionDef) and node.name != "course_run"}
    for page in ("noise", "regression"):
        text = (export.TEMPLATES / f"{page}.py").read_text(encoding="utf-8")
        got = {node.name: ast.get_source_segment(text, node) for node in ast.parse(text).body
               if isinstance(node, ast.FunctionDef) and node.name in want}
        assert got == want, page


# ------------------------------------------------------------- every program is clean Python

# Settings that reach every branch of every template.
VARIANTS = {
    "descent": [{}, {"solvers": [], "stepwise": True}, {"solvers": list(gd.SOLVERS), "focus": "momentum"}],
    "noise": [{}, {"noise_std": 0.0, "n": 2}],
    "regression": [{}, {"normalise": True, "at": 3, "b0": 1.5}, {"data": "upload"}, {"data": "course"}],
    "classification": [{"data": d, "loss": loss} for d in lc.DATASETS for loss in lc.LOSSES] + [{"w": 0.0}],
    "mnist_train": [
        {}, {"layers": 3, "activation": "tanh", "final": "relu", "optimizer": "adam", "schedule": "onecycle",
             "loss": "cross_entropy"},
        {"layers": 1, "activation": "sigmoid", "final": "sigmoid", "optimizer": "rmsprop"},
    ],
}


def strings_blanked(code: str, assigned: dict | None = None) -> str:
    """The program's syntax tree with every string and comment gone: the code without its words.
    Given a dict ``assigned``, also fills it with every ``name = value`` of the program, its value as
    code (the first assignment of each name), from the same parse and walk."""
    tree = ast.parse(code)
    for node in ast.walk(tree):  # breadth first: an assignment is read before its strings are blanked
        if assigned is not None and isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, ast.unparse(node.value))
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        if isinstance(node, ast.JoinedStr):
            # the fields stay, in a fixed order: a language may put them in another
            node.values = sorted((v for v in node.values if not isinstance(v, ast.Constant)), key=ast.dump)
    return ast.dump(tree)


def test_programs_compile_pass_ruff_import_only_what_they_may_and_differ_only_in_words(tmp_path):
    paths = []
    for page, variants in VARIANTS.items():
        for i, settings in enumerate(variants):
            programs = {lang: export.course_code(page, settings, lang=lang, data_name="點.csv") for lang in export.LANGS}
            assert strings_blanked(programs["zh"]) == strings_blanked(programs["en"]), (page, settings)
            for lang, code in programs.items():
                imported = set()
                for node in ast.walk(ast.parse(code)):
                    if isinstance(node, ast.Import):
                        imported |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom):
                        imported.add(node.module.split(".")[0])
                assert imported <= ALLOWED_IMPORTS, (page, imported - ALLOWED_IMPORTS)
                paths.append(write(tmp_path, f"{page}_{i}_{lang}.py", code))
    compiled = subprocess.run([sys.executable, "-m", "py_compile", *map(str, paths)], capture_output=True, text=True,
                              check=False)
    assert compiled.returncode == 0, compiled.stderr
    done = ruff(*paths, isolated=True)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr


# Where each page's settings land in its program: the program's name for each setting.
PROGRAM_NAMES = {
    "descent": {"x0": "x0", "lr": "lr", "steps": "steps", "solvers": "solvers", "focus": "focus", "stepwise": "stepwise",
                "momentum": "momentum", "alpha": "alpha", "beta1": "betas", "beta2": "betas", "eps": "eps"},
    "noise": {"w": "w_true", "b": "b_true", "noise_mean": "noise_mean", "noise_std": "noise_std", "n": "n", "seed": "seed",
              "lr": "learning_rate", "iters": "num_iterations"},
    "regression": {"data": "DATA_FILE", "lr": "learning_rate", "iters": "num_iterations", "b0": "initial_b",
                   "m0": "initial_m", "normalise": "runner", "at": "replay_at"},
    "classification": {"w": "w", "b": "b", "data": "data_set", "classes": "k", "noise": "noise", "seed": "seed", "lr": "lr",
                       "steps": "steps", "loss": "loss_name", "px": "picked", "py": "picked"},
    "mnist_train": {"layers": "hidden", "h1": "hidden", "h2": "hidden", "h3": "hidden", "activation": "activation",
                    "final": "final", "loss": "loss_name", "optimizer": "optimizer_name", "lr": "learning_rate",
                    "momentum": "momentum", "schedule": "schedule", "batch": "batch_size", "epochs": "epochs",
                    "seed": "seed"},
}


def setting_values(setting) -> st.SearchStrategy:
    """Any value a page's setting can take: its options, or its range."""
    if isinstance(setting.default, bool):
        return st.booleans()
    if isinstance(setting.default, list):
        return st.lists(st.sampled_from(list(setting.options)), unique=True)
    if setting.options is not None:
        return st.sampled_from(list(setting.options))
    if isinstance(setting.default, int):
        return st.integers(int(setting.lo), int(setting.hi))
    return st.floats(setting.lo, setting.hi, allow_nan=False)


@st.composite
def page_and_settings(draw_from):
    page = draw_from(st.sampled_from(export.PAGES))
    table = export.SETTINGS[page]
    names = draw_from(st.sets(st.sampled_from(sorted(table))))
    return page, {name: draw_from(setting_values(table[name])) for name in sorted(names)}


@hypothesis.settings(max_examples=150, deadline=None)
@given(page_and_settings(), st.sampled_from(export.LANGS))
def test_any_settings_of_a_page_are_the_programs_own(case, lang):
    """Over the pages' whole ranges: the program says exactly the checked settings, and only its words
    depend on the language."""
    page, given_settings = case
    s = export.settings_for(page, given_settings)
    code = export.course_code(page, given_settings, lang=lang, data_name="mine.csv")
    got: dict = {}
    blanked = strings_blanked(code, got)
    want = {
        "descent": lambda: {"x0": s["x0"], "lr": s["lr"], "steps": s["steps"], "solvers": s["solvers"], "focus": s["focus"],
                            "stepwise": s["stepwise"], "momentum": s["momentum"], "alpha": s["alpha"],
                            "betas": (s["beta1"], s["beta2"]), "eps": s["eps"]},
        "noise": lambda: {"w_true": s["w"], "b_true": s["b"], "noise_mean": s["noise_mean"], "noise_std": s["noise_std"],
                          "n": s["n"], "seed": s["seed"], "learning_rate": s["lr"], "num_iterations": s["iters"]},
        "regression": lambda: {"DATA_FILE": export.data_file(s, "mine.csv"), "learning_rate": s["lr"],
                               "num_iterations": s["iters"], "initial_b": s["b0"], "initial_m": s["m0"],
                               "replay_at": s["at"]},
        "classification": lambda: {"w": s["w"], "b": s["b"], "data_set": s["data"], "k": s["classes"], "noise": s["noise"],
                                   "seed": s["seed"], "lr": s["lr"], "steps": s["steps"], "loss_name": s["loss"],
                                   "picked": (s["px"], s["py"])},
        "mnist_train": lambda: {"hidden": [s[f"h{i + 1}"] for i in range(s["layers"])], "activation": s["activation"],
                                "final": s["final"], "loss_name": s["loss"], "optimizer_name": s["optimizer"],
                                "learning_rate": s["lr"], "momentum": s["momentum"], "schedule": s["schedule"],
                                "batch_size": s["batch"], "epochs": s["epochs"], "seed": s["seed"]},
    }[page]()
    assert set(PROGRAM_NAMES[page]) == set(export.SETTINGS[page]) and set(PROGRAM_NAMES[page].values()) <= {*want, "runner"}
    for name, value in want.items():
        assert ast.literal_eval(got[name]) == value, (page, name)
    if page == "regression":
        assert got["runner"] == ("standardised_runner" if s["normalise"] else "gradient_descent_runner")
    other = export.course_code(page, given_settings, lang="en" if lang == "zh" else "zh", data_name="mine.csv")
    assert blanked == strings_blanked(other)


# ------------------------------------------------------------------- the data it reads


def test_the_data_download_is_the_file_the_regression_program_reads(monkeypatch, tmp_path):
    example = ROOT / "data" / "example.csv"
    assert take_home.program_data({"data": "example"}) == example.read_bytes()
    points = np.array([[1.0, 3.0], [2.5, 5.0 / 3.0], [3.0, -7.5]])
    upload = take_home.program_data({"data": "upload"}, "mine.csv", points)
    assert np.array_equal(rg.load_points(upload), points), "the upload written back reads back exactly"
    assert take_home.program_data({"data": "upload"}, None, None) is None, "no upload yet: nothing to offer"
    course = tmp_path / "course.csv"
    course.write_bytes(b"x,y\n1,2\n3,4\n")
    monkeypatch.setattr(rg, "course_data_path", lambda: str(course))
    assert take_home.program_data({"data": "course"}) == course.read_bytes(), "the server's own file, as it is"
    monkeypatch.setattr(rg, "course_data_path", lambda: None)
    assert take_home.program_data({"data": "course"}) is None


# ----------------------------------------------------------------------------- descent


def torch_final_x(x0, lr, steps, solver, s):
    """torch.optim itself on x²·sin x: the last x before |x| passes 1e6, and where it did."""
    p = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    opt = {
        "sgd": lambda: torch.optim.SGD([p], lr=lr),
        "momentum": lambda: torch.optim.SGD([p], lr=lr, momentum=s["momentum"]),
        "rmsprop": lambda: torch.optim.RMSprop([p], lr=lr, alpha=s["alpha"], eps=s["eps"]),
        "adam": lambda: torch.optim.Adam([p], lr=lr, betas=(s["beta1"], s["beta2"]), eps=s["eps"]),
    }[solver]()
    x = float(x0)
    for step in range(1, steps + 1):
        opt.zero_grad()
        (p * p * torch.sin(p)).backward()
        opt.step()
        if not math.isfinite(p.item()) or abs(p.item()) > gd.BLOW_UP:
            return x, step
        x = p.item()
    return x, None


def lessons_final_x(s):
    hyper = {"momentum": s["momentum"], "alpha": s["alpha"], "betas": (s["beta1"], s["beta2"]), "eps": s["eps"]}
    runs = {solver: gd.descend(s["x0"], s["lr"], s["steps"], solver, **hyper) for solver in s["solvers"]}
    return ({k: float(r["x"].iloc[-1]) for k, r in runs.items()},
            {k: r.attrs["diverged_step"] for k, r in runs.items()})


def close(a: float, b: float, tol: float) -> bool:
    """Equal to ``tol``, relative once |x| passes 1 (a diverging path may be far out)."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


DESCENT_CASES = [
    {},  # the page's defaults
    {"x0": 10.0, "lr": 1.0, "steps": 300, "solvers": list(gd.SOLVERS), "focus": "adam", "stepwise": True,
     "momentum": 0.99, "alpha": 0.5, "beta1": 0.0, "beta2": 0.9, "eps": 1e-2},  # an extreme: everything at its edge
    "random",
]


@pytest.mark.slow
def test_descent_program_matches_lessons_and_torch_for_every_solver(tmp_path):
    cases = [draw("descent", 16, solvers=list(gd.SOLVERS), steps=120) if c == "random" else c for c in DESCENT_CASES]
    jobs, expected = [], []
    for i, settings in enumerate(cases):
        s = export.settings_for("descent", settings)
        final, blew = lessons_final_x(s)
        for solver in s["solvers"]:  # first: lessons is torch, to the precision asked of the program
            t_x, t_step = torch_final_x(s["x0"], s["lr"], s["steps"], solver, s)
            assert t_step == blew[solver] and close(final[solver], t_x, 1e-9), (settings, solver)
        expected.append((final, blew))
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        jobs.append((write(folder, "descent.py", export.course_code("descent", settings, lang="en" if i else "zh")), []))
    defaults_out = run_program(jobs[0][0]).stdout  # the defaults exactly as a student runs them
    outputs = [defaults_out, *run_batch(jobs[1:])]
    for (final, blew), out, settings in zip(expected, outputs, cases, strict=True):
        got = last_json(out)
        assert set(got["final_x"]) == set(final), settings
        for solver, x in final.items():
            assert close(got["final_x"][solver], x, 1e-9), (settings, solver, got["final_x"][solver], x)
            assert got["diverged_step"][solver] == blew[solver]
    assert "自動求導" in defaults_out and "SGD" in defaults_out, "the defaults' program speaks the page's language"


# -------------------------------------------------------------------------- regression


def expected_regression(points, s):
    """What the page computes: the descent's end and its error, or None where it blew up."""
    history = rg.standardised_history if s["normalise"] else rg.gradient_descent_history
    run = history(points, s["b0"], s["m0"], s["lr"], s["iters"])
    b, m = float(run.b[-1]), float(run.m[-1])
    error = rg.compute_error_for_line_given_points(b, m, points)
    return None if not all(map(math.isfinite, (b, m, error))) else {"b": b, "m": m, "error": error}


def check_regression(got: dict, want: dict | None, settings) -> None:
    if want is None:
        assert got == {"b": None, "m": None, "error": None, "diverged": True}, settings
        return
    for key in ("b", "m", "error"):
        assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-12), (settings, key)


def test_regression_program_on_the_example_an_upload_and_extremes(tmp_path):
    example = ROOT / "data" / "example.csv"
    upload = "my points (v2).csv"
    # a spreadsheet-style upload: a header, quotes, a blank line
    rows = np.random.default_rng(5).normal(size=(40, 2)) * [10.0, 3.0] + [50.0, 20.0]
    (tmp_path / upload).write_text('"x","y"\n\n' + "".join(f'"{x!r}",{y!r}\n' for x, y in rows.tolist()), encoding="utf-8")
    (tmp_path / "example.csv").write_bytes(example.read_bytes())
    cases = [
        ({}, None),
        ({"data": "upload"}, upload),
        ({"lr": 0.001}, None),  # too large for x of this size: diverges, as the page warns
        ({"normalise": True, "lr": 0.1, "iters": 100, "at": 40, "b0": -100.0, "m0": 10.0}, None),
        ({"normalise": True, "lr": 1.2, "iters": 3000}, None),  # the extreme: diverges even standardised
        (draw("regression", 16, data="example", lr=0.0002, iters=1500), None),
    ]
    jobs, wants = [], []
    for i, (settings, name) in enumerate(cases):
        s = export.settings_for("regression", settings)
        points = rg.load_points(tmp_path / (name or "example.csv"))
        wants.append(expected_regression(points, s))
        code = export.course_code("regression", settings, lang=("zh", "en")[i % 2], data_name=name)
        jobs.append((write(tmp_path, f"regression_{i}.py", code), []))
    outputs = run_batch(jobs)
    for (settings, _), want, out in zip(cases, wants, outputs, strict=True):
        check_regression(last_json(out), want, settings)
    # the replay step the page shows, in the data's units
    replay = next(line for line in outputs[3].splitlines() if line.startswith("At iteration 40 b = "))
    b_at, m_at, _ = (float(part.split("= ")[1]) for part in replay.removeprefix("At iteration 40 ").split(", "))
    run = rg.standardised_history(rg.load_points(example), -100.0, 10.0, 0.1, 100)
    assert (b_at, m_at) == (pytest.approx(run.b[40], rel=1e-12), pytest.approx(run.m[40], rel=1e-12))
    assert wants[2] is None and wants[4] is None and wants[0] is not None


def test_regression_program_prints_the_courses_own_result_on_data_csv(tmp_path, monkeypatch):
    """As a student takes it home: the program and the data file the page offers, side by side."""
    data = SHARED / "data" / "regression" / "data.csv"
    if not data.is_file():
        pytest.skip(f"the course's data.csv is not at {data}")
    monkeypatch.setenv(rg.COURSE_DATA_ENV, str(data))
    settings = {"data": "course"}
    path = write(tmp_path, "regression.py", export.course_code("regression", settings))
    (tmp_path / export.data_file(settings)).write_bytes(take_home.program_data(settings))
    out = run_program(path).stdout
    assert (
        "Starting gradient descent at b = 0, m = 0, error = 5565.107834483211\n"
        "Running...\n"
        "After 1000 iterations b = 0.08893651993741346, m = 1.4777440851894448, error = 112.61481011613473\n"
    ) in out
    got = last_json(out)
    check_regression(got, expected_regression(rg.load_points(data), export.settings_for("regression", {})), "course")
    assert got == {"b": 0.08893651993741346, "m": 1.4777440851894448, "error": 112.61481011613473}


def test_regression_program_says_clearly_when_the_file_is_missing_or_bad(tmp_path):
    path = write(tmp_path, "regression.py", export.course_code("regression", {"data": "course"}, lang="en"))
    missing = subprocess.run([sys.executable, path.name], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                             check=False)
    assert missing.returncode == 1 and "data.csv" in missing.stderr and "--data" in missing.stderr
    assert "Traceback" not in missing.stderr
    (tmp_path / "bad.csv").write_text("1,2\n3,oops\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, path.name, "--data", "bad.csv"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, check=False)
    assert bad.returncode == 1 and "line 2" in bad.stderr and "Traceback" not in bad.stderr


# ------------------------------------------------------------------------------ noise


def test_noise_program_matches_lessons(tmp_path):
    cases = [{}, {"n": 1000, "noise_std": 5.0, "noise_mean": -3.0, "w": -5.0, "b": 10.0, "lr": 0.05, "iters": 1000},
             {"n": 2, "noise_std": 0.0, "iters": 3000, "lr": 0.01}, draw("noise", 16, lr=0.01, iters=500)]
    jobs, wants = [], []
    for i, settings in enumerate(cases):
        s = export.settings_for("noise", settings)
        points = rg.make_noisy_line(s["w"], s["b"], n=s["n"], noise_mean=s["noise_mean"], noise_std=s["noise_std"],
                                    x_range=rg.NOISE_X_RANGE, seed=s["seed"])
        run = rg.gradient_descent_history(points, 0.0, 0.0, s["lr"], s["iters"])
        w, b = float(run.m[-1]), float(run.b[-1])
        error = rg.compute_error_for_line_given_points(b, w, points)
        wants.append({"w": w, "b": b, "error": error} if all(map(math.isfinite, (w, b, error))) else None)
        jobs.append((write(tmp_path, f"noise_{i}.py", export.course_code("noise", settings, lang=("zh", "en")[i % 2])), []))
    outputs = run_batch(jobs)
    assert wants[0] is not None and wants[1] is None, "the defaults settle; lr 0.05 on 1000 points blows up"
    for settings, want, out in zip(cases, wants, outputs, strict=True):
        got = last_json(out)
        if want is None:
            assert got == {"w": None, "b": None, "error": None, "diverged": True}, settings
        else:
            for key in ("w", "b", "error"):
                assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-12), (settings, key)


# ---------------------------------------------------------------------- classification


def lessons_classification(s):
    """The page's run (pages/classification.py ``trained``): training and held-out accuracy."""
    k = s["classes"]
    X, y = lc.make_dataset(s["data"], lc.N_TRAIN, n_classes=k, noise=s["noise"], seed=s["seed"])
    X_test, y_test = lc.make_dataset(s["data"], lc.N_TEST, n_classes=k, noise=s["noise"], seed=s["seed"] + 1000)
    model = lc.fit_classifier(X, y, n_classes=k, lr=s["lr"], steps=s["steps"], loss=s["loss"], seed=s["seed"])
    return lc.accuracy(model, X, y), lc.accuracy(model, X_test, y_test)


@pytest.mark.slow
def test_classification_program_matches_lessons(tmp_path):
    cases = [
        {},
        {"data": "xor", "noise": 1.5, "lr": 10.0, "steps": 1000, "loss": "mse"},  # the extreme
        {"data": "moons", "loss": "cross_entropy", "steps": 300, "lr": 1.0},  # two classes: logistic regression
        {"data": "overlap", "classes": 6, "loss": "mse", "lr": 3.0, "seed": 99},
        draw("classification", 16),
    ]
    jobs, wants = [], []
    for i, settings in enumerate(cases):
        wants.append(lessons_classification(export.settings_for("classification", settings)))
        code = export.course_code("classification", settings, lang=("zh", "en")[i % 2])
        jobs.append((write(tmp_path, f"classification_{i}.py", code), []))
    outputs = run_batch(jobs)
    for settings, (train, held_out), out in zip(cases, wants, outputs, strict=True):
        got = last_json(out)
        assert got["accuracy"] == pytest.approx(held_out, abs=0.02), settings
        assert got["train_accuracy"] == pytest.approx(train, abs=0.02), settings


# ------------------------------------------------------------------------------ MNIST


def write_idx(path: Path, array: np.ndarray, gz: bool) -> None:
    """An IDX file of unsigned bytes (MNIST's format), gzipped or not."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


MNIST_VARIANTS = [
    {"epochs": 2, "batch": 32},
    {"layers": 3, "h1": 128, "h2": 64, "h3": 32, "activation": "tanh", "final": "relu", "optimizer": "adam",
     "lr": 0.003, "loss": "cross_entropy", "schedule": "onecycle", "batch": 64, "epochs": 2, "seed": 7},
    {"layers": 1, "h1": 16, "activation": "sigmoid", "optimizer": "rmsprop", "lr": 0.001, "batch": 128, "epochs": 3},
]


@pytest.mark.slow
def test_mnist_program_matches_lessons_on_small_idx_files(tmp_path):
    """Every architecture, loss, optimizer and schedule, on small digits written as IDX files
    (half of them gzipped): the program reads them from MNIST_DIR and must reach the test
    accuracy lessons.mlp reaches with the same settings."""
    from lessons import mlp
    from lessons.mnist import fallback_digits, read_mnist_folder

    digits = fallback_digits()
    folder = tmp_path / "idx"
    folder.mkdir()
    for i, (field, name) in enumerate(MNIST_FILES.items()):
        write_idx(folder / (name + (".gz" if i % 2 else "")), getattr(digits, field), gz=bool(i % 2))
    data = read_mnist_folder(folder)
    jobs, wants = [], []
    for i, settings in enumerate(MNIST_VARIANTS):
        config = recipes.config_from_settings(export.settings_for("mnist_train", settings))
        wants.append(mlp.train_config(config, data).accuracy)
        code = export.course_code("mnist_train", settings, lang=("zh", "en")[i % 2])
        jobs.append((write(tmp_path, f"mnist_{i}.py", code), []))
    outputs = run_batch(jobs, env={"MNIST_DIR": str(folder)})
    for settings, want, out in zip(MNIST_VARIANTS, wants, outputs, strict=True):
        assert last_json(out)["test_accuracy"] == pytest.approx(want, abs=0.01), settings
    assert max(wants) > 0.5, "the runs learned something, so agreeing means something"


@pytest.mark.slow
@pytest.mark.mnist
def test_mnist_program_one_course_epoch_on_real_mnist(tmp_path):
    folder = os.environ.get("MNIST_DIR")
    if not folder or not Path(folder).is_dir():
        pytest.skip("MNIST_DIR is not set to a folder with the MNIST files (make test sets it from ../shared)")
    from lessons import mlp
    from lessons.mnist import load_mnist

    data = load_mnist(folder)
    if data.is_fallback:
        pytest.skip(f"no real MNIST in MNIST_DIR: {data.problem}")
    want = mlp.train_config(replace(mlp.COURSE_RECIPE, epochs=1), data).accuracy
    path = write(tmp_path, "mnist_train.py", export.course_code("mnist_train", {"epochs": 1}))
    got = last_json(run_program(path, env={"MNIST_DIR": folder}).stdout)["test_accuracy"]
    assert got == pytest.approx(want, abs=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_regression_page_offers_the_data_its_program_reads(lang):
    from conftest import open_page

    at = open_page("pages/regression.py", lang=lang)
    at.session_state["regression.__home"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    label = STRINGS["export.download_data"][lang].format(file="example.csv")
    assert [d for d in at.get("download_button") if d.proto.label == label], "a download of example.csv"
    assert 'DATA_FILE = "example.csv"' in at.code[-1].value
