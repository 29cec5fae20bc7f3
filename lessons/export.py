"""Take it home: each page's experiment as one self-contained PyTorch program (issue 16).

``course_code(page, settings)`` returns a Python program for the settings a page shows now. The
program imports only numpy, torch, torchvision, pandas and the standard library, never this
project, and is written the course's way: the regression keeps the course's three functions and
``run()``, the descent uses ``torch.optim`` on x²·sin x, MNIST an ``nn.Module`` trained on batches.
It prints what the page shows, and its last line is one JSON object with the key figures:

- descent: ``{"final_x": {"sgd": …, …}, "diverged_step": {"sgd": null, …}}``;
- noise: ``{"w": …, "b": …, "error": …}`` (the regression's shape, with the noise page's w);
- regression: ``{"b": …, "m": …, "error": …}``;
- classification: ``{"accuracy": …, "train_accuracy": …}`` (accuracy on the held-out points);
- mnist_train: ``{"test_accuracy": …}``.

A run that blows up reports ``null`` figures and ``"diverged": true`` rather than NaN.

Every word of the program (comments, prints) comes from ``app/locales/export.toml`` in the
page's language; the code itself is the same in both. Settings the program cannot express are
refused with ``ExportError`` (a ``ValueError`` with a stable ``code`` the page words).
"""

from __future__ import annotations

import functools
import itertools
import math
import string
import tomllib
from pathlib import Path
from typing import Any

from lessons import classification as lc
from lessons import descent as gd

LOCALE = Path(__file__).resolve().parent.parent / "app" / "locales" / "export.toml"
LANGS = ("zh", "en")
PAGES = ("descent", "noise", "regression", "classification", "mnist_train")

# Each page's settings as its URL names them, with the page's defaults. tests/test_export.py
# checks these against the pages' own SETTINGS.
DEFAULTS: dict[str, dict[str, Any]] = {
    "descent": {
        "x0": 3.0, "lr": 0.05, "steps": 40, "solvers": ["sgd", "rmsprop", "adam"], "focus": "sgd",
        "momentum": 0.9, "alpha": 0.99, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "stepwise": False,
    },
    "noise": {
        "w": 2.0, "b": 1.0, "noise_mean": 0.01, "noise_std": 1.0, "n": 100, "seed": 0, "lr": 0.02, "iters": 1000,
    },
    "regression": {
        "data": "example", "lr": 0.0001, "iters": 1000, "b0": 0.0, "m0": 0.0, "normalise": False, "at": 1000,
    },
    "classification": {
        "w": 1.0, "b": 0.0, "data": "blobs", "classes": 3, "noise": 0.3, "seed": 0, "lr": 0.3, "steps": 200,
        "loss": "cross_entropy", "px": 0.5, "py": 0.5,
    },
    "mnist_train": {
        "layers": 2, "h1": 256, "h2": 64, "h3": 64, "activation": "relu", "final": "none", "loss": "mse",
        "optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "schedule": "none", "batch": 512, "epochs": 3, "seed": 0,
    },
}

# The regression page's data sources and the file each one's program reads by default.
DATA_FILES = {"example": "example.csv", "course": "data.csv", "upload": "data.csv"}
# The MNIST page's choices (lessons.mlp holds them; it loads torch, so they are repeated here and
# tests/test_export.py checks they agree).
MNIST_ACTIVATIONS = ("relu", "sigmoid", "tanh")
MNIST_LOSSES = ("mse", "cross_entropy")
MNIST_OPTIMIZERS = ("sgd", "adam", "rmsprop")
MNIST_SCHEDULES = ("none", "onecycle")
MNIST_MAX_LAYERS = 3  # the page's h1 … h3
# The classification page's sample sizes (pages/classification.py: N_TRAIN, N_TEST).
N_TRAIN, N_TEST = 200, 1000


# Every way settings can be refused: its code and the English message; the page words the same
# code in the student's language through ``export.err.<code>``.
ERROR_MESSAGES = {
    "unknown_page": "There is no take-home program for the page “{page}”.",
    "unknown_setting": "The setting “{name}” is not one of this page's settings.",
    "bad_value": "The setting “{name}” cannot be {value}: {expected}.",
    "bad_language": "The language “{lang}” is not one of zh, en.",
}


class ExportError(ValueError):
    """Settings no program can be written for. ``code`` names the problem, ``fields`` fill its message."""

    def __init__(self, code: str, **fields: Any):
        self.code = code
        self.fields = fields
        super().__init__(ERROR_MESSAGES[code].format(**fields))


