"""Accessibility without a browser: every chart and every image of every page has a text alternative in
the page's language, a series told apart by colour is told apart by shape or dash too, the palettes stay
apart for a colour-blind student, and the sentences the experiments speak carry the lessons' own numbers.
(axe-core in the browser: tests/e2e/test_accessibility.py.)"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from contextlib import contextmanager

import numpy as np
import pytest
from conftest import ROOT, open_page, vega_lite_specs
from hypothesis import given, settings
from hypothesis import strategies as st

from app import a11y, i18n, vega
from app.charts import classification as cls_charts
from app.charts import descent as descent_charts
from app.charts import network as net_charts
from app.charts import regression as regression_charts
from app.i18n import STRINGS
from app.registry import PAGES
from lessons import classification as lc
from lessons import descent as gd
from lessons import regression

CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?")


@contextmanager
def language(code: str):
    """``t()`` in ``code`` outside a page run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(i18n, "lang", lambda: code)
        yield


def numbers(text: str) -> list[float]:
    """The numbers a sentence states, in order (a true minus sign read as one)."""
    return [float(n.replace("−", "-")) for n in NUMBER.findall(text)]


def in_language(text: str, lang: str) -> bool:
    """Whether ``text`` reads as the page's language: Chinese characters on a zh page, none on an en page."""
    return bool(CJK.search(text)) == (lang == "zh")


# ------------------------------------------------------------------ every page, as a class sees it

# The outline's words: a description that starts with them was made up by ``vega.show`` because the
# chart's maker gave none.
FALLBACKS = {text.split("{")[0] for key in ("access.chart_default", "access.chart_untitled")
             for text in STRINGS[key].values()}


@pytest.fixture(scope="module")
def pages(offline_mnist):
    """Each page in each language, run once for all the checks below."""
    runs = {}

    def run(path: str, lang: str):
        if (path, lang) not in runs:
            runs[path, lang] = open_page(path, lang=lang, timeout=300)
        return runs[path, lang]

    return run


def made_up(description: str) -> bool:
    return any(description.startswith(words) or description.split(": ", 1)[-1].startswith(words)
               for words in FALLBACKS)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_every_chart_says_what_it_shows_in_the_pages_language(pages, spec, lang):
    at = pages(spec.path, lang)
    assert not at.exception, [e.value for e in at.exception]
    for chart in vega_lite_specs(at):
        description = chart.get("description")
        assert description, f"{spec.name} ({lang}): a chart without a description: {json.dumps(chart)[:300]}"
        assert not made_up(description), f"{spec.name} ({lang}): only the generic outline: {description!r}"
        assert in_language(description, lang), f"{spec.name} ({lang}): {description!r}"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_every_image_has_a_text_alternative_in_the_pages_language(pages, spec, lang):
    at = pages(spec.path, lang)
    for element in at.get("image"):
        for image in element.proto.imgs:
            assert image.alt.strip(), f"{spec.name} ({lang}): an image without alt text (caption {image.caption!r})"
            assert in_language(image.alt, lang), f"{spec.name} ({lang}): {image.alt!r}"


SERIES_MARKS = {"line", "point", "circle", "square", "trail", "tick"}
# Colour alone is enough where the colours are not what the chart compares. The nutshell's ten outputs
# (field ``digit``) all make the same point, on or off the diagonal; ten shapes would only add noise.
COLOUR_ONLY = {"digit"}
# A cue may sit on a field one-to-one with the colour's: descent's dashes are keyed by the solver's code,
# its colours by the solver's name in the page's language (a dash on the legend's field smudged its shapes).
SAME_SERIES = {"name": {"name", "solver"}}


def unit_layers(spec: dict, inherited: dict | None = None):
    """Each single-mark part of a Vega-Lite spec, with the encoding it inherits from its parents."""
    encoding = {**(inherited or {}), **spec.get("encoding", {})}
    if "mark" in spec:
        yield spec["mark"] if isinstance(spec["mark"], str) else spec["mark"]["type"], encoding
    for part in spec.get("layer", []):
        yield from unit_layers(part, encoding)


