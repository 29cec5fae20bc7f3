"""The MNIST pages (quick start, 5a data, 5b network, 5c training) in AppTest: with real MNIST and
with none at all (the scikit-learn fallback), in both languages, at their widgets' extremes, and
with the Train buttons pressed (on the small fallback data, so training takes a moment)."""

import numpy as np
import pandas as pd
import pytest
from conftest import mnist_dir, open_page
from streamlit import dataframe_util

from app import ui
from app.i18n import STRINGS
from lessons import mlp, mnist

pytestmark = pytest.mark.slow  # whole pages in AppTest: left out of make test-fast

MNIST_PAGES = ["pages/quickstart.py", "pages/mnist_data.py", "pages/mnist_network.py", "pages/mnist_train.py"]
TIMEOUT = 180


def en(key: str, **fields) -> str:
    return STRINGS[key]["en"].format(**fields)


def no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """No MNIST anywhere: an empty $MNIST_DIR and no data/MNIST/raw, so the app falls back."""
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    # the checkout's own data/MNIST/raw may hold a download; point the loader past it
    monkeypatch.setattr(mnist, "DEFAULT_ROOT", tmp_path / "no-mnist-here")
    ui.mnist_data.clear()  # AppTest runs in this process, so the cached data set is ours to reset
    assert mnist.load_mnist().is_fallback
    yield
    ui.mnist_data.clear()


@pytest.fixture
def real_mnist(monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir()))
    ui.mnist_data.clear()
    yield mnist.load_mnist()
    ui.mnist_data.clear()


def texts(at) -> list[str]:
    """Every markdown-ish text on the page (markdown, captions, alerts)."""
    return [el.value for kind in ("markdown", "caption", "success", "info", "warning", "error") for el in getattr(at, kind)]


def chart_frames(at) -> list[pd.DataFrame]:
    """The data of every chart on the page, decoded from the Arrow bytes sent to the browser."""
    return [
        dataframe_util.convert_arrow_bytes_to_pandas_df(ds.data.data)
        for chart in at.get("vega_lite_chart")
        for ds in chart.proto.datasets
    ]