# ------------------------------------------------------------------------------ the words


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    """The locale file as {dotted key: {"zh": …, "en": …}}."""
    with LOCALE.open("rb") as handle:
        tree = tomllib.load(handle)
    flat: dict[str, dict[str, str]] = {}

    def walk(node: dict, prefix: str) -> None:
        for name, value in node.items():
            if isinstance(value, dict) and set(value) == set(LANGS):
                flat[f"{prefix}{name}"] = value
            elif isinstance(value, dict):
                walk(value, f"{prefix}{name}.")

    walk(tree, "")
    return flat


def text(key: str, lang: str = "zh", **fields: Any) -> str:
    """One string of the locale file in ``lang``, its ``{fields}`` filled."""
    if lang not in LANGS:
        raise ExportError("bad_language", lang=lang)
    entry = _table()[key][lang]
    return entry.format(**fields) if fields else entry


def _words(page: str, lang: str) -> dict[str, str]:
    """The program's words for ``page``: ``t_name`` as plain text (for comments), ``q_name`` as a
    Python string literal for prints: an f-string where the text names program variables in braces."""
    prefix = f"export.{page}."
    words = {}
    for key, entry in _table().items():
        if key.startswith(prefix):
            name = key.rsplit(".", 1)[1]
            words[f"t_{name}"] = entry[lang]
            words[f"q_{name}"] = ("f" if "{" in entry[lang] else "") + repr(entry[lang])
    return words


# --------------------------------------------------------------------------- the settings


def _number(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, hi_open: bool = False, whole: bool = False) -> float | int:
    """A finite number within bounds, or ExportError saying what was expected."""
    expected = "a whole number" if whole else "a finite number"
    if lo is not None or hi is not None:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        expected += f" in {left}{'-∞' if lo is None else f'{lo:g}'}, {'∞' if hi is None else f'{hi:g}'}{right}"
    if isinstance(value, bool):  # True would read as 1: a switch is not a number
        raise ExportError("bad_value", name=name, value=repr(value), expected=expected)
    if not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ExportError("bad_value", name=name, value=repr(value), expected=expected) from None
    value = float(value)
    bad = not math.isfinite(value) or (whole and not value.is_integer())
    if lo is not None:
        bad = bad or value < lo or (lo_open and value == lo)
    if hi is not None:
        bad = bad or value > hi or (hi_open and value == hi)
    if bad:
        raise ExportError("bad_value", name=name, value=repr(value), expected=expected)
    return int(value) if whole else value


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    """One of ``options``, or ExportError listing them."""
    if value not in options:
        raise ExportError("bad_value", name=name, value=repr(value), expected="one of " + ", ".join(options))
    return value


def _flag(name: str, value: Any) -> bool:
    """A yes/no setting (the URL may carry it as text)."""
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1", 1):
        return True
    if value in ("false", "False", "0", 0):
        return False
    raise ExportError("bad_value", name=name, value=repr(value), expected="true or false")


def settings_for(page: str, settings: dict[str, Any] | None) -> dict[str, Any]:
    """The page's defaults overlaid with ``settings``, every value checked and typed."""
    if page not in PAGES:
        raise ExportError("unknown_page", page=page)
    given = dict(settings or {})
    for name in given:
        if name not in DEFAULTS[page]:
            raise ExportError("unknown_setting", name=name)
    s = {**DEFAULTS[page], **given}
    return _CHECKS[page](s)


def _check_descent(s: dict) -> dict:
    solvers = s["solvers"]
    if isinstance(solvers, str):
        solvers = [part for part in solvers.split(",") if part]
    if not isinstance(solvers, (list, tuple)):
        raise ExportError("bad_value", name="solvers", value=repr(solvers), expected="a list of solvers")
    for solver in solvers:
        _choice("solvers", solver, gd.SOLVERS)
    focus = _choice("focus", s["focus"], gd.SOLVERS)
    if solvers and focus not in solvers:  # as on the page: the table follows the first solver shown
        focus = solvers[0]
    return {
        "x0": _number("x0", s["x0"]),
        "lr": _number("lr", s["lr"], lo=0),
        "steps": _number("steps", s["steps"], lo=0, whole=True),
        "solvers": [solver for solver in gd.SOLVERS if solver in solvers],  # the page's order
        "focus": focus,
        "momentum": _number("momentum", s["momentum"], lo=0, hi=1, hi_open=True),
        "alpha": _number("alpha", s["alpha"], lo=0, hi=1, hi_open=True),
        "beta1": _number("beta1", s["beta1"], lo=0, hi=1, hi_open=True),
        "beta2": _number("beta2", s["beta2"], lo=0, hi=1, hi_open=True),
        "eps": _number("eps", s["eps"], lo=0, lo_open=True),
        "stepwise": _flag("stepwise", s["stepwise"]),
    }


