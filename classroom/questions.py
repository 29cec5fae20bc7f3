"""The class's question bank for predict-then-reveal: bilingual TOML files, each question tied to a
page and a setup (that page's URL settings); its right answer is computed by ``lessons`` for the
setup, never typed in.

The bank is every ``*.toml`` in ``questions/`` at the top of the repository, then in the folder
``CLASS_QUESTIONS_DIR`` names (a teacher's own, no code touched). A question reads::

    [descent_lowest]                 # its id: letters, digits, "_" (unique across the files)
    page = "descent"                 # the page it is about (its URL name)
    kind = "lowest_solver"           # how the answer is computed: a key of KINDS
    zh = "從 x₀ = 3、lr 0.05 走 40 步：哪個求解器最後最低？"
    en = "From x₀ = 3 with lr 0.05, which solver ends lowest after 40 steps?"
    [descent_lowest.setup]           # the page's settings (the rest keep their defaults)
    x0 = 3.0
    lr = 0.05

No streamlit and no database here: the board (``classroom.classboard``) stores who voted what.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lessons.settings import Setting

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "questions"
EXTRA_ENV = "CLASS_QUESTIONS_DIR"
EXAMPLE_CSV = ROOT / "data" / "example.csv"  # the regression page's example data
ID_PATTERN = re.compile(r"^[a-z0-9_]{1,64}$")
YES_NO = ("yes", "no")
PARAMETER_BINS = ("under_100k", "100k_to_500k", "over_500k")  # 5c's network sizes, in weights and biases
SOLVER_CHOICES_MIN = 2
LOWEST_MARGIN = 1e-3  # "ends lowest" needs a winner by more than this (two runs in one valley tie to 1e-12)


class BankError(ValueError):
    """A question file that cannot be read: the message names the file and the question."""


def _page_settings(page: str) -> Mapping[str, Setting]:
    """The URL settings of the pages a question can be about (as ``lessons`` defines them)."""
    if page == "descent":
        from lessons import descent
        return descent.SETTINGS
    if page == "noise":
        from lessons import regression
        return regression.NOISE_SETTINGS
    if page == "regression":
        from lessons import regression
        return regression.SETTINGS
    if page == "classification":
        from lessons import classification
        return classification.SETTINGS
    if page == "mnist_network":
        from lessons import network
        return network.SETTINGS
    if page == "mnist_train":
        from lessons import recipes
        return recipes.SETTINGS
    raise KeyError(page)


# ---------------------------------------------------------------- the answers, by lessons


def _lowest_solver(values: Mapping[str, Any]) -> str:
    """The solver (of the setup's ``solvers``) whose run ends at the lowest loss; a run that blows up ends at +inf."""
    from lessons import descent

    def end(solver: str) -> float:
        run = descent.descend(values["x0"], values["lr"], values["steps"], solver, **descent.hyper_of(values))
        return math.inf if run.attrs["diverged"] else float(run["loss"].iloc[-1])

    solvers = list(values["solvers"])
    ends = np.array([end(s) for s in solvers])
    order = np.argsort(ends)
    if not ends[order[0]] < ends[order[1]] - LOWEST_MARGIN:
        # two solvers settle in the same valley floor: "which ends lowest" has no one answer
        raise BankError(f"{solvers[order[0]]} and {solvers[order[1]]} end within {LOWEST_MARGIN} of each other")
    return solvers[int(order[0])]


def _descent_diverges(values: Mapping[str, Any]) -> str:
    """"yes" if the focused solver's run leaves the numbers (|x| past ``descent.BLOW_UP``) within its steps."""
    from lessons import descent

    run = descent.descend(values["x0"], values["lr"], values["steps"], values["focus"], **descent.hyper_of(values))
    return "yes" if run.attrs["diverged"] else "no"


def _noise_diverges(values: Mapping[str, Any]) -> str:
    """"yes" if the noise page's descent (from b = w = 0) makes the error grow at some step."""
    from lessons import regression

    points = regression.make_noisy_line(values["w"], values["b"], n=values["n"], noise_mean=values["noise_mean"],
                                        noise_std=values["noise_std"], x_range=regression.NOISE_X_RANGE,
                                        seed=values["seed"])
    run = regression.gradient_descent_history(points, 0.0, 0.0, values["lr"], values["iters"])
    return "yes" if run.growth_at is not None else "no"


def _regression_diverges(values: Mapping[str, Any]) -> str:
    """"yes" if the regression page's descent on the example data makes the error grow at some step."""
    from lessons import regression

    points = regression.load_points(EXAMPLE_CSV)
    run = regression.descent(points, values["b0"], values["m0"], values["lr"], values["iters"], values["normalise"])
    return "yes" if run.growth_at is not None else "no"


def _fit(values: Mapping[str, Any], loss: str) -> Any:
    from lessons import classification

    return classification.fit_run(values["data"], values["classes"], values["noise"], values["seed"],
                                  values["lr"], values["steps"], loss)


def _beats_guessing(values: Mapping[str, Any]) -> str:
    """"yes" if the fitted classifier's held-out accuracy reaches ``classification.GUESSING``."""
    from lessons import classification

    return "yes" if _fit(values, values["loss"]).test_accuracy >= classification.GUESSING else "no"


def _surer_loss(values: Mapping[str, Any]) -> str:
    """Which loss ends more sure of its training points (``classification.compare_note``)."""
    from lessons import classification

    note = classification.compare_note(_fit(values, "cross_entropy"), _fit(values, "mse"))
    return {"compare_ce_surer": "cross_entropy", "compare_mse_surer": "mse", "compare_same": "same"}[note]


def _stack_is_one_layer(values: Mapping[str, Any]) -> str:
    """"yes" if the three layers with ``between`` compute what their collapsed single layer does
    (``network.nutshell_note``), on 100 random images (the collapse does not depend on the images)."""
    from lessons import network

    layers = network.random_linear_layers(seed=values["seed"])
    x = network.normalise(np.random.default_rng(values["seed"]).integers(0, 256, (100, 28, 28)))
    between = None if values["between"] == "none" else values["between"]
    gap, _ = network.nutshell_agreement(network.nutshell_comparison(x, layers, between))
    return "yes" if network.nutshell_note(gap) == "identical" else "no"


def _parameters(values: Mapping[str, Any]) -> str:
    """The bin of 5c's network's weights and biases (the torch model built from the settings, counted)."""
    from lessons import mlp, recipes

    config = recipes.config_from_settings(values)
    model = mlp.MLP(config.hidden, config.activation, config.final_activation)
    count = sum(p.numel() for p in model.parameters())
    return PARAMETER_BINS[0] if count < 100_000 else PARAMETER_BINS[1] if count < 500_000 else PARAMETER_BINS[2]


@dataclass(frozen=True)
class Kind:
    """How a kind of question is answered: the pages it fits, its choices for a setup, the answer."""

    pages: tuple[str, ...]
    choices: Callable[[Mapping[str, Any]], tuple[str, ...]]
    answer: Callable[[Mapping[str, Any]], str]


def _fixed(choices: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    return lambda values: choices


KINDS: dict[str, Kind] = {
    "lowest_solver": Kind(("descent",), lambda values: tuple(values["solvers"]), _lowest_solver),
    "descent_diverges": Kind(("descent",), _fixed(YES_NO), _descent_diverges),
    "noise_diverges": Kind(("noise",), _fixed(YES_NO), _noise_diverges),
    "regression_diverges": Kind(("regression",), _fixed(YES_NO), _regression_diverges),
    "beats_guessing": Kind(("classification",), _fixed(YES_NO), _beats_guessing),
    "surer_loss": Kind(("classification",), _fixed(("cross_entropy", "mse", "same")), _surer_loss),
    "stack_is_one_layer": Kind(("mnist_network",), _fixed(YES_NO), _stack_is_one_layer),
    "parameters": Kind(("mnist_train",), _fixed(PARAMETER_BINS), _parameters),
}


# ------------------------------------------------------------------------ the bank


@dataclass(frozen=True)
class Question:
    """One question: ``id``, the ``page`` it is about, ``query`` (that page's URL settings for the
    setup, as text), ``choices`` (keys, in order), its text per language, and ``answer()``."""

    id: str
    page: str
    kind: str
    query: dict[str, str]
    choices: tuple[str, ...]
    text: dict[str, str]
    source: str = ""
    values: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def answer(self) -> str:
        """The right choice, computed by ``lessons`` for this setup (once per process)."""
        return _answer(self.kind, self.page, tuple(sorted(self.query.items())))

    def prompt(self, lang: str) -> str:
        return self.text.get(lang) or self.text.get("en") or next(iter(self.text.values()))


@functools.lru_cache(maxsize=256)
def _answer(kind: str, page: str, query: tuple[tuple[str, str], ...]) -> str:
    return KINDS[kind].answer(_values(page, dict(query)))


def _values(page: str, query: Mapping[str, str]) -> dict[str, Any]:
    """The page's settings for a setup: the query's values read as the page reads its URL, the rest defaults."""
    settings = _page_settings(page)
    return {name: setting.decode(query[name]) if name in query else setting.default for name, setting in settings.items()}


def _question(qid: str, entry: Any, source: str) -> Question:
    where = f"{source}, [{qid}]"
    if not ID_PATTERN.match(qid):
        raise BankError(f"{where}: an id is lower-case letters, digits and _")
    if not isinstance(entry, dict):
        raise BankError(f"{where}: a question is a table")
    page, kind = entry.get("page"), entry.get("kind")
    if kind not in KINDS:
        raise BankError(f"{where}: kind must be one of {sorted(KINDS)}, not {kind!r}")
    if page not in KINDS[kind].pages:
        raise BankError(f"{where}: kind {kind} is about page {' or '.join(KINDS[kind].pages)}, not {page!r}")
    text = {lang: entry.get(lang) for lang in ("zh", "en")}
    if not all(isinstance(v, str) and v.strip() for v in text.values()):
        raise BankError(f"{where}: the question needs its text in zh and en")
    setup = entry.get("setup", {})
    settings = _page_settings(page)
    if not isinstance(setup, dict) or set(setup) - set(settings):
        raise BankError(f"{where}: setup names {sorted(set(setup) - set(settings))} are not {page}'s settings")
    query = {name: Setting.encode(value) for name, value in setup.items()}
    values = _values(page, query)
    for name, value in setup.items():  # a value out of the slider's range would be quietly changed
        if Setting.encode(values[name]) != Setting.encode(value):
            raise BankError(f"{where}: {name} = {value!r} is outside the page's range")
    choices = tuple(KINDS[kind].choices(values))
    if len(choices) < SOLVER_CHOICES_MIN:
        raise BankError(f"{where}: a question needs two choices or more")
    if kind == "lowest_solver":  # cheap, and a tie must stop the file, not a reveal in front of the class
        try:
            KINDS[kind].answer(values)
        except BankError as error:
            raise BankError(f"{where}: {error}") from None
    return Question(qid, page, kind, query, choices, text, source, values)


def read_bank(folder: Path) -> list[Question]:
    """Every question in the ``*.toml`` files of ``folder`` (file by file, in name order)."""
    found = []
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise BankError(f"{path.name}: {error}") from error
        found.extend(_question(qid, entry, path.name) for qid, entry in table.items())
    return found


def folders() -> list[Path]:
    """The course's bank, then the teacher's folder (``CLASS_QUESTIONS_DIR``) if set."""
    extra = os.environ.get(EXTRA_ENV, "").strip()
    return [BANK, *([Path(extra)] if extra else [])]


@functools.lru_cache(maxsize=4)
def _bank(places: tuple[Path, ...]) -> tuple[Question, ...]:
    found: list[Question] = []
    seen: dict[str, str] = {}
    for folder in places:
        for question in read_bank(folder):
            if question.id in seen:
                raise BankError(f"{question.source}: [{question.id}] is already in {seen[question.id]}")
            seen[question.id] = question.source
            found.append(question)
    return tuple(found)


def questions() -> list[Question]:
    """The whole bank, in file order (read once per process and folder setting)."""
    return list(_bank(tuple(folders())))


def by_id() -> dict[str, Question]:
    return {q.id: q for q in questions()}


# ----------------------------------------- the class race: a posted run, recomputed by lessons

DESCENT_RACE_KEYS = ("x0", "lr", "steps", "solver", "momentum", "alpha", "beta1", "beta2", "eps")
REGRESSION_RACE_KEYS = ("lr", "iters", "b0", "m0", "normalise")
VALLEY_ERROR = 1e-3  # a regression run is "in the valley" within 0.1 % above the lowest error any line reaches


def descent_race_settings(values: Mapping[str, Any], solver: str) -> dict[str, Any]:
    """What page 1 posts to the race: its start, rate, steps and the chosen solver with its hyper-parameters."""
    return {"x0": float(values["x0"]), "lr": float(values["lr"]), "steps": int(values["steps"]), "solver": solver,
            **{k: float(values[k]) for k in ("momentum", "alpha", "beta1", "beta2", "eps")}}


def descent_race_run(settings: Mapping[str, Any]) -> tuple[Any, float, int | None]:
    """(the path: step, x, loss; its final loss, +inf if it blew up; the steps to the valley, or None).

    The valley: from that step on, x stays within ``descent.SETTLED`` of one local minimum of x²·sin x."""
    from lessons import descent

    hyper = {"momentum": settings["momentum"], "alpha": settings["alpha"],
             "betas": (settings["beta1"], settings["beta2"]), "eps": settings["eps"]}
    path = descent.descend(settings["x0"], settings["lr"], int(settings["steps"]), settings["solver"], **hyper)
    if path.attrs["diverged"] or path.empty:
        return path, math.inf, None
    xs = path["x"].to_numpy(np.float64)
    minima = descent.local_minima(float(xs.min()) - 1.0, float(xs.max()) + 1.0)["x"].to_numpy(np.float64)
    return path, float(path["loss"].iloc[-1]), _settled_from(xs, minima, descent.SETTLED)


def _settled_from(xs: np.ndarray, minima: np.ndarray, near: float) -> int | None:
    """The first step from which every x stays within ``near`` of the same minimum, or None."""
    if minima.size == 0:
        return None
    nearest = np.abs(xs[:, None] - minima[None, :]).argmin(axis=1)
    close = np.abs(xs - minima[nearest]) <= near
    if not close[-1]:
        return None
    same = nearest == nearest[-1]
    bad = np.flatnonzero(~(close & same))
    return int(bad[-1]) + 1 if bad.size else 0


def regression_race_run(points: Any, settings: Mapping[str, Any]) -> tuple[Any, float, int | None]:
    """(the run, its error after the iterations, +inf if it blew up; the first iteration within
    ``VALLEY_ERROR`` of the lowest error any line reaches, or None)."""
    from lessons import regression

    run = regression.descent(points, settings["b0"], settings["m0"], settings["lr"], int(settings["iters"]),
                             bool(settings["normalise"]))
    final = float(run.error[-1])
    if not math.isfinite(final) or run.growth_at is not None:
        return run, math.inf if not math.isfinite(final) else final, None
    target = regression.lowest_loss(points) * (1 + VALLEY_ERROR) + 1e-12
    hits = np.flatnonzero(run.error <= target)
    return run, final, int(hits[0]) if hits.size else None
