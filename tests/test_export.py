"""Take it home (issue 16): the programs lessons/export.py writes are run for real, in a fresh
Python process in a temporary folder, and their figures compared with what lessons/ computes for
the same settings (which is what the pages show)."""

from __future__ import annotations

import ast
import gzip
import json
import math
import os
import random
import string
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from lessons import classification as lc
from lessons import descent as gd
from lessons import export
from lessons import regression as rg
from lessons.mnist import FILES as MNIST_FILES

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ALLOWED_IMPORTS = {"numpy", "torch", "torchvision", "pandas"} | set(sys.stdlib_module_names)
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
    """The page's own SETTINGS, read without running the page: its imports, definitions and
    assignments up to ``SETTINGS = …`` are executed; the Streamlit calls after it never are."""
    path = ROOT / "pages" / f"{page}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kept = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.ClassDef)):
            kept.append(node)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SETTINGS" for t in node.targets):
            break
    namespace: dict = {"__name__": f"probe_{page}", "__file__": str(path)}
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102 - our own page
    return namespace["SETTINGS"]


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
    """A random setting of ``page``, drawn from its own SETTINGS' ranges and options."""
    rng = random.Random(seed)
    out = {}
    for name, setting in page_settings(page).items():
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


# ---------------------------------------------------------------------- defaults and API


@pytest.mark.parametrize("page", export.PAGES)
def test_defaults_are_the_pages_own(page):
    settings = page_settings(page)
    assert set(export.DEFAULTS[page]) == set(settings), "the export's settings are the page's URL names"
    for name, setting in settings.items():
        assert export.DEFAULTS[page][name] == setting.default, name


def test_choices_the_export_repeats_are_the_lessons_own():
    from lessons import mlp

    assert export.MNIST_ACTIVATIONS == mlp.ACTIVATIONS
    assert export.MNIST_LOSSES == mlp.LOSSES
    assert export.MNIST_OPTIMIZERS == mlp.OPTIMIZERS
    assert export.MNIST_SCHEDULES == tuple("none" if s is None else s for s in mlp.SCHEDULES)
    course = mlp.COURSE_RECIPE
    d = export.DEFAULTS["mnist_train"]
    assert (d["h1"], d["h2"]) == course.hidden and d["lr"] == course.lr and d["batch"] == course.batch_size
    assert d["momentum"] == course.momentum and d["loss"] == course.loss and d["epochs"] == course.epochs
    assert export.MNIST_MAX_LAYERS == len([k for k in page_settings("mnist_train") if k[0] == "h" and k[1:].isdigit()])
    assert set(page_settings("regression")["data"].options) <= set(export.DATA_FILES)
    classification_page = (ROOT / "pages" / "classification.py").read_text(encoding="utf-8")
    assert f"N_TRAIN, N_TEST = {export.N_TRAIN}, {export.N_TEST}" in classification_page


def test_importing_the_export_does_not_load_torch():
    code = "import sys, lessons.export; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("page", export.PAGES)
def test_filename_and_run_hint(page):
    assert export.course_code_filename(page) == f"{page}.py"
    for lang in export.LANGS:
        hint = export.run_hint(page, lang)
        assert f"python {page}.py" in hint and "\n" not in hint
    assert export.run_hint(page, "zh") != export.run_hint(page, "en")


def test_an_upload_is_read_by_name_never_embedded(tmp_path):
    assert export.run_command("regression", "my points.csv") == 'python regression.py --data "my points.csv"'
    assert export.data_file({"data": "upload"}, "../../secret/x.csv") == "x.csv", "a bare file name only"
    assert export.data_file({"data": "upload"}) == "data.csv", "the course's data.csv without a name"
    assert export.data_file({"data": "example"}) == "example.csv"
    assert export.data_file({}) == "example.csv"