def _check_noise(s: dict) -> dict:
    return {
        "w": _number("w", s["w"]),
        "b": _number("b", s["b"]),
        "noise_mean": _number("noise_mean", s["noise_mean"]),
        "noise_std": _number("noise_std", s["noise_std"], lo=0),
        "n": _number("n", s["n"], lo=2, whole=True),
        "seed": _number("seed", s["seed"], lo=0, whole=True),
        "lr": _number("lr", s["lr"], lo=0),
        "iters": _number("iters", s["iters"], lo=0, whole=True),
    }


def _check_regression(s: dict) -> dict:
    iters = _number("iters", s["iters"], lo=0, whole=True)
    return {
        "data": _choice("data", s["data"], tuple(DATA_FILES)),
        "lr": _number("lr", s["lr"], lo=0),
        "iters": iters,
        "b0": _number("b0", s["b0"]),
        "m0": _number("m0", s["m0"]),
        "normalise": _flag("normalise", s["normalise"]),
        # the page's replay slider stops at the last iteration, so the program does too
        "at": min(_number("at", s["at"], lo=0, whole=True), iters),
    }


def _check_classification(s: dict) -> dict:
    data = _choice("data", s["data"], lc.DATASETS)
    classes = _number("classes", s["classes"], lo=2, hi=lc.MAX_CLASSES, whole=True)
    return {
        "w": _number("w", s["w"]),
        "b": _number("b", s["b"]),
        "data": data,
        "classes": lc.dataset_classes(data, classes),  # moons and XOR always have two
        "noise": _number("noise", s["noise"], lo=0),
        "seed": _number("seed", s["seed"], lo=0, whole=True),
        "lr": _number("lr", s["lr"], lo=0, lo_open=True),
        "steps": _number("steps", s["steps"], lo=0, whole=True),
        "loss": _choice("loss", s["loss"], lc.LOSSES),
        "px": _number("px", s["px"]),
        "py": _number("py", s["py"]),
    }


def _check_mnist(s: dict) -> dict:
    layers = _number("layers", s["layers"], lo=1, hi=MNIST_MAX_LAYERS, whole=True)
    sizes = [_number(f"h{i}", s[f"h{i}"], lo=1, whole=True) for i in range(1, MNIST_MAX_LAYERS + 1)]
    optimizer = _choice("optimizer", s["optimizer"], MNIST_OPTIMIZERS)
    return {
        # h{i} past ``layers`` are the page's disabled sliders: they describe no layer
        "hidden": sizes[:layers],
        "activation": _choice("activation", s["activation"], MNIST_ACTIVATIONS),
        "final": _choice("final", s["final"], ("none", *MNIST_ACTIVATIONS)),
        "loss": _choice("loss", s["loss"], MNIST_LOSSES),
        "optimizer": optimizer,
        "lr": _number("lr", s["lr"], lo=0, lo_open=True),
        # momentum belongs to SGD: the page greys it out for Adam and RMSprop, and so does torch
        "momentum": _number("momentum", s["momentum"], lo=0, hi=1, hi_open=True),
        "schedule": _choice("schedule", s["schedule"], MNIST_SCHEDULES),
        "batch": _number("batch", s["batch"], lo=1, whole=True),
        "epochs": _number("epochs", s["epochs"], lo=1, whole=True),
        "seed": _number("seed", s["seed"], lo=0, whole=True),
    }


_CHECKS = {
    "descent": _check_descent,
    "noise": _check_noise,
    "regression": _check_regression,
    "classification": _check_classification,
    "mnist_train": _check_mnist,
}


# ---------------------------------------------------------------------------- the programs


def _literal(value: Any) -> str:
    """A value as Python source that reads back exactly (floats by repr, whole starting guesses as the course's 0)."""
    return repr(value)


def _course_number(value: float) -> str:
    """A starting guess as the course writes it: ``0`` rather than ``0.0`` (it prints as the course's printout)."""
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _fill(template: str, page: str, lang: str, **values: str) -> str:
    """The template with the page's words in ``lang`` and the setting values filled in."""
    return string.Template(template).substitute(_words(page, lang), **values)


def course_code(page: str, settings: dict[str, Any] | None = None, *, lang: str = "zh",
                data_name: str | None = None) -> str:
    """One self-contained Python program that reruns ``page``'s experiment with ``settings``.

    ``settings`` are named as the page's URL names them; names left out take the page's
    defaults. ``data_name`` is the name of a student's uploaded file (regression page): the
    program reads it from ``--data`` and never holds its content. Raises ``ExportError``
    (a ValueError) for settings the program cannot express.
    """
    if lang not in LANGS:
        raise ExportError("bad_language", lang=lang)
    s = settings_for(page, settings)
    return _BUILDERS[page](s, lang, data_name)


