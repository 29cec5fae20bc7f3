"""Charts that read on a projector and a phone, checked on the specs the pages send (the browser's own
measure of every text box is tests/e2e/test_charts_fit.py): large type reaches every chart's text, lesson
1's solvers all show, lesson 2's true line is drawn last and apart, lesson 3's ticks stay short after a
divergence, lesson 4's two losses have two colours and whole names, and 5b's ten digits all show on both
themes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from app.charts import classification as cls_charts
from app.charts import descent as descent_charts
from app.charts import network as net_charts
from app.charts.descent import VALLEY
from app.display import LARGE_FONTS, LARGE_HEIGHT, enlarged, projector_config
from app.i18n import STRINGS
from app.vega import lines
from lessons import descent as gd
from tests.conftest import APP, open_page

TIMEOUT = 240
LIGHT, DARK = "#fffdf8", "#16181d"  # the themes' backgrounds (.streamlit/config.toml)
PAGES = ["descent", "noise", "regression", "classification", "mnist_data", "mnist_network"]


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two ``#rrggbb`` colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


def sizes(spec, part: str = "") -> list[tuple[str, str, float]]:
    """Every font size a spec sets itself: (the part it sits in, the key, the size)."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("datasets", "data"):
                continue
            if key.endswith("ontSize") and isinstance(value, (int, float)):
                found.append((part, key, value))
            else:
                found += sizes(value, key)
    elif isinstance(spec, list):
        for item in spec:
            found += sizes(item, part)
    return found


def page_specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")]


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """No MNIST anywhere: 5a and 5b draw the small offline digits."""
    from app import ui
    from lessons import mnist

    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(mnist, "DEFAULT_ROOT", tmp_path / "no-mnist-here")
    ui.mnist_data.clear()
    yield
    ui.mnist_data.clear()


# ------------------------------------------------------------------------------------ large type


def test_enlarged_raises_every_size_a_chart_sets_itself_and_its_height():
    spec = {"height": 200, "title": {"text": "t", "fontSize": 12},
            "layer": [{"mark": {"type": "text", "fontSize": 11}},
                      {"mark": "line", "encoding": {"x": {"field": "a", "axis": {"labelFontSize": 9, "titleFontSize": 30}}}}],
            "datasets": {"d": b"\x00"}, "config": {"legend": {"labelLimit": 120}}}
    big = enlarged(spec)
    assert big["title"]["fontSize"] == LARGE_FONTS["heading"]
    assert big["layer"][0]["mark"]["fontSize"] == LARGE_FONTS["label"]
    axis = big["layer"][1]["encoding"]["x"]["axis"]
    assert axis == {"labelFontSize": LARGE_FONTS["label"], "titleFontSize": 30}  # a larger own size stays
    assert big["config"]["legend"]["labelLimit"] == 0 and big["config"]["axis"]["labelFontSize"] == LARGE_FONTS["label"]
    assert big["height"] == round(200 * LARGE_HEIGHT) and big["datasets"] is spec["datasets"]
    assert spec["title"]["fontSize"] == 12 and "config" not in spec["layer"][0]  # the cached spec is left alone


def test_projector_config_keeps_a_larger_size_of_the_charts_own():
    merged = projector_config({"axis": {"labelFontSize": 40, "grid": False}})
    assert merged["axis"] == {"labelFontSize": 40, "titleFontSize": LARGE_FONTS["title"], "grid": False}