@pytest.mark.slow
@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.name)
def test_a_series_told_apart_by_colour_has_a_shape_or_dash_too(pages, spec):
    for chart in vega_lite_specs(pages(spec.path, "en")):
        for mark, encoding in unit_layers(chart):
            colour = encoding.get("color", {})
            if mark not in SERIES_MARKS or colour.get("type") != "nominal" or colour.get("field") in COLOUR_ONLY:
                continue
            cues = {encoding.get(name, {}).get("field") for name in ("shape", "strokeDash")}
            assert SAME_SERIES.get(colour.get("field"), {colour.get("field")}) & cues, (
                f"{spec.name}: {mark} series by colour ({colour.get('field')}) only: {chart.get('description')!r}")


# ------------------------------------------------------------------------------ colour vision

# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB.
DEFICIENCIES = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
}
APART = 20.0  # CIE76 ΔE: well past "clearly different" (~10) for small marks on a chart
PALETTES = {
    "solvers and optimizers (app.a11y)": list(a11y.SERIES_COLORS.values()),
    "lesson 1's solvers": list(descent_charts.COLORS.values()),
    "activations (5b)": list(net_charts.COLOURS.values()),
}
THEMES = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]


def linear(colour: str) -> np.ndarray:
    c = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear RGB colour."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb, 0, 1)
    f = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(f > 216 / 24389, np.cbrt(f), (24389 / 27 * f + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two colours."""
    la, lb = (float(np.array([0.2126, 0.7152, 0.0722]) @ linear(c)) for c in (a, b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_the_simulation_is_machados():
    # Machado's matrices keep grey grey (each row sums to 1) and make red and green alike for a deuteranope.
    for matrix in DEFICIENCIES.values():
        assert np.allclose(matrix.sum(axis=1), 1.0, atol=1e-5)
    red, green = linear("#ff0000"), linear("#00ff00")
    assert np.linalg.norm(lab(red) - lab(green)) > 80
    assert np.linalg.norm(lab(DEFICIENCIES["deuteranopia"] @ red) - lab(DEFICIENCIES["deuteranopia"] @ green)) < 40


@pytest.mark.parametrize("name", PALETTES)
def test_palettes_stay_apart_under_deuteranopia_and_protanopia(name):
    colours = PALETTES[name]
    for deficiency, matrix in DEFICIENCIES.items():
        for a, b in itertools.combinations(colours, 2):
            gap = float(np.linalg.norm(lab(matrix @ linear(a)) - lab(matrix @ linear(b))))
            assert gap >= APART, f"{name}: {a} and {b} are only ΔE {gap:.1f} apart under {deficiency}"


@pytest.mark.parametrize("colour", [*a11y.SERIES_COLORS.values(), a11y.OTHER_COLOR, a11y.MARK_GREY,
                                    *net_charts.COLOURS.values()])
def test_series_colours_show_on_both_themes(colour):
    # WCAG 1.4.11: a mark that carries meaning, 3:1 against the background, light and dark alike.
    for theme in ("light", "dark"):
        assert contrast(colour, THEMES[theme]["backgroundColor"]) >= 3.0, (colour, theme)


def test_a_chart_without_a_description_gets_its_own_words():
    spec = {"layer": [{"mark": "line", "encoding": {"x": {"field": "step", "title": "Schritt"},
                                                   "y": {"field": "loss"}, "color": {"field": "epoch"}}}]}
    with language("en"):
        assert vega.outline(spec) == "chart of loss against Schritt, by epoch"
    with language("zh"):
        assert vega.outline({"mark": "bar"}) == STRINGS["access.chart_untitled"]["zh"]


# ------------------------------------------------------------------------------ alt text


def test_a_digits_alt_text_says_the_digit_and_what_the_network_read():
    with language("en"):
        assert a11y.digit_alt(7) == "handwritten 7"
        assert a11y.digit_alt(7, 1) == "handwritten 7, read as 1 (wrong)"
        assert a11y.digit_alt(3, 3) == "handwritten 3, read as 3 (right)"
    with language("zh"):
        assert "7" in a11y.digit_alt(7, 1) and "1" in a11y.digit_alt(7, 1) and "錯" in a11y.digit_alt(7, 1)


# ----------------------------------------------------------- the sentences the experiments speak


@settings(max_examples=200, deadline=None)
@given(w=st.integers(-100, 100).map(lambda i: i / 10), b=st.integers(-100, 100).map(lambda i: i / 10),
       lang=st.sampled_from(["zh", "en"]))
def test_the_sigmoid_sentence_states_the_lessons_midpoint(w, b, lang):
    with language(lang):
        note = cls_charts.sigmoid_note(w, b)
    middle = lc.sigmoid_midpoint(w, b)
    stated = numbers(note)[-1]
    if middle is not None:
        assert stated == pytest.approx(round(middle, 2), abs=1e-9)
        assert lc.sigmoid(w * stated + b) == pytest.approx(0.5, abs=0.01 * abs(w) + 1e-9)  # σ is ½ there
    else:
        assert stated == pytest.approx(round(float(lc.sigmoid(b)), 3))


RUN_KEYS = [("blobs", 3, 0.5, 0, 0.3, 200, "cross_entropy"), ("xor", 2, 0.3, 1, 1.0, 100, "mse"),
            ("moons", 2, 0.3, 2, 0.1, 50, "cross_entropy"), ("blobs", 6, 1.0, 3, 3.0, 30, "mse")]


@pytest.fixture(scope="module")
def runs():
    return {key: lc.fit_run(*key, n_train=lc.N_TRAIN, n_test=lc.N_TEST) for key in RUN_KEYS}


@settings(max_examples=60, deadline=None)
@given(which=st.sampled_from(RUN_KEYS), x1=st.integers(-60, 60).map(lambda i: i / 10),
       x2=st.integers(-60, 60).map(lambda i: i / 10), lang=st.sampled_from(["zh", "en"]))
def test_the_picked_points_sentence_states_the_models_answer(runs, which, x1, x2, lang):
    run = runs[which]
    breakdown = lc.point_breakdown(run.model, np.array([x1, x2]))
    with language(lang):
        sentence = cls_charts.point_sentence(breakdown.probabilities, (x1, x2))
        described = cls_charts.probabilities_text(breakdown.probabilities, (x1, x2))
    said_x1, said_x2, said_class, said_p = numbers(sentence)
    assert (said_x1, said_x2) == (x1, x2)
    assert said_class == int(run.model.predict(np.array([[x1, x2]]))[0])  # the class the regions show there
    assert said_p == pytest.approx(round(float(breakdown.probabilities.max()), 3), abs=1e-9)
    stated = numbers(described)[3:]  # after the point and "adding up to 1": (class number, probability) pairs
    assert stated[0::2] == list(range(run.k))
    assert stated[1::2] == pytest.approx(np.round(breakdown.probabilities, 3), abs=1e-9)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_training_sentence_states_the_runs_figures(runs, lang):
    for key, run in runs.items():
        with language(lang):
            sentence = cls_charts.trained_sentence(run, key[-1])
            curve = cls_charts.curve_text(run, "accuracy")
        steps, loss, train, test = numbers(sentence)[-4:]
        assert steps == key[5] == len(run.model.history.loss) - 1
        assert loss == pytest.approx(run.model.history.loss[-1], abs=5e-5)
        assert train == pytest.approx(100 * run.train_accuracy, abs=0.05)
        assert test == pytest.approx(100 * run.test_accuracy, abs=0.05)
        stated = numbers(curve)
        first, last = (stated[0], stated[2]) if lang == "en" else (stated[1], stated[3])
        assert (first, last) == pytest.approx([100 * run.model.history.accuracy[0], 100 * run.model.history.accuracy[-1]],
                                              abs=0.05)


@settings(max_examples=80, deadline=None)
@given(x0=st.integers(-100, 100).map(lambda i: i / 10), lr=st.sampled_from(gd.LR_OPTIONS),
       steps=st.integers(1, gd.MAX_STEPS), shown=st.one_of(st.none(), st.integers(0, gd.MAX_STEPS)),
       lang=st.sampled_from(["zh", "en"]))
def test_the_descent_sentence_states_where_each_solver_got(x0, lr, steps, shown, lang):
    runs = {s: gd.upto(gd.descend(x0, lr, steps, s), shown) for s in gd.SOLVERS}
    words = {s: s.upper() for s in gd.SOLVERS}  # names without digits
    with language(lang):
        sentence = descent_charts.spoken(runs, words)
        parts = sentence.split(STRINGS["access.descent_join"][lang])
    assert len(parts) == len(runs)
    for part, (solver, run) in zip(parts, runs.items(), strict=True):
        assert words[solver] in part
        if run.attrs["diverged"]:
            assert numbers(part) == [run.attrs["diverged_step"]]
        else:
            said = numbers(part)
            x, n = (said[0], said[1]) if lang == "en" else (said[1], said[0])
            assert n == len(run) - 1
            assert x == pytest.approx(round(float(run["x"].iloc[-1]), 2), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(w=st.integers(-30, 30).map(lambda i: i / 10), b=st.integers(-30, 30).map(lambda i: i / 10),
       lr=st.sampled_from([0.001, 0.01, 0.05, 0.2, 0.5]), iters=st.integers(1, 200), seed=st.integers(0, 99),
       lang=st.sampled_from(["zh", "en"]))
def test_the_fit_sentence_states_the_descents_figures(w, b, lr, iters, seed, lang):
    points = regression.make_noisy_line(w, b, n=50, noise_mean=0.01, noise_std=1.0, x_range=(-5.0, 5.0), seed=seed)
    run = regression.gradient_descent_history(points, 0.0, 0.0, lr, iters)
    verdict = regression.fit_verdict(run, points)
    best = regression.least_squares(points) if regression.x_has_spread(points) else None
    with language(lang):
        sentence = regression_charts.fit_sentence(run, verdict, best, "w")
    last = verdict.last_finite
    if verdict.code != regression.FIT_OK:
        assert str(verdict.step) in sentence and str(last) in sentence
    else:
        said = numbers(sentence.replace("e+", "E").replace("e-", "E-"))
        assert said[0] == run.iterations
        assert said[1] == pytest.approx(round(float(run.m[last]), 4), abs=1e-9)
        assert said[2] == pytest.approx(round(float(run.b[last]), 4), abs=1e-9)
        if best is not None:
            assert said[-2:] == pytest.approx([round(best[1], 4), round(best[0], 4)], abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_finished_training_sentence_states_the_pages_figures(lang):
    from dataclasses import replace

    from conftest import OneThread, tiny_data

    from app.charts import mnist_train as train_charts
    from lessons import mlp, recipes

    data = tiny_data("a11y-tiny")
    trained = mlp.train_config(replace(mlp.recipe_for(data), epochs=1), data, slots=OneThread())
    probabilities = mlp.predict_proba(trained.model, data.test_images / 255.0)
    wrong = int((probabilities.argmax(axis=1) != data.test_labels).sum())
    with language(lang):
        sentence = train_charts.trained_sentence(trained, wrong, len(probabilities), diverged=False)
        diverged = train_charts.trained_sentence(trained, wrong, len(probabilities), diverged=True)
    assert recipes.network_text(trained.config.hidden) in sentence
    assert trained.accuracy == pytest.approx(1 - wrong / len(probabilities))  # the two figures agree
    said = numbers(sentence.replace(recipes.network_text(trained.config.hidden), ""))
    assert f"{trained.accuracy:.2%}" in sentence
    assert (wrong, len(probabilities)) == ((said[-2], said[-1]) if lang == "en" else (said[-1], said[-2]))
    assert not numbers(diverged)


@pytest.mark.slow
def test_a_slider_move_speaks_once_and_the_first_visit_is_quiet(offline_mnist):
    at = open_page("pages/classification.py", lang="en", timeout=300)
    spoken = lambda: [h.proto.body for h in at.get("html") if "dl-live" in h.proto.body]
    assert not spoken(), "the page's first run says nothing: the student has moved nothing yet"
    next(s for s in at.slider if s.key == "classification.b").set_value(0.1).run()
    with language("en"):
        expected = cls_charts.sigmoid_note(lc.SETTINGS["w"].default, 0.1)
    said = spoken()
    assert len(said) == 1 and json.dumps(expected, ensure_ascii=False) in said[0]
