"""Pages 4 (classification), 5a (MNIST data), 5b (network), the quick start and home, as a class uses them:
the first "try it" in plain view and Reset beside the controls, readable numbers,
translated tables and tooltips, the take-home program, the cached quick-start model told as such, and the
class-board control after training. AppTest, on the small offline fallback data unless MNIST is needed."""

from __future__ import annotations

import json
import re

import pytest
from conftest import assert_valid_vega_lite, open_page
from streamlit import dataframe_util

import export
from app import take_home, ui
from app.i18n import STRINGS
from lessons import classification as lc
from lessons import mlp, mnist
from lessons import network as nw

pytestmark = pytest.mark.slow  # whole pages in AppTest: left out of make test-fast

TIMEOUT = 180


def t(key: str, lang: str = "en", **fields) -> str:
    return STRINGS[key][lang].format(**fields)


def clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at) -> list[str]:
    return [el.value for kind in ("markdown", "caption", "success", "info", "warning", "error") for el in getattr(at, kind)]


def specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")]


def chart_frames(at):
    return [dataframe_util.convert_arrow_bytes_to_pandas_df(ds.data.data)
            for chart in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart") for ds in chart.proto.datasets]


def tooltip_titles(spec) -> list:
    """Every tooltip's title in a Vega-Lite spec, and None for a tooltip without one (a raw field name)."""
    found = []
    if isinstance(spec, dict):
        tip = spec.get("encoding", {}).get("tooltip") if isinstance(spec.get("encoding"), dict) else None
        for item in tip if isinstance(tip, list) else [tip] if isinstance(tip, dict) else []:
            found.append(item.get("title"))
        for value in spec.values():
            found += tooltip_titles(value)
    elif isinstance(spec, list):
        for value in spec:
            found += tooltip_titles(value)
    return found


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """No MNIST anywhere: the app falls back to the small offline digits (and trains in a second)."""
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    monkeypatch.setattr(mnist, "DEFAULT_ROOT", tmp_path / "no-mnist-here")
    ui.mnist_data.clear()
    yield mnist.load_mnist()
    ui.mnist_data.clear()


# ------------------------------------------------------------------ every page: try it, Reset, tooltips


PAGES = {"classification": "classification.try_steep", "mnist_data": "mnist.data.try_test",
         "mnist_network": "mnist.net.try_relu"}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", list(PAGES))
def test_first_try_it_is_in_plain_view_and_loads_its_settings(no_mnist, page, lang):
    at = open_page(f"pages/{page}.py", lang=lang, timeout=TIMEOUT)
    clean(at)
    outside = [m.value for m in at.main.markdown if m.value.startswith("💡")]
    assert outside == ["💡 " + t(PAGES[page], lang)]
    at.button(key=f"{page}.__try").click().run()
    clean(at)
    assert len(at.query_params) > 1, "loading the prompt changes settings, and the URL carries them"
    at.button(key=f"{page}.__reset").click().run()
    clean(at)
    assert {k: at.query_params.get(k) for k in at.query_params} in ({"lang": lang}, {"lang": [lang]})


@pytest.mark.parametrize("page", ["classification", "mnist_data", "mnist_network"])
def test_every_chart_is_valid_vega_lite(no_mnist, page):
    """Beyond the default view every page's render test checks: the network page between ReLU layers."""
    at = open_page(f"pages/{page}.py", lang="en", query={"between": "relu"} if page == "mnist_network" else None,
                   timeout=TIMEOUT)
    clean(at)
    found = specs(at)
    assert found
    for spec in found:
        assert_valid_vega_lite(spec)


@pytest.mark.parametrize("page", ["classification", "mnist_data", "mnist_network"])
def test_every_tooltip_has_a_translated_title(no_mnist, page):
    at = open_page(f"pages/{page}.py", lang="zh", timeout=TIMEOUT)
    clean(at)
    titles = [title for spec in specs(at) for title in tooltip_titles(spec)]
    assert titles and None not in titles, "a tooltip without a title shows the raw field name"
    raw = {"x1", "x2", "value", "curve", "digit", "split", "count", "what", "line", "name", "label", "step"}
    assert not raw & set(titles)


# ------------------------------------------------------------------ 4 classification


def test_classification_metrics_are_never_cut_and_the_take_home_program_is_the_pages(monkeypatch):
    at = open_page("pages/classification.py", lang="en", query={"data": "moons", "steps": "300", "lr": "1"}, timeout=TIMEOUT)
    clean(at)
    run = lc.fit_run("moons", 2, 0.3, 0, 1.0, 300, "cross_entropy", n_train=200, n_test=1000)
    values = {m.label: m.value for m in at.metric}
    assert values[t("classification.metric_train")] == f"{run.train_accuracy:.1%}"
    assert values[t("classification.metric_test")] == f"{run.test_accuracy:.1%}"
    # Both losses side by side: one line each, with the numbers whole.
    lines = [m for m in texts(at) if m.startswith(t("classification.metric_loss"))]
    assert len(lines) == 2 and all("%" in line for line in lines)
    # The take-home expander, opened: the program for exactly these settings, and its download.
    at.session_state["classification.__home"] = True
    at.run()
    clean(at)
    settings = {**export.defaults("classification"), "data": "moons", "steps": 300, "lr": 1.0}
    want = export.course_code("classification", settings, lang="en")
    assert [c.value for c in at.code] == [want.rstrip("\n")]
    assert take_home.run_hint("classification", "en") in texts(at)


def test_classification_point_sliders_move_the_bars_and_the_url():
    at = open_page("pages/classification.py", lang="zh", timeout=TIMEOUT)
    clean(at)
    at.slider(key="classification.px").set_value(-4.0).run()
    clean(at)
    run = lc.fit_run("blobs", 3, 0.3, 0, 0.3, 200, "cross_entropy", n_train=200, n_test=1000)
    want = run.model.class_probabilities([[-4.0, 0.5]])[0]
    bars = next(f for f in chart_frames(at) if "start" in f.columns and "end" in f.columns)
    assert bars["p"].to_numpy() == pytest.approx(want, abs=1e-12)
    assert bars["end"].iloc[-1] == pytest.approx(1.0)
    assert at.query_params.get("px") in ("-4", ["-4"])
    assert any(t("classification.formula", "zh") == e.label for e in at.expander)


def test_classification_decision_regions_are_clickable_and_take_the_projectors_large_type():
    """The region chart is a dict spec (ui.show_vega): its two click selections are the ones on_pick reads,
    over fields its rows carry, and like every chart it takes the projector's large type."""
    from app.display import LARGE_FONTS

    at = open_page("pages/classification.py", lang="en", timeout=TIMEOUT)
    at.sidebar.toggle(key="large").set_value(True).run()
    clean(at)
    charts = at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
    clickable = [c for c in charts if any(layer.get("params") for layer in json.loads(c.proto.spec).get("layer", []))]
    assert len(clickable) == 1
    spec = json.loads(clickable[0].proto.spec)
    select = {param["name"]: param["select"] for layer in spec["layer"] for param in layer.get("params", [])}
    assert select == {name: {"type": "point", "fields": ["x1", "x2"], "on": "click"} for name in ("pick_cell", "pick_point")}
    frames = {ds.name: dataframe_util.convert_arrow_bytes_to_pandas_df(ds.data.data) for ds in clickable[0].proto.datasets}
    assert {"x1", "x2"} <= set(frames["cells"].columns) and {"x1", "x2"} <= set(frames["points"].columns)
    assert frames["picked"][["x1", "x2"]].to_numpy().tolist() == [[0.5, 0.5]]
    assert len(frames["cells"]) == 40 * 40
    for spec in specs(at):
        assert spec["config"]["axis"]["labelFontSize"] == LARGE_FONTS["label"]


# ------------------------------------------------------------------ 5a data


def test_data_page_counts_table_and_chart_speak_the_language(no_mnist):
    at = open_page("pages/mnist_data.py", lang="zh", timeout=TIMEOUT)
    clean(at)
    table = at.dataframe[0].value
    assert list(table.columns) == [t(k, "zh") for k in ("mnist.data.digit", "mnist.data.split_train",
                                                          "mnist.data.split_test", "mnist.data.total")]
    assert table[t("mnist.data.split_train", "zh")].tolist() == mnist.class_counts(no_mnist, "train").tolist()
    assert "digit" not in table.columns
    # The offline data's note names its own most and least common digits (ties: the first, as numpy's argmax).
    total = mnist.class_counts(no_mnist, "train") + mnist.class_counts(no_mnist, "test")
    note = t("mnist.data.counts_note_fallback", "zh", most=int(total.argmax()), most_n=f"{int(total.max()):,}",
             least=int(total.argmin()), least_n=f"{int(total.min()):,}", total=f"{int(total.sum()):,}")
    assert note in texts(at)


# ------------------------------------------------------------------ 5b network


def test_network_numbers_read_as_people_write_them(no_mnist):
    at = open_page("pages/mnist_network.py", lang="en", query={"depth": "20", "between": "relu"}, timeout=TIMEOUT)
    clean(at)
    values = [m.value for m in at.metric]
    assert values and not any(re.search(r"\de[+-]\d", v) for v in values), values
    notes = [m for m in texts(at) if m.startswith("At depth 20")]
    assert notes and "e-" not in notes[0] and "× 10⁻" in notes[0]
    # one chart per activation (they stack on a phone), none of a fixed width
    for spec in specs(at):
        assert "facet" not in spec and not isinstance(spec.get("width"), int)
    dashed = [spec for spec in specs(at) if spec.get("encoding", {}).get("strokeDash", {}).get("field") == "curve"]
    assert len(dashed) == len(nw.ACTIVATIONS)
    assert {f"**{t(f'mnist.net.act_{a}')}**" for a in nw.ACTIVATIONS} <= set(texts(at))


def test_relu_is_glossed_once_in_chinese(no_mnist):
    at = open_page("pages/mnist_network.py", lang="zh", timeout=TIMEOUT)
    clean(at)
    assert sum(re.search(r"ReLU（[^）]*整流函數）", m) is not None for m in texts(at)) == 1


@pytest.mark.parametrize("depth, note", [("2", "vanishing_not_yet"), ("20", "vanishing_small")])
def test_vanishing_note_follows_the_computed_ratio(no_mnist, depth, note):
    """The shallow prompt's depth gets the "still learns" note, a deep net the vanishing one."""
    at = open_page("pages/mnist_network.py", lang="en", query={"depth": depth}, timeout=TIMEOUT)
    clean(at)
    shares = {m.label: m.value for m in at.metric}
    sigmoid, relu = (shares[t("mnist.net.first_share", name=t(f"mnist.net.act_{a}"))] for a in ("sigmoid", "relu"))
    assert t(f"mnist.net.{note}", depth=int(depth), sigmoid=sigmoid, relu=relu) in texts(at)


# ------------------------------------------------------------------ quick start


@pytest.mark.slow
def test_quickstart_says_a_cached_model_was_loaded_not_trained_and_offers_the_board(no_mnist):
    recipe = mlp.recipe_for(no_mnist)
    trained = ui.trained_model(recipe)  # a classmate trained it already
    at = open_page("pages/quickstart.py", lang="zh", timeout=TIMEOUT)
    at.button(key="quickstart.__train").click().run()
    clean(at)
    waited = at.session_state["quickstart.wait"]
    assert waited < 0.5 * trained.seconds or trained.seconds < 0.2
    if waited < 0.5 * trained.seconds:
        labels = [m.label for m in at.metric]
        assert t("mnist.qs.time_cached", "zh") in labels
        assert any(c.startswith("這次不用等") and "秒" in c for c in texts(at))
    assert all(not m.value.endswith(" s") for m in at.metric), "秒, not s, on a Chinese page"
    # No class joined: the board control says how to join, with a link to the class page.
    assert t("classboard.join_hint", "zh") in " ".join(texts(at))
    assert at.button(key="quickstart.__reset") is not None


def test_quickstart_posts_the_run_to_the_class_board(no_mnist, tmp_path, monkeypatch):
    from app import classboard as board
    from classroom import classboard as cb

    url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    monkeypatch.setenv("CLASS_DB_URL", url)
    monkeypatch.setenv("CLASS_TEACHER_CODE", "teach-1234")
    board._open_board.clear()
    with cb.ClassBoard(url, teacher_code="teach-1234") as b:
        room = b.open_room("teach-1234")
    at = open_page("pages/quickstart.py", lang="en", query={"room": room}, timeout=TIMEOUT)
    at.button(key="quickstart.__train").click().run()
    clean(at)
    trained = at.session_state["quickstart.model"]
    at.text_input(key="quickstart.__board_run_nickname").input("Ada")
    next(b for b in at.button if b.label == t("classboard.post")).click().run()
    clean(at)
    with cb.ClassBoard(url, teacher_code="teach-1234") as b:
        runs = b.runs(room)
    assert len(runs) == 1
    assert runs["nickname"].iloc[0] == "Ada"
    assert runs["accuracy"].iloc[0] == pytest.approx(trained.accuracy)
    board._open_board.clear()


# ------------------------------------------------------------------ home


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_home_does_not_send_a_phone_to_a_sidebar_on_the_left(lang):
    at = open_page("pages/home.py", lang=lang, timeout=TIMEOUT)
    clean(at)
    intro = t("home.intro", lang)
    assert intro in texts(at)
    assert "左邊" not in intro and "on the left" not in intro
