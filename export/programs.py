"""Each page's experiment as one self-contained PyTorch program, written from a real program file.

A template (``export/templates/<page>.py``) is the page's program as an English-speaking student
downloads it with the page's defaults: it runs, and ruff and py_compile check it as it stands. To
write a student's program, the exporter

1. puts the page's language in: every comment, docstring and string whose text is the ``en`` of an
   entry of ``export/comments.toml`` for that page becomes that entry's text in the language;
2. puts the settings in: each setting is a plain assignment ``name = value`` (at module level or in
   ``run()``), and its value is replaced where the student's differs from the template's.

Each program imports only numpy, torch, torchvision, pandas and the standard library, never this
project. It prints what the page shows, and its last line is one JSON object with the key figures:

- descent: ``{"final_x": {"sgd": …, …}, "diverged_step": {"sgd": null, …}}``;
- noise: ``{"w": …, "b": …, "error": …}`` (the regression's shape, with the noise page's w);
- regression: ``{"b": …, "m": …, "error": …}``;
- classification: ``{"accuracy": …, "train_accuracy": …}`` (accuracy on the held-out points);
- mnist_train: ``{"test_accuracy": …}``.

A run that blows up reports ``null`` figures and ``"diverged": true`` rather than NaN. Settings
are checked against the page's own settings table (defaults, ranges, options); what the program
cannot express is refused with ``ExportError`` (a ``ValueError`` with a stable ``code``).
"""

from __future__ import annotations

import ast
import functools
import io
import math
import tokenize
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lessons import classification as lc
from lessons import descent as gd
from lessons import recipes
from lessons import regression as rg
from lessons.settings import Setting

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
COMMENTS = HERE / "comments.toml"
LANGS = ("zh", "en")
PAGES = ("descent", "noise", "regression", "classification", "mnist_train")

# Each page's settings table (URL name -> Setting), as its lessons module holds it: the defaults,
# ranges and options a program obeys.
SETTINGS: dict[str, Mapping[str, Setting]] = {
    "descent": gd.SETTINGS,
    "noise": rg.NOISE_SETTINGS,
    "regression": rg.SETTINGS,
    "classification": lc.SETTINGS,
    "mnist_train": recipes.SETTINGS,
}

# The regression page's data sources and the file each one's program reads by default.
DATA_FILES = {"example": "example.csv", "course": "data.csv", "upload": "data.csv"}

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


def defaults(page: str) -> dict[str, Any]:
    """The page's settings at their defaults, by URL name."""
    if page not in PAGES:
        raise ExportError("unknown_page", page=page)
    return {name: setting.default for name, setting in SETTINGS[page].items()}


# --------------------------------------------------------------------------- the settings


def _bad(name: str, value: Any, expected: str) -> ExportError:
    return ExportError("bad_value", name=name, value=repr(value), expected=expected)


def _number(name: str, value: Any, setting: Setting, whole: bool) -> float | int:
    """A finite number within the setting's range, or ExportError saying what was expected."""
    expected = "a whole number" if whole else "a finite number"
    if setting.lo is not None or setting.hi is not None:
        lo = "-∞" if setting.lo is None else f"{setting.lo:g}"
        hi = "∞" if setting.hi is None else f"{setting.hi:g}"
        expected += f" in [{lo}, {hi}]"
    if isinstance(value, bool):  # True would read as 1: a switch is not a number
        raise _bad(name, value, expected)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(name, value, expected) from None
    bad = not math.isfinite(number) or (whole and not number.is_integer())
    bad = bad or (setting.lo is not None and number < setting.lo) or (setting.hi is not None and number > setting.hi)
    if bad:
        raise _bad(name, number, expected)
    return int(number) if whole else number


def _choice(name: str, value: Any, options: Any) -> Any:
    """One of ``options``, or ExportError listing them."""
    if value not in options:
        raise _bad(name, value, "one of " + ", ".join(map(str, options)))
    return value


def _value(name: str, value: Any, setting: Setting) -> Any:
    """``value`` checked against ``setting`` and typed as its default (the URL may carry any of them as text)."""
    default = setting.default
    if isinstance(default, bool):
        if value in (True, "true", "True", "1", 1):
            return True
        if value in (False, "false", "False", "0", 0):
            return False
        raise _bad(name, value, "true or false")
    if isinstance(default, (list, tuple)):
        items = [part for part in value.split(",") if part] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise _bad(name, value, "a list of " + ", ".join(map(str, setting.options)))
        for item in items:
            _choice(name, item, setting.options)
        return list(dict.fromkeys(items))
    if isinstance(default, str):
        return _choice(name, value, setting.options)
    number = _number(name, value, setting, whole=isinstance(default, int))
    if setting.options is not None:
        _choice(name, number, setting.options)
    return number