def course_code_filename(page: str) -> str:
    """The name the page's download button gives the program: ``<page>.py``."""
    if page not in PAGES:
        raise ExportError("unknown_page", page=page)
    return f"{page}.py"


def data_file(settings: dict[str, Any] | None = None, data_name: str | None = None) -> str:
    """The file the regression program reads when ``--data`` is not given, for these settings."""
    s = settings_for("regression", settings)
    if s["data"] == "upload" and data_name:
        return Path(str(data_name)).name or DATA_FILES["upload"]
    return DATA_FILES[s["data"]]


def run_command(page: str, data_name: str | None = None) -> str:
    """The shell command that runs the downloaded program (the regression's names its data file)."""
    command = f"python {course_code_filename(page)}"
    if page == "regression" and data_name:
        name = Path(str(data_name)).name
        return f'{command} --data "{name}"' if name else command
    return command


def run_hint(page: str, lang: str = "zh", data_name: str | None = None) -> str:
    """The one line the page shows under the code: how to run it, in ``lang``."""
    return text(f"export.run.{page}", lang, command=run_command(page, data_name))


# ------------------------------------------------------------------------------ descent

_DESCENT = '''\
"""${t_doc}"""
# ${t_how}
import json
import math

import torch

# ${t_settings}
x0 = ${v_x0}
lr = ${v_lr}
steps = ${v_steps}
solvers = ${v_solvers}
focus = ${v_focus}  # ${t_focus}
stepwise = ${v_stepwise}  # ${t_stepwise}
momentum = ${v_momentum}
alpha = ${v_alpha}
betas = (${v_beta1}, ${v_beta2})
eps = ${v_eps}
BLOW_UP = 1e6  # ${t_blow_up}
TABLE_ROWS = 8
NAMES = ${v_names}


def loss_fn(x):
    # loss = x²·sin(x)
    return x * x * torch.sin(x)


def hand_grad(x):
    # ${t_hand}
    return 2 * x * math.sin(x) + x * x * math.cos(x)


def make_optimizer(name, params):
    # ${t_solver}
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)


def descend(name):
    """${t_descend}"""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer(name, [x])
    path, rows = [x0], []
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = loss_fn(x)
        loss.backward()  # ${t_backward}
        old_x, grad = x.item(), x.grad.item()
        optimizer.step()
        new_x = x.item()
        if not math.isfinite(new_x) or abs(new_x) > BLOW_UP:
            return path, rows, step
        path.append(new_x)
        rows.append((step, old_x, grad, new_x))
    return path, rows, None


print(${q_title})
start = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
loss_fn(start).backward()  # ${t_autograd}
hand, auto = hand_grad(x0), start.grad.item()
print(${q_hand_vs_auto})
final_x, diverged_step = {}, {}
for name in solvers:
    path, rows, blew_up = descend(name)
    final_x[name], diverged_step[name] = path[-1], blew_up
    label, taken, x = NAMES[name], len(path) - 1, path[-1]
    loss = x * x * math.sin(x)
    if blew_up is None:
        print(${q_reached})
    else:
        print(${q_diverged})
    if name == focus:
        shown = rows if stepwise else rows[:TABLE_ROWS]
        count = len(shown)
        print(${q_table})
        print(f"{'step':>5} {'x':>14} {'f′(x)':>14} {'new x':>14}")
        for step, old_x, grad, new_x in shown:
            print(f"{step:>5} {old_x:>14.6f} {grad:>14.6f} {new_x:>14.6f}")
print(json.dumps({"final_x": final_x, "diverged_step": diverged_step}))
'''


def _descent(s: dict, lang: str, data_name: str | None) -> str:
    names = {solver: text(f"export.descent.solver_{solver}", lang) for solver in gd.SOLVERS}
    return _fill(
        _DESCENT, "descent", lang,
        v_x0=_literal(float(s["x0"])), v_lr=_literal(float(s["lr"])), v_steps=_literal(s["steps"]),
        v_solvers=_literal(s["solvers"]), v_focus=_literal(s["focus"]), v_stepwise=_literal(s["stepwise"]),
        v_momentum=_literal(s["momentum"]), v_alpha=_literal(s["alpha"]), v_beta1=_literal(s["beta1"]),
        v_beta2=_literal(s["beta2"]), v_eps=_literal(s["eps"]), v_names=_literal(names),
    )


# --------------------------------------------------------------------- the course's regression