@pytest.mark.parametrize("page", PAGES)
def test_every_chart_of_a_page_takes_large_type(page, no_mnist):
    """Under ``?large=1`` every chart has the large axis, legend, title and mark-text sizes and no own size
    smaller than them; without it, none of them is set (Streamlit's theme sizes the text)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(lang="en", large="1")  # from the first run: the switch reads it once
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    specs = page_specs(at)
    assert specs, f"{page}: no chart"
    for spec in specs:
        config = spec["config"]
        assert config["axis"]["labelFontSize"] >= LARGE_FONTS["label"]
        assert config["axis"]["titleFontSize"] >= LARGE_FONTS["title"]
        assert config["legend"]["labelFontSize"] >= LARGE_FONTS["legend_label"]
        assert config["title"]["fontSize"] >= LARGE_FONTS["heading"]
        assert config["text"]["fontSize"] >= LARGE_FONTS["label"]
        small = [(part, key, size) for part, key, size in sizes({k: v for k, v in spec.items() if k != "config"})
                 if size < LARGE_FONTS["label"]]
        assert small == [], f"{page}: sizes below large type's {small}"
    plain = open_page(f"pages/{page}.py", lang="en", timeout=TIMEOUT)
    for spec in page_specs(plain):
        assert "labelFontSize" not in spec.get("config", {}).get("axis", {})


# ------------------------------------------------------------------------------------- lesson 1


def test_descent_shows_every_solver_whole_and_marks_valleys_on_both_themes():
    at = open_page("pages/descent.py", lang="en", timeout=TIMEOUT)
    solvers = at.button_group(key="descent.solvers")  # pills wrap: no name is cut, none hidden behind a scroll
    assert len(solvers.options) == 4 and solvers.value == ["sgd", "rmsprop", "adam"]
    assert contrast(VALLEY, LIGHT) >= 3 and contrast(VALLEY, DARK) >= 3
    (spec,) = page_specs(at)
    assert isinstance(spec["title"], list) and len(spec["title"]) == 2  # two lines: whole on a phone


@settings(max_examples=60, deadline=None)
@given(x0=st.floats(-10, 10), lr=st.sampled_from(gd.LR_OPTIONS), steps=st.integers(1, gd.MAX_STEPS),
       solvers=st.lists(st.sampled_from(gd.SOLVERS), min_size=1, max_size=4, unique=True),
       font=st.sampled_from([descent_charts.LABEL_FONT, LARGE_FONTS["label"]]))
def test_step_numbers_never_print_over_each_other(x0, lr, steps, solvers, font):
    """Over the page's whole slider ranges: the numbered points' labels, placed as the chart places them on
    a phone-sized plot, never overlap; each path numbers its start unless another number sits there."""
    runs = {s: gd.descend(x0, lr, steps, s) for s in solvers}
    path = descent_charts.paths(runs, {s: s for s in gd.SOLVERS})
    if not len(path["x"]):
        return
    window = gd.view_window(path["x"])
    inside = (path["x"] >= window[0]) & (path["x"] <= window[1])
    path = {name: values[inside] for name, values in path.items()}
    if not len(path["x"]):
        return
    mask = descent_charts.numbered(path, window, solvers[0], font)
    first = np.flatnonzero(path["solver"] == solvers[0])
    assert mask[first[0]], "the focus solver's start is always numbered"
    lo, hi = window
    losses = np.concatenate([gd.loss(np.linspace(lo, hi, 300)), path["loss"]])
    span = float(losses.max() - losses.min()) or 1.0
    boxes = []
    for i in np.flatnonzero(mask):
        x = (path["x"][i] - lo) / (hi - lo) * descent_charts.PLOT_PX[0]
        y = (losses.max() - path["loss"][i]) / span * descent_charts.PLOT_PX[1] + descent_charts.DY[path["solver"][i]]
        w = 0.3 * font * len(str(int(path["step"][i])))  # a digit is about 0.55 em wide: half of it, either side
        boxes.append((x - w, x + w, y - font / 2, y + font / 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert min(a[1], b[1]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[2], b[2]), (a, b)
    for solver in solvers:
        assert mask[path["solver"] == solver].sum() <= descent_charts.LABELLED_STEPS


def test_lines_puts_a_titles_note_on_its_own_line():
    assert lines("Loss curve and paths (numbers: steps)") == ["Loss curve and paths", "(numbers: steps)"]
    assert lines("累加的概率（到 1 剛好結束）") == ["累加的概率", "（到 1 剛好結束）"]
    assert lines("plain") == "plain"


# ------------------------------------------------------------------------------------- lessons 2, 3


def test_noise_draws_the_true_line_last_dotted_and_in_its_own_colour():
    at = open_page("pages/noise.py", lang="zh", timeout=TIMEOUT)
    scatter = next(s for s in page_specs(at) if any("lines" == layer.get("data", {}).get("name") for layer in s["layer"]))
    line_layers = [layer for layer in scatter["layer"] if layer.get("data", {}).get("name") == "lines"]
    true_name = json.dumps(STRINGS["regression.line_true"]["zh"])
    assert line_layers[-1]["transform"] == [{"filter": f"datum.line == {true_name}"}]
    color, dash = line_layers[-1]["encoding"]["color"]["scale"], line_layers[-1]["encoding"]["strokeDash"]["scale"]
    at_true = color["domain"].index(json.loads(true_name))
    others = [c for i, c in enumerate(color["range"]) if i != at_true]
    assert color["range"][at_true] not in others
    assert dash["range"][at_true] not in [d for i, d in enumerate(dash["range"]) if i != at_true]
    assert contrast(color["range"][at_true], LIGHT) >= 3 and contrast(color["range"][at_true], DARK) >= 3


def test_regression_ticks_stay_short_and_the_points_in_view_after_a_divergence():
    """The course's data with lr 0.001 diverges: the axes keep the points' range and print at most 6 digits."""
    at = open_page("pages/regression.py", lang="en", query={"lr": "0.001"}, timeout=TIMEOUT)
    assert not at.exception
    for spec in page_specs(at):
        for layer in spec.get("layer", [spec]):
            y = layer.get("encoding", {}).get("y", {})
            if y.get("field") in ("y", "error", "value") and "title" in y:  # the axes of points and error curves
                assert y["axis"]["format"] == ".6~g", f"the {y['field']} axis prints every digit"
    scatter = next(s for s in page_specs(at) if any(layer.get("data", {}).get("name") == "points" for layer in s["layer"]))
    low, high = scatter["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert high - low < 1e4  # the points' own range, not the runaway line's


# ------------------------------------------------------------------------------------- lesson 4


def test_classification_race_has_two_colours_whole_names_and_clipped_points():
    at = open_page("pages/classification.py", lang="en", timeout=TIMEOUT)
    assert not at.exception
    specs = page_specs(at)
    race = next(s for s in specs if s.get("data", {}).get("name") == "race")
    colour = race["encoding"]["color"]
    assert len(set(colour["scale"]["range"])) == 2 and colour["legend"]["labelLimit"] == 0
    for c in colour["scale"]["range"]:
        assert contrast(c, LIGHT) >= 3 and contrast(c, DARK) >= 3
    regions = [s for s in specs if any(layer.get("data", {}).get("name") == "points" for layer in s.get("layer", []))]
    assert regions
    for spec in regions:
        for layer in spec["layer"]:
            if layer["data"]["name"] in ("points", "picked"):
                assert layer["mark"]["clip"] is True
    stacked = next(s for s in specs if isinstance(s.get("title"), dict))
    assert "fontSize" not in stacked["title"] and isinstance(stacked["title"]["text"], list)


# ------------------------------------------------------------------------------------- lesson 5b


def test_every_digit_colour_shows_on_both_themes():
    colours = net_charts.DIGIT_COLOURS
    assert len(set(colours)) == 10
    for c in colours:
        assert contrast(c, LIGHT) >= 3 and contrast(c, DARK) >= 3, c
    assert cls_charts.RACE_COLORS[0] != cls_charts.RACE_COLORS[1]


# ------------------------------------------------------------------------------------- class board


@settings(max_examples=40, deadline=None)
@given(accuracies=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
       lrs=st.lists(st.sampled_from([1e-4, 3e-4, 1e-3, 0.01, 0.05, 0.1, 1.0]), min_size=6, max_size=6))
def test_board_chart_axes_hold_every_run_with_short_ticks(accuracies, lrs):
    """Any posted runs, one or many: the accuracy axis holds them all and is never zero wide, its ticks print
    at most one decimal of a percent (not "88.870001%"), and the log axis spans whole decades around them."""
    import pandas as pd

    from app.charts import classboard as board

    runs = pd.DataFrame({"id": range(len(accuracies)), "nickname": [f"s{i}" for i in range(len(accuracies))],
                         "accuracy": accuracies, "seconds": 1.0,
                         "settings": [{"lr": lrs[i], "optimizer": "sgd"} for i in range(len(accuracies))]})
    spec, _ = board.accuracy_chart(runs, str)
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    lo, hi = y["scale"]["domain"]
    assert 0 <= lo < hi <= 1 and lo <= min(accuracies) and max(accuracies) <= hi and hi - lo >= 0.005
    assert y["axis"]["format"] == ".1~%" and y["scale"]["padding"] > 0 and x["scale"]["padding"] > 0
    first, last = x["scale"]["domain"]
    used = lrs[:len(accuracies)]
    assert first <= min(used) and max(used) <= last and last / first >= 10


def test_every_epochs_colour_shows_on_both_themes():
    """The loss curves' epoch colours, ends and the shades between (sampled as a straight mix), 3:1 on both."""
    from app.mnist_widgets import EPOCH_COLOURS

    ends = [[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in EPOCH_COLOURS]
    for share in np.linspace(0, 1, 11):
        mix = "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(*ends, strict=True))
        assert contrast(mix, LIGHT) >= 3 and contrast(mix, DARK) >= 3, mix