def settings_for(page: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The page's defaults overlaid with ``settings``, every value checked against the page's table and typed."""
    table = SETTINGS.get(page)
    if table is None:
        raise ExportError("unknown_page", page=page)
    given = dict(settings or {})
    for name in given:
        if name not in table:
            raise ExportError("unknown_setting", name=name)
    s = {name: _value(name, given.get(name, setting.default), setting) for name, setting in table.items()}
    if page == "descent":
        if s["solvers"] and s["focus"] not in s["solvers"]:
            s["focus"] = s["solvers"][0]  # as on the page: the table follows the first solver picked
        s["solvers"] = [solver for solver in gd.SOLVERS if solver in s["solvers"]]  # the page's order
    if page == "regression":
        s["at"] = min(s["at"], s["iters"])  # the page's replay slider stops at the last iteration
    if page == "classification":
        s["classes"] = lc.dataset_classes(s["data"], s["classes"])  # moons and XOR always have two
    return s


# ------------------------------------------------------------------------ the words


@functools.lru_cache(maxsize=1)
def comments() -> dict[str, dict[str, dict[str, str]]]:
    """The programs' words: {page: {name: {"zh": …, "en": …}}} from ``export/comments.toml``."""
    with COMMENTS.open("rb") as handle:
        return tomllib.load(handle)


def _string_parts(token: str) -> tuple[str, str, str] | None:
    """A string token's prefix, quote and text (an f-string's text with its {fields} as written); None for bytes."""
    start = len(token) - len(token.lstrip("rRbBfFuU"))
    prefix, rest = token[:start], token[start:]
    if "b" in prefix.lower():
        return None
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[0]
    plain = prefix.lower().replace("f", "")
    try:
        text = ast.literal_eval(plain + quote + rest[len(quote):-len(quote)] + quote)
    except (SyntaxError, ValueError):
        return None
    return prefix, quote, text


def _string_token(prefix: str, quote: str, text: str) -> str:
    """``text`` as a string literal with the given prefix and quotes."""
    body = text.replace("\\", "\\\\")
    if len(quote) == 1:
        body = body.replace(quote, "\\" + quote).replace("\n", "\\n")
    elif quote in body or body.endswith(quote[0]):
        raise ValueError(f"{text!r} cannot sit in {quote} quotes")
    return f"{prefix}{quote}{body}{quote}"


def _edit(source: str, edits: list[tuple[int, int, str]]) -> str:
    """``source`` with each (start, end, text) character span replaced."""
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _line_starts(source: str) -> list[int]:
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


@functools.lru_cache(maxsize=2 * len(PAGES))
def _program_text(page: str, lang: str) -> str:
    """The page's template with its comments and messages in ``lang`` (the template's own for en)."""
    source = (TEMPLATES / f"{page}.py").read_text(encoding="utf-8")
    if lang == "en":
        return source
    words = {entry["en"]: entry[lang] for entry in comments()[page].values()}
    starts = _line_starts(source)
    edits = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        replacement = None
        if token.type == tokenize.COMMENT and token.string[1:].strip() in words:
            replacement = "# " + words[token.string[1:].strip()]
        elif token.type == tokenize.STRING and (parts := _string_parts(token.string)) and parts[2] in words:
            replacement = _string_token(parts[0], parts[1], words[parts[2]])
        if replacement is not None:
            (row, col), (end_row, end_col) = token.start, token.end
            edits.append((starts[row - 1] + col, starts[end_row - 1] + end_col, replacement))
    return _edit(source, edits)


# --------------------------------------------------------------------------- the values


@dataclass(frozen=True)
class Code:
    """A setting's value written as code rather than as a literal (a function's name)."""

    text: str


def _source(value: Any) -> str:
    """A value as Python source that reads back exactly, strings in double quotes."""
    if isinstance(value, Code):
        return value.text
    if isinstance(value, str):
        literal = repr(value)
        return f'"{literal[1:-1]}"' if literal[0] == "'" and '"' not in value and "'" not in value else literal
    if isinstance(value, list):
        return "[" + ", ".join(map(_source, value)) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_source, value)) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _same(written: str, value: Any) -> bool:
    """Whether the template's ``written`` value source already says ``value``."""
    if isinstance(value, Code):
        return written == value.text
    try:
        return _source(ast.literal_eval(written)) == _source(value)
    except (SyntaxError, ValueError):
        return False