# The course's three functions, as its notes write them (簡單回歸實戰案例).
_COURSE_FUNCTIONS = '''\
def compute_error_for_line_given_points(b, w, points):
    totalError = 0
    for i in range(0, len(points)):
        x = points[i, 0]
        y = points[i, 1]
        totalError += (y - (w * x + b)) ** 2
    return totalError / float(len(points))


def step_gradient(b_current, w_current, points, learningRate):
    b_gradient = 0
    w_gradient = 0
    N = float(len(points))
    for i in range(0, len(points)):
        x = points[i, 0]
        y = points[i, 1]
        b_gradient += -(2/N) * (y - ((w_current * x) + b_current))
        w_gradient += -(2/N) * x * (y - ((w_current * x) + b_current))
    new_b = b_current - (learningRate * b_gradient)
    new_m = w_current - (learningRate * w_gradient)
    return [new_b, new_m]


def gradient_descent_runner(points, starting_b, starting_m, learning_rate, num_iterations):
    b = starting_b
    m = starting_m
    for i in range(num_iterations):
        b, m = step_gradient(b, m, np.array(points), learning_rate)
    return [b, m]
'''

_REGRESSION = '''\
"""${t_doc}"""
# ${t_how}
import argparse
import csv
import json
import math

import numpy as np


# ${t_course}
# ruff: noqa: PIE808, UP030, UP032
${course_functions}

def read_points(path):
    """${t_read}"""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for line, row in enumerate(csv.reader(handle), 1):
                if not "".join(row).strip():
                    continue
                count = len(row)
                if count != 2:
                    raise SystemExit(${q_bad_columns})
                try:
                    rows.append([float(row[0]), float(row[1])])
                except ValueError:
                    if rows:  # ${t_header}
                        raise SystemExit(${q_bad_number}) from None
    except OSError as error:
        raise SystemExit(${q_no_file}) from None
    points = np.array(rows, dtype=np.float64)
    if len(points) < 2 or not np.isfinite(points).all():
        raise SystemExit(${q_too_few})
    return points


def standardised_runner(points, starting_b, starting_m, learning_rate, num_iterations):
    # ${t_standardise}
    mean, std = points[:, 0].mean(), points[:, 0].std()
    if not std > 0:
        raise SystemExit(${q_no_spread})
    scaled = np.column_stack([(points[:, 0] - mean) / std, points[:, 1]])
    b, m = gradient_descent_runner(scaled, starting_b + starting_m * mean, starting_m * std,
                                   learning_rate, num_iterations)
    m = m / std
    return [b - m * mean, m]


def run():
    parser = argparse.ArgumentParser(description=${q_doc})
    parser.add_argument("--data", default=${v_data}, help=${q_data_help})
    args = parser.parse_args()
    path = args.data
    points = read_points(path)
    n = len(points)
    print(${q_using})
    learning_rate = ${v_lr}
    initial_b = ${v_b0}  # initial y-intercept guess
    initial_m = ${v_m0}  # initial slope guess
    num_iterations = ${v_iters}
    replay_at = ${v_at}  # ${t_replay}
    runner = ${v_runner}  # ${t_runner}
    print("Starting gradient descent at b = {0}, m = {1}, error = {2}".format(initial_b, initial_m, compute_error_for_line_given_points(initial_b, initial_m, points)))
    print("Running...")
    with np.errstate(over="ignore", invalid="ignore"):  # ${t_errstate}
        [b, m] = runner(points, initial_b, initial_m, learning_rate, num_iterations)
        error = compute_error_for_line_given_points(b, m, points)
        if not all(map(math.isfinite, (b, m, error))):
            print(${q_diverged})
            print(json.dumps({"b": None, "m": None, "error": None, "diverged": True}))
            return
        print("After {0} iterations b = {1}, m = {2}, error = {3}".format(num_iterations, b, m, error))
        if replay_at != num_iterations:
            [b_at, m_at] = runner(points, initial_b, initial_m, learning_rate, replay_at)
            error_at = compute_error_for_line_given_points(b_at, m_at, points)
            print(${q_replay_at})
    # ${t_closed_form}
    x, y = points[:, 0], points[:, 1]
    if np.ptp(x) > 0:
        dx = x - x.mean()
        best_m = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
        best_b = float(y.mean() - best_m * x.mean())
        best_error = compute_error_for_line_given_points(best_b, best_m, points)
        print(${q_best})
    print(json.dumps({"b": float(b), "m": float(m), "error": float(error)}))


if __name__ == '__main__':
    run()
'''


def _regression(s: dict, lang: str, data_name: str | None) -> str:
    return _fill(
        _REGRESSION, "regression", lang, course_functions=_COURSE_FUNCTIONS,
        v_data=_literal(data_file(s, data_name)), v_lr=_literal(float(s["lr"])),
        v_b0=_course_number(s["b0"]), v_m0=_course_number(s["m0"]), v_iters=_literal(s["iters"]),
        v_at=_literal(s["at"]),
        v_runner="standardised_runner" if s["normalise"] else "gradient_descent_runner",
    )


# ------------------------------------------------------------------------------ noise