def number(text: str) -> float:
    """A number as the pages print it (``lessons.network.readable``): "0.25" or "6.0 × 10⁻¹⁶"."""
    mantissa, _, power = text.partition(" × 10")
    return float(mantissa) * 10.0 ** int(power.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")) or 0)


def all_finite(frame: pd.DataFrame) -> bool:
    numbers = frame.select_dtypes("number").to_numpy(dtype=np.float64)
    return bool(np.isfinite(numbers).all())


def image_captions(at) -> list[str]:
    return [cap for el in at.get("image") for img in el.proto.imgs for cap in [img.caption] if cap]


# ------------------------------------------------------------------ every page renders


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", MNIST_PAGES)
def test_page_renders_without_mnist(no_mnist, path, lang):
    at = open_page(path, lang=lang, timeout=TIMEOUT)
    no_exception(at)
    name = path.removeprefix("pages/").removesuffix(".py")
    assert STRINGS[f"page.{name}.title"][lang] in [el.value for el in at.title]
    data = mnist.load_mnist()
    fallback = STRINGS["mnist.source_fallback"][lang].format(n_train=f"{len(data.train_images):,}", n_test=f"{len(data.test_images):,}")
    assert fallback in [w.value for w in at.warning], "the page must say plainly that this is not MNIST"


def test_fallback_offers_the_download_and_explains_failure(no_mnist, monkeypatch):
    """Offline the download fails; the page says so instead of crashing.

    ``fetch_mnist`` is replaced by its offline outcome (False) so the test never downloads
    11 MB into the checkout when the machine happens to be online.
    """
    calls = []
    monkeypatch.setattr(mnist, "fetch_mnist", lambda *a, **k: calls.append(1) or False)
    at = open_page("pages/quickstart.py", lang="en", timeout=TIMEOUT)
    assert en("mnist.how_to_get").strip() in [text.strip() for text in texts(at)]
    at.button(key="mnist.__download").click().run()
    no_exception(at)
    assert calls == [1]
    assert en("mnist.download_failed") in [e.value for e in at.error]


def test_real_mnist_is_named_with_its_folder(real_mnist):
    at = open_page("pages/quickstart.py", lang="en", timeout=TIMEOUT)
    no_exception(at)
    want = en("mnist.source_real", folder=real_mnist.source.removeprefix("mnist:"), n_train="60,000", n_test="10,000")
    assert want in [s.value for s in at.success]
    assert not at.warning


# ------------------------------------------------------------------ quick start


@pytest.mark.slow
def test_quickstart_trains_the_course_recipe_and_predicts_six_images(no_mnist):
    at = open_page("pages/quickstart.py", lang="en", timeout=TIMEOUT)
    assert en("mnist.qs.press_train") in [i.value for i in at.info]
    at.button(key="quickstart.__train").click().run()
    no_exception(at)
    trained = at.session_state["quickstart.model"]
    assert trained.config == mlp.FALLBACK_RECIPE == mlp.recipe_for(mnist.load_mnist())  # resized for 1,437 digits
    assert trained is ui.trained_model(mlp.FALLBACK_RECIPE)  # the class-wide shared model
    assert trained.accuracy > 0.9, "the course recipe, given enough steps, reads the fallback digits well"
    # the page names the numbers it trains with, and says the recipe was resized only here
    assert en("mnist.qs.step_train", epochs=trained.config.epochs) in [h.value for h in at.header]
    recipe = next(m for m in texts(at) if en("mnist.qs.recipe_head_fallback") in m)
    assert f"batches of {trained.config.batch_size}, {trained.config.epochs} epochs" in recipe
    assert en("mnist.qs.recipe_head") not in recipe
    assert any("are just 9 steps" in w and "3 epochs are 354 steps" in w for w in texts(at))
    accuracy = next(m for m in at.metric if m.label == en("mnist.accuracy"))
    assert accuracy.value == f"{trained.accuracy:.1%}"
    # six test images, captioned with the model's own predictions and the true labels
    data = mnist.load_mnist()
    predicted = mlp.predict_proba(trained.model, data.test_images[:6] / 255.0).argmax(axis=1)
    want = [
        en("mnist.prediction_ok" if p == y else "mnist.prediction_wrong", predicted=int(p), true=int(y))
        for p, y in zip(predicted, data.test_labels[:6])
    ]
    assert [c for c in image_captions(at) if c in want] == want
    links = [el.proto.page for el in at.get("page_link")]
    assert any("draw" in link for link in links)
    # "six others" moves to other images and keeps the results
    at.button(key="quickstart.__other").click().run()
    no_exception(at)
    first = at.number_input(key=ui.widget_key("quickstart", "first")).value
    assert 0 <= first <= len(data.test_images) - 6
    assert at.query_params.get("first") == (str(first) if first else None)


def test_quickstart_clamps_a_first_image_past_the_small_test_set(no_mnist):
    at = open_page("pages/quickstart.py", lang="en", query={"first": "9999"}, timeout=TIMEOUT)
    no_exception(at)
    at.button(key="quickstart.__train").click().run()
    no_exception(at)
    n_test = len(mnist.load_mnist().test_images)
    assert at.number_input(key=ui.widget_key("quickstart", "first")).value == n_test - 6


# ------------------------------------------------------------------ 5a data


def test_data_page_shows_the_real_counts(real_mnist):
    at = open_page("pages/mnist_data.py", lang="en", timeout=TIMEOUT)
    no_exception(at)
    table = at.dataframe[0].value
    train = mnist.class_counts(real_mnist, "train")
    test = mnist.class_counts(real_mnist, "test")
    assert table[en("mnist.data.split_train")].tolist() == train.tolist()
    assert table[en("mnist.data.total")].tolist() == (train + test).tolist()
    total = train + test
    note = en("mnist.data.counts_note", most=1, most_n="7,877", least=5, least_n="6,313", total="70,000")
    assert int(total.argmax()) == 1 and int(total[1]) == 7877 and int(total[5]) == 6313
    assert note in texts(at)


@pytest.mark.parametrize("split, per_digit", [("test", 20), ("train", 1)])
def test_data_page_at_its_extremes(no_mnist, split, per_digit):
    at = open_page("pages/mnist_data.py", lang="zh", query={"split": split, "per_digit": str(per_digit)}, timeout=TIMEOUT)
    no_exception(at)
    assert at.slider(key=ui.widget_key("mnist_data", "per_digit")).value == per_digit
    assert STRINGS["mnist.data.samples"]["zh"].format(k=per_digit) in [s.value for s in at.subheader]
    assert len(at.get("image")) == 2  # the sample grid, and the mean images
    means = [STRINGS["mnist.data.mean_all"]["zh"], *(STRINGS["mnist.label"]["zh"].format(digit=d) for d in range(10))]
    assert image_captions(at) == means


# ------------------------------------------------------------------ 5b network


@pytest.mark.parametrize(
    "query",
    [
        {"between": "none", "depth": "1", "width": "16", "zmax": "1"},
        {"between": "relu", "depth": "30", "width": "256", "zmax": "10", "seed": "999"},
        {"between": "sigmoid", "depth": "-5", "width": "7", "zmax": "nan"},  # hostile: clamped or default
    ],
)
def test_network_page_at_its_extremes(no_mnist, query):
    at = open_page("pages/mnist_network.py", lang="en", query=query, timeout=TIMEOUT)
    no_exception(at)
    depth = at.slider(key=ui.widget_key("mnist_network", "depth")).value
    assert 1 <= depth <= 30
    frames = chart_frames(at)
    assert len(frames) >= 3 and all(all_finite(f) for f in frames)
    grads = next(f for f in frames if "grad_norm" in f)
    assert set(grads["layer"]) == set(range(1, depth + 2)) and (grads["grad_norm"] > 0).all()  # log scale needs > 0
    gap = number(next(m for m in at.metric if m.label == en("mnist.net.max_gap")).value)
    if query["between"] == "none":
        assert gap < 1e-5
        assert any(s.value.startswith(en("mnist.net.identical", n=100, tol="1e-05")[:40]) for s in at.success)
    else:
        assert gap > 1e-5
        between = en(f"mnist.net.between_{query['between']}")
        assert en("mnist.net.not_identical", between=between) in [w.value for w in at.warning]


def test_network_page_shows_the_sigmoid_first_layer_starving(no_mnist):
    at = open_page("pages/mnist_network.py", lang="en", query={"depth": "20"}, timeout=TIMEOUT)
    no_exception(at)
    shares = {m.label: m.value for m in at.metric}
    sigmoid = number(shares[en("mnist.net.first_share", name="sigmoid")])
    relu = number(shares[en("mnist.net.first_share", name="ReLU")])
    assert sigmoid < 1e-6 * relu


# ------------------------------------------------------------------ 5c training


def press_train(at):
    """Press Train, wait for the training thread, and rerun as the training panel's poll does."""
    at.button(key="mnist_train.__train").click().run()
    no_exception(at)
    if "mnist_train.__job" in at.session_state:  # else it ended before the rerun that followed the click
        assert at.session_state["mnist_train.__job"].wait(TIMEOUT)
        at.run()
    no_exception(at)
    return at.session_state["mnist_train.__last"]["trained"]


def test_training_page_trains_a_tiny_net_and_shows_all_results(no_mnist):
    at = open_page("pages/mnist_train.py", lang="en", timeout=TIMEOUT)
    assert en("mnist.train.press_train") in [i.value for i in at.info]
    at.slider(key=ui.widget_key("mnist_train", "layers")).set_value(1)
    at.select_slider(key=ui.widget_key("mnist_train", "h1")).set_value(16)
    at.slider(key=ui.widget_key("mnist_train", "epochs")).set_value(1)
    at.selectbox(key=ui.widget_key("mnist_train", "optimizer")).set_value("adam")
    at.radio(key=ui.widget_key("mnist_train", "loss")).set_value("cross_entropy")
    at.select_slider(key=ui.widget_key("mnist_train", "lr")).set_value(0.003)
    at.run()
    trained = press_train(at)
    assert trained.config == mlp.TrainConfig(hidden=(16,), epochs=1, optimizer="adam", loss="cross_entropy", lr=0.003)
    data = mnist.load_mnist()
    predicted = mlp.predict_proba(trained.model, data.test_images / 255.0).argmax(axis=1)
    wrong = int((predicted != data.test_labels).sum())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[en("mnist.accuracy")] == f"{trained.accuracy:.2%}"
    assert trained.accuracy == pytest.approx(1 - wrong / len(predicted))
    assert metrics[en("mnist.train.wrong")] == f"{wrong:,} / {len(predicted):,}"
    confusion = next(f for f in chart_frames(at) if "predicted" in f)
    assert confusion["count"].sum() == len(data.test_labels)
    assert confusion.query("true != predicted")["count"].sum() == wrong
    body = texts(at)
    assert en("mnist.train.confusion") in body
    assert en("mnist.train.mistakes", shown=min(24, wrong), wrong=f"{wrong:,}") in body
    assert en("mnist.train.weights", shown=16, units=16) in body
    captions = image_captions(at)
    assert sum(" → " in c for c in captions) == min(24, wrong)
    downloads = [d for d in at.get("download_button") if d.key != "mnist_train.__download_code"]
    assert len(downloads) == 2
    assert at.query_params.get("layers") == "1" and at.query_params.get("optimizer") == "adam"
    # changing a setting afterwards keeps the results, marked as belonging to the old settings
    at.slider(key=ui.widget_key("mnist_train", "epochs")).set_value(2).run()
    no_exception(at)
    assert any(i.value.startswith(en("mnist.train.stale", trained="")[:20]) for i in at.info)


@pytest.mark.slow
def test_best_preset_and_course_buttons_set_exactly_those_configs(no_mnist):
    at = open_page("pages/mnist_train.py", lang="zh", timeout=TIMEOUT)
    at.button(key="mnist_train.__best").click().run()
    assert press_train(at).config == mlp.BEST_PRESET
    at.button(key="mnist_train.__course").click().run()
    trained = press_train(at)
    assert trained.config == mlp.COURSE_RECIPE
    assert trained is ui.trained_model(mlp.COURSE_RECIPE)  # the class-wide shared model


def test_training_settings_come_from_the_url_and_hostile_values_are_tamed(no_mnist):
    query = {"activation": "sigmoid", "lr": "0.1", "layers": "9", "epochs": "999", "optimizer": "evil", "batch": "7", "final": "relu"}
    at = open_page("pages/mnist_train.py", lang="en", query=query, timeout=TIMEOUT)
    no_exception(at)
    assert at.selectbox(key=ui.widget_key("mnist_train", "activation")).value == "sigmoid"
    assert at.select_slider(key=ui.widget_key("mnist_train", "lr")).value == 0.1
    assert at.slider(key=ui.widget_key("mnist_train", "layers")).value == 3
    assert at.slider(key=ui.widget_key("mnist_train", "epochs")).value == 20
    assert at.selectbox(key=ui.widget_key("mnist_train", "optimizer")).value == "sgd"
    assert at.select_slider(key=ui.widget_key("mnist_train", "batch")).value == 512
    assert at.selectbox(key=ui.widget_key("mnist_train", "final")).value == "relu"


@pytest.mark.slow
def test_the_largest_network_with_every_non_default_option_trains(no_mnist):
    query = {"layers": "3", "h1": "1024", "h2": "1024", "h3": "1024", "batch": "32", "epochs": "1", "activation": "sigmoid",
             "final": "tanh", "optimizer": "rmsprop", "lr": "0.0001", "schedule": "onecycle", "loss": "cross_entropy", "seed": "9999"}
    at = open_page("pages/mnist_train.py", lang="zh", query=query, timeout=TIMEOUT)
    no_exception(at)
    trained = press_train(at)
    assert trained.config == mlp.TrainConfig(
        hidden=(1024, 1024, 1024), batch_size=32, epochs=1, activation="sigmoid", final_activation="tanh",
        optimizer="rmsprop", lr=0.0001, schedule="onecycle", loss="cross_entropy", seed=9999,
    )
    assert STRINGS["mnist.train.weights"]["zh"].format(shown=32, units=1024) in texts(at)


def test_a_blown_up_loss_is_explained_never_drawn(no_mnist):
    at = open_page("pages/mnist_train.py", lang="en", timeout=TIMEOUT)
    at.button(key="mnist_train.__preset2").click().run()  # "learning rate 3"
    assert at.select_slider(key=ui.widget_key("mnist_train", "lr")).value == 3.0
    trained = press_train(at)
    assert not np.isfinite(trained.history["loss"]).all(), "lr 3 for 3 epochs is meant to blow up"
    assert en("mnist.diverged") in [e.value for e in at.error]
    warnings = [w.value for w in at.warning]
    assert en("mnist.train.broken_model") in warnings
    # it stopped itself at the first step whose loss was no number, and says so
    step, steps = len(trained.history), mlp.steps_of(trained.config, len(mnist.load_mnist().train_images))
    assert mlp.diverged_at(trained.history) == step and np.isfinite(trained.history["loss"].iloc[:-1]).all()
    value = "NaN" if np.isnan(trained.history["loss"].iloc[-1]) else "∞"
    assert en("mnist.train.diverged_at", step=f"{step:,}", steps=f"{steps:,}", value=value) in warnings
    assert not at.get("image")  # no pictures made of NaN weights
    frames = chart_frames(at)
    assert frames and all(all_finite(f) for f in frames)  # the loss chart, finite part only
    assert "mnist_train.__download_history" in [d.key for d in at.get("download_button")]  # the history is still there to look at