def _with_values(source: str, values: Mapping[str, Any], page: str) -> str:
    """``source`` with each ``name = …`` assignment of ``values`` saying its value."""
    found: dict[str, ast.expr] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in values:
                if name in found:
                    raise RuntimeError(f"export/templates/{page}.py assigns {name} twice")
                found[name] = node.value
    missing = set(values) - set(found)
    if missing:
        raise RuntimeError(f"export/templates/{page}.py has no setting {sorted(missing)}")
    data = source.encode("utf-8")  # the syntax tree counts columns in UTF-8 bytes
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    edits = []
    for name, node in found.items():
        start = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
        if not _same(data[start:end].decode("utf-8"), values[name]):
            edits.append((start, end, _source(values[name]).encode("utf-8")))
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    return data.decode("utf-8")


def _course_number(value: float) -> Code:
    """A starting guess as the course writes it: ``0`` rather than ``0.0`` (it prints as the course's printout)."""
    return Code(repr(int(value)) if float(value).is_integer() else repr(float(value)))


def _descent(s: dict, data_name: str | None) -> dict[str, Any]:
    return {
        "x0": float(s["x0"]), "lr": float(s["lr"]), "steps": s["steps"], "solvers": s["solvers"], "focus": s["focus"],
        "stepwise": s["stepwise"], "momentum": float(s["momentum"]), "alpha": float(s["alpha"]),
        "betas": (float(s["beta1"]), float(s["beta2"])), "eps": float(s["eps"]), "BLOW_UP": float(gd.BLOW_UP),
    }


def _noise(s: dict, data_name: str | None) -> dict[str, Any]:
    return {
        "w_true": float(s["w"]), "b_true": float(s["b"]), "noise_mean": float(s["noise_mean"]),
        "noise_std": float(s["noise_std"]), "n": s["n"], "seed": s["seed"], "learning_rate": float(s["lr"]),
        "num_iterations": s["iters"],
    }


def _regression(s: dict, data_name: str | None) -> dict[str, Any]:
    return {
        "DATA_FILE": _data_file(s, data_name), "learning_rate": float(s["lr"]), "initial_b": _course_number(s["b0"]),
        "initial_m": _course_number(s["m0"]), "num_iterations": s["iters"], "replay_at": s["at"],
        "runner": Code("standardised_runner" if s["normalise"] else "gradient_descent_runner"),
    }


def _classification(s: dict, data_name: str | None) -> dict[str, Any]:
    return {
        "w": float(s["w"]), "b": float(s["b"]), "data_set": s["data"], "k": s["classes"], "noise": float(s["noise"]),
        "seed": s["seed"], "lr": float(s["lr"]), "steps": s["steps"], "loss_name": s["loss"],
        "picked": (float(s["px"]), float(s["py"])), "N_TRAIN": lc.N_TRAIN, "N_TEST": lc.N_TEST,
    }


def _mnist(s: dict, data_name: str | None) -> dict[str, Any]:
    config = recipes.config_from_settings(s)
    return {
        # h{i} past ``layers`` are the page's disabled sliders: they describe no layer
        "hidden": list(config.hidden), "activation": config.activation, "final": s["final"], "loss_name": config.loss,
        "optimizer_name": config.optimizer, "learning_rate": float(config.lr), "momentum": float(config.momentum),
        "schedule": s["schedule"], "batch_size": config.batch_size, "epochs": config.epochs, "seed": config.seed,
    }


_VALUES = {
    "descent": _descent,
    "noise": _noise,
    "regression": _regression,
    "classification": _classification,
    "mnist_train": _mnist,
}


# ---------------------------------------------------------------------------- the programs


def course_code(page: str, settings: Mapping[str, Any] | None = None, *, lang: str = "zh",
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
    return _with_values(_program_text(page, lang), _VALUES[page](s, data_name), page)


def course_code_filename(page: str) -> str:
    """The name the page's download button gives the program: ``<page>.py``."""
    if page not in PAGES:
        raise ExportError("unknown_page", page=page)
    return f"{page}.py"


def _data_file(s: Mapping[str, Any], data_name: str | None) -> str:
    if s["data"] == "upload" and data_name:
        return Path(str(data_name)).name or DATA_FILES["upload"]
    return DATA_FILES[s["data"]]


def data_file(settings: Mapping[str, Any] | None = None, data_name: str | None = None) -> str:
    """The file the regression program reads when ``--data`` is not given, for these settings."""
    return _data_file(settings_for("regression", settings), data_name)


def run_command(page: str, data_name: str | None = None) -> str:
    """The shell command that runs the downloaded program (the regression's names its data file)."""
    command = f"python {course_code_filename(page)}"
    if page == "regression" and data_name:
        name = Path(str(data_name)).name
        return f'{command} --data "{name}"' if name else command
    return command