_NOISE = '''\
"""${t_doc}"""
# ${t_how}
import json
import math

import numpy as np

# ${t_settings}
w_true = ${v_w}
b_true = ${v_b}
noise_mean = ${v_noise_mean}
noise_std = ${v_noise_std}
n = ${v_n}
seed = ${v_seed}
learning_rate = ${v_lr}
num_iterations = ${v_iters}


# ${t_course}
# ruff: noqa: PIE808
${course_functions}

# ${t_data}
rng = np.random.default_rng(seed)
x = rng.uniform(0.0, 10.0, n)
epsilon = rng.normal(noise_mean, noise_std, n)
points = np.column_stack([x, w_true * x + b_true + epsilon])
print(${q_made})
seen_mean, seen_std = epsilon.mean(), epsilon.std()
print(${q_noise_seen})

# ${t_descent}
with np.errstate(over="ignore", invalid="ignore"):
    [b, w] = gradient_descent_runner(points, 0.0, 0.0, learning_rate, num_iterations)
    error = compute_error_for_line_given_points(b, w, points)
y = points[:, 1]
dx = x - x.mean()
best_w = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
best_b = float(y.mean() - best_w * x.mean())
col_mean, col_sum = ${q_col_mean}, ${q_col_sum}
print(f"{'':<16} {'w':>12} {'b':>12} {col_mean:>14} {col_sum:>14}")
lines = [(${q_line_true}, w_true, b_true), (${q_line_gd}, w, b), (${q_line_ls}, best_w, best_b)]
for name, line_w, line_b in lines:
    mse = compute_error_for_line_given_points(line_b, line_w, points)
    print(f"{name:<16} {line_w:>12.6f} {line_b:>12.6f} {mse:>14.6f} {n * mse:>14.6f}")
if not all(map(math.isfinite, (b, w, error))):
    print(${q_diverged})
    print(json.dumps({"w": None, "b": None, "error": None, "diverged": True}))
else:
    dw, db = abs(w - best_w), abs(b - best_b)
    print(${q_gap})
    print(json.dumps({"w": float(w), "b": float(b), "error": float(error)}))
'''


def _noise(s: dict, lang: str, data_name: str | None) -> str:
    return _fill(
        _NOISE, "noise", lang, course_functions=_COURSE_FUNCTIONS,
        v_w=_literal(float(s["w"])), v_b=_literal(float(s["b"])), v_noise_mean=_literal(float(s["noise_mean"])),
        v_noise_std=_literal(float(s["noise_std"])), v_n=_literal(s["n"]), v_seed=_literal(s["seed"]),
        v_lr=_literal(float(s["lr"])), v_iters=_literal(s["iters"]),
    )


# ------------------------------------------------------------------------- classification

# Each data set's recipe, as lessons.classification.make_dataset draws it (same numbers, same seed).
_DATASET_CODE = {
    "blobs": '''\
    radius, spread = 3.0, 0.35 + noise
    angle = 2 * np.pi * np.arange(k) / k + np.pi / 4
    centres = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    X = centres[y] + rng.normal(0.0, spread, size=(n, 2))''',
    "overlap": '''\
    radius, spread = 2.0, 0.8 + noise
    angle = 2 * np.pi * np.arange(k) / k + np.pi / 4
    centres = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    X = centres[y] + rng.normal(0.0, spread, size=(n, 2))''',
    "moons": '''\
    t = rng.uniform(0.0, np.pi, size=n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = 2.5 * (np.where(y[:, None] == 0, upper, lower) - [0.5, 0.25])
    X = X + rng.normal(0.0, 0.1 + noise, size=(n, 2))''',
    "xor": '''\
    corner = rng.integers(0, 2, size=n)
    sx = np.where(corner == 0, 1.0, -1.0)
    sy = np.where(y == 0, sx, -sx)
    X = 2.0 * np.column_stack([sx, sy]) + rng.normal(0.0, 0.4 + noise, size=(n, 2))''',
}

# The model, its loss and its prediction: logistic regression for two classes, softmax for more.
_BINARY = {
    "outputs": "1",
    "init": "model.weight.copy_(torch.from_numpy(init.normal(0.0, 0.01, size=(1, 2))))",
    "cross_entropy": "F.binary_cross_entropy_with_logits(z[:, 0], y.double())",
    "mse": "F.mse_loss(torch.sigmoid(z[:, 0]), y.double())",
    "predict": "(z[:, 0] >= 0).long()",
    "probabilities": "torch.stack([torch.sigmoid(-z[:, 0]), torch.sigmoid(z[:, 0])], dim=1)",
}
_SOFTMAX = {
    "outputs": "k",
    "init": "model.weight.copy_(torch.from_numpy(init.normal(0.0, 0.01, size=(2, k)).T))",
    "cross_entropy": "F.cross_entropy(z, y)",
    "mse": "((F.softmax(z, dim=1) - F.one_hot(y, k).double()) ** 2).sum(dim=1).mean()",
    "predict": "z.argmax(dim=1)",
    "probabilities": "F.softmax(z, dim=1)",
}