@pytest.mark.parametrize("page, settings, code", [
    ("nowhere", {}, "unknown_page"),
    ("descent", {"speed": 3}, "unknown_setting"),
    ("descent", {"solvers": ["sgd", "newton"]}, "bad_value"),
    ("descent", {"lr": "fast"}, "bad_value"),
    ("descent", {"eps": 0.0}, "bad_value"),
    ("descent", {"steps": True}, "bad_value"),
    ("descent", {"momentum": 1.0}, "bad_value"),
    ("noise", {"n": 2.5}, "bad_value"),
    ("regression", {"data": "web"}, "bad_value"),
    ("regression", {"lr": float("nan")}, "bad_value"),
    ("classification", {"loss": "hinge"}, "bad_value"),
    ("classification", {"classes": 9}, "bad_value"),
    ("mnist_train", {"activation": "gelu"}, "bad_value"),
    ("mnist_train", {"layers": 0}, "bad_value"),
])
def test_settings_it_cannot_express_are_refused_clearly(page, settings, code):
    with pytest.raises(export.ExportError) as caught:
        export.course_code(page, settings)
    assert isinstance(caught.value, ValueError) and caught.value.code == code
    for lang in export.LANGS:  # the page can word it in both languages
        assert export.text(f"export.err.{code}", lang, **caught.value.fields)


def test_the_step_table_follows_a_shown_solver_as_on_the_page():
    assert export.settings_for("descent", {"solvers": ["adam", "momentum"], "focus": "sgd"})["focus"] == "adam"
    assert export.settings_for("descent", {"solvers": ["adam", "sgd"], "focus": "sgd"})["focus"] == "sgd"


def test_the_locale_file_is_complete_and_in_the_course_words():
    with (ROOT / "app" / "locales" / "export.toml").open("rb") as handle:
        tree = tomllib.load(handle)
    table = export._table()
    assert len(table) > 50 and all(set(entry) == {"zh", "en"} for entry in table.values())
    assert "export" in tree and set(tree) == {"export"}
    for key, entry in table.items():
        names = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in ("zh", "en")]
        assert names[0] == names[1], key
        assert not [word for word in ("資料", "網路", "機率", "雜訊") if word in entry["zh"]], key
    for code in export.ERROR_MESSAGES:
        assert f"export.err.{code}" in table


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


def strings_blanked(code: str) -> str:
    """The program's syntax tree with every string and comment gone: the code without its words."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
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
    # --isolated: ruff's own default rules, whatever configuration lies around the folder
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *map(str, paths)],
                          capture_output=True, text=True, check=False)
    assert "No module named ruff" not in ruff.stderr, "ruff is pinned in requirements-dev.txt: install it"
    assert ruff.returncode == 0, ruff.stdout[-5000:] + ruff.stderr


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


def test_regression_program_prints_the_courses_own_result_on_data_csv(tmp_path):
    data = SHARED / "data" / "regression" / "data.csv"
    if not data.is_file():
        pytest.skip(f"the course's data.csv is not at {data}")
    path = write(tmp_path, "regression.py", export.course_code("regression", {"data": "course"}))
    out = run_program(path, "--data", str(data)).stdout
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
                                    x_range=(0.0, 10.0), seed=s["seed"])
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
    X, y = lc.make_dataset(s["data"], export.N_TRAIN, n_classes=k, noise=s["noise"], seed=s["seed"])
    X_test, y_test = lc.make_dataset(s["data"], export.N_TEST, n_classes=k, noise=s["noise"], seed=s["seed"] + 1000)
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
        s = export.settings_for("mnist_train", settings)
        config = mlp.TrainConfig(
            hidden=tuple(s["hidden"]), activation=s["activation"],
            final_activation=None if s["final"] == "none" else s["final"], epochs=s["epochs"],
            batch_size=s["batch"], lr=s["lr"], optimizer=s["optimizer"], momentum=s["momentum"], loss=s["loss"],
            seed=s["seed"], schedule=None if s["schedule"] == "none" else s["schedule"])
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