_CLASSIFICATION = '''\
"""${t_doc}"""
# ${t_how}
import json
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# ${t_settings}
w, b = ${v_w}, ${v_b}  # ${t_sigmoid_settings}
data_set = ${v_data}
k = ${v_classes}  # ${t_classes}
noise = ${v_noise}
seed = ${v_seed}
lr = ${v_lr}
steps = ${v_steps}
loss_name = ${v_loss}
picked = (${v_px}, ${v_py})  # ${t_picked}
N_TRAIN, N_TEST = ${v_n_train}, ${v_n_test}

# ${t_sigmoid}
if w != 0:
    half = -b / w + 0.0
    print(${q_sigmoid_half})
else:
    p = 1 / (1 + math.exp(-b))
    print(${q_sigmoid_flat})


def make_dataset(n, seed):
    """${t_make}"""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % k)
${dataset_code}
    return X, y


X_train, y_train = make_dataset(N_TRAIN, seed)
X_test, y_test = make_dataset(N_TEST, seed + 1000)
print(${q_summary})
# ${t_standardise}
mean = X_train.mean(axis=0)
scale = X_train.std(axis=0)
scale[scale == 0] = 1.0
X = torch.from_numpy((X_train - mean) / scale)
y = torch.from_numpy(y_train).long()
X_held_out = torch.from_numpy((X_test - mean) / scale)
y_held_out = torch.from_numpy(y_test).long()

# ${t_model}
model = nn.Linear(2, ${outputs}).double()
init = np.random.default_rng(seed)  # ${t_init}
with torch.no_grad():
    ${init}
    model.bias.zero_()
optimizer = torch.optim.SGD(model.parameters(), lr=lr)


def loss_fn(z, y):
    return ${loss}


def predict(z):
    return ${predict}


report = max(1, steps // 10)
for step in range(steps + 1):
    z = model(X)
    loss = loss_fn(z, y)
    if step % report == 0 or step == steps:
        value, correct = loss.item(), (predict(z) == y).double().mean().item()
        print(${q_progress})
    if step == steps:
        break
    optimizer.zero_grad()
    loss.backward()  # ${t_backward}
    optimizer.step()

with torch.no_grad():
    train_accuracy = (predict(model(X)) == y).double().mean().item()
    accuracy = (predict(model(X_held_out)) == y_held_out).double().mean().item()
    point = torch.tensor([[(picked[0] - mean[0]) / scale[0], (picked[1] - mean[1]) / scale[1]]])
    z = model(point)
    probabilities = ${probabilities}[0]
print(${q_accuracy})
x1, x2 = picked
for c, p in enumerate(probabilities.tolist()):
    print(${q_point})
print(json.dumps({"accuracy": accuracy, "train_accuracy": train_accuracy}))
'''


def _classification(s: dict, lang: str, data_name: str | None) -> str:
    model = _BINARY if s["classes"] == 2 else _SOFTMAX
    return _fill(
        _CLASSIFICATION, "classification", lang,
        v_w=_literal(float(s["w"])), v_b=_literal(float(s["b"])), v_data=_literal(s["data"]),
        v_classes=_literal(s["classes"]), v_noise=_literal(float(s["noise"])), v_seed=_literal(s["seed"]),
        v_lr=_literal(float(s["lr"])), v_steps=_literal(s["steps"]), v_loss=_literal(s["loss"]),
        v_px=_literal(float(s["px"])), v_py=_literal(float(s["py"])),
        v_n_train=_literal(N_TRAIN), v_n_test=_literal(N_TEST),
        dataset_code=_DATASET_CODE[s["data"]], outputs=model["outputs"], init=model["init"],
        loss=model[s["loss"]], predict=model["predict"], probabilities=model["probabilities"],
    )


# ------------------------------------------------------------------------------ MNIST

_MNIST = '''\
"""${t_doc}"""
# ${t_how}
import gzip
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim

# ${t_settings}
batch_size = ${v_batch}
epochs = ${v_epochs}
learning_rate = ${v_lr}
seed = ${v_seed}
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(path):
    """${t_read_idx}"""
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] == b"\\x1f\\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find_files(folder):
    found = {}
    for key, name in FILES.items():
        for candidate in (os.path.join(folder, name), os.path.join(folder, name + ".gz")):
            if os.path.isfile(candidate):
                found[key] = candidate
                break
    return found if len(found) == len(FILES) else None


def load_mnist():
    # ${t_load}
    folder = os.environ.get("MNIST_DIR", "")
    files = find_files(folder) if folder else None
    if files is None:
        import torchvision

        print(${q_download})
        for train in (True, False):
            torchvision.datasets.MNIST("mnist_data", train=train, download=True)
        folder = os.path.join("mnist_data", "MNIST", "raw")
        files = find_files(folder)
        if files is None:
            raise SystemExit(${q_no_mnist})
    print(${q_using})
    return {key: read_idx(path) for key, path in files.items()}


def normalise(images):
    # ${t_normalise}
    x = torch.tensor(images, dtype=torch.float32).reshape(-1, 28 * 28) / 255.0
    return (x - 0.1307) / 0.3081


data = load_mnist()
x_train, y_train = normalise(data["train_images"]), torch.tensor(data["train_labels"], dtype=torch.int64)
x_test, y_test = normalise(data["test_images"]), torch.tensor(data["test_labels"], dtype=torch.int64)
steps_per_epoch = math.ceil(len(x_train) / batch_size)


class Net(nn.Module):
    # ${t_net}

    def __init__(self):
        super().__init__()
${layers}

    def forward(self, x):
${forward}
        return x


def init_weights(net, seed):
    # ${t_init}
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in net.children():
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)


net = Net()
init_weights(net, seed)
${optimizer}
${scheduler}
print(${q_network})
shuffle = torch.Generator().manual_seed(seed)
for epoch in range(epochs):
    order = torch.randperm(len(x_train), generator=shuffle)  # ${t_shuffle}
    for batch_idx in range(steps_per_epoch):
        batch = order[batch_idx * batch_size:(batch_idx + 1) * batch_size]
        x, y = x_train[batch], y_train[batch]
        out = net(x)
        loss = ${loss}
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
${scheduler_step}
        if batch_idx % 10 == 0:
            print(epoch + 1, batch_idx, loss.item())

# ${t_test}
net.eval()
with torch.no_grad():
    pred = net(x_test).argmax(dim=1)
total_correct = pred.eq(y_test).sum().item()
total = len(y_test)
acc = total_correct / total
wrong = total - total_correct
print(${q_accuracy})
print(json.dumps({"test_accuracy": acc}))
'''

_ACTIVATION_CODE = {"relu": "F.relu", "sigmoid": "torch.sigmoid", "tanh": "torch.tanh"}


def _mnist(s: dict, lang: str, data_name: str | None) -> str:
    sizes = [28 * 28, *s["hidden"], 10]
    n = len(sizes) - 1
    layers = "\n".join(f"        self.fc{i + 1} = nn.Linear({a}, {b})" for i, (a, b) in enumerate(itertools.pairwise(sizes)))
    act = _ACTIVATION_CODE[s["activation"]]
    forward = [f"        x = {act}(self.fc{i + 1}(x))" for i in range(n - 1)]
    final = s["final"]
    forward.append(f"        x = {_ACTIVATION_CODE[final]}(self.fc{n}(x))" if final != "none" else f"        x = self.fc{n}(x)")
    if s["optimizer"] == "sgd":
        optimizer = f"optimizer = optim.SGD(net.parameters(), lr=learning_rate, momentum={s['momentum']!r})"
    else:
        name = {"adam": "Adam", "rmsprop": "RMSprop"}[s["optimizer"]]
        optimizer = f"optimizer = optim.{name}(net.parameters(), lr=learning_rate)"
    onecycle = s["schedule"] == "onecycle"
    scheduler = (
        "scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=learning_rate, "
        "total_steps=max(epochs * steps_per_epoch, 1))  # ${t_onecycle}"
        if onecycle else "# ${t_constant_lr}"
    )
    loss = (
        "F.mse_loss(out, F.one_hot(y, 10).float())  # ${t_mse}" if s["loss"] == "mse"
        else "F.cross_entropy(out, y)  # ${t_cross_entropy}"
    )
    template = string.Template(_MNIST).safe_substitute(
        layers=layers, forward="\n".join(forward), optimizer=optimizer, scheduler=scheduler, loss=loss,
        scheduler_step="        scheduler.step()" if onecycle else "",
    )
    if not onecycle:  # no blank line where the scheduler's step would be
        template = template.replace("        optimizer.step()\n\n", "        optimizer.step()\n")
    return _fill(
        template, "mnist_train", lang, v_batch=_literal(s["batch"]), v_epochs=_literal(s["epochs"]),
        v_lr=_literal(float(s["lr"])), v_seed=_literal(s["seed"]),
    )


_BUILDERS = {
    "descent": _descent,
    "noise": _noise,
    "regression": _regression,
    "classification": _classification,
    "mnist_train": _mnist,
}
